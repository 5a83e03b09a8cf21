"""Console pages of the member ledger: search the ledger, add a member (errors next to each field, nothing typed
lost). Personal data stays masked, as in the API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, request_language, zh_validation_message
from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.roles import MEMBER_READ, MEMBER_WRITE
from core.orgs import service
from core.orgs.models import HealthClass, Member, Organization, OrgLevel
from core.orgs.routes import member_out
from core.orgs.schemas import MemberCreate
from core.web.console import page_of, shell

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
        import datetime

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
