"""The plugin's work: rooms and mediators, cases through their workflow, who may see a case, the figures.

Functions take the session the host gives (scoped to the acting tenant's subtree for requests, to one tenant
for hooks); the ORM and row-level security keep every query inside it, so another county's case is simply
"not found" here. Within that scope a case is further restricted to the mediators of its room and to the
tenant administrators of its tenant and above (:func:`can_see`).
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import arecord
from core.errors import ErrorSpec
from core.events.outbox import emit
from core.identity.models import User
from core.identity.principal import Principal
from core.orgs.models import Member
from core.privacy.crypto import mask_id_number, mask_phone, ring
from core.reports.facts import Fact, record
from core.tenancy.tree import TenantTree
from plugins.mediation import metrics
from plugins.mediation.models import Case, CaseMediator, Mediator, Party, Room, Step
from plugins.mediation.schemas import (
    CaseCreate,
    CaseOut,
    CaseSummary,
    CaseUpdate,
    MediationSettings,
    MediatorCreate,
    MediatorOut,
    MediatorsAssign,
    MediatorUpdate,
    PartyIn,
    PartyOut,
    RoomCreate,
    RoomOut,
    RoomUpdate,
    StepIn,
    StepOut,
    TimeLimit,
)

PLUGIN_NAME = "mediation"
CASE_SETTLED = "mediation.case_settled"
CASE_SETTLED_REVOKED = "mediation.case_settled_revoked"
CASE_FOLLOWED_UP = "mediation.case_followed_up"
CASE_FOLLOWED_UP_REVOKED = "mediation.case_followed_up_revoked"

ROOM_NOT_FOUND = ErrorSpec("mediation.room_not_found", 404, "找不到该调解室", "No such mediation room")
ROOM_CLOSED = ErrorSpec(
    "mediation.room_closed", 409, "调解室“{name}”已于 {closed_on} 撤销，不能再受理案件或增加调解员",
    "The room '{name}' closed on {closed_on}; it takes no new cases or mediators",
)  # fmt: skip
MEDIATOR_NOT_FOUND = ErrorSpec("mediation.mediator_not_found", 404, "找不到该调解员", "No such mediator")
MEMBER_NOT_FOUND = ErrorSpec(
    "mediation.member_not_found", 404, "党员台账中找不到该人员：调解员须是本单位台账中的人员",
    "No such member: a mediator must be a member in the tenant's ledger",
)  # fmt: skip
MEMBER_OTHER_TENANT = ErrorSpec(
    "mediation.member_other_tenant", 422,
    "该人员的台账在 {member_tenant}，不在调解室所在的 {room_tenant}，请在其所在单位设调解员",
    "This member's record is in {member_tenant}, not in {room_tenant} where the room is",
)  # fmt: skip
MEDIATOR_EXISTS = ErrorSpec(
    "mediation.mediator_exists", 409, "该人员已是本调解室的调解员", "This member is already a mediator of this room"
)
USER_NOT_FOUND = ErrorSpec(
    "mediation.user_not_found", 422, "找不到账号“{username}”，请核对调解员的登录账号", "No account '{username}'"
)
CASE_NOT_FOUND = ErrorSpec("mediation.case_not_found", 404, "找不到该案件", "No such case")
PARTY_NOT_FOUND = ErrorSpec("mediation.party_not_found", 404, "找不到该当事人", "No such party")
MEDIATOR_NOT_IN_ROOM = ErrorSpec(
    "mediation.mediator_not_in_room", 422, "所选调解员不在本案所属的调解室或已离任，请从本调解室的在岗调解员中选择",
    "A chosen mediator is not serving in the case's room",
)  # fmt: skip
STEP_NOT_ALLOWED = ErrorSpec(
    "mediation.step_not_allowed", 409, "案件当前为“{status_zh}”，不能“{action_zh}”。{hint_zh}",
    "The case is '{status}'; '{action}' is not possible now. {hint_en}",
)  # fmt: skip
STEP_BEFORE_RECEIVED = ErrorSpec(
    "mediation.step_before_received", 422, "日期不能早于受理日期 {received_on}",
    "The date cannot be before the case was received ({received_on})",
)  # fmt: skip
EXTENSION_TOO_LONG = ErrorSpec(
    "mediation.extension_too_long", 422, "延长期限合计不能超过 {limit} 天（已延长 {used} 天）",
    "Extensions may total at most {limit} days ({used} used)",
)  # fmt: skip
NOTHING_TO_UNDO = ErrorSpec("mediation.nothing_to_undo", 409, "没有可以撤销的步骤", "There is no step to undo")
CASE_CLOSED = ErrorSpec(
    "mediation.case_closed", 409, "案件已作废，不能修改", "The case was voided; it cannot be changed"
)

STATUS_ZH = {
    "intake": "受理",
    "investigating": "调查",
    "mediating": "调解",
    "settled": "调解成功",
    "failed": "调解不成",
    "referred": "转交",
    "performing": "履行",
    "followed_up": "回访",
    "voided": "作废",
}
ACTION_ZH = {
    "intake": "受理",
    "investigate": "开始调查",
    "mediate": "开始调解",
    "settle": "调解成功",
    "fail": "调解不成",
    "refer": "转交",
    "perform": "登记履行",
    "follow_up": "回访",
    "confirm": "司法确认",
    "record": "记录",
    "extend": "延长期限",
    "void": "作废",
    "undo": "撤销上一步",
}
STATUS_EN = {
    "intake": "Received",
    "investigating": "Investigating",
    "mediating": "Mediating",
    "settled": "Settled",
    "failed": "Not settled",
    "referred": "Referred",
    "performing": "Being performed",
    "followed_up": "Followed up",
    "voided": "Voided",
}
ACTION_EN = {
    "intake": "Received",
    "investigate": "Investigation started",
    "mediate": "Mediation started",
    "settle": "Settled",
    "fail": "Not settled",
    "refer": "Referred",
    "perform": "Performance recorded",
    "follow_up": "Followed up",
    "confirm": "Judicial confirmation",
    "record": "Record",
    "extend": "Time limit extended",
    "void": "Voided",
    "undo": "Previous step undone",
}
#: action → (statuses it may start from, the status it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "investigate": (frozenset({"intake"}), "investigating"),
    "mediate": (frozenset({"intake", "investigating"}), "mediating"),
    "settle": (frozenset({"mediating"}), "settled"),
    "fail": (frozenset({"mediating"}), "failed"),
    "refer": (frozenset({"intake", "investigating", "mediating", "failed"}), "referred"),
    "perform": (frozenset({"settled"}), "performing"),
    "follow_up": (frozenset({"settled", "performing"}), "followed_up"),
    "confirm": (frozenset({"settled", "performing", "followed_up"}), None),
    "record": (frozenset({"intake", "investigating", "mediating"}), None),
    "extend": (frozenset({"intake", "investigating", "mediating"}), None),
    "void": (frozenset(set(STATUS_ZH) - {"voided"}), "voided"),
}
HINTS = {
    "investigate": ("只有刚受理的案件可以开始调查", "Only a case just received can be investigated"),
    "mediate": ("受理或调查后才能开始调解", "Mediation starts after intake or investigation"),
    "settle": ("请先“开始调解”，调解成功后再登记", "Start mediating first"),
    "fail": ("请先“开始调解”", "Start mediating first"),
    "refer": ("已有结果的案件不能再转交", "A case with an outcome cannot be referred"),
    "perform": ("调解成功后才登记履行", "Performance follows a settlement"),
    "follow_up": ("调解成功（或履行）后才回访", "Follow-up comes after settlement or performance"),
    "confirm": ("调解成功的案件才能申请司法确认，且只确认一次", "Only a settled case, once"),
    "record": ("案件已有结果，不能再加调查或调解记录", "The case has an outcome"),
    "extend": ("案件已有结果，无须延长期限", "The case has an outcome"),
    "void": ("案件已作废", "Already voided"),
}
#: Fields a step may change; their previous values are kept in the step so that ``undo`` restores them.
STEP_FIELDS = (
    "status",
    "outcome_on",
    "settled_on",
    "referred_to",
    "referred_to_name",
    "agreement",
    "followed_up_on",
    "confirmed_on",
    "deadline",
)


def today() -> datetime.date:
    return datetime.date.today()


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- who may see what ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The person asking, as far as case visibility goes."""

    principal: Principal
    tree: TenantTree

    def administers(self, tenant_id: int) -> bool:
        """A tenant administrator of ``tenant_id`` or any tenant above it (or the platform admin)."""
        return self.principal.is_platform_admin or "tenant_admin" in self.principal.covering_roles(self.tree, tenant_id)


