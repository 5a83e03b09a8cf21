"""Organisation life (组织生活): meetings of a branch or party group and the attendance marks of its members.

Rules:

- A meeting belongs to the acting tenant and is held by one of that tenant's active branches or party groups
  (composite foreign key; a branch of another tenant is refused naming ``org_id``). 党小组会 are held by a
  party group; 党课 name their lecturer.
- Who may be marked: the branch's own members (组织关系在本支部), members who take part in it or in one of
  its groups ("一方隶属，多重管理", :class:`core.orgs.models.Participation`); at a group's meeting also the
  members of its branch. The roster (名册) is the active members among the branch's own and participants.
- A member of health class 不能参加活动 is excused by default (请假, not 缺席): when attendance is recorded,
  such roster members without a mark get an excused mark flagged ``by_default``; 应到 excludes the excused.
- Each present mark raises ``core.attendance_recorded`` in the same transaction; withdrawing it (a
  correction, removing the mark, cancelling the meeting) raises ``core.attendance_revoked`` carrying exactly
  what was credited; changing the meeting's kind, date or length revokes and re-credits. The meeting row is
  locked while marks change, so concurrent corrections cannot credit twice.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.events.outbox import emit
from core.orglife.models import Attendance, AttendanceStatus, Meeting, MeetingKind, MeetingMode
from core.orglife.periods import Period
from core.orglife.schemas import AttendanceMark, MeetingCreate, MeetingFields, MeetingUpdate
from core.orgs.models import HealthClass, Member, Organization, OrgLevel, Participation
from core.reports.core_facts import record_change, snapshot

ATTENDANCE_RECORDED = "core.attendance_recorded"
ATTENDANCE_REVOKED = "core.attendance_revoked"
EVENT_SOURCE = "core"
DEFAULT_EXCUSE_REASON = "健康原因（不能参加活动），默认请假"

MEETING_NOT_FOUND = ErrorSpec("meeting.not_found", 404, "找不到该会议或活动", "No such meeting")
MEETING_ORG_INVALID = ErrorSpec(
    "meeting.org_invalid",
    422,
    "所选党组织不存在、不属于本单位或已停用，或不是党支部、党小组：组织生活只能由本单位的党支部或党小组开展",
    "The organisation is not an active branch or party group of this tenant",
)
MEETING_GROUP_KIND = ErrorSpec(
    "meeting.group_meeting_needs_group",
    422,
    "党小组会应由党小组召开：请选择一个党小组，或改选其他会议类型",
    "A party-group meeting is held by a party group; choose a group or another kind",
)
MEETING_LECTURER_REQUIRED = ErrorSpec(
    "meeting.lecturer_required", 422, "党课请填写讲课人", "A party lecture needs its lecturer"
)
MEETING_TOO_FAR = ErrorSpec(
    "meeting.date_out_of_range",
    422,
    "会议日期 {date} 超出可登记范围（{earliest} 至 {latest}）",
    "The meeting date {date} is outside {earliest} .. {latest}",
)
MEETING_CANCELLED = ErrorSpec(
    "meeting.cancelled",
    409,
    "该会议已于 {when} 取消（{reason}），不能再修改或登记出勤",
    "The meeting was cancelled on {when} ({reason}); it can no longer be changed",
)
MEETING_NOT_YET_HELD = ErrorSpec(
    "meeting.not_yet_held",
    422,
    "会议日期 {date} 还没到，不能登记出勤；会后再登记，或先修改会议日期",
    "The meeting is on {date}, in the future: record attendance after it was held",
)
MEETING_FUTURE_WITH_MARKS = ErrorSpec(
    "meeting.future_with_attendance",
    422,
    "已登记出勤的会议不能改到将来的日期（{date}）",
    "A meeting with recorded attendance cannot move to a future date ({date})",
)
MEETING_ORG_LOCKED = ErrorSpec(
    "meeting.org_locked",
    409,
    "该会议已登记 {count} 人的出勤，不能再改换召开的党组织；如确需更改，请先删除出勤登记",
    "Attendance of {count} members is recorded; the organisation can no longer change",
)
ATTENDANCE_MEMBER_UNKNOWN = ErrorSpec(
    "attendance.member_unknown",
    422,
    "第 {row} 行：找不到该党员，或其档案不属于本单位",
    "Row {row}: no such member in this tenant",
)
ATTENDANCE_MEMBER_OUTSIDE = ErrorSpec(
    "attendance.member_not_in_branch",
    422,
    "第 {row} 行：{name} 的组织关系不在{org}，也没有登记参加该组织的活动；"
    "如其参加本支部活动，请先在党员档案中登记“参加的支部”",
    "Row {row}: {name} neither belongs to nor takes part in {org}; register the participation first",
)
ATTENDANCE_DUPLICATE = ErrorSpec(
    "attendance.duplicate", 422, "第 {row} 行：{name} 在本次登记中出现了两次", "Row {row}: {name} appears twice"
)
ATTENDANCE_REASON_REQUIRED = ErrorSpec(
    "attendance.reason_required",
    422,
    "第 {row} 行：{name} 缺席，请填写缺席原因",
    "Row {row}: {name} is absent; give the reason",
)
ATTENDANCE_NOT_FOUND = ErrorSpec(
    "attendance.not_found", 404, "该党员在本次会议没有出勤登记", "No attendance mark for this member here"
)

_EARLIEST = datetime.date(1949, 10, 1)
_RELATION_ZH = {"formal": "本支部党员", "participant": "参加本支部活动"}
_STATUS_ZH = {**{s.value: s.zh for s in AttendanceStatus}, "unmarked": "未登记"}


def parse_id(value: str | None, spec: ErrorSpec, field: str, **params: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise spec.error(field=field, **params) from None


def meeting_state(meeting: Meeting, today: datetime.date | None = None) -> str:
    if meeting.cancelled_at is not None:
        return "cancelled"
    return "held" if meeting.held_on <= (today or datetime.date.today()) else "planned"


STATE_ZH = {"cancelled": "已取消", "held": "已召开", "planned": "计划中"}


# --- meetings ----------------------------------------------------------------------------------------------


async def meeting_org(session: AsyncSession, tenant_id: int, raw_id: str | None) -> Organization:
    """An active branch or party group of ``tenant_id`` (exactly that tenant, not its subtree)."""
    org_id = parse_id(raw_id, MEETING_ORG_INVALID, "org_id")
    org = (
        await session.execute(
            select(Organization).where(
                Organization.id == org_id,
                Organization.tenant_id == tenant_id,
                Organization.is_active,
                Organization.level.in_((OrgLevel.BRANCH.value, OrgLevel.GROUP.value)),
            )
        )
    ).scalar_one_or_none()
    if org is None:
        raise MEETING_ORG_INVALID.error(field="org_id")
    return org


def _check_rules(org: Organization, kind: MeetingKind, lecturer: str, held_on: datetime.date) -> None:
    if kind is MeetingKind.GROUP and org.level != OrgLevel.GROUP.value:
        raise MEETING_GROUP_KIND.error(field="org_id")
    if kind is MeetingKind.LECTURE and not lecturer.strip():
        raise MEETING_LECTURER_REQUIRED.error(field="lecturer")
    latest = datetime.date.today() + datetime.timedelta(days=366)
    if not _EARLIEST <= held_on <= latest:
        raise MEETING_TOO_FAR.error(
            field="held_on", date=held_on.isoformat(), earliest=_EARLIEST.isoformat(), latest=latest.isoformat()
        )


def _apply_simple(meeting: Meeting, data: MeetingFields) -> None:
    given = data.model_dump(exclude_unset=True)
    for key in ("title", "held_on", "duration_minutes", "place", "topic", "notes", "lecturer"):
        if given.get(key) is not None:
            value = given[key]
            setattr(meeting, key, value.strip() if isinstance(value, str) else value)
    if "start_time" in given:
        meeting.start_time = given["start_time"]
    if data.kind is not None:
        meeting.kind = data.kind.value
    if data.mode is not None:
        meeting.mode = data.mode.value


async def create_meeting(session: AsyncSession, tenant_id: int, data: MeetingCreate, actor: str) -> Meeting:
    org = await meeting_org(session, tenant_id, data.org_id)
    meeting = Meeting(tenant_id=tenant_id, org_id=org.id, mode=MeetingMode.OFFLINE.value, created_by=actor)
    for key in ("place", "topic", "notes", "lecturer"):
        setattr(meeting, key, "")
    _apply_simple(meeting, data)
    _check_rules(org, MeetingKind(meeting.kind), meeting.lecturer, meeting.held_on)
    session.add(meeting)
    await session.flush()
    await record_change(session, tenant_id, [], snapshot(meeting, []))
    return meeting


async def get_meeting(session: AsyncSession, meeting_id: uuid.UUID, *, lock: bool = False) -> Meeting:
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock:
        query = query.with_for_update()
    meeting = (await session.execute(query)).scalar_one_or_none()
    if meeting is None:
        raise MEETING_NOT_FOUND.error(field="meeting_id")
    return meeting


def _check_open(meeting: Meeting) -> None:
    if meeting.cancelled_at is not None:
        raise MEETING_CANCELLED.error(
            field="meeting_id",
            when=meeting.cancelled_at.date().isoformat(),
            reason=meeting.cancel_reason or "未注明原因",
        )


async def _marks(session: AsyncSession, meeting: Meeting) -> dict[uuid.UUID, Attendance]:
    rows = (
        await session.execute(
            select(Attendance).where(Attendance.tenant_id == meeting.tenant_id, Attendance.meeting_id == meeting.id)
        )
    ).scalars()
    return {row.member_id: row for row in rows}


async def update_meeting(session: AsyncSession, meeting: Meeting, data: MeetingUpdate, actor: str) -> Meeting:
    _check_open(meeting)
    marks = await _marks(session, meeting)
    org_id = meeting.org_id
    if data.org_id is not None:
        org = await meeting_org(session, meeting.tenant_id, data.org_id)
        if org.id != meeting.org_id and marks:
            raise MEETING_ORG_LOCKED.error(field="org_id", count=len(marks))
        org_id = org.id
    else:
        org = (
            await session.execute(
                select(Organization).where(
                    Organization.tenant_id == meeting.tenant_id, Organization.id == meeting.org_id
                )
            )
        ).scalar_one()
    before = _credit_basis(meeting)
    reported = snapshot(meeting, marks.values())
    _apply_simple(meeting, data)
    meeting.org_id = org_id
    _check_rules(org, MeetingKind(meeting.kind), meeting.lecturer, meeting.held_on)
    if marks and meeting.held_on > datetime.date.today():
        raise MEETING_FUTURE_WITH_MARKS.error(field="held_on", date=meeting.held_on.isoformat())
    await session.flush()
    if _credit_basis(meeting) != before:
        # What was credited no longer describes the meeting: take it back and credit it anew.
        for mark in marks.values():
            if mark.credit is not None:
                await _revoke(session, meeting, mark, "meeting_changed")
                await _credit(session, meeting, mark)
        await session.flush()
    await record_change(session, meeting.tenant_id, reported, snapshot(meeting, marks.values()))
    return meeting


async def cancel_meeting(session: AsyncSession, meeting: Meeting, reason: str, actor: str) -> Meeting:
    _check_open(meeting)
    marks = await _marks(session, meeting)
    reported = snapshot(meeting, marks.values())
    meeting.cancelled_at = datetime.datetime.now(datetime.UTC)
    meeting.cancel_reason = reason
    for mark in marks.values():
        if mark.credit is not None:
            await _revoke(session, meeting, mark, "cancelled")
            mark.recorded_by = actor
    await session.flush()
    await record_change(session, meeting.tenant_id, reported, [])
    return meeting


def list_query(
    *,
    org_id: uuid.UUID | None,
    kind: MeetingKind | None,
    period: Period | None,
    include_cancelled: bool,
) -> Any:
    query = select(Meeting)
    if org_id is not None:
        groups = select(Organization.id).where(Organization.parent_id == org_id)
        query = query.where(or_(Meeting.org_id == org_id, Meeting.org_id.in_(groups)))
    if kind is not None:
        query = query.where(Meeting.kind == kind.value)
    if period is not None:
        query = query.where(Meeting.held_on >= period.start, Meeting.held_on <= period.end)
    if not include_cancelled:
        query = query.where(Meeting.cancelled_at.is_(None))
    return query


async def mark_counts(session: AsyncSession, meeting_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    if not meeting_ids:
        return {}
    rows = await session.execute(
        select(Attendance.meeting_id, Attendance.status, func.count())
        .where(Attendance.meeting_id.in_(meeting_ids))
        .group_by(Attendance.meeting_id, Attendance.status)
    )
    out: dict[uuid.UUID, dict[str, int]] = {}
    for meeting_id, status, count in rows.tuples():
        out.setdefault(meeting_id, {})[status] = count
    return out


# --- who may attend ----------------------------------------------------------------------------------------


async def _circle(session: AsyncSession, org: Organization, *, wide: bool) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(organisations whose own members count, organisations whose participants count)."""
    if org.level == OrgLevel.BRANCH.value:
        groups = (
            (
                await session.execute(
                    select(Organization.id).where(
                        Organization.tenant_id == org.tenant_id, Organization.parent_id == org.id
                    )
                )
            )
            .scalars()
            .all()
        )
        return {org.id}, {org.id, *groups}
    if wide and org.parent_id is not None:
        return {org.parent_id}, {org.id, org.parent_id}
    return set(), {org.id}


