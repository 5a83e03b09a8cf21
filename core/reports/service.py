"""What the report routes and pages share: which metrics a tenant's report shows, the roll-up for a request,
and the work-report template a tenant uses (its own, else its nearest ancestor's, else the built-in one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import after_commit
from core.db.scope import TenantScope
from core.errors import ErrorSpec
from core.identity.access import Acting
from core.orglife import metrics as m
from core.platform import Platform
from core.plugin_host import service as plugins
from core.plugin_host.declarations import MetricSpec
from core.reports.periods import ReportPeriod
from core.reports.rollup import CatalogueEntry, Rollup, catalogue, rollup
from core.reports.work_report import Programme
from core.storage.models import StoredFile
from core.storage.sniff import DOCX, sniff

TEMPLATE_FOLDER = "report-templates"

METRIC_UNKNOWN = ErrorSpec(
    "report.metric_unknown",
    422,
    "没有编号为“{metric}”的统计指标：可用的指标见 /reports/metrics",
    "There is no metric '{metric}': see /reports/metrics for those available",
)
TEMPLATE_TYPE = ErrorSpec(
    "report.template_type",
    422,
    "工作报告模板须是 Word 文档（.docx），收到的文件不是",
    "The work-report template must be a Word document (.docx); the file sent is not one",
)
TEMPLATE_MISSING = ErrorSpec(
    "report.template_missing",
    422,
    "请选择要上传的 .docx 模板文件（表单字段 file）",
    "Choose a .docx file (form field 'file')",
)

#: The columns of the per-child table of the work report and the dashboard's key figures.
KEY_CORE_METRICS = (m.BRANCHES, m.MEMBERS, m.ACTIVITIES, m.ATTENDANCE, m.ATTENDANCE_RATE, m.SIX_HAVES_RATE)


def active_in_subtree(platform: Platform, acting: Acting, snapshot: object) -> list[str]:
    """Plugins active in the tenant or anywhere below it (a province reports what its counties run)."""
    found: set[str] = set()
    for tenant_id in acting.tree.subtree_ids(acting.tenant.id):
        effective = plugins.effective_in(platform.plugins, acting.tree, snapshot, tenant_id)  # type: ignore[arg-type]
        found |= {name for name, eff in effective.items() if eff.active}
    return sorted(found)


@dataclass
class ReportScope:
    entries: list[CatalogueEntry]
    active: list[str]

    @property
    def known(self) -> dict[str, MetricSpec]:
        return {e.spec.id: e.spec for e in self.entries}

    def shown(self) -> list[MetricSpec]:
        return [e.spec for e in self.entries if e.source == "core" or e.source in self.active]

    def pick(self, wanted: Sequence[str]) -> list[MetricSpec]:
        known = self.known
        for metric in wanted:
            if metric not in known:
                raise METRIC_UNKNOWN.error(field="metrics", metric=metric)
        return [known[metric] for metric in dict.fromkeys(wanted)]

    def programmes(self, platform: Platform) -> list[Programme]:
        out = []
        for name in self.active:
            specs = [e.spec for e in self.entries if e.source == name]
            if specs:
                out.append(Programme(platform.plugins.title(name)[0], specs))
        return out


async def report_scope(platform: Platform, acting: Acting) -> ReportScope:
    snapshot = await platform.activation.get(platform.database)
    return ReportScope(catalogue(platform.plugins), active_in_subtree(platform, acting, snapshot))


async def rollup_for(
    session: AsyncSession, platform: Platform, acting: Acting, period: ReportPeriod, metrics: Sequence[str] = ()
) -> tuple[Rollup, ReportScope]:
    scope = await report_scope(platform, acting)
    specs = scope.pick(metrics) if metrics else scope.shown()
    return await rollup(session, acting.tree, acting.tenant, specs, period, scope.known), scope


async def template_for(platform: Platform, acting: Acting) -> tuple[StoredFile | None, bytes | None]:
    """The tenant's own template, else the nearest ancestor's; ``(None, None)`` for the built-in layout."""
    lineage = [n.id for n in acting.tree.lineage(acting.tenant.id)]
    async with platform.database.session(TenantScope.of(read=lineage)) as session:
        rows = (
            (
                await session.execute(
                    select(StoredFile)
                    .where(StoredFile.tenant_id.in_(lineage), StoredFile.folder == TEMPLATE_FOLDER)
                    .order_by(StoredFile.created_at.desc())
                )
            )
            .scalars()
            .all()
        )
    for tenant_id in reversed(lineage):
        for row in rows:
            if row.tenant_id == tenant_id:
                return row, await platform.storage.get(row.key)
    return None, None


async def replace_template(
    session: AsyncSession, platform: Platform, acting: Acting, data: bytes, filename: str, actor: str
) -> StoredFile:
    if sniff(data).mime != DOCX:
        raise TEMPLATE_TYPE.error(field="file")
    old_keys = await clear_template(session, platform, acting)
    stored = await platform.storage.put(
        acting.tenant.code, data, filename=filename, declared_type=DOCX, folder=TEMPLATE_FOLDER
    )
    row = StoredFile(
        tenant_id=acting.tenant.id,
        key=stored.key,
        size=stored.size,
        sha256=stored.sha256,
        content_type=stored.content_type,
        original_name=stored.original_name,
        folder=TEMPLATE_FOLDER,
        uploaded_by=actor,
    )
    session.add(row)
    try:
        await session.flush()
    except Exception:
        await platform.storage.delete(stored.key)
        raise
    _delete_after_commit(session, platform, old_keys)
    return row


def _delete_after_commit(session: AsyncSession, platform: Platform, keys: list[str]) -> None:
    """Old template files go only once the change is committed (a rollback keeps the old template whole)."""

    async def purge() -> None:
        for key in keys:
            await platform.storage.delete(key)

    if keys:
        after_commit(session, purge)


async def remove_template(session: AsyncSession, platform: Platform, acting: Acting) -> int:
    keys = await clear_template(session, platform, acting)
    _delete_after_commit(session, platform, keys)
    return len(keys)


async def clear_template(session: AsyncSession, platform: Platform, acting: Acting) -> list[str]:
    """Forget the tenant's template rows; returns the storage keys to delete after commit."""
    rows = (
        (
            await session.execute(
                select(StoredFile).where(StoredFile.tenant_id == acting.tenant.id, StoredFile.folder == TEMPLATE_FOLDER)
            )
        )
        .scalars()
        .all()
    )
    await session.execute(
        delete(StoredFile).where(StoredFile.tenant_id == acting.tenant.id, StoredFile.folder == TEMPLATE_FOLDER)
    )
    return [row.key for row in rows]