async def my_rooms(session: AsyncSession, viewer: Viewer) -> set[uuid.UUID]:
    """Rooms where the viewer serves as a mediator now: named by account on the mediator, or — 账号关联 — the
    viewer's account is linked to the member who serves."""
    who = Mediator.user_id == viewer.principal.user_id
    link = viewer.principal.member
    if link is not None:
        who = or_(who, (Mediator.tenant_id == link.tenant_id) & (Mediator.member_id == link.member_id))
    rows = await session.execute(
        select(Mediator.room_id).where(who, or_(Mediator.until.is_(None), Mediator.until >= today()))
    )
    return set(rows.scalars())


async def can_see(session: AsyncSession, viewer: Viewer, case: Case) -> bool:
    return viewer.administers(case.tenant_id) or case.room_id in await my_rooms(session, viewer)


async def visible_filter(session: AsyncSession, viewer: Viewer, acting_tenant: int) -> Any:
    """A WHERE clause for the cases the viewer may list in the acting tenant's subtree."""
    if viewer.administers(acting_tenant):
        return None
    admin_ids = [t for t in viewer.tree.subtree_ids(acting_tenant) if viewer.administers(t)]
    rooms = await my_rooms(session, viewer)
    return or_(Case.tenant_id.in_(admin_ids or [-1]), Case.room_id.in_(rooms or [uuid.UUID(int=0)]))


