"""Console pages of the programme at ``/t/{code}/education/…``: stations, activities (with a form to record one:
big targets, plain words, every mistake shown next to its field and nothing typed lost) and the figures, which
come from the report aggregates. Personal data stays masked, as in the API."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, request_language, zh_validation_message
from core.identity.access import Acting, current_principal, platform_of
from core.web.pages import render_page
from plugins.education import service
from plugins.education.models import Counsellor, Station
from plugins.education.schemas import (
    CATEGORY_EN,
    CATEGORY_ZH,
    KIND_EN,
    KIND_ZH,
    PLACE_KIND_EN,
    PLACE_KIND_ZH,
    STATION_STATUS_EN,
    STATION_STATUS_ZH,
    ActivityIn,
)

PAGE_SIZE = 20
FORM_FIELDS = ("station_id", "kind", "title", "held_on", "duration_minutes", "students", "parents", "teachers", "note")


def _can(request: Request[Any, Any, Any], acting: Acting, permission: str) -> bool:
    principal = current_principal(request)
    return principal is not None and principal.can(
        acting.tree, platform_of(request).roles, acting.tenant.id, permission
    )


def _page(value: int | None) -> int:
    return max(1, value or 1)


class EducationPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/stations", opt={"permission": "education.read"})
    async def stations(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
    ) -> Template:
        which = status if status in STATION_STATUS_ZH else None
        current = _page(page)
        rows, total = await service.list_stations(
            db_session, status=which, place_kind=None, page=current, page_size=PAGE_SIZE
        )
        zh = request_language(request) == "zh"
        return await render_page(
            request,
            acting,
            db_session,
            "education/stations.html",
            plugin="education",
            stations=[service.station_out(r) for r in rows],
            total=total,
            page=current,
            pages=max(1, -(-total // PAGE_SIZE)),
            status=which or "",
            statuses=list((STATION_STATUS_ZH if zh else STATION_STATUS_EN).items()),
            place_label=PLACE_KIND_ZH if zh else PLACE_KIND_EN,
            status_label=STATION_STATUS_ZH if zh else STATION_STATUS_EN,
        )

    async def _activities(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        *,
        page: int = 1,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> Template:
        rows, total = await service.list_activities(
            session,
            station_id=None,
            kind=None,
            status="recorded",
            since=None,
            until=None,
            page=page,
            page_size=PAGE_SIZE,
        )
        can_write = _can(request, acting, "education.write")
        stations: list[Station] = []
        counsellors: list[service.CounsellorView] = []
        if can_write:
            stations = list(
                (await session.execute(select(Station).where(Station.status == "open").order_by(Station.name)))
                .scalars()
                .all()
            )
            active = (
                (
                    await session.execute(
                        select(Counsellor).where(Counsellor.status == "active").order_by(Counsellor.created_at)
                    )
                )
                .scalars()
                .all()
            )
            counsellors = await service.counsellor_views(session, active)
        lang = request_language(request)
        return await render_page(
            request,
            acting,
            session,
            "education/activities.html",
            plugin="education",
            status_code=422 if errors else 200,
            activities=await service.activities_out(session, rows),
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            can_write=can_write,
            stations=stations,
            counsellors=[
                {
                    "id": str(v.row.id),
                    "name": v.name,
                    "category": CATEGORY_ZH[v.row.category] if lang == "zh" else CATEGORY_EN[v.row.category],
                }
                for v in counsellors
            ],
            kinds=list((KIND_ZH if lang == "zh" else KIND_EN).items()),
            kind_names=KIND_ZH if lang == "zh" else KIND_EN,
            values=values or {"held_on": datetime.date.today().isoformat(), "duration_minutes": "60"},
            chosen=set((values or {}).get("counsellor_ids", [])),
            errors=errors or {},
            notice=notice,
        )

    @get("/activities", opt={"permission": "education.read"})
    async def activities(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        page: FromQuery[int | None] = None,
        added: FromQuery[str | None] = None,
    ) -> Template:
        notice = None
        if added:
            notice = f"已登记活动：{added}" if request_language(request) == "zh" else f"Activity recorded: {added}"
        return await self._activities(request, acting, db_session, page=_page(page), notice=notice)

    @post("/activities", opt={"permission": "education.write"}, status_code=303)
    async def record(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template | Redirect:
        form = await request.form()
        values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in FORM_FIELDS}
        values["counsellor_ids"] = [str(v) for v in form.getall("counsellor_ids")] if "counsellor_ids" in form else []
        payload: dict[str, Any] = {k: v for k, v in values.items() if v not in ("", [])}
        payload.setdefault("counsellor_ids", [])
        lang = request_language(request)
        try:
            data = ActivityIn.model_validate(payload)
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for err in exc.errors():
                key = str(err["loc"][0]) if err["loc"] else "title"
                errors.setdefault(key, err["msg"] if lang == "en" else zh_validation_message(err["type"], err["msg"]))
            return await self._activities(request, acting, db_session, values=values, errors=errors)
        try:
            async with db_session.begin_nested():
                await service.record_activity(db_session, data, str(request.user.username), acting.tree)
        except AppError as exc:
            return await self._activities(
                request, acting, db_session, values=values, errors={exc.field or "title": exc.message(lang)}
            )
        return Redirect(f"/t/{acting.tenant.code}/education/activities?added={quote(data.title)}", status_code=303)

    @get("/figures", opt={"permission": "education.read"})
    async def figures(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
    ) -> Template:
        this_year = datetime.date.today().year
        which = year if year and 2000 <= year <= 2100 else this_year
        values = await service.figures(db_session, acting.tree.subtree_ids(acting.tenant.id), acting.tenant.id, which)
        lang = request_language(request)
        categories = CATEGORY_ZH if lang == "zh" else CATEGORY_EN
        kinds = KIND_ZH if lang == "zh" else KIND_EN

        def get(metric: str) -> float:
            return values.get(metric, 0.0)

        return await render_page(
            request,
            acting,
            db_session,
            "education/figures.html",
            plugin="education",
            year=which,
            years=list(range(this_year, this_year - 5, -1)),
            stations=get(service.STATIONS),
            activities=get(service.ACTIVITIES),
            students=get(service.STUDENTS_REACHED),
            parents=get(service.PARENTS_REACHED),
            counsellors=get(service.ACTIVE_COUNSELLORS),
            hours=get(service.COUNSELLOR_HOURS),
            pairings=get(service.PAIRINGS),
            by_category=[(categories[c], get(f"{service.ACTIVE_COUNSELLORS}.{c}")) for c in CATEGORY_ZH],
            by_kind=[(kinds[k], get(f"{service.ACTIVITIES}.{k}")) for k in KIND_ZH],
        )