async def _members_in_circle(
    session: AsyncSession,
    org: Organization,
    *,
    wide: bool,
    member_ids: list[uuid.UUID] | None = None,
) -> dict[uuid.UUID, tuple[Member, str]]:
    formal, participating = await _circle(session, org, wide=wide)
    participants = select(Participation.member_id).where(
        Participation.tenant_id == org.tenant_id, Participation.org_id.in_(participating)
    )
    query = select(Member).where(
        Member.tenant_id == org.tenant_id,
        or_(Member.formal_org_id.in_(formal) if formal else false(), Member.id.in_(participants)),
    )
    # Asked about given members: whatever their status (a past meeting); the roster: active members only.
    query = query.where(Member.id.in_(member_ids) if member_ids is not None else Member.status == "active")
    rows = (await session.execute(query.order_by(Member.name, Member.id))).scalars().all()
    return {m.id: (m, "formal" if m.formal_org_id in formal else "participant") for m in rows}


async def roster(session: AsyncSession, org: Organization) -> dict[uuid.UUID, tuple[Member, str]]:
    """Active members of the branch (or group) and those who take part in it."""
    return await _members_in_circle(session, org, wide=False)


# --- attendance --------------------------------------------------------------------------------------------


def _credit_basis(meeting: Meeting) -> tuple[Any, ...]:
    return (meeting.org_id, meeting.kind, meeting.held_on, meeting.duration_minutes)