# --- rooms and mediators ---------------------------------------------------------------------------


async def get_room(session: AsyncSession, room_id: uuid.UUID) -> Room:
    row = (await session.execute(select(Room).where(Room.id == room_id))).scalar_one_or_none()
    if row is None:
        raise ROOM_NOT_FOUND.error(field="room_id")
    return row


def _check_open(room: Room) -> None:
    if room.closed_on is not None and room.closed_on <= today():
        raise ROOM_CLOSED.error(field="room_id", name=room.name, closed_on=room.closed_on.isoformat())


async def create_room(session: AsyncSession, tenant_id: int, data: RoomCreate) -> Room:
    room = Room(tenant_id=tenant_id, **data.model_dump())
    session.add(room)
    await session.flush()
    await record(session, tenant_id, *metrics.room_facts(room))
    return room


async def update_room(session: AsyncSession, room_id: uuid.UUID, data: RoomUpdate) -> Room:
    room = await get_room(session, room_id)
    before = metrics.room_facts(room)
    values = data.model_dump(exclude_unset=True)
    for key, value in values.items():
        if key != "closed_on" and value is None:
            continue
        setattr(room, key, value)
    if room.closed_on is not None and room.closed_on < room.opened_on:
        raise ROOM_CLOSED.error(field="closed_on", name=room.name, closed_on=room.closed_on.isoformat())
    await session.flush()
    await record(session, room.tenant_id, *metrics.difference(before, metrics.room_facts(room)))
    return room


async def list_rooms(session: AsyncSession, *, include_closed: bool) -> list[Room]:
    query = select(Room).order_by(Room.tenant_id, Room.name)
    if not include_closed:
        query = query.where(or_(Room.closed_on.is_(None), Room.closed_on > today()))
    return list((await session.execute(query)).scalars())


async def mediators_of(
    session: AsyncSession, room_ids: Sequence[uuid.UUID], *, serving_only: bool = False
) -> list[tuple[Mediator, str]]:
    if not room_ids:
        return []
    query = (
        select(Mediator, Member.name)
        .join(Member, (Member.tenant_id == Mediator.tenant_id) & (Member.id == Mediator.member_id))
        .where(Mediator.room_id.in_(room_ids))
        .order_by(Mediator.since, Mediator.id)
    )
    if serving_only:
        query = query.where(or_(Mediator.until.is_(None), Mediator.until >= today()))
    return [(m, n) for m, n in (await session.execute(query)).tuples()]


def mediator_out(row: Mediator, name: str) -> MediatorOut:
    return MediatorOut(
        id=row.id,
        tenant_id=row.tenant_id,
        room_id=row.room_id,
        member_id=row.member_id,
        member_name=name,
        user_id=row.user_id,
        specialties=list(row.specialties or []),
        availability=row.availability,
        since=row.since,
        until=row.until,
    )


def room_out(room: Room, mediators: Sequence[tuple[Mediator, str]] = ()) -> RoomOut:
    return RoomOut(
        id=room.id,
        tenant_id=room.tenant_id,
        name=room.name,
        kind=room.kind,
        place=room.place,
        opening_hours=room.opening_hours,
        phone=room.phone,
        opened_on=room.opened_on,
        closed_on=room.closed_on,
        mediators=[mediator_out(m, n) for m, n in mediators if m.room_id == room.id],
    )


