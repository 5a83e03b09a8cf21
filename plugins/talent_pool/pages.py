"""Console pages of the talent pool: the overview (figures, reminders), the demand list, one demand with its
ranked and explained candidates (and a button to assign one), and the list of experts."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, current_principal, platform_of
from core.web.pages import render_page
from plugins.talent_pool import service, sharing
from plugins.talent_pool.categories import CATEGORIES
from plugins.talent_pool.routes import readable
from plugins.talent_pool.schemas import AVAILABILITY_ZH, REQUESTER_ZH, AssignmentCreate

READ = {"permission": "talent_pool.read"}
WRITE = {"permission": "talent_pool.write"}


def _(text: str) -> str:
    """Marks words the templates translate at render time (``_(status_zh[...])``) for the catalogue."""
    return text


TRANSLATED_AT_RENDER = (
    _("待审核"), _("已入库"), _("未通过"), _("已退出"), _("待对接"), _("已派单"), _("已办结"), _("已取消"),
    _("待专家确认"), _("专家已接受"), _("专家已婉拒"), _("可以服务"), _("近期较忙"), _("暂不服务"),
    _("村（社区）"), _("企业"), _("学校"), _("社区"), _("其他"),
    _("领域"), _("专长"), _("距离"), _("时间"), _("任务量"),
)  # fmt: skip
FACTOR_ZH = {"field": "领域", "skills": "专长", "distance": "距离", "availability": "时间", "load": "任务量"}


def _can(request: Request[Any, Any, Any], acting: Acting, permission: str) -> bool:
    principal = current_principal(request)
    return principal is not None and principal.can(
        acting.tree, platform_of(request).roles, acting.tenant.id, permission
    )


class TalentPoolPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", opt=READ)
    async def overview(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        stats = await service.stats(db_session)
        settings = await sharing.subtree_settings(platform_of(request), acting.tree, readable(acting))
        reminders = await service.reminders(db_session, settings)
        return await render_page(
            request, acting, db_session, "talent_pool/overview.html", plugin="talent_pool",
            stats=stats, reminders=reminders[:20], categories=CATEGORIES,
        )  # fmt: skip

    @get("/demands", opt=READ)
    async def demands(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        page = max(page, 1)
        rows, total = await service.list_demands(db_session, status=status or None, field=None, page=page, page_size=20)
        return await render_page(
            request, acting, db_session, "talent_pool/demands.html", plugin="talent_pool",
            demands=rows, total=total, page=page, pages=max(1, -(-total // 20)), status=status or "",
            status_zh=service.STATUS_ZH, requester_zh=REQUESTER_ZH,
        )  # fmt: skip

    @get("/demands/{demand_id:uuid}", opt=READ)
    async def demand(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        demand_id: FromPath[uuid.UUID],
        assigned: FromQuery[str | None] = None,
    ) -> Template:
        row = await service.get_demand(db_session, demand_id)
        ranking = await service.match(
            db_session, platform_of(request), acting.tree, acting.tenant, readable(acting), demand_id
        )
        assignments, _ = await service.list_assignments(
            db_session, demand_id=row.id, status=None, page=1, page_size=100
        )
        return await render_page(
            request, acting, db_session, "talent_pool/demand.html", plugin="talent_pool",
            demand=row, ranking=ranking, assignments=assignments, status_zh=service.STATUS_ZH,
            requester_zh=REQUESTER_ZH, availability_zh=AVAILABILITY_ZH, factor_zh=FACTOR_ZH,
            can_write=_can(request, acting, "talent_pool.write") and row.status in ("open", "assigned"),
            assigned=bool(assigned),
        )  # fmt: skip

    @post("/demands/{demand_id:uuid}/assign", opt=WRITE)
    async def assign(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        demand_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect:
        await service.get_demand(db_session, demand_id)  # unknown or foreign: 404 before reading the form
        choice = AssignmentCreate.model_validate(
            {"expert_id": data.get("expert_id", ""), "expert_tenant_code": data.get("expert_tenant_code") or None}
        )
        actor = str(getattr(request.user, "username", "system"))
        await service.assign(
            db_session, platform_of(request), acting.tree, acting.tenant, readable(acting), demand_id, choice, actor
        )
        return Redirect(f"/t/{acting.tenant.code}/talent_pool/demands/{demand_id}?assigned=1", status_code=303)

    @get("/experts", opt=READ)
    async def experts(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        field: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        page = max(page, 1)
        rows, total = await service.list_profiles(
            db_session, status=None, field=field or None, q=q or None, station_id=None, page=page, page_size=20
        )
        return await render_page(
            request, acting, db_session, "talent_pool/experts.html", plugin="talent_pool",
            experts=[service.profile_out(p, m) for p, m in rows], total=total, page=page,
            pages=max(1, -(-total // 20)), query={"field": field or "", "q": q or ""},
            status_zh=service.STATUS_ZH, availability_zh=AVAILABILITY_ZH,
        )  # fmt: skip
