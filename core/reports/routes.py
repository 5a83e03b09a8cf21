"""``/api/v1/t/{tenant_code}/reports``: the metrics catalogue, roll-ups (JSON and .xlsx) and the work report."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.roles import REPORT_READ, TENANT_MANAGE
from core.plugin_host.declarations import Aggregation
from core.reports import service
from core.reports.excel import rollup_workbook
from core.reports.periods import ReportPeriod
from core.reports.rollup import Rollup, as_number
from core.reports.work_report import build_work_report
from core.storage.base import content_disposition
from core.storage.sniff import DOCX, XLSX

PeriodParam = Annotated[
    str | None,
    QueryParameter(description="2026 | 2026-Q4 | 2026-11 | 2026-01..2026-06 (default: this year)"),
]
MetricsParam = Annotated[
    str | None, QueryParameter(description="comma-separated metric ids (default: the core's and active programmes')")
]


class MetricOut(BaseModel):
    id: str
    source: str
    label_zh: str
    label_en: str
    unit_zh: str
    unit_en: str
    aggregation: Aggregation
    numerator: str | None = None
    denominator: str | None = None


class UnitOut(BaseModel):
    tenant_code: str
    tenant_name: str
    level: str
    values: dict[str, float | int | None]
    previous: dict[str, float | int | None]


class RollupOut(BaseModel):
    period: str
    period_label: str
    previous_period: str
    previous_label: str
    metrics: list[MetricOut]
    total: UnitOut
    children: list[UnitOut]


class TemplateOut(BaseModel):
    source: str  # own | inherited | built_in
    tenant_code: str | None = None
    file_name: str | None = None
    uploaded_by: str | None = None


def _period(text: str | None) -> ReportPeriod:
    return ReportPeriod.parse(text) if text else ReportPeriod.current_year()


def _metrics(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def rollup_out(result: Rollup, sources: dict[str, str]) -> RollupOut:
    def unit(node: Any, values: dict[str, float | None], previous: dict[str, float | None]) -> UnitOut:
        return UnitOut(
            tenant_code=node.code,
            tenant_name=node.name,
            level=node.level,
            values={k: as_number(v) for k, v in values.items()},
            previous={k: as_number(v) for k, v in previous.items()},
        )

    return RollupOut(
        period=result.period.text,
        period_label=result.period.label,
        previous_period=result.previous_period.text,
        previous_label=result.previous_period.label,
        metrics=[MetricOut(source=sources.get(s.id, "core"), **_spec_fields(s)) for s in result.specs],
        total=unit(result.node, result.total.values, result.total.previous),
        children=[unit(c.node, c.values, c.previous) for c in result.children],
    )


def _spec_fields(spec: Any) -> dict[str, Any]:
    return {
        "id": spec.id,
        "label_zh": spec.label_zh,
        "label_en": spec.label_en,
        "unit_zh": spec.unit_zh,
        "unit_en": spec.unit_en,
        "aggregation": spec.aggregation,
        "numerator": spec.numerator,
        "denominator": spec.denominator,
    }


def _download(data: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
    )


class ReportController(Controller):
    path = "/api/v1/t/{tenant_code:str}/reports"
    tags = ["reports"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/metrics", opt={"permission": REPORT_READ}, summary="Every metric the core and the plugins contribute")
    async def metrics(self, request: Request[Any, Any, Any], acting: NamedDependency[Acting]) -> list[MetricOut]:
        scope = await service.report_scope(platform_of(request), acting)
        return [MetricOut(source=e.source, **_spec_fields(e.spec)) for e in scope.entries]

    @get(
        "/rollup",
        opt={"permission": REPORT_READ},
        summary="The tenant's subtree for a period, per child, with the previous period (from maintained aggregates)",
    )
    async def rollup(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        period: PeriodParam = None,
        metrics: MetricsParam = None,
    ) -> RollupOut:
        platform = platform_of(request)
        result, scope = await service.rollup_for(db_session, platform, acting, _period(period), _metrics(metrics))
        return rollup_out(result, {e.spec.id: e.source for e in scope.entries})

    @get("/rollup.xlsx", opt={"permission": REPORT_READ}, summary="The roll-up as a printable .xlsx")
    async def rollup_xlsx(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        period: PeriodParam = None,
        metrics: MetricsParam = None,
    ) -> Response[bytes]:
        platform = platform_of(request)
        result, _scope = await service.rollup_for(db_session, platform, acting, _period(period), _metrics(metrics))
        title = f"{acting.tenant.name}{result.period.label}工作统计汇总表"
        return _download(rollup_workbook(result, result.specs, title), XLSX, f"{title}.xlsx")

    @get("/work-report.docx", opt={"permission": REPORT_READ}, summary="The work report draft (.docx, Chinese)")
    async def work_report(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        period: PeriodParam = None,
    ) -> Response[bytes]:
        platform = platform_of(request)
        result, scope = await service.rollup_for(db_session, platform, acting, _period(period))
        _row, template = await service.template_for(platform, acting)
        known = scope.known
        child_specs = [known[i] for i in service.KEY_CORE_METRICS if i in known]
        data = build_work_report(result, scope.programmes(platform), child_specs=child_specs, template=template)
        return _download(data, DOCX, f"{acting.tenant.name}{result.period.label}工作情况汇报.docx")

    @get("/work-report/template", opt={"permission": REPORT_READ}, summary="Which work-report template applies")
    async def template(self, request: Request[Any, Any, Any], acting: NamedDependency[Acting]) -> TemplateOut:
        row, _data = await service.template_for(platform_of(request), acting)
        if row is None:
            return TemplateOut(source="built_in")
        return TemplateOut(
            source="own" if row.tenant_id == acting.tenant.id else "inherited",
            tenant_code=acting.tree.nodes[row.tenant_id].code,
            file_name=row.original_name,
            uploaded_by=row.uploaded_by,
        )

    @put(
        "/work-report/template",
        opt={"permission": TENANT_MANAGE},
        summary="Replace the work-report template (multipart field 'file', a .docx with {{正文}})",
    )
    async def replace_template(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> TemplateOut:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise service.TEMPLATE_MISSING.error(field="file")
        principal = current_principal(request)
        actor = principal.username if principal else "system"
        row = await service.replace_template(
            db_session, platform_of(request), acting, await upload.read(), upload.filename or "template.docx", actor
        )
        return TemplateOut(source="own", tenant_code=acting.tenant.code, file_name=row.original_name, uploaded_by=actor)

    @delete("/work-report/template", opt={"permission": TENANT_MANAGE}, status_code=200)
    async def remove_template(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> dict[str, int]:
        return {"removed": await service.remove_template(db_session, platform_of(request), acting)}