async def _user_id(session: AsyncSession, username: str | None) -> uuid.UUID | None:
    if not username:
        return None
    user_id = (await session.execute(select(User.id).where(User.username == username))).scalar_one_or_none()
    if user_id is None:
        raise USER_NOT_FOUND.error(field="username", username=username)
    return user_id


async def add_mediator(
    session: AsyncSession, tree: TenantTree, room_id: uuid.UUID, data: MediatorCreate
) -> tuple[Mediator, str]:
    room = await get_room(session, room_id)
    _check_open(room)
    member = (await session.execute(select(Member).where(Member.id == data.member_id))).scalar_one_or_none()
    if member is None:
        raise MEMBER_NOT_FOUND.error(field="member_id")
    if member.tenant_id != room.tenant_id:
        raise MEMBER_OTHER_TENANT.error(
            field="member_id",
            member_tenant=tree.nodes[member.tenant_id].name,
            room_tenant=tree.nodes[room.tenant_id].name,
        )
    exists = await session.execute(
        select(Mediator.id).where(
            Mediator.tenant_id == room.tenant_id, Mediator.room_id == room.id, Mediator.member_id == member.id
        )
    )
    if exists.first() is not None:
        raise MEDIATOR_EXISTS.error(field="member_id")
    mediator = Mediator(
        tenant_id=room.tenant_id,
        room_id=room.id,
        member_id=member.id,
        user_id=await _user_id(session, data.username),
        specialties=list(dict.fromkeys(data.specialties)),
        availability=data.availability,
        since=data.since,
    )
    session.add(mediator)
    await session.flush()
    await record(session, room.tenant_id, *metrics.mediator_facts(mediator))
    return mediator, member.name


async def update_mediator(
    session: AsyncSession, room_id: uuid.UUID, mediator_id: uuid.UUID, data: MediatorUpdate
) -> tuple[Mediator, str]:
    found = (
        await session.execute(
            select(Mediator, Member.name)
            .join(Member, (Member.tenant_id == Mediator.tenant_id) & (Member.id == Mediator.member_id))
            .where(Mediator.id == mediator_id, Mediator.room_id == room_id)
        )
    ).first()
    if found is None:
        raise MEDIATOR_NOT_FOUND.error(field="mediator_id")
    mediator, name = found
    before = metrics.mediator_facts(mediator)
    values = data.model_dump(exclude_unset=True)
    if "username" in values:
        mediator.user_id = await _user_id(session, values.pop("username"))
    for key, value in values.items():
        if key != "until" and value is None:
            continue
        setattr(mediator, key, value)
    if mediator.until is not None and mediator.until < mediator.since:
        mediator.until = mediator.since
    await session.flush()
    await record(session, mediator.tenant_id, *metrics.difference(before, metrics.mediator_facts(mediator)))
    return mediator, name


# --- cases -----------------------------------------------------------------------------------------


def time_limit(case: Case, settings: MediationSettings, on: datetime.date | None = None) -> TimeLimit:
    now = on or today()
    if case.status not in metrics.OPEN_STATUSES:
        return TimeLimit(deadline=case.deadline, days_left=None, state="closed")
    left = (case.deadline - now).days
    state = "overdue" if left < 0 else "due_soon" if left <= settings.warn_days else "ok"
    return TimeLimit(deadline=case.deadline, days_left=left, state=state)


def _party(case: Case, data: PartyIn) -> Party:
    number = data.id_number
    return Party(
        tenant_id=case.tenant_id,
        case_id=case.id,
        kind=data.kind,
        side=data.side,
        name=data.name,
        gender=data.gender,
        representative=data.representative,
        id_number=number,
        id_number_index=ring().blind_index(number) if number else None,
        phone=data.phone,
        address=data.address,
    )


def party_out(row: Party) -> PartyOut:
    return PartyOut(
        id=row.id,
        kind=row.kind,
        side=row.side,
        name=row.name,
        gender=row.gender,
        representative=row.representative,
        id_number=mask_id_number(row.id_number),
        phone=mask_phone(row.phone),
        has_address=bool(row.address),
    )


async def _persons(session: AsyncSession, case: Case) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    Party.tenant_id == case.tenant_id, Party.case_id == case.id, Party.kind == "person"
                )
            )
        ).scalar_one()
    )


async def _room_kind(session: AsyncSession, case: Case) -> str:
    return (
        await session.execute(select(Room.kind).where(Room.tenant_id == case.tenant_id, Room.id == case.room_id))
    ).scalar_one()


