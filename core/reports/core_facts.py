"""The core's own figures kept as facts: members covered, branches (by kind), "六有", organisation life.

Stocks (members covered, branches, "六有" items) are kept by a flush listener on the rows they derive from, so
every write path — the API, the console, the Excel import, a transfer handing a member to another county — keeps
them right without remembering to. A stock's change is dated the day it is written (a member leaving today
lowers the count from today on; the past is not rewritten). Flows of organisation life (activities, attendance,
lectures) are dated by the meeting's day; :mod:`core.orglife.service` records their change around each write
(:func:`meeting_facts`), so a correction or a late record lands in the month the meeting was held.

:func:`core_metric_facts` derives the same facts from the raw rows; tests compare it with the aggregates.
Model branches (示范党支部) are still read from the published rankings (a few rows per branch per year).
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.orglife.metrics import (
    ACTIVITIES,
    ATTENDANCE,
    ATTENDANCE_EXPECTED,
    BRANCHES,
    LECTURE_AUDIENCE,
    LECTURES,
    MEMBERS,
    SIX_HAVES_COMPLETE,
    SIX_HAVES_MET,
    SIX_HAVES_TOTAL,
    UNSPECIFIED_KIND,
    branches_by_kind_id,
)
from core.orglife.models import Attendance, AttendanceStatus, BranchSixHave, Meeting, MeetingKind
from core.orglife.six_haves import ITEMS
from core.orgs.models import Member, Organization, OrgLevel
from core.reports.facts import Fact, changes, record_sync

PRESENT = AttendanceStatus.PRESENT.value
EXPECTED = (AttendanceStatus.PRESENT.value, AttendanceStatus.ABSENT.value)


def meeting_facts(held_on: datetime.date, kind: str, cancelled: bool, statuses: Iterable[str]) -> list[Fact]:
    """What one meeting adds to organisation life: the activity, and its marks (人次), on the meeting's day."""
    if cancelled:
        return []
    marks = list(statuses)
    present = sum(1 for s in marks if s == PRESENT)
    expected = sum(1 for s in marks if s in EXPECTED)
    facts = [
        Fact(ACTIVITIES, held_on),
        Fact(ATTENDANCE, held_on, present),
        Fact(ATTENDANCE_EXPECTED, held_on, expected),
    ]
    if kind == MeetingKind.LECTURE.value:
        facts += [Fact(LECTURES, held_on), Fact(LECTURE_AUDIENCE, held_on, present)]
    return [f for f in facts if f.value]


def snapshot(meeting: Meeting, marks: Iterable[Attendance]) -> list[Fact]:
    """:func:`meeting_facts` of a meeting as it stands in memory."""
    return meeting_facts(meeting.held_on, meeting.kind, meeting.cancelled_at is not None, [m.status for m in marks])


async def record_change(session: AsyncSession, tenant_id: int, before: list[Fact], after: list[Fact]) -> None:
    """Record what changed between two snapshots of a meeting (nothing when nothing did)."""
    diff = changes(before, after)
    if diff:
        await session.run_sync(lambda sync: record_sync(sync, tenant_id, *diff))


async def member_moved(session: AsyncSession, origin_id: int, target_id: int, day: datetime.date) -> None:
    """A transfer handed an active, covered member from ``origin_id`` to ``target_id`` (written without the ORM)."""

    def move(sync: Session) -> None:
        record_sync(sync, origin_id, Fact(MEMBERS, day, -1))
        record_sync(sync, target_id, Fact(MEMBERS, day, 1))

    await session.run_sync(move)


# --- stocks, kept by a flush listener ------------------------------------------------------------------


def _before(obj: Any, key: str) -> Any:
    history = inspect(obj).attrs[key].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(obj, key)


def _member_facts(status: str | None, formal_org_id: Any, day: datetime.date) -> list[Fact]:
    # The member form and import accept only an active branch as 组织关系, and a branch with active members
    # cannot be deactivated, so "active with a formal branch" is "covered".
    return [Fact(MEMBERS, day)] if status == "active" and formal_org_id is not None else []


def _org_facts(active: bool, level: str, kind: str | None, met: int, day: datetime.date) -> list[Fact]:
    if not active or level != OrgLevel.BRANCH.value:
        return []
    facts = [
        Fact(BRANCHES, day),
        Fact(branches_by_kind_id(kind or UNSPECIFIED_KIND), day),
        Fact(SIX_HAVES_TOTAL, day, len(ITEMS)),
        Fact(SIX_HAVES_MET, day, met),
        Fact(SIX_HAVES_COMPLETE, day, 1 if met == len(ITEMS) else 0),
    ]
    return [f for f in facts if f.value]