async def _credit(session: AsyncSession, meeting: Meeting, mark: Attendance) -> None:
    payload = {
        "meeting_id": str(meeting.id),
        "org_id": str(meeting.org_id),
        "kind": meeting.kind,
        "member_id": str(mark.member_id),
        "date": meeting.held_on.isoformat(),
        "duration_minutes": meeting.duration_minutes,
    }
    event = await emit(
        session, tenant_id=meeting.tenant_id, name=ATTENDANCE_RECORDED, payload=payload, source=EVENT_SOURCE
    )
    mark.credit = {**payload, "event_id": str(event.id)}


async def _revoke(session: AsyncSession, meeting: Meeting, mark: Attendance, reason: str) -> None:
    credit = dict(mark.credit or {})
    recorded_event = credit.pop("event_id", None)
    payload = {**credit, "revokes_event_id": recorded_event, "reason": reason}
    await emit(session, tenant_id=meeting.tenant_id, name=ATTENDANCE_REVOKED, payload=payload, source=EVENT_SOURCE)
    mark.credit = None


async def _settle_credit(session: AsyncSession, meeting: Meeting, mark: Attendance) -> None:
    if mark.status == AttendanceStatus.PRESENT.value and mark.credit is None:
        await _credit(session, meeting, mark)
    elif mark.status != AttendanceStatus.PRESENT.value and mark.credit is not None:
        await _revoke(session, meeting, mark, "corrected")


