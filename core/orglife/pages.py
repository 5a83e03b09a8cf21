"""Console page of organisation life (组织生活): meetings by kind and period, recording a meeting, its attendance
sheet (present / absent with a reason / excused) and the "六好" ranking of the subtree. The rules are the
service's (:mod:`core.orglife.service`, :mod:`core.orglife.standards`); errors sit next to their field."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, request_language
from core.identity.access import Acting, current_principal, provide_acting
from core.identity.roles import ORGLIFE_WRITE, TENANT_READ
from core.orglife import service, standards
from core.orglife.models import AttendanceStatus, Meeting, MeetingKind, MeetingMode
from core.orglife.periods import Period
from core.orglife.routes import _org_names, meeting_out
from core.orglife.schemas import AttendanceBatch, MeetingCreate
from core.orgs.models import Organization, OrgLevel
from core.web.console import page_of, shell
from core.web.forms import app_error, can, parse, typed

PAGE_SIZE = 20
FORM_FIELDS = (
    "org_id",
    "kind",
    "title",
    "held_on",
    "start_time",
    "duration_minutes",
    "place",
    "mode",
    "topic",
    "lecturer",
)
ITEM_FIELD = re.compile(r"^items\[(\d+)\]")


def kind_choices(lang: str) -> list[tuple[str, str]]:
    return [(k.value, k.zh if lang == "zh" else k.value.replace("_", " ")) for k in MeetingKind]


class OrgLifePages(Controller):
    path = "/t/{tenant_code:str}/orglife"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"permission": TENANT_READ, "page": True})
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        kind: FromQuery[str | None] = None,
        period: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        lang = request_language(request)
        chosen_kind = MeetingKind(kind) if kind in {k.value for k in MeetingKind} else None
        chosen_period, problem = None, None
        if period:
            try:
                chosen_period = Period.parse(period.strip())
            except AppError as exc:
                problem = exc.message(lang)
        query = service.list_query(org_id=None, kind=chosen_kind, period=chosen_period, include_cancelled=True)
        listing = await page_of(
            db_session,
            query.order_by(Meeting.held_on.desc(), Meeting.start_time.desc().nulls_last(), Meeting.id.desc()),
            page,
            PAGE_SIZE,
        )
        names = await _org_names(db_session, {m.org_id for m in listing.rows})
        counts = await service.mark_counts(db_session, [m.id for m in listing.rows])
        meetings = [meeting_out(m, acting.tree, names.get(m.org_id, ""), counts.get(m.id, {})) for m in listing.rows]
        context = await shell(request, acting, db_session)
        filters = {"kind": chosen_kind.value if chosen_kind else "", "period": period or ""}
        return Template(
            template_name="console/orglife.html",
            context={
                **context,
                "meetings": meetings,
                "total": listing.total,
                "page": listing.page,
                "pages": listing.pages,
                "filters": filters,
                "query_base": urlencode({k: v for k, v in filters.items() if v}),
                "kinds": kind_choices(lang),
                "can_write": can(request, acting, ORGLIFE_WRITE),
                "problem": problem,
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
        orgs = (
            (
                await session.execute(
                    select(Organization)
                    .where(Organization.tenant_id == acting.tenant.id, Organization.is_active)
                    .where(Organization.level.in_([OrgLevel.BRANCH.value, OrgLevel.GROUP.value]))
                    .order_by(Organization.name)
                )
            )
            .scalars()
            .all()
        )
        context = await shell(request, acting, session)
        lang = context["lang"]
        return Template(
            template_name="console/meeting_form.html",
            context={
                **context,
                "values": values,
                "errors": errors,
                "orgs": [(str(o.id), f"{o.name}（{OrgLevel(o.level).zh}）") for o in orgs],
                "kinds": kind_choices(lang),
                "modes": [(m.value, m.zh if lang == "zh" else m.value) for m in MeetingMode],
            },
            status_code=422 if errors else 200,
        )

    @get("/new", opt={"permission": ORGLIFE_WRITE, "page": True})
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        values = {
            "kind": MeetingKind.THEME_DAY.value,
            "held_on": datetime.date.today().isoformat(),
            "duration_minutes": "90",
            "mode": MeetingMode.OFFLINE.value,
        }
        return await self._form(request, acting, db_session, values, {})

    @post("/new", opt={"permission": ORGLIFE_WRITE, "page": True}, status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        values = typed(data, FORM_FIELDS)
        lang = request_language(request)
        fields, errors = parse(MeetingCreate, values, lang, "title")
        if fields is None:
            return await self._form(request, acting, db_session, values, errors)
        principal = current_principal(request)
        try:
            async with db_session.begin_nested():
                meeting = await service.create_meeting(
                    db_session, acting.tenant.id, fields, principal.username if principal else "system"
                )
        except AppError as exc:
            return await self._form(request, acting, db_session, values, app_error(exc, lang, "title", FORM_FIELDS))
        return Redirect(f"/t/{acting.tenant.code}/orglife/{meeting.id}?saved=1", status_code=303)

    async def _meeting(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        meeting: Meeting,
        *,
        marks: dict[str, dict[str, str]] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> Template:
        sheet = await service.attendance_sheet(session, meeting)
        names = await _org_names(session, {meeting.org_id})
        counts = (await service.mark_counts(session, [meeting.id])).get(meeting.id, {})
        out = meeting_out(meeting, acting.tree, names.get(meeting.org_id, ""), counts, sheet)
        typed_marks = marks or {}
        rows = [
            {
                "member_id": a.member_id,
                "name": a.name,
                "relation_zh": a.relation_zh,
                "status": typed_marks.get(a.member_id, {}).get("status", a.status),
                "status_zh": a.status_zh,
                "reason": typed_marks.get(a.member_id, {}).get("reason", a.reason),
                "by_default": a.by_default,
            }
            for a in out.attendance or []
        ]
        context = await shell(request, acting, session)
        lang = context["lang"]
        return Template(
            template_name="console/meeting.html",
            context={
                **context,
                "m": out,
                "rows": rows,
                "errors": errors or {},
                "statuses": [(s.value, s.zh if lang == "zh" else s.value) for s in AttendanceStatus],
                "can_write": can(request, acting, ORGLIFE_WRITE) and meeting.tenant_id == acting.tenant.id,
                "open": out.state != "cancelled" and meeting.held_on <= datetime.date.today(),
                "notice": notice,
            },
            status_code=422 if errors else 200,
        )

    @get("/{meeting_id:uuid}", opt={"permission": TENANT_READ, "page": True})
    async def meeting_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        meeting = await service.get_meeting(db_session, meeting_id)
        notice = None
        if saved:
            notice = "已保存" if request_language(request) == "zh" else "Saved"
        return await self._meeting(request, acting, db_session, meeting, notice=notice)

    @post("/{meeting_id:uuid}/attendance", opt={"permission": ORGLIFE_WRITE, "page": True}, status_code=303)
    async def record_attendance(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        """The sheet posts ``status-<member id>`` and ``reason-<member id>`` for each person on the roster."""
        meeting = await service.get_meeting(db_session, meeting_id, lock=True)
        lang = request_language(request)
        marks: dict[str, dict[str, str]] = {}
        for key, value in data.items():
            prefix, _, member_id = key.partition("-")
            if prefix in ("status", "reason") and member_id:
                marks.setdefault(member_id, {})[prefix] = str(value).strip()
        order = [m for m, v in marks.items() if v.get("status") in {s.value for s in AttendanceStatus}]
        if not order:
            message = "请至少登记一人的出席情况" if lang == "zh" else "Mark at least one person"
            return await self._meeting(request, acting, db_session, meeting, marks=marks, errors={"sheet": message})
        try:
            batch = AttendanceBatch.model_validate(
                {
                    "items": [
                        {"member_id": m, "status": marks[m]["status"], "reason": marks[m].get("reason", "")}
                        for m in order
                    ]
                }
            )
        except ValidationError:
            message = "原因最多 200 个字" if lang == "zh" else "A reason has at most 200 characters"
            return await self._meeting(request, acting, db_session, meeting, marks=marks, errors={"sheet": message})
        org = (
            await db_session.execute(
                select(Organization).where(
                    Organization.tenant_id == meeting.tenant_id, Organization.id == meeting.org_id
                )
            )
        ).scalar_one()
        principal = current_principal(request)
        try:
            async with db_session.begin_nested():
                await service.record_attendance(
                    db_session, meeting, org, batch.items, principal.username if principal else "system"
                )
        except AppError as exc:
            errors = {"sheet": exc.message(lang)}
            found = ITEM_FIELD.match(exc.field or "")
            if found and int(found.group(1)) < len(order):
                errors[f"reason-{order[int(found.group(1))]}"] = exc.message(lang)
            await db_session.refresh(meeting)
            return await self._meeting(request, acting, db_session, meeting, marks=marks, errors=errors)
        return Redirect(f"/t/{acting.tenant.code}/orglife/{meeting.id}?saved=1", status_code=303)

    @get("/ranking", opt={"permission": TENANT_READ, "page": True})
    async def ranking(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
    ) -> Template:
        """The "六好" ranking of the subtree: as published, or provisional before publication."""
        chosen = year if year and 2000 <= year <= 2100 else datetime.date.today().year
        publication = await standards.publication_of(db_session, acting.tenant.id, chosen)
        if publication is not None:
            ranked = await standards.published_ranking(db_session, acting.tenant.id, chosen)
            threshold = Decimal(publication.threshold)
            _live, unscored = await standards.live_ranking(db_session, acting.tree, acting.tenant.id, chosen, threshold)
        else:
            threshold = standards.DEFAULT_THRESHOLD
            ranked, unscored = await standards.live_ranking(
                db_session, acting.tree, acting.tenant.id, chosen, threshold
            )
        context = await shell(request, acting, db_session)
        rows = [
            {
                "rank": r.rank,
                "name": r.org_name,
                "tenant": acting.tree.nodes[r.tenant_id].name,
                "total": standards.points_text(r.total),
                "is_model": r.is_model,
            }
            for r in ranked
        ]
        return Template(
            template_name="console/ranking.html",
            context={
                **context,
                "year": chosen,
                "rows": rows,
                "unscored": unscored,
                "threshold": standards.points_text(threshold),
                "published": publication is not None,
                "publication": publication,
            },
        )