async def facts_of(session: AsyncSession, case: Case) -> list[Fact]:
    return metrics.case_facts(case, await _room_kind(session, case), await _persons(session, case))


async def _next_number(session: AsyncSession, tenant_id: int, year: int, settings: MediationSettings) -> str:
    """（2026）调字第 N 号, N counting the tenant's cases received that year; serialised per tenant."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('mediation_case_no'), :t)"), {"t": tenant_id})
    count = (
        await session.execute(select(func.count()).where(Case.tenant_id == tenant_id, Case.number.like(f"（{year}）%")))
    ).scalar_one()
    return f"（{year}）{settings.case_number_word}字第{count + 1}号"


async def _check_mediators(session: AsyncSession, case: Case, ids: Sequence[uuid.UUID]) -> None:
    if not ids:
        return
    serving = {m.id for m, _ in await mediators_of(session, [case.room_id], serving_only=True)}
    if not set(ids) <= serving:
        raise MEDIATOR_NOT_IN_ROOM.error(field="mediator_ids")


async def create_case(session: AsyncSession, data: CaseCreate, actor: str, settings: MediationSettings) -> Case:
    """受理: the case lands in its room's tenant, with its parties, mediators and the intake step."""
    room = await get_room(session, data.room_id)
    _check_open(room)
    case = Case(
        tenant_id=room.tenant_id,
        room_id=room.id,
        number=await _next_number(session, room.tenant_id, data.received_on.year, settings),
        case_type=data.case_type,
        source=data.source,
        title=data.title,
        description=data.description,
        status="intake",
        received_on=data.received_on,
        deadline=add_months(data.received_on, settings.time_limit_months),
        rights_notified=True,
        agreement={},
        referred_to_name="",
        created_by=actor,
    )
    await _check_mediators(session, case, data.mediator_ids)
    session.add(case)
    await session.flush()
    session.add_all([_party(case, p) for p in data.parties])
    for index, mediator_id in enumerate(dict.fromkeys(data.mediator_ids)):
        session.add(CaseMediator(tenant_id=case.tenant_id, case_id=case.id, mediator_id=mediator_id, lead=index == 0))
    session.add(
        Step(
            tenant_id=case.tenant_id,
            case_id=case.id,
            seq=1,
            action="intake",
            from_status="",
            to_status="intake",
            occurred_on=data.received_on,
            note=data.intake_note,
            details={"rights_notified": True, "source": data.source, "parties": len(data.parties)},
            actor=actor,
        )
    )
    await session.flush()
    await record(
        session, case.tenant_id, *metrics.case_facts(case, room.kind, sum(p.kind == "person" for p in data.parties))
    )
    return case


async def get_case(session: AsyncSession, viewer: Viewer, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    """The case if it is in scope *and* the viewer may see it; "not found" otherwise (no hint it exists).

    ``lock`` (for writes) holds the case's row until the transaction ends, so two steps taken at once on the
    same case run one after the other: the second sees the first's status (no double settlement, no double
    count in the figures).
    """
    query = select(Case).where(Case.id == case_id)
    if lock:
        query = query.with_for_update()
    case = (await session.execute(query)).scalar_one_or_none()
    if case is None or not await can_see(session, viewer, case):
        raise CASE_NOT_FOUND.error(field="case_id")
    return case


async def open_case(session: AsyncSession, viewer: Viewer, case_id: uuid.UUID) -> Case:
    """Read a case and write who opened it into the audit log."""
    case = await get_case(session, viewer, case_id)
    await arecord(
        session,
        action="open",
        entity_type="mediation_case",
        entity_id=f"{case.tenant_id},{case.id}",
        tenant_id=case.tenant_id,
        after={"number": case.number},
    )
    return case


async def case_detail(session: AsyncSession, case: Case, settings: MediationSettings) -> CaseOut:
    parties = (
        await session.execute(
            select(Party)
            .where(Party.tenant_id == case.tenant_id, Party.case_id == case.id)
            .order_by(Party.created_at, Party.id)
        )
    ).scalars()
    links = list(
        (
            await session.execute(
                select(CaseMediator).where(CaseMediator.tenant_id == case.tenant_id, CaseMediator.case_id == case.id)
            )
        ).scalars()
    )
    linked = {link.mediator_id for link in links}
    mediators = [(m, n) for m, n in await mediators_of(session, [case.room_id]) if m.id in linked]
    steps = (
        await session.execute(
            select(Step).where(Step.tenant_id == case.tenant_id, Step.case_id == case.id).order_by(Step.seq)
        )
    ).scalars()
    return CaseOut(
        **summary(case, settings).model_dump(exclude={"time_limit"}),
        time_limit=time_limit(case, settings),
        description=case.description,
        outcome_on=case.outcome_on,
        settled_on=case.settled_on,
        referred_to=case.referred_to,
        referred_to_name=case.referred_to_name,
        agreement=dict(case.agreement or {}),
        followed_up_on=case.followed_up_on,
        confirmed_on=case.confirmed_on,
        created_by=case.created_by,
        parties=[party_out(p) for p in parties],
        mediators=[mediator_out(m, n) for m, n in mediators],
        lead_mediator_id=next((link.mediator_id for link in links if link.lead), None),
        steps=[step_out(s) for s in steps],
    )


def summary(case: Case, settings: MediationSettings) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        tenant_id=case.tenant_id,
        room_id=case.room_id,
        number=case.number,
        case_type=case.case_type,
        source=case.source,
        title=case.title,
        status=case.status,
        received_on=case.received_on,
        time_limit=time_limit(case, settings),
    )


