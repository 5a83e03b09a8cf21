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

from core.errors import AppError
from core.identity.access import Acting, current_principal, platform_of, provide_acting, tree_of
from core.identity.roles import MEMBER, REPORT_READ, TENANT_READ
from core.orglife.metrics import ACTIVITIES, ATTENDANCE, ATTENDANCE_RATE, BRANCHES, MEMBERS, SIX_HAVES_RATE
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
        link = principal.member
        only_member = not principal.is_platform_admin and {g.role for g in principal.grants} <= {MEMBER.name}
        if link is not None and link.tenant_id in tree.nodes and only_member:
            return Redirect(f"/t/{tree.nodes[link.tenant_id].code}/me")  # a retired cadre lands on 我的主页
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
        period: FromQuery[str] = "",
        custom: FromQuery[str] = "",
    ) -> Template:
        """Key figures of the subtree for the chosen period (from the maintained aggregates), per child, charted."""
        from core.reports import service as reports
        from core.reports.periods import ReportPeriod
        from core.reports.rollup import rollup

        platform = platform_of(request)
        chosen = (custom or period).strip()
        error = None
        try:
            report_period = ReportPeriod.parse(chosen) if chosen else ReportPeriod.current_year()
        except AppError as exc:
            error = exc.message(negotiate(request))
            report_period = ReportPeriod.current_year()
        scope = await reports.report_scope(platform, acting)
        headline = [
            spec.id for name in scope.active for spec in [e.spec for e in scope.entries if e.source == name][:3]
        ]
        specs = scope.pick([*DASHBOARD_METRICS, *headline])
        result = await rollup(db_session, acting.tree, acting.tenant, specs, report_period, scope.known)
        snapshot = await platform.activation.get(platform.database)
        effective = plugins.effective_in(platform.plugins, acting.tree, snapshot, acting.tenant.id)
        programmes = [
            {"name": name, "title": platform.plugins.title(name), "active": eff.active, "reason": eff}
            for name, eff in sorted(effective.items())
        ]
        known = scope.known
        cards = [
            {"spec": known[i], "value": result.total.values.get(i), "previous": result.total.previous.get(i)}
            for i in DASHBOARD_METRICS
        ]
        programme_cards = [
            {"spec": spec, "value": result.total.values.get(spec.id), "previous": result.total.previous.get(spec.id)}
            for spec in result.specs
            if spec.id not in DASHBOARD_METRICS
        ]
        chart = {
            "labels": [c.node.name for c in result.children],
            "codes": [c.node.code for c in result.children],
            "values": [c.values.get(ATTENDANCE) or 0 for c in result.children],
            "query": f"?period={report_period.text}",
        }
        principal = current_principal(request)
        context = await shell(request, acting, db_session)
        return Template(
            template_name="console/dashboard.html",
            context={
                **context,
                "rollup": result,
                "period": report_period,
                "period_choices": period_choices(datetime.date.today()),
                "period_error": error,
                "cards": cards,
                "programme_cards": programme_cards,
                "table_specs": [known[i] for i in DASHBOARD_METRICS],
                "chart": chart,
                "programmes": programmes,
                "active_programmes": sum(1 for p in programmes if p["active"]),
                "can_report": bool(
                    principal and principal.can(acting.tree, platform.roles, acting.tenant.id, REPORT_READ)
                ),
                "change": change_text,
            },
        )


#: The figures every dashboard shows (the core's); programmes add theirs below.
DASHBOARD_METRICS = (MEMBERS, BRANCHES, ACTIVITIES, ATTENDANCE, ATTENDANCE_RATE, SIX_HAVES_RATE)


def period_choices(today: datetime.date) -> list[tuple[str, str]]:
    """This year and last, this year's quarters and months so far: (value, label)."""
    year = today.year
    out = [(str(year), f"{year}年"), (str(year - 1), f"{year - 1}年")]
    out += [(f"{year}-Q{q}", f"{year}年第{'一二三四'[q - 1]}季度") for q in range(1, (today.month - 1) // 3 + 2)]
    out += [(f"{year}-{mo:02d}", f"{year}年{mo}月") for mo in range(1, today.month + 1)]
    return out


def change_text(now: float | None, before: float | None, rate: bool = False) -> str:
    """ "比上期 +12.5%" in words and signs (never colour alone); empty when there is nothing to compare."""
    if now is None or before is None:
        return ""
    if rate:
        delta = (now - before) * 100
        return f"{'+' if delta >= 0 else '−'}{abs(delta):.1f}"
    if before == 0:
        return ""
    delta = (now - before) / before * 100
    return f"{'+' if delta >= 0 else '−'}{abs(delta):.1f}%"
