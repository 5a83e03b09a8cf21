"""Console pages of the member ledger: search the ledger, add or change a member (errors next to each field,
nothing typed lost), one member's record with its history, an audited reveal of ID number and phone for
those allowed, and the Excel import (template, upload, per-row errors, progress of background jobs) and
export. Personal data stays masked, as in the API."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.models import AuditEntry
from core.audit.recorder import arecord
from core.db.scope import WRITE_OUTSIDE_SCOPE
from core.errors import AppError, request_language, zh_validation_message
from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.roles import MEMBER_READ, MEMBER_REVEAL, MEMBER_WRITE, USER_MANAGE
from core.orgs import member_accounts, service
from core.orgs.import_models import FINISHED, ImportMode, MemberImportJob, OnDuplicate
from core.orgs.import_routes import _audit_context as audit_context
from core.orgs.import_routes import job_out
from core.orgs.importing.jobs import JOB_NOT_FOUND, Upload, member_imports
from core.orgs.models import HealthClass, Member, Organization, OrgLevel, RetirementType
from core.orgs.routes import member_out
from core.orgs.schemas import MemberCreate, MemberFields, RevealRequest
from core.web.admin_pages import ACTIONS_ZH
from core.web.console import page_of, shell
from core.web.forms import app_error, can, typed, validation_errors

PAGE_SIZE = 20
FORM_FIELDS = (
    "name",
    "id_number",
    "birth_date",
    "gender",
    "phone",
    "party_joined_on",
    "formal_org_id",
    "health_class",
    "residence_community",
)


EDIT_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "retirement_type",
    "retired_on",
    "former_unit",
    "former_rank",
    "party_joined_on",
    "formal_org_id",
    "health_class",
    "specialties",
    "residence_community",
    "notes",
)
SAVED_NOTICES = {
    "1": ("已保存修改", "Changes saved"),
    "linked": (
        "已关联登录账号，本人登录后可看到“我的主页”",
        "Account linked: the person now sees “My page” after signing in",
    ),
    "unlinked": ("已解除账号关联", "Account unlinked"),
}
FIELD_ZH = {
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "phone": "联系电话",
    "retirement_type": "离退休类别",
    "retired_on": "离退休日期",
    "former_unit": "原单位",
    "former_rank": "原职级",
    "is_party_member": "是否党员",
    "party_joined_on": "入党日期",
    "formal_org_id": "所在党支部",
    "health_class": "健康状况",
    "specialties": "特长",
    "residence_community": "居住社区",
    "status": "状态",
    "notes": "备注",
    "fields": "查看项目",
    "reason": "原因",
}


def health_choices(lang: str) -> list[tuple[str, str]]:
    return [(h.value, h.zh if lang == "zh" else h.value) for h in HealthClass]


class MemberPages(Controller):
    path = "/t/{tenant_code:str}/members"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/", opt={"permission": MEMBER_READ, "page": True})
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        health_class: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        added: FromQuery[str | None] = None,
    ) -> Template:
        health = health_class if health_class in {h.value for h in HealthClass} else None
        query = service.search_query(
            q=q,
            org_id=None,
            health_class=health,
            specialty=None,
            age_min=None,
            age_max=None,
            status="active",
            today=datetime.date.today(),
        )
        listing = await page_of(db_session, query.order_by(Member.name, Member.id), page, PAGE_SIZE)
        rows, total, page, pages = listing.rows, listing.total, listing.page, listing.pages
        context = await shell(request, acting, db_session)
        principal = current_principal(request)
        can_write = principal is not None and principal.can(
            acting.tree, platform_of(request).roles, acting.tenant.id, MEMBER_WRITE
        )
        notice = None
        if added:
            notice = f"已新增党员档案：{added}" if context["lang"] == "zh" else f"Member record added: {added}"
        return Template(
            template_name="console/members.html",
            context={
                **context,
                "members": [await member_out(db_session, m, acting.tree) for m in rows],
                "total": total,
                "page": page,
                "pages": pages,
                "query": {"q": q, "health_class": health},
                "health_classes": health_choices(context["lang"]),
                "can_write": can_write,
                "notice": notice,
                "export_url": f"/api/v1/t/{acting.tenant.code}/members/export"
                + (
                    ("?" + urlencode(wanted))
                    if (wanted := {k: v for k, v in (("q", q), ("health_class", health)) if v})
                    else ""
                ),
            },
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> Template:
        branches = (
            (
                await session.execute(
                    select(Organization)
                    .where(Organization.tenant_id == acting.tenant.id, Organization.level == OrgLevel.BRANCH.value)
                    .where(Organization.is_active)
                    .order_by(Organization.name)
                )
            )
            .scalars()
            .all()
        )
        context = await shell(request, acting, session)
        return Template(
            template_name="console/member_form.html",
            context={
                **context,
                "values": values,
                "errors": errors,
                "branches": branches,
                "health_classes": health_choices(context["lang"]),
            },
            status_code=422 if errors else 200,
        )

    @get("/new", opt={"permission": MEMBER_WRITE, "page": True})
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await self._form(request, acting, db_session, {}, {})

    @post("/new", opt={"permission": MEMBER_WRITE, "page": True}, status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        values = {k: str(v).strip() for k, v in data.items() if k in FORM_FIELDS}
        payload: dict[str, Any] = {k: v for k, v in values.items() if v}
        lang = request_language(request)
        try:
            fields = MemberCreate.model_validate(payload)
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for err in exc.errors():
                key = str(err["loc"][0]) if err["loc"] else "name"
                errors.setdefault(key, err["msg"] if lang == "en" else zh_validation_message(err["type"], err["msg"]))
            return await self._form(request, acting, db_session, values, errors)
        try:
            async with db_session.begin_nested():
                member = Member(tenant_id=acting.tenant.id, specialties=[], extra={})
                await service.apply_member_fields(db_session, acting.tenant.id, member, fields, creating=True)
        except AppError as exc:
            return await self._form(request, acting, db_session, values, {exc.field or "name": exc.message(lang)})
        from urllib.parse import quote

        return Redirect(f"/t/{acting.tenant.code}/members/?added={quote(member.name)}", status_code=303)

    # ---- one member: the record, its history, an audited reveal, and the edit form ---------------------------

    async def _record(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        member: Member,
        *,
        revealed: dict[str, str | None] | None = None,
        reveal_errors: dict[str, str] | None = None,
        reveal_values: dict[str, str] | None = None,
        account_errors: dict[str, str] | None = None,
        account_values: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> Template:
        out = await member_out(session, member, acting.tree)
        account = await member_accounts.account_of(session, member)
        rows = (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "member", AuditEntry.entity_id == f"{member.tenant_id},{member.id}")
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .limit(20)
            )
        ).scalars()
        context = await shell(request, acting, session)
        lang = context["lang"]
        hidden = {"updated_at", "created_at", "id_number_index", "specialties_text", "id", "tenant_id", "extra"}
        history = [
            {
                "at": row.at.astimezone().strftime("%Y-%m-%d %H:%M"),
                "actor": row.actor_name,
                "action": ACTIONS_ZH.get(row.action, row.action) if lang == "zh" else row.action,
                "fields": "、".join(
                    FIELD_ZH.get(k, k) if lang == "zh" else k
                    for k in (row.after or row.before or {})
                    if k not in hidden
                ),
            }
            for row in rows
        ]
        return Template(
            template_name="console/member.html",
            context={
                **context,
                "m": out,
                "retirement_zh": RetirementType(member.retirement_type).zh,
                "history": history,
                "can_write": can(request, acting, MEMBER_WRITE),
                "can_reveal": can(request, acting, MEMBER_REVEAL),
                "revealed": revealed,
                "errors": {**(reveal_errors or {}), **(account_errors or {})},
                "values": {**(reveal_values or {}), **(account_values or {})},
                "notice": notice,
                "account": account,
                "can_link": can(request, acting, USER_MANAGE) and member.status == "active",
            },
            status_code=422 if reveal_errors or account_errors else 200,
        )

    @get("/{member_id:uuid}", opt={"permission": MEMBER_READ, "page": True})
    async def detail(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        member = await service.get_member(db_session, member_id)
        notice = None
        if saved:
            zh, en = SAVED_NOTICES.get(saved, SAVED_NOTICES["1"])
            notice = zh if request_language(request) == "zh" else en
        return await self._record(request, acting, db_session, member, notice=notice)

    @post("/{member_id:uuid}/reveal", opt={"permission": MEMBER_REVEAL, "page": True}, status_code=200)
    async def reveal(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template:
        """Show the ID number and phone once, in this answer only (never in a URL), and audit who saw them."""
        member = await service.get_member(db_session, member_id)
        values = {"reason": str(data.get("reason", "")).strip()}
        lang = request_language(request)
        try:
            wanted = RevealRequest.model_validate({"fields": ["id_number", "phone"], "reason": values["reason"]})
        except ValidationError:
            message = "请写明查看原因（至少 2 个字）" if lang == "zh" else "Give the reason (at least 2 characters)"
            return await self._record(
                request, acting, db_session, member, reveal_errors={"reason": message}, reveal_values=values
            )
        await arecord(
            db_session,
            action="reveal",
            entity_type="member",
            entity_id=f"{member.tenant_id},{member.id}",
            tenant_id=member.tenant_id,
            after={"fields": sorted(set(wanted.fields)), "reason": wanted.reason},
        )
        revealed = {"id_number": member.id_number, "phone": member.phone}
        return await self._record(request, acting, db_session, member, revealed=revealed)

    @post("/{member_id:uuid}/account", opt={"permission": USER_MANAGE, "page": True}, status_code=303)
    async def account(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        """账号关联 from the record page: link the person's login account, or unlink it."""
        member = await service.get_member(db_session, member_id)
        back = f"/t/{acting.tenant.code}/members/{member.id}"
        if data.get("action") == "unlink":
            await member_accounts.unlink(db_session, member)
            return Redirect(f"{back}?saved=unlinked", status_code=303)
        values = {"username": str(data.get("username", "")).strip()}
        lang = request_language(request)
        if not values["username"]:
            message = "请填写本人的登录账号" if lang == "zh" else "Enter the person's login account"
            return await self._record(
                request, acting, db_session, member, account_errors={"username": message}, account_values=values
            )
        try:
            async with db_session.begin_nested():
                await member_accounts.link(db_session, member, values["username"], by=str(request.user.username))
        except AppError as exc:
            return await self._record(
                request,
                acting,
                db_session,
                member,
                account_errors={"username": exc.message(lang)},
                account_values=values,
            )
        return Redirect(f"{back}?saved=linked", status_code=303)

    async def _edit_form(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        member: Member,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> Template:
        branches = (
            (
                await session.execute(
                    select(Organization)
                    .where(Organization.tenant_id == member.tenant_id, Organization.level == OrgLevel.BRANCH.value)
                    .where(Organization.is_active)
                    .order_by(Organization.name)
                )
            )
            .scalars()
            .all()
        )
        context = await shell(request, acting, session)
        lang = context["lang"]
        return Template(
            template_name="console/member_edit.html",
            context={
                **context,
                "m": await member_out(session, member, acting.tree),
                "values": values,
                "errors": errors,
                "branches": [(str(b.id), b.name) for b in branches],
                "health_classes": health_choices(lang),
                "retirement_types": [(r.value, r.zh if lang == "zh" else r.value) for r in RetirementType],
                "genders": [("male", "男" if lang == "zh" else "Male"), ("female", "女" if lang == "zh" else "Female")],
            },
            status_code=422 if errors else 200,
        )

    @get("/{member_id:uuid}/edit", opt={"permission": MEMBER_WRITE, "page": True})
    async def edit_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
    ) -> Template:
        member = await service.get_member(db_session, member_id)

        def iso(d: datetime.date | None) -> str:
            return d.isoformat() if d else ""

        values = {
            "name": member.name,
            "gender": member.gender,
            "birth_date": iso(member.birth_date),
            "retirement_type": member.retirement_type,
            "retired_on": iso(member.retired_on),
            "former_unit": member.former_unit,
            "former_rank": member.former_rank,
            "party_joined_on": iso(member.party_joined_on),
            "formal_org_id": str(member.formal_org_id) if member.formal_org_id else "",
            "health_class": member.health_class,
            "specialties": "、".join(member.specialties or []),
            "residence_community": member.residence_community,
            "notes": member.notes,
        }
        return await self._edit_form(request, acting, db_session, member, values, {})

    @post("/{member_id:uuid}/edit", opt={"permission": MEMBER_WRITE, "page": True}, status_code=303)
    async def update(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        member = await service.get_member(db_session, member_id)
        values = typed(data, EDIT_FIELDS)
        lang = request_language(request)
        payload: dict[str, Any] = {k: v for k, v in values.items() if v and k != "specialties"}
        payload["specialties"] = [s for s in re.split(r"[、,，;；\s]+", values.get("specialties", "")) if s]
        for text_field in ("former_unit", "former_rank", "residence_community", "notes"):
            payload.setdefault(text_field, "")  # emptied on purpose
        errors: dict[str, str] = {}
        if not values.get("name"):
            errors["name"] = "必填" if lang == "zh" else "Required"
        try:
            fields = MemberFields.model_validate(payload)
        except ValidationError as exc:
            errors = {**validation_errors(exc, lang, "name"), **errors}
        if errors:
            return await self._edit_form(request, acting, db_session, member, values, errors)
        try:
            async with db_session.begin_nested():
                await service.apply_member_fields(db_session, member.tenant_id, member, fields, creating=False)
        except AppError as exc:
            await db_session.refresh(member)
            return await self._edit_form(
                request, acting, db_session, member, values, app_error(exc, lang, "name", EDIT_FIELDS)
            )
        return Redirect(f"/t/{acting.tenant.code}/members/{member.id}?saved=1", status_code=303)

    # ---- Excel: template, import with per-row errors and progress, export ------------------------------------

    async def _import_page(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        errors: dict[str, str],
        values: dict[str, str],
    ) -> Template:
        jobs = (
            await session.execute(
                select(MemberImportJob).order_by(MemberImportJob.created_at.desc(), MemberImportJob.id.desc()).limit(10)
            )
        ).scalars()
        context = await shell(request, acting, session)
        return Template(
            template_name="console/member_import.html",
            context={
                **context,
                "jobs": [job_out(j, acting, context["lang"], with_errors=False) for j in jobs],
                "errors": errors,
                "values": values,
            },
            status_code=422 if errors else 200,
        )

    @get("/import", opt={"permission": MEMBER_WRITE, "page": True})
    async def import_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await self._import_page(request, acting, db_session, {}, {"mode": "strict", "on_duplicate": "error"})

    @post("/import", opt={"permission": MEMBER_WRITE, "page": True}, status_code=303)
    async def submit_import(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template | Redirect:
        lang = request_language(request)
        values = {
            "mode": str(data.get("mode") or "strict"),
            "on_duplicate": str(data.get("on_duplicate") or "error"),
        }
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            message = "请选择要导入的 Excel 文件（.xlsx）" if lang == "zh" else "Choose the Excel file (.xlsx)"
            return await self._import_page(request, acting, db_session, {"file": message}, values)
        try:
            mode, on_duplicate = ImportMode(values["mode"]), OnDuplicate(values["on_duplicate"])
        except ValueError:
            mode, on_duplicate = ImportMode.STRICT, OnDuplicate.ERROR
        if not acting.scope.can_write(acting.tenant.id):
            raise WRITE_OUTSIDE_SCOPE.error(tenant_id=acting.tenant.id)
        content = await upload.read()
        try:
            outcome = await member_imports(request.app).submit(
                tenant_id=acting.tenant.id,
                tenant_code=acting.tenant.code,
                audit=audit_context(request, acting),
                upload=Upload(content, upload.filename, upload.content_type or None),
                mode=mode,
                on_duplicate=on_duplicate,
                background=None,
            )
        except AppError as exc:
            return await self._import_page(request, acting, db_session, {"file": exc.message(lang)}, values)
        return Redirect(f"/t/{acting.tenant.code}/members/imports/{outcome.job.id}", status_code=303)

    @get("/imports/{job_id:uuid}", opt={"permission": MEMBER_WRITE, "page": True})
    async def import_job(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        job_id: FromPath[uuid.UUID],
    ) -> Template:
        """One import: progress while it runs (HTMX refreshes the panel; a plain reload works too), then the
        counts and every row's error."""
        job = (
            await db_session.execute(select(MemberImportJob).where(MemberImportJob.id == job_id))
        ).scalar_one_or_none()
        if job is None:
            raise JOB_NOT_FOUND.error(field="job_id")
        context = await shell(request, acting, db_session)
        out = job_out(job, acting, context["lang"])
        partial = "hx-request" in request.headers
        return Template(
            template_name="console/member_import_job.html",
            context={**context, "job": out, "running": out.status.value not in FINISHED, "partial": partial},
        )