def step_out(step: Step) -> StepOut:
    return StepOut(
        id=step.id,
        seq=step.seq,
        action=step.action,
        from_status=step.from_status,
        to_status=step.to_status,
        occurred_on=step.occurred_on,
        recorded_at=step.created_at,
        note=step.note,
        details={k: v for k, v in (step.details or {}).items() if k != "previous"},
        actor=step.actor,
    )


async def list_cases(
    session: AsyncSession,
    viewer: Viewer,
    acting_tenant: int,
    settings: MediationSettings,
    *,
    status: str | None = None,
    case_type: str | None = None,
    room_id: uuid.UUID | None = None,
    overdue: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Case], int]:
    query = select(Case)
    where = await visible_filter(session, viewer, acting_tenant)
    if where is not None:
        query = query.where(where)
    if status:
        query = query.where(Case.status == status)
    if case_type:
        query = query.where(Case.case_type == case_type)
    if room_id:
        query = query.where(Case.room_id == room_id)
    if overdue is not None:
        open_ = Case.status.in_(sorted(metrics.OPEN_STATUSES))
        late = Case.deadline < today()
        query = query.where(open_ & late) if overdue else query.where(~(open_ & late))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(Case.received_on.desc(), Case.id.desc()).offset((page - 1) * page_size).limit(page_size)
    )
    return list(rows.scalars()), total


async def update_case(session: AsyncSession, case: Case, data: CaseUpdate, settings: MediationSettings) -> Case:
    if case.status == "voided":
        raise CASE_CLOSED.error(field="case_id")
    before = await facts_of(session, case)
    values = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "received_on" in values:
        first = min(d for d in (case.outcome_on, case.settled_on, today()) if d is not None)
        if values["received_on"] > first:
            raise STEP_BEFORE_RECEIVED.error(field="received_on", received_on=first.isoformat())
        extended = (case.deadline - add_months(case.received_on, settings.time_limit_months)).days
        case.deadline = add_months(values["received_on"], settings.time_limit_months) + datetime.timedelta(
            days=max(extended, 0)
        )
    for key, value in values.items():
        setattr(case, key, value)
    await session.flush()
    await record(session, case.tenant_id, *metrics.difference(before, await facts_of(session, case)))
    return case


async def add_party(session: AsyncSession, case: Case, data: PartyIn) -> Party:
    if case.status == "voided":
        raise CASE_CLOSED.error(field="case_id")
    before = await facts_of(session, case)
    party = _party(case, data)
    session.add(party)
    await session.flush()
    await record(session, case.tenant_id, *metrics.difference(before, await facts_of(session, case)))
    return party


async def get_party(session: AsyncSession, case: Case, party_id: uuid.UUID) -> Party:
    party = (
        await session.execute(
            select(Party).where(Party.tenant_id == case.tenant_id, Party.case_id == case.id, Party.id == party_id)
        )
    ).scalar_one_or_none()
    if party is None:
        raise PARTY_NOT_FOUND.error(field="party_id")
    return party


async def reveal_party(session: AsyncSession, case: Case, party_id: uuid.UUID, fields: list[str], reason: str) -> Party:
    party = await get_party(session, case, party_id)
    await arecord(
        session,
        action="reveal",
        entity_type="mediation_party",
        entity_id=f"{party.tenant_id},{party.id}",
        tenant_id=party.tenant_id,
        after={"fields": sorted(set(fields)), "reason": reason, "case": case.number},
    )
    return party


