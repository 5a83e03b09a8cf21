"""The console's pages: the shell (tenant switcher, navigation, breadcrumbs, 长辈版 large text, language)
and the tenant dashboard. Server-rendered Jinja2; HTMX and ECharts are served from ``/static``, no CDN."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, current_principal, platform_of, provide_acting, tree_of
from core.identity.roles import TENANT_READ
from core.orgs.models import Member, Organization
from core.plugin_host import service as plugins
from core.plugin_host.navigation import navigation_for
from core.tenancy.tree import TenantNode, TenantTree
from core.web.i18n import format_date, format_number, negotiate, translations

PAGE = {"permission": TENANT_READ, "page": True}
FONT_SCALES = (100, 115, 130, 150)
YEAR_SECONDS = 365 * 24 * 3600


def preferences(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The person's display choices, kept in cookies so they stick on this device."""
    elder = request.cookies.get("elder") == "1"
    try:
        scale = int(request.cookies.get("font_scale", "130" if elder else "100"))
    except ValueError:
        scale = 100
    return {"elder": elder, "font_scale": scale if scale in FONT_SCALES else 100, "lang": negotiate(request)}


def page_context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    prefs = preferences(request)
    lang = prefs["lang"]
    t = translations(lang)
    return {
        "_": t.gettext,
        "lang": lang,
        "prefs": prefs,
        "fmt_date": lambda d: format_date(d, lang),
        "fmt_num": lambda n: format_number(n, lang),
        "principal": current_principal(request),
        "path": request.url.path,
        "today": datetime.date.today(),
        **extra,
    }


@dataclass
class PageOf:
    """One page of a list for a console page: its rows, the total, and the page number kept in range."""

    rows: list[Any]
    total: int
    page: int
    pages: int


async def page_of(session: AsyncSession, query: Any, page: int, size: int) -> PageOf:
    """Count ``query``, clamp ``page`` to what exists, and fetch that page (``query`` carries its order)."""
    total = (await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    pages = max(1, math.ceil(total / size))
    page = min(max(page, 1), pages)
    rows = (await session.execute(query.offset((page - 1) * size).limit(size))).scalars().all()
    return PageOf(list(rows), total, page, pages)


def switchable_tenants(request: Request[Any, Any, Any], tree: TenantTree) -> list[TenantNode]:
    """Only the tenants the person may act in, in tree order."""
    principal = current_principal(request)
    if principal is None:
        return []
    visible = principal.visible_ids(tree)
    return [n for n in tree.walk() if n.id in visible]


async def shell(request: Request[Any, Any, Any], acting: Acting, session: AsyncSession) -> dict[str, Any]:
    platform = platform_of(request)
    return page_context(
        request,
        tenant=acting.tenant,
        lineage=acting.tree.lineage(acting.tenant.id),
        tenants=switchable_tenants(request, acting.tree),
        tree=acting.tree,
        nav=await navigation_for(platform, current_principal(request), acting, session),
    )


class Preferences(BaseModel):
    elder: str | None = None
    font_scale: int | None = None
    lang: str | None = None
    back: str | None = None


class ConsoleController(Controller):
    path = "/"
    tags = ["console"]
    include_in_schema = False

    @get("/", opt={"public": True})
    async def home(self, request: Request[Any, Any, Any]) -> Redirect:
        principal = current_principal(request)
        if principal is None:
            return Redirect("/auth/login?next=/")
        tree = await tree_of(request)
        tenants = switchable_tenants(request, tree)
        if not tenants:
            return Redirect("/auth/login?next=/")
        return Redirect(f"/t/{tenants[0].code}/")

    @get("/switch", opt={"public": True})
    async def switch(self, request: Request[Any, Any, Any], t: FromQuery[str] = "") -> Redirect:
        """The tenant switcher without JavaScript: the form sends the chosen code here."""
        tree = await tree_of(request)
        node = tree.find(t)
        return Redirect(f"/t/{node.code}/" if node else "/")

    @post("/ui/preferences", opt={"public": True}, status_code=303)
    async def set_preferences(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[Preferences],
    ) -> Response[None]:
        back = data.back if data.back and data.back.startswith("/") and not data.back.startswith("//") else "/"
        response: Response[None] = Redirect(back, status_code=303)
        if data.elder is not None:
            elder = data.elder == "1"
            response.set_cookie("elder", "1" if elder else "0", max_age=YEAR_SECONDS, samesite="lax")
            response.set_cookie("font_scale", "130" if elder else "100", max_age=YEAR_SECONDS, samesite="lax")
        if data.font_scale in FONT_SCALES:
            response.set_cookie("font_scale", str(data.font_scale), max_age=YEAR_SECONDS, samesite="lax")
        if data.lang in ("zh", "en"):
            response.set_cookie("lang", data.lang, max_age=YEAR_SECONDS, samesite="lax")
        return response

    @get("/t/{tenant_code:str}/", opt=PAGE, dependencies={"acting": Provide(provide_acting, sync_to_thread=False)})
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        tree = acting.tree
        children = [tree.nodes[c] for c in tree.children.get(acting.tenant.id, [])]
        members_by_tenant = dict(
            list(
                (
                    await db_session.execute(
                        select(Member.tenant_id, func.count())
                        .where(Member.status == "active")
                        .group_by(Member.tenant_id)
                    )
                ).tuples()
            )
        )
        branches = (
            await db_session.execute(
                select(func.count()).select_from(Organization).where(Organization.level == "branch")
            )
        ).scalar_one()

        def subtree_members(node: TenantNode) -> int:
            return sum(members_by_tenant.get(i, 0) for i in tree.subtree_ids(node.id))

        platform = platform_of(request)
        snapshot = await platform.activation.get(platform.database)
        effective = plugins.effective_in(platform.plugins, tree, snapshot, acting.tenant.id)
        programmes = [
            {"name": name, "title": platform.plugins.title(name), "active": eff.active, "reason": eff}
            for name, eff in sorted(effective.items())
        ]
        figures = {
            "tenants": len(tree.subtree_ids(acting.tenant.id)) - 1,
            "branches": branches,
            "members": subtree_members(acting.tenant),
            "programmes": sum(1 for p in programmes if p["active"]),
        }
        chart = {
            "labels": [c.name for c in children],
            "codes": [c.code for c in children],
            "values": [subtree_members(c) for c in children],
        }
        context = await shell(request, acting, db_session)
        return Template(
            template_name="console/dashboard.html",
            context={**context, "figures": figures, "children": children, "chart": chart, "programmes": programmes},
        )
