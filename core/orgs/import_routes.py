"""Excel in and out: ``…/members/import-template``, ``…/members/imports``, ``…/members/export``,
``…/orgs/import-template``, ``…/orgs/imports`` and ``…/orgs/export``.

An import validates every row and answers every error (row, column, reason); it imports nothing unless the
file is clean, or only the clean rows when the request says ``mode=good_rows``. Small files are imported in
the request (``201``, or ``422`` with the errors); large ones become a background job (``202``) whose
progress ``GET …/imports/{job_id}`` reports. Exports mask ID numbers and phones.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import AuditContext
from core.db.scope import WRITE_OUTSIDE_SCOPE
from core.errors import AppError, request_language
from core.identity.access import Acting, current_principal, provide_acting
from core.identity.roles import MEMBER_READ, MEMBER_WRITE, ORG_MANAGE, TENANT_READ
from core.orgs import service
from core.orgs.import_models import FINISHED, ImportMode, ImportStatus, MemberImportJob, OnDuplicate
from core.orgs.importing import export, template
from core.orgs.importing.branches import import_orgs
from core.orgs.importing.columns import BRANCH_COLUMNS
from core.orgs.importing.jobs import JOB_NOT_FOUND, Upload, check_upload, live_progress, member_imports
from core.orgs.importing.members import Directory
from core.orgs.importing.sheets import read_sheet
from core.orgs.models import HealthClass
from core.storage.base import content_disposition
from core.storage.sniff import XLSX

MAX_ORG_ROWS = 5000


@dataclass
class MemberImportForm:
    """The upload (multipart field ``file``) and how to import it."""

    file: UploadFile
    mode: ImportMode = ImportMode.STRICT
    on_duplicate: OnDuplicate = OnDuplicate.ERROR
    background: bool | None = None  # None: by size (more than 2,000 rows run in the background)


@dataclass
class OrgImportForm:
    file: UploadFile


class ImportRowError(BaseModel):
    row: int | None
    column: str
    field: str
    code: str
    message: str


class ImportJobOut(BaseModel):
    id: str
    tenant_code: str
    status: ImportStatus
    status_zh: str
    mode: ImportMode
    on_duplicate: OnDuplicate
    background: bool
    file_name: str
    file_size: int
    total_rows: int
    processed_rows: int
    percent: int
    created: int
    updated: int
    skipped: int
    error_count: int
    errors: list[ImportRowError]
    ignored_columns: list[str]
    message: str
    actor_name: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class ImportJobPage(BaseModel):
    items: list[ImportJobOut]
    total: int


class OrgImportOut(BaseModel):
    total: int
    created: int
    existing: int


def _percent(status: str, processed: int, total: int) -> int:
    """Overall progress: validating is the first half, importing the second."""
    if status in FINISHED:
        return 100
    if status == ImportStatus.QUEUED.value or total <= 0:
        return 0
    share = min(processed, total) / total
    return int(50 * share) if status == ImportStatus.VALIDATING.value else 50 + int(50 * share)


def job_out(job: MemberImportJob, acting: Acting, lang: str, *, with_errors: bool = True) -> ImportJobOut:
    status, processed, total = job.status, job.processed_rows, job.total_rows
    live = live_progress(job.id) if status not in FINISHED else None
    if live is not None:
        status, processed, total = live
    english = lang == "en"
    summary = job.summary or {}
    errors = [
        ImportRowError(
            row=e.get("row"),
            column=str(e.get("column", "")),
            field=str(e.get("field", "")),
            code=str(e.get("code", "")),
            message=str(e.get("message_en") if english else e.get("message", "")),
        )
        for e in (job.errors or [])
    ]
    node = acting.tree.nodes.get(job.tenant_id)
    return ImportJobOut(
        id=str(job.id),
        tenant_code=node.code if node else "",
        status=ImportStatus(status),
        status_zh=ImportStatus(status).zh,
        mode=ImportMode(job.mode),
        on_duplicate=OnDuplicate(job.on_duplicate),
        background=job.background,
        file_name=job.file_name,
        file_size=job.file_size,
        total_rows=total,
        processed_rows=processed,
        percent=_percent(status, processed, total),
        created=job.created_count,
        updated=job.updated_count,
        skipped=job.skipped_count,
        error_count=job.error_count,
        errors=errors if with_errors else [],
        ignored_columns=list(summary.get("ignored_columns", [])),
        message=str(summary.get("message_en", job.message)) if english and job.message else job.message,
        actor_name=job.actor_name,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _xlsx(data: bytes, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
    )


def _audit_context(request: Request[Any, Any, Any], acting: Acting) -> AuditContext:
    principal = current_principal(request)
    return AuditContext(
        actor_id=principal.user_id if principal else None,
        actor_name=principal.username if principal else "anonymous",
        request_id=request.state.get("request_id"),
        acting_tenant_id=acting.tenant.id,
    )


class MemberSheetController(Controller):
    path = "/api/v1/t/{tenant_code:str}/members"
    tags = ["members"]  # noqa: RUF012 - Litestar controllers declare these as class attributes
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get(
        "/import-template",
        opt={"permission": MEMBER_WRITE},
        summary="The member import template (.xlsx) for this tenant",
    )
    async def import_template(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        directory = await Directory.load(db_session, acting.tenant.id)
        today = datetime.date.today()
        data = template.member_template(acting.tenant, directory.branch_choices(), today)
        return _xlsx(data, f"{acting.tenant.name}党员名册导入模板.xlsx")

    @post(
        "/imports",
        opt={"permission": MEMBER_WRITE},
        summary="Import members from an .xlsx (all rows or none; mode=good_rows imports the clean ones)",
        status_code=201,
    )
    async def submit_import(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        data: Annotated[MemberImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        if not acting.scope.can_write(acting.tenant.id):
            raise WRITE_OUTSIDE_SCOPE.error(tenant_id=acting.tenant.id)
        content = await data.file.read()
        outcome = await member_imports(request.app).submit(
            tenant_id=acting.tenant.id,
            tenant_code=acting.tenant.code,
            audit=_audit_context(request, acting),
            upload=Upload(content, data.file.filename or "import.xlsx", data.file.content_type or None),
            mode=data.mode,
            on_duplicate=data.on_duplicate,
            background=data.background,
        )
        lang = request_language(request)
        job = outcome.job
        location = f"/api/v1/t/{acting.tenant.code}/members/imports/{job.id}"
        if outcome.background:
            return Response(job_out(job, acting, lang), status_code=202, headers={"Location": location})
        if outcome.error is not None:
            error = outcome.error
            if error.details:
                error = AppError(
                    error.spec, field=error.field, details=_localised(error.details, lang), params=error.params
                )
            return Response(error.body(lang), status_code=error.status, headers={"Location": location})
        return Response(job_out(job, acting, lang), status_code=201, headers={"Location": location})

    @get("/imports", opt={"permission": MEMBER_WRITE}, summary="Imports of the subtree, newest first")
    async def list_imports(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> ImportJobPage:
        total = (await db_session.execute(select(func.count()).select_from(MemberImportJob))).scalar_one()
        jobs = (
            await db_session.execute(
                select(MemberImportJob)
                .order_by(MemberImportJob.created_at.desc(), MemberImportJob.id.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        ).scalars()
        lang = request_language(request)
        return ImportJobPage(items=[job_out(j, acting, lang, with_errors=False) for j in jobs], total=total)

    @get(
        "/imports/{job_id:uuid}",
        opt={"permission": MEMBER_WRITE},
        summary="One import: status, progress, counts and every error",
    )
    async def get_import(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        job_id: FromPath[uuid.UUID],
    ) -> ImportJobOut:
        job = (
            await db_session.execute(select(MemberImportJob).where(MemberImportJob.id == job_id))
        ).scalar_one_or_none()
        if job is None:
            raise JOB_NOT_FOUND.error(field="job_id")
        return job_out(job, acting, request_language(request))

    @get(
        "/imports/{job_id:uuid}/errors",
        opt={"permission": MEMBER_WRITE},
        summary="The errors of an import as .xlsx (row, column, reason), to print and work through",
    )
    async def import_errors(
        self, db_session: NamedDependency[AsyncSession], job_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        job = (
            await db_session.execute(select(MemberImportJob).where(MemberImportJob.id == job_id))
        ).scalar_one_or_none()
        if job is None:
            raise JOB_NOT_FOUND.error(field="job_id")
        data = await asyncio.to_thread(export.import_errors, job.file_name, job.errors, datetime.date.today())
        stem = job.file_name.rsplit(".", 1)[0]
        return _xlsx(data, f"{stem}-导入错误清单.xlsx")

    @get(
        "/export",
        opt={"permission": MEMBER_READ},
        summary="The ledger of the subtree as .xlsx (same filters as search; ID numbers and phones masked)",
    )
    async def export_members(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        org_id: FromQuery[uuid.UUID | None] = None,
        health_class: FromQuery[HealthClass | None] = None,
        specialty: FromQuery[str | None] = None,
        age_min: Annotated[int | None, QueryParameter(ge=0, le=130)] = None,
        age_max: Annotated[int | None, QueryParameter(ge=0, le=130)] = None,
        status: FromQuery[str | None] = "active",
    ) -> Response[bytes]:
        today = datetime.date.today()
        query = service.search_query(
            q=q,
            org_id=org_id,
            health_class=health_class.value if health_class else None,
            specialty=specialty,
            age_min=age_min,
            age_max=age_max,
            status=status or None,
            today=today,
        )
        filters = {
            "q": q,
            "org_id": str(org_id) if org_id else None,
            "health_class": health_class.value if health_class else None,
            "specialty": specialty,
            "age_min": age_min,
            "age_max": age_max,
            "status": status,
        }
        data, _ = await export.export_members(db_session, acting.tenant, acting.tree, query, filters, today)
        return _xlsx(data, f"{acting.tenant.name}离退休干部名册{today:%Y%m%d}.xlsx")


def _localised(details: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Row errors in the request's language (they are stored in both)."""
    english = lang == "en"
    return [
        {
            "row": e.get("row"),
            "column": e.get("column", ""),
            "field": e.get("field", ""),
            "code": e.get("code", ""),
            "message": e.get("message_en") if english else e.get("message", ""),
        }
        for e in details
    ]