async def record_attendance(
    session: AsyncSession, meeting: Meeting, org: Organization, items: list[AttendanceMark], actor: str
) -> None:
    """Set the given marks (others stay as they are) and excuse unmarked members who cannot take part."""
    _check_open(meeting)
    if meeting.held_on > datetime.date.today():
        raise MEETING_NOT_YET_HELD.error(field="meeting_id", date=meeting.held_on.isoformat())
    ids: list[uuid.UUID] = []
    for row, item in enumerate(items, start=1):
        ids.append(parse_id(item.member_id, ATTENDANCE_MEMBER_UNKNOWN, f"items[{row - 1}].member_id", row=row))
    eligible = await _members_in_circle(session, org, wide=True, member_ids=ids)
    seen: set[uuid.UUID] = set()
    for row, (member_id, item) in enumerate(zip(ids, items, strict=True), start=1):
        field = f"items[{row - 1}]"
        if member_id not in eligible:
            member = (
                await session.execute(
                    select(Member).where(Member.id == member_id, Member.tenant_id == meeting.tenant_id)
                )
            ).scalar_one_or_none()
            if member is None:
                raise ATTENDANCE_MEMBER_UNKNOWN.error(field=f"{field}.member_id", row=row)
            raise ATTENDANCE_MEMBER_OUTSIDE.error(field=f"{field}.member_id", row=row, name=member.name, org=org.name)
        name = eligible[member_id][0].name
        if member_id in seen:
            raise ATTENDANCE_DUPLICATE.error(field=f"{field}.member_id", row=row, name=name)
        seen.add(member_id)
        if item.status is AttendanceStatus.ABSENT and not item.reason.strip():
            raise ATTENDANCE_REASON_REQUIRED.error(field=f"{field}.reason", row=row, name=name)

    marks = await _marks(session, meeting)
    reported = snapshot(meeting, marks.values())
    for member_id, item in zip(ids, items, strict=True):
        mark = marks.get(member_id)
        if mark is None:
            mark = Attendance(tenant_id=meeting.tenant_id, meeting_id=meeting.id, member_id=member_id, credit=None)
            session.add(mark)
            marks[member_id] = mark
        changed = mark.status != item.status.value or mark.reason != item.reason or mark.auto
        mark.status = item.status.value
        mark.reason = item.reason
        mark.auto = False
        if changed:
            mark.recorded_by = actor
        await _settle_credit(session, meeting, mark)

    for member_id, (member, _relation) in (await roster(session, org)).items():
        if member_id not in marks and member.health_class == HealthClass.UNABLE.value:
            session.add(
                Attendance(
                    tenant_id=meeting.tenant_id,
                    meeting_id=meeting.id,
                    member_id=member_id,
                    status=AttendanceStatus.EXCUSED.value,
                    reason=DEFAULT_EXCUSE_REASON,
                    auto=True,
                    credit=None,
                    recorded_by=actor,
                )
            )
    await session.flush()
    await record_change(
        session, meeting.tenant_id, reported, snapshot(meeting, (await _marks(session, meeting)).values())
    )


