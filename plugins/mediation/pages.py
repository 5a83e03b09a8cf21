"""Console pages: the cases the signed-in person may see (late ones first, with plain-word warnings), one case
(opening it is audited, personal data masked), the rooms with their mediators, and the figures."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting
from core.web.pages import render_page
from plugins.mediation import metrics, service, stats
from plugins.mediation.routes import tenant_settings

PLUGIN = "mediation"


def _labels() -> dict[str, Any]:
    """Names of statuses, steps, types and room kinds as (Chinese, English); the templates pick by language."""
    return {
        "status_label": {k: (v, service.STATUS_EN[k]) for k, v in service.STATUS_ZH.items()},
        "action_label": {k: (v, service.ACTION_EN[k]) for k, v in service.ACTION_ZH.items()},
        "type_label": {k: (zh, en.capitalize()) for k, (zh, en) in metrics.TYPE_ZH.items()},
        "room_kind_label": {k: (zh, en.capitalize()) for k, (zh, en) in metrics.ROOM_KIND_ZH.items()},
    }


class MediationPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/cases", opt={"permission": "mediation.case.read"})
    async def cases_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        overdue: FromQuery[bool | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        settings = tenant_settings(plugin_settings)
        viewer = service.Viewer(principal=request.user, tree=acting.tree)
        rows, total = await service.list_cases(
            db_session, viewer, acting.tenant.id, settings, overdue=overdue, page=max(page, 1), page_size=30
        )
        cases = [service.summary(r, settings) for r in rows]
        return await render_page(
            request,
            acting,
            db_session,
            "mediation/cases.html",
            plugin=PLUGIN,
            cases=cases,
            total=total,
            overdue=overdue,
            page=max(page, 1),
            pages=max((total + 29) // 30, 1),
            **_labels(),
        )

    @get("/cases/{case_id:uuid}", opt={"permission": "mediation.case.read"})
    async def case_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        case_id: FromPath[uuid.UUID],
    ) -> Template:
        settings = tenant_settings(plugin_settings)
        case = await service.open_case(db_session, service.Viewer(principal=request.user, tree=acting.tree), case_id)
        detail = await service.case_detail(db_session, case, settings)
        return await render_page(
            request, acting, db_session, "mediation/case.html", plugin=PLUGIN, case=detail, **_labels()
        )

    @get("/rooms", opt={"permission": "mediation.read"})
    async def rooms_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        rooms = await service.list_rooms(db_session, include_closed=False)
        mediators = await service.mediators_of(db_session, [r.id for r in rooms], serving_only=True)
        return await render_page(
            request,
            acting,
            db_session,
            "mediation/rooms.html",
            plugin=PLUGIN,
            rooms=[service.room_out(r, mediators) for r in rooms],
            **_labels(),
        )

    @get("/stats", opt={"permission": "mediation.stats"})
    async def stats_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
    ) -> Template:
        today = datetime.date.today()
        chosen = year if year and 2000 <= year <= today.year else today.year
        since, until = datetime.date(chosen, 1, 1), min(datetime.date(chosen, 12, 31), today)
        figures = await stats.figures(db_session, acting.tree, acting.tenant.id, since, until)
        return await render_page(
            request,
            acting,
            db_session,
            "mediation/stats.html",
            plugin=PLUGIN,
            figures=figures,
            year=chosen,
            **_labels(),
        )