class OrgSheetController(Controller):
    path = "/api/v1/t/{tenant_code:str}/orgs"
    tags = ["organisations"]  # noqa: RUF012
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get(
        "/export",
        opt={"permission": TENANT_READ},
        summary="The organisations of the subtree as .xlsx, with member counts",
    )
    async def export_orgs(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        include_inactive: FromQuery[bool] = False,
    ) -> Response[bytes]:
        today = datetime.date.today()
        data, _ = await export.export_orgs(db_session, acting.tenant, acting.tree, include_inactive, today)
        return _xlsx(data, f"{acting.tenant.name}党组织名册{today:%Y%m%d}.xlsx")

    @get("/import-template", opt={"permission": ORG_MANAGE}, summary="The organisation import template (.xlsx)")
    async def import_template(self, acting: NamedDependency[Acting]) -> Response[bytes]:
        today = datetime.date.today()
        return _xlsx(template.branch_template(acting.tenant, today), f"{acting.tenant.name}党组织导入模板.xlsx")

    @post(
        "/imports",
        opt={"permission": ORG_MANAGE},
        summary="Create organisations from an .xlsx (名称, 层级, 支部类型, 上级组织), all or nothing",
        status_code=201,
    )
    async def import_orgs(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[OrgImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> OrgImportOut:
        content = await data.file.read()
        check_upload(content, request.app.state.platform.settings.upload_max_bytes)
        sheet = await asyncio.to_thread(read_sheet, content, BRANCH_COLUMNS, max_rows=MAX_ORG_ROWS)
        result = await import_orgs(db_session, acting.tenant.id, sheet)
        return OrgImportOut(total=result.total, created=result.created, existing=result.existing)