async def remove_mark(session: AsyncSession, meeting: Meeting, member_id: uuid.UUID) -> None:
    _check_open(meeting)
    marks = await _marks(session, meeting)
    mark = marks.get(member_id)
    if mark is None:
        raise ATTENDANCE_NOT_FOUND.error(field="member_id")
    reported = snapshot(meeting, marks.values())
    if mark.credit is not None:
        await _revoke(session, meeting, mark, "removed")
    await session.delete(mark)
    await session.flush()
    await record_change(
        session, meeting.tenant_id, reported, snapshot(meeting, (await _marks(session, meeting)).values())
    )


@dataclass(frozen=True)
class AttendanceRow:
    member: Member
    relation: str
    status: str
    reason: str
    by_default: bool
    recorded_by: str | None

    @property
    def relation_zh(self) -> str:
        return _RELATION_ZH[self.relation]

    @property
    def status_zh(self) -> str:
        return _STATUS_ZH[self.status]


async def attendance_sheet(session: AsyncSession, meeting: Meeting) -> list[AttendanceRow]:
    """The roster with each member's mark, plus anyone marked from outside it; 不能参加活动 shows excused."""
    org = (
        await session.execute(
            select(Organization).where(
                and_(Organization.tenant_id == meeting.tenant_id, Organization.id == meeting.org_id)
            )
        )
    ).scalar_one()
    marks = await _marks(session, meeting)
    people = await roster(session, org)
    missing = [m for m in marks if m not in people]
    if missing:
        people.update(await _members_in_circle(session, org, wide=True, member_ids=missing))
        for member_id in missing:  # marked, then moved elsewhere: still shown with the mark
            if member_id not in people:
                member = (
                    await session.execute(
                        select(Member).where(Member.tenant_id == meeting.tenant_id, Member.id == member_id)
                    )
                ).scalar_one()
                people[member_id] = (member, "participant")
    rows = []
    for member_id, (member, relation) in people.items():
        mark = marks.get(member_id)
        if mark is not None:
            rows.append(AttendanceRow(member, relation, mark.status, mark.reason, mark.auto, mark.recorded_by))
        elif member.health_class == HealthClass.UNABLE.value:
            rows.append(AttendanceRow(member, relation, "excused", DEFAULT_EXCUSE_REASON, True, None))
        else:
            rows.append(AttendanceRow(member, relation, "unmarked", "", False, None))
    rows.sort(key=lambda r: (r.relation != "formal", r.member.name, str(r.member.id)))
    return rows


def summarise(rows: list[AttendanceRow]) -> dict[str, Any]:
    counts = dict.fromkeys(("present", "absent", "excused", "unmarked"), 0)
    for row in rows:
        counts[row.status] += 1
    expected = len(rows) - counts["excused"]
    return {
        "roster": len(rows),
        "expected": expected,
        **counts,
        "rate": round(counts["present"] / expected, 4) if expected else None,
    }