def _met_count(session: Session, tenant_id: int, org_id: Any) -> int:
    query = select(func.count()).where(
        BranchSixHave.tenant_id == tenant_id, BranchSixHave.org_id == org_id, BranchSixHave.met
    )
    return int(session.connection().execute(query).scalar_one())


def _branch_active(session: Session, tenant_id: int, org_id: Any) -> bool:
    query = select(Organization.is_active, Organization.level).where(
        Organization.tenant_id == tenant_id, Organization.id == org_id
    )
    row = session.connection().execute(query).first()
    return bool(row and row[0] and row[1] == OrgLevel.BRANCH.value)


def _after_flush(session: Session, flush_context: Any) -> None:
    today = datetime.date.today()
    diffs: dict[int, list[Fact]] = {}

    def add(tenant_id: int, before: list[Fact], after: list[Fact]) -> None:
        diffs.setdefault(tenant_id, []).extend(changes(before, after))

    six_have_orgs: dict[tuple[int, Any], int] = {}
    for obj in [*session.new, *session.dirty, *session.deleted]:
        new, deleted = obj in session.new, obj in session.deleted
        if isinstance(obj, Member):
            before = [] if new else _member_facts(_before(obj, "status"), _before(obj, "formal_org_id"), today)
            after = [] if deleted else _member_facts(obj.status, obj.formal_org_id, today)
            add(obj.tenant_id, before, after)
        elif isinstance(obj, Organization):
            met = 0 if new else _met_count(session, obj.tenant_id, obj.id)
            before = (
                []
                if new
                else _org_facts(_before(obj, "is_active"), _before(obj, "level"), _before(obj, "kind"), met, today)
            )
            after = [] if deleted else _org_facts(obj.is_active, obj.level, obj.kind, met, today)
            add(obj.tenant_id, before, after)
        elif isinstance(obj, BranchSixHave):
            was = False if new else bool(_before(obj, "met"))
            now = False if deleted else bool(obj.met)
            if was != now:
                key = (obj.tenant_id, obj.org_id)
                six_have_orgs[key] = six_have_orgs.get(key, 0) + (1 if now else -1)
    for (tenant_id, org_id), delta in six_have_orgs.items():
        if not _branch_active(session, tenant_id, org_id):
            continue
        met_now = _met_count(session, tenant_id, org_id)
        met_before = met_now - delta
        complete = int(met_now == len(ITEMS)) - int(met_before == len(ITEMS))
        add(
            tenant_id,
            [],
            [f for f in (Fact(SIX_HAVES_MET, today, delta), Fact(SIX_HAVES_COMPLETE, today, complete)) if f.value],
        )
    for tenant_id, facts in diffs.items():
        if facts:
            record_sync(session, tenant_id, *facts)


def install_core_fact_listener(session_class: type[Session]) -> None:
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)


# --- the recount from raw rows ---------------------------------------------------------------------------


async def core_metric_facts(
    session: AsyncSession, tenant_id: int, today: datetime.date | None = None
) -> AsyncIterator[Fact]:
    """The core's facts for one tenant derived from its rows now (stocks dated ``today``)."""
    day = today or datetime.date.today()
    members = await session.execute(select(Member.status, Member.formal_org_id).where(Member.tenant_id == tenant_id))
    for status, formal in members.tuples():
        for fact in _member_facts(status, formal, day):
            yield fact
    met = dict(
        list(
            (
                await session.execute(
                    select(BranchSixHave.org_id, func.count())
                    .where(BranchSixHave.tenant_id == tenant_id, BranchSixHave.met)
                    .group_by(BranchSixHave.org_id)
                )
            ).tuples()
        )
    )
    orgs = await session.execute(
        select(Organization.id, Organization.is_active, Organization.level, Organization.kind).where(
            Organization.tenant_id == tenant_id
        )
    )
    for org_id, active, level, kind in orgs.tuples():
        for fact in _org_facts(active, level, kind, met.get(org_id, 0), day):
            yield fact
    meetings = (await session.execute(select(Meeting).where(Meeting.tenant_id == tenant_id))).scalars().all()
    statuses: dict[Any, list[str]] = {}
    marks = await session.execute(
        select(Attendance.meeting_id, Attendance.status).where(Attendance.tenant_id == tenant_id)
    )
    for meeting_id, status in marks.tuples():
        statuses.setdefault(meeting_id, []).append(status)
    for meeting in meetings:
        for fact in meeting_facts(
            meeting.held_on, meeting.kind, meeting.cancelled_at is not None, statuses.get(meeting.id, [])
        ):
            yield fact