async def assign_mediators(session: AsyncSession, case: Case, data: MediatorsAssign) -> None:
    ids = list(dict.fromkeys(data.mediator_ids))
    await _check_mediators(session, case, ids)
    lead = data.lead_id if data.lead_id in ids else ids[0]
    existing = {
        link.mediator_id: link
        for link in (
            await session.execute(
                select(CaseMediator).where(CaseMediator.tenant_id == case.tenant_id, CaseMediator.case_id == case.id)
            )
        ).scalars()
    }
    for mediator_id, link in existing.items():
        if mediator_id not in ids:
            await session.delete(link)
    for mediator_id in ids:
        current = existing.get(mediator_id)
        if current is None:
            session.add(
                CaseMediator(
                    tenant_id=case.tenant_id, case_id=case.id, mediator_id=mediator_id, lead=mediator_id == lead
                )
            )
        else:
            current.lead = mediator_id == lead
    await session.flush()


async def credits(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    """The mediators of the case, for the points plugin: ``{member_id, hours, role}`` (lead first)."""
    rows = await session.execute(
        select(Mediator.member_id, CaseMediator.lead)
        .join(
            CaseMediator,
            (CaseMediator.tenant_id == Mediator.tenant_id) & (CaseMediator.mediator_id == Mediator.id),
        )
        .where(CaseMediator.tenant_id == case.tenant_id, CaseMediator.case_id == case.id)
        .order_by(CaseMediator.lead.desc(), Mediator.member_id)
    )
    return [{"member_id": str(member_id), "hours": None, "role": "mediator"} for member_id, _lead in rows.tuples()]


async def _payload(session: AsyncSession, case: Case, on: datetime.date) -> dict[str, Any]:
    return {
        "occurred_on": on.isoformat(),
        "ref": str(case.id),
        "case_id": str(case.id),
        "number": case.number,
        "room_id": str(case.room_id),
        "case_type": case.case_type,
        "source": case.source,
        "credits": await credits(session, case),
    }


async def _emit(session: AsyncSession, case: Case, name: str, payload: dict[str, Any]) -> None:
    await emit(session, tenant_id=case.tenant_id, name=name, payload=payload, source=PLUGIN_NAME)


def _not_allowed(case: Case, action: str) -> Exception:
    hint_zh, hint_en = HINTS.get(action, ("", ""))
    return STEP_NOT_ALLOWED.error(
        field="action",
        status=case.status,
        status_zh=STATUS_ZH.get(case.status, case.status),
        action=action,
        action_zh=ACTION_ZH.get(action, action),
        hint_zh=hint_zh,
        hint_en=hint_en,
    )


def _snapshot(case: Case) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in STEP_FIELDS:
        value = getattr(case, name)
        out[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return out


def _restore(case: Case, previous: dict[str, Any]) -> None:
    for name in STEP_FIELDS:
        if name not in previous:
            continue
        value = previous[name]
        if name in {"outcome_on", "settled_on", "followed_up_on", "confirmed_on", "deadline"} and value:
            value = datetime.date.fromisoformat(value)
        setattr(case, name, value)


async def _steps(session: AsyncSession, case: Case) -> list[Step]:
    return list(
        (
            await session.execute(
                select(Step).where(Step.tenant_id == case.tenant_id, Step.case_id == case.id).order_by(Step.seq)
            )
        ).scalars()
    )


async def take_step(session: AsyncSession, case: Case, data: StepIn, actor: str, settings: MediationSettings) -> Step:
    """Move the case on (or record, extend, void, undo), time and describe the step, keep the figures, emit."""
    steps = await _steps(session, case)
    before = await facts_of(session, case)
    previous = _snapshot(case)
    on = data.occurred_on
    if on < case.received_on:
        raise STEP_BEFORE_RECEIVED.error(field="occurred_on", received_on=case.received_on.isoformat())
    details: dict[str, Any] = {}
    events: list[tuple[str, dict[str, Any]]] = []
    from_status = case.status

    if data.action == "undo":
        undoable = [s for s in steps if s.action in TRANSITIONS and not (s.details or {}).get("undone")]
        target = undoable[-1] if undoable else None
        if target is None or (case.status == "voided" and target.action != "void"):
            raise NOTHING_TO_UNDO.error(field="action")
        _restore(case, dict((target.details or {}).get("previous", {})))
        target.details = {**(target.details or {}), "undone": True}
        details = {"undoes": target.seq, "undone_action": target.action}
        if target.action == "settle":
            payload = dict(target.details.get("event") or await _payload(session, case, target.occurred_on))
            events.append((CASE_SETTLED_REVOKED, {**payload, "revokes": payload["ref"]}))
        if target.action == "follow_up":
            payload = dict(target.details.get("event") or await _payload(session, case, target.occurred_on))
            events.append((CASE_FOLLOWED_UP_REVOKED, {**payload, "revokes": payload["ref"]}))
        if target.action == "void" and case.settled_on is not None:
            events.append((CASE_SETTLED, await _payload(session, case, case.settled_on)))
    else:
        starts, leads_to = TRANSITIONS[data.action]
        if case.status not in starts:
            raise _not_allowed(case, data.action)
        action = data.action
        if action == "settle":
            assert data.agreement is not None
            if data.agreement.performance_deadline < on:
                raise STEP_BEFORE_RECEIVED.error(field="agreement.performance_deadline", received_on=on.isoformat())
            case.outcome_on = on
            case.settled_on = on
            case.agreement = data.agreement.model_dump(mode="json")
        elif action == "fail":
            case.outcome_on = on
        elif action == "refer":
            case.outcome_on = case.outcome_on or on
            case.referred_to = data.referred_to
            case.referred_to_name = data.referred_to_name
            details = {"referred_to": data.referred_to, "referred_to_name": data.referred_to_name}
        elif action == "follow_up":
            case.followed_up_on = on
            details = {"satisfied": data.satisfied}
        elif action == "confirm":
            if case.confirmed_on is not None:
                raise _not_allowed(case, action)
            case.confirmed_on = on
            details = {"court": data.court}
        elif action == "record":
            details = {"record_kind": data.record_kind}
        elif action == "extend":
            assert data.extension_days is not None
            used = (case.deadline - add_months(case.received_on, settings.time_limit_months)).days
            if used + data.extension_days > settings.max_extension_days:
                raise EXTENSION_TOO_LONG.error(
                    field="extension_days", limit=settings.max_extension_days, used=max(used, 0)
                )
            case.deadline = case.deadline + datetime.timedelta(days=data.extension_days)
            details = {"days": data.extension_days, "deadline": case.deadline.isoformat()}
        if leads_to is not None:
            case.status = leads_to
        if action in TRANSITIONS and action not in {"record"}:
            details["previous"] = previous
        if action == "settle":
            payload = await _payload(session, case, on)
            details["event"] = payload
            events.append((CASE_SETTLED, payload))
        if action == "follow_up":
            payload = await _payload(session, case, on)
            details["event"] = payload
            events.append((CASE_FOLLOWED_UP, payload))
        if action == "void" and case.settled_on is not None:
            payload = await _payload(session, case, case.settled_on)
            events.append((CASE_SETTLED_REVOKED, {**payload, "revokes": payload["ref"]}))
    step = Step(
        tenant_id=case.tenant_id,
        case_id=case.id,
        seq=(steps[-1].seq if steps else 0) + 1,
        action=data.action,
        from_status=from_status,
        to_status=case.status,
        occurred_on=on,
        note=data.note,
        details=details,
        actor=actor,
    )
    session.add(step)
    await session.flush()
    await record(session, case.tenant_id, *metrics.difference(before, await facts_of(session, case)))
    for name, payload in events:
        await _emit(session, case, name, payload)
    return step


# --- figures ---------------------------------------------------------------------------------------


async def recount(session: AsyncSession, tenant_id: int) -> list[Fact]:
    """Every fact the tenant's rows imply (the ``metric_facts`` hook)."""
    out: list[Fact] = []
    rooms = {r.id: r for r in (await session.execute(select(Room).where(Room.tenant_id == tenant_id))).scalars()}
    for room in rooms.values():
        out += metrics.room_facts(room)
    for mediator in (await session.execute(select(Mediator).where(Mediator.tenant_id == tenant_id))).scalars():
        out += metrics.mediator_facts(mediator)
    counted = await session.execute(
        select(Party.case_id, func.count())
        .where(Party.tenant_id == tenant_id, Party.kind == "person")
        .group_by(Party.case_id)
    )
    persons = {case_id: n for case_id, n in counted.tuples()}  # noqa: C416 - dict(result) reads it as a mapping
    for case in (await session.execute(select(Case).where(Case.tenant_id == tenant_id))).scalars():
        out += metrics.case_facts(case, rooms[case.room_id].kind, int(persons.get(case.id, 0)))
    return out
