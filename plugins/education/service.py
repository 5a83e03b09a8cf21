"""The plugin's work: stations, counsellors, activities (with their photos), pairings, the report facts and the
events. Every write that changes a figure records its facts in the same transaction (and retracts the old ones
on an edit or a withdrawal), so the maintained aggregates never need a scan of these rows.

Functions take the session the host gives (scoped to the acting tenant's subtree for requests); the ORM and
row-level security keep every query inside it, so another county's station is simply "not found" here.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import arecord
from core.errors import ErrorSpec
from core.events.outbox import emit
from core.orgs.models import Member
from core.privacy.crypto import mask_phone
from core.reports.facts import Fact, record, retract
from core.storage.base import ObjectStore
from core.storage.models import StoredFile
from core.storage.sniff import describe_type, sniff
from plugins.education.models import (
    Activity,
    ActivityCounsellor,
    ActivityPhoto,
    Counsellor,
    CounsellorStation,
    Pairing,
    Station,
    StationStatusChange,
)
from plugins.education.schemas import (
    CATEGORY_ZH,
    KIND_ZH,
    PLACE_KIND_ZH,
    STATION_STATUS_ZH,
    ActivityIn,
    ActivityOut,
    CounsellorCreate,
    CounsellorOut,
    CounsellorUpdate,
    EducationSettings,
    PairingCreate,
    PairingEnd,
    PairingOut,
    PhotoOut,
    StationCreate,
    StationOut,
    StationStatusIn,
    StationUpdate,
)

PLUGIN_NAME = "education"
ACTIVITY_RECORDED = "education.activity_recorded"
ACTIVITY_REVOKED = "education.activity_revoked"
PHOTO_FOLDER = "education/activities"
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

# --- metric ids ----------------------------------------------------------------------------------------------
STATIONS = "education.stations"  # LEVEL: open stations
ACTIVITIES = "education.activities"  # SUM; per kind: education.activities.<kind>
ACTIVE_COUNSELLORS = "education.active_counsellors"  # DISTINCT_COUNT; per category: ….<category>
STUDENTS_REACHED = "education.students_reached"  # SUM 人次
PARENTS_REACHED = "education.parents_reached"
TEACHERS_REACHED = "education.teachers_reached"
COUNSELLOR_HOURS = "education.counsellor_hours"  # SUM: duration × counsellors
PAIRINGS = "education.pairings"  # LEVEL: pairings in force
PAIRINGS_STARTED = "education.pairings_started"  # SUM

# --- errors --------------------------------------------------------------------------------------------------
STATION_NOT_FOUND = ErrorSpec("education.station_not_found", 404, "找不到该辅导站", "No such station")
COUNSELLOR_NOT_FOUND = ErrorSpec("education.counsellor_not_found", 404, "找不到该辅导员", "No such counsellor")
ACTIVITY_NOT_FOUND = ErrorSpec("education.activity_not_found", 404, "找不到该活动记录", "No such activity")
PHOTO_NOT_FOUND = ErrorSpec("education.photo_not_found", 404, "找不到该活动照片", "No such photo")
PAIRING_NOT_FOUND = ErrorSpec("education.pairing_not_found", 404, "找不到该结对记录", "No such pairing")
MEMBER_NOT_FOUND = ErrorSpec(
    "education.member_not_found",
    404,
    "在本单位（{tenant}）的党员台账中找不到这位党员，请先核对党员编号",
    "No such member in this tenant's ledger ({tenant})",
)
MEMBER_NOT_ACTIVE = ErrorSpec(
    "education.member_not_active",
    409,
    "这位党员的台账状态是“{status_zh}”，不能登记为辅导员",
    "This member's record is '{status}'; they cannot be registered as a counsellor",
)
ALREADY_COUNSELLOR = ErrorSpec(
    "education.already_counsellor",
    409,
    "这位党员已经是辅导员了，请直接修改原记录",
    "This member is already a counsellor; edit the existing record",
)
VOLUNTEERS_OFF = ErrorSpec(
    "education.volunteers_not_allowed",
    403,
    "本单位只登记党员辅导员；如需登记非党员“五老”志愿者，请单位管理员在本项目设置中开启“允许非党员志愿者”",
    "This tenant registers members only; an administrator can allow non-member volunteers in the settings",
)
WRONG_TENANT = ErrorSpec(
    "education.other_tenant",
    422,
    "{what}不属于{tenant}，请选择同一单位的{what}",
    "The {what_en} belongs to another tenant than {tenant}; choose one of the same tenant",
)
STATION_NOT_OPEN = ErrorSpec(
    "education.station_not_open",
    409,
    "该辅导站自 {since} 起{status_zh}，不能登记此后的活动",
    "This station has been {status} since {since}; activities after that date cannot be recorded",
)
BEFORE_OPENING = ErrorSpec(
    "education.before_opening",
    422,
    "该辅导站 {opened_on} 才开放，活动日期不能早于开放日期",
    "This station opened on {opened_on}; an activity cannot be dated before that",
)
MEMBER_PHONE = ErrorSpec(
    "education.member_phone",
    422,
    "党员辅导员的电话以党员台账为准，请到党员档案中修改",
    "A member counsellor's phone is kept in the member ledger; change it there",
)
STATUS_DATE = ErrorSpec(
    "education.status_date",
    422,
    "生效日期不能早于上一次状态变更（{since}）",
    "The effective date cannot be earlier than the last status change ({since})",
)
STATUS_UNCHANGED = ErrorSpec(
    "education.status_unchanged", 409, "该辅导站已经是“{status_zh}”状态", "The station is already {status}"
)
COUNSELLOR_INACTIVE = ErrorSpec(
    "education.counsellor_inactive",
    409,
    "辅导员“{name}”已停止服务，不能登记新活动或结对",
    "Counsellor '{name}' is no longer serving; no new activities or pairings",
)
ACTIVITY_WITHDRAWN = ErrorSpec(
    "education.activity_withdrawn",
    409,
    "该活动记录已撤回（{reason}），不能再修改",
    "This activity was withdrawn ({reason}); it cannot be changed",
)
PHOTO_TYPE = ErrorSpec(
    "education.photo_type",
    415,
    "活动照片只能是 JPG、PNG 或 WebP 图片，这个文件是{detected_zh}",
    "Activity photos must be JPG, PNG or WebP images; this file is {detected_en}",
)
PHOTO_MISSING = ErrorSpec(
    "education.photo_missing", 422, "请在表单字段 file 中选择要上传的照片", "Choose the photo in the form field 'file'"
)
PAIRING_DISABLED = ErrorSpec(
    "education.pairing_disabled",
    403,
    "本单位（{tenant}）未开启结对帮扶，不能登记受助学生信息。需要开展时，请单位管理员在本项目设置中开启“结对帮扶”",
    "Pairing is switched off in {tenant}: no student data may be recorded. An administrator can switch it on "
    "in the programme's settings",
)
PAIRING_ELSEWHERE = ErrorSpec(
    "education.pairing_elsewhere",
    422,
    "结对须在辅导员所在单位（{tenant}）登记，请切换到该单位后再登记",
    "Record the pairing in the counsellor's own tenant ({tenant})",
)
PAIRING_TOO_LONG = ErrorSpec(
    "education.pairing_too_long",
    422,
    "一次结对最长 {months} 个月，请把截止日期定在 {latest} 之前（到期后可以再续）",
    "A pairing lasts at most {months} months: end it by {latest} (it can be renewed)",
)
PAIRING_ENDED = ErrorSpec(
    "education.pairing_ended", 409, "该结对已于 {ended_on} 结束", "This pairing ended on {ended_on}"
)
PAIRING_END_DATE = ErrorSpec(
    "education.pairing_end_date",
    422,
    "结束日期须在开始日期（{started_on}）之后、今天之前",
    "The end date must be after the start ({started_on}) and not in the future",
)

_MEMBER_STATUS_ZH = {"active": "正常", "transferred_out": "已转出", "deceased": "已故"}


def today() -> datetime.date:
    return datetime.date.today()


def mask_name(value: str | None) -> str:
    """``王建明`` → ``王*明``, ``李娜`` → ``李*``."""
    if not value:
        return ""
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_text(value: str | None, keep: int = 2) -> str:
    if not value:
        return ""
    return value[:keep] + "**" if len(value) > keep else value[0] + "*"


def _tenant_name(tree: Any, tenant_id: int) -> str:
    node = tree.nodes.get(tenant_id) if tree is not None else None
    return f"{node.code} {node.name}" if node is not None else str(tenant_id)


# --- stations ------------------------------------------------------------------------------------------------


def station_out(row: Station) -> StationOut:
    return StationOut(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        place_kind=row.place_kind,
        place_kind_zh=PLACE_KIND_ZH[row.place_kind],
        address=row.address,
        partner_school=row.partner_school,
        contact_name=row.contact_name,
        contact_phone=mask_phone(row.contact_phone),
        schedule=row.schedule,
        status=row.status,
        status_zh=STATION_STATUS_ZH[row.status],
        opened_on=row.opened_on,
    )


async def get_station(session: AsyncSession, station_id: uuid.UUID, *, lock: bool = False) -> Station:
    stmt = select(Station).where(Station.id == station_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise STATION_NOT_FOUND.error(field="station_id")
    return row


async def create_station(session: AsyncSession, tenant_id: int, data: StationCreate, actor: str) -> Station:
    row = Station(
        tenant_id=tenant_id,
        name=data.name,
        place_kind=data.place_kind,
        address=data.address.strip(),
        partner_school=data.partner_school.strip(),
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone,
        schedule=data.schedule.strip(),
        status="open",
        opened_on=data.opened_on,
        status_since=data.opened_on,
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    session.add(
        StationStatusChange(
            tenant_id=tenant_id,
            station_id=row.id,
            status="open",
            effective_on=data.opened_on,
            delta=1,
            changed_by=actor,
        )
    )
    await session.flush()
    await record(session, tenant_id, Fact(STATIONS, data.opened_on, 1))
    return row


async def update_station(session: AsyncSession, station_id: uuid.UUID, data: StationUpdate) -> Station:
    row = await get_station(session, station_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name != "contact_phone":
            continue
        setattr(row, name, value.strip() if isinstance(value, str) else value)
    await session.flush()
    return row


async def change_station_status(
    session: AsyncSession, station_id: uuid.UUID, data: StationStatusIn, actor: str
) -> Station:
    """Open, suspend or close a station from a date; the open-station LEVEL moves by +1/-1 on that date."""
    row = await get_station(session, station_id, lock=True)
    if data.status == row.status:
        raise STATUS_UNCHANGED.error(field="status", status=row.status, status_zh=STATION_STATUS_ZH[row.status])
    if data.effective_on < row.status_since:
        raise STATUS_DATE.error(field="effective_on", since=row.status_since.isoformat())
    was_open, now_open = row.status == "open", data.status == "open"
    delta = (1 if now_open else 0) - (1 if was_open else 0)
    row.status = data.status
    row.status_since = data.effective_on
    session.add(
        StationStatusChange(
            tenant_id=row.tenant_id,
            station_id=row.id,
            status=data.status,
            effective_on=data.effective_on,
            delta=delta,
            note=data.note.strip(),
            changed_by=actor,
        )
    )
    await session.flush()
    if delta:
        await record(session, row.tenant_id, Fact(STATIONS, data.effective_on, delta))
    return row


async def list_stations(
    session: AsyncSession, *, status: str | None, place_kind: str | None, page: int, page_size: int
) -> tuple[Sequence[Station], int]:
    stmt = select(Station)
    if status:
        stmt = stmt.where(Station.status == status)
    if place_kind:
        stmt = stmt.where(Station.place_kind == place_kind)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (await session.execute(stmt.order_by(Station.name, Station.id).offset((page - 1) * page_size).limit(page_size)))
        .scalars()
        .all()
    )
    return rows, total


async def reveal_station(session: AsyncSession, station_id: uuid.UUID, reason: str) -> Station:
    row = await get_station(session, station_id)
    await arecord(
        session,
        action="reveal",
        entity_type="education_station",
        entity_id=f"{row.tenant_id},{row.id}",
        tenant_id=row.tenant_id,
        after={"fields": ["contact_phone"], "reason": reason},
    )
    return row


# --- counsellors ---------------------------------------------------------------------------------------------


@dataclass
class CounsellorView:
    row: Counsellor
    member_name: str | None
    station_ids: list[uuid.UUID]

    @property
    def name(self) -> str:
        return self.member_name if self.member_name is not None else mask_name(self.row.volunteer_name)


def counsellor_out(view: CounsellorView) -> CounsellorOut:
    row = view.row
    return CounsellorOut(
        id=row.id,
        tenant_id=row.tenant_id,
        member_id=row.member_id,
        is_member=row.member_id is not None,
        name=view.name,
        phone=mask_phone(row.volunteer_phone),
        category=row.category,
        category_zh=CATEGORY_ZH[row.category],
        subjects=list(row.subjects or []),
        station_ids=view.station_ids,
        status=row.status,
        note=row.note,
    )


async def get_counsellor(session: AsyncSession, counsellor_id: uuid.UUID) -> Counsellor:
    row = (await session.execute(select(Counsellor).where(Counsellor.id == counsellor_id))).scalar_one_or_none()
    if row is None:
        raise COUNSELLOR_NOT_FOUND.error(field="counsellor_id")
    return row


async def counsellor_views(session: AsyncSession, rows: Sequence[Counsellor]) -> list[CounsellorView]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    member_ids = [r.member_id for r in rows if r.member_id is not None]
    names: dict[uuid.UUID, str] = {}
    if member_ids:
        names = dict(
            (await session.execute(select(Member.id, Member.name).where(Member.id.in_(member_ids)))).tuples().all()
        )
    stations: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    links = await session.execute(
        select(CounsellorStation.counsellor_id, CounsellorStation.station_id)
        .where(CounsellorStation.counsellor_id.in_(ids))
        .order_by(CounsellorStation.station_id)
    )
    for counsellor_id, station_id in links.tuples():
        stations[counsellor_id].append(station_id)
    return [
        CounsellorView(r, names.get(r.member_id, "") if r.member_id is not None else None, stations[r.id]) for r in rows
    ]


async def _check_stations(
    session: AsyncSession, tenant_id: int, station_ids: Sequence[uuid.UUID], tree: Any
) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(station_ids))
    if not wanted:
        return []
    found = dict(
        (await session.execute(select(Station.id, Station.tenant_id).where(Station.id.in_(wanted)))).tuples().all()
    )
    for station_id in wanted:
        if station_id not in found:
            raise STATION_NOT_FOUND.error(field="station_ids")
        if found[station_id] != tenant_id:
            raise WRONG_TENANT.error(
                field="station_ids", what="辅导站", what_en="station", tenant=_tenant_name(tree, tenant_id)
            )
    return wanted


async def _set_stations(session: AsyncSession, row: Counsellor, station_ids: list[uuid.UUID]) -> None:
    existing = (
        (
            await session.execute(
                select(CounsellorStation).where(
                    CounsellorStation.tenant_id == row.tenant_id, CounsellorStation.counsellor_id == row.id
                )
            )
        )
        .scalars()
        .all()
    )
    keep = set(station_ids)
    for link in existing:
        if link.station_id not in keep:
            await session.delete(link)
    have = {link.station_id for link in existing}
    for station_id in station_ids:
        if station_id not in have:
            session.add(CounsellorStation(tenant_id=row.tenant_id, counsellor_id=row.id, station_id=station_id))
    await session.flush()


async def create_counsellor(
    session: AsyncSession,
    tenant_id: int,
    data: CounsellorCreate,
    actor: str,
    settings: EducationSettings,
    tree: Any = None,
) -> Counsellor:
    if data.member_id is not None:
        member = (
            await session.execute(select(Member).where(Member.id == data.member_id, Member.tenant_id == tenant_id))
        ).scalar_one_or_none()
        if member is None:
            raise MEMBER_NOT_FOUND.error(field="member_id", tenant=_tenant_name(tree, tenant_id))
        if member.status != "active":
            raise MEMBER_NOT_ACTIVE.error(
                field="member_id", status=member.status, status_zh=_MEMBER_STATUS_ZH.get(member.status, member.status)
            )
        dup = (
            await session.execute(
                select(Counsellor.id).where(Counsellor.tenant_id == tenant_id, Counsellor.member_id == member.id)
            )
        ).first()
        if dup is not None:
            raise ALREADY_COUNSELLOR.error(field="member_id")
    elif not settings.allow_volunteers:
        raise VOLUNTEERS_OFF.error(field="volunteer_name")
    stations = await _check_stations(session, tenant_id, data.station_ids, tree)
    row = Counsellor(
        tenant_id=tenant_id,
        member_id=data.member_id,
        volunteer_name=data.volunteer_name,
        volunteer_phone=data.volunteer_phone,
        category=data.category,
        subjects=list(dict.fromkeys(data.subjects)),
        status="active",
        note=data.note.strip(),
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    await _set_stations(session, row, stations)
    return row


async def update_counsellor(
    session: AsyncSession, counsellor_id: uuid.UUID, data: CounsellorUpdate, tree: Any = None
) -> Counsellor:
    row = await get_counsellor(session, counsellor_id)
    values = data.model_dump(exclude_unset=True)
    if values.get("volunteer_phone") is not None and row.member_id is not None:
        raise MEMBER_PHONE.error(field="volunteer_phone")
    if "station_ids" in values and values["station_ids"] is not None:
        await _set_stations(session, row, await _check_stations(session, row.tenant_id, values["station_ids"], tree))
    for name in ("category", "status", "volunteer_phone"):
        if values.get(name) is not None:
            setattr(row, name, values[name])
    if values.get("subjects") is not None:
        row.subjects = list(dict.fromkeys(values["subjects"]))
    if values.get("note") is not None:
        row.note = values["note"].strip()
    await session.flush()
    return row


async def list_counsellors(
    session: AsyncSession,
    *,
    category: str | None,
    station_id: uuid.UUID | None,
    status: str | None,
    page: int,
    page_size: int,
) -> tuple[Sequence[Counsellor], int]:
    stmt = select(Counsellor)
    if category:
        stmt = stmt.where(Counsellor.category == category)
    if status:
        stmt = stmt.where(Counsellor.status == status)
    if station_id is not None:
        stmt = stmt.where(
            select(CounsellorStation.station_id)
            .where(
                CounsellorStation.tenant_id == Counsellor.tenant_id,
                CounsellorStation.counsellor_id == Counsellor.id,
                CounsellorStation.station_id == station_id,
            )
            .exists()
        )
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await session.execute(
                stmt.order_by(Counsellor.created_at, Counsellor.id).offset((page - 1) * page_size).limit(page_size)
            )
        )
        .scalars()
        .all()
    )
    return rows, total


async def reveal_counsellor(session: AsyncSession, counsellor_id: uuid.UUID, reason: str) -> Counsellor:
    row = await get_counsellor(session, counsellor_id)
    await arecord(
        session,
        action="reveal",
        entity_type="education_counsellor",
        entity_id=f"{row.tenant_id},{row.id}",
        tenant_id=row.tenant_id,
        after={"fields": ["volunteer_name", "volunteer_phone"], "reason": reason},
    )
    return row


# --- activities: facts and events ----------------------------------------------------------------------------


def counsellor_subject(counsellor_id: uuid.UUID, member_id: uuid.UUID | None) -> str:
    """Who a distinct count counts: the member (once across tenants), or the volunteer's counsellor record."""
    return str(member_id) if member_id is not None else f"v:{counsellor_id}"


def activity_facts(activity: Activity, leaders: Sequence[ActivityCounsellor]) -> list[Fact]:
    """The facts one recorded activity implies (none once it is withdrawn)."""
    if activity.status != "recorded":
        return []
    on = activity.held_on
    facts = [Fact(ACTIVITIES, on, 1), Fact(f"{ACTIVITIES}.{activity.kind}", on, 1)]
    for metric, value in (
        (STUDENTS_REACHED, activity.students),
        (PARENTS_REACHED, activity.parents),
        (TEACHERS_REACHED, activity.teachers),
    ):
        if value:
            facts.append(Fact(metric, on, value))
    if leaders:
        facts.append(Fact(COUNSELLOR_HOURS, on, round(activity.duration_minutes * len(leaders) / 60, 4)))
    for leader in leaders:
        subject = counsellor_subject(leader.counsellor_id, leader.member_id)
        facts.append(Fact(ACTIVE_COUNSELLORS, on, 1, subject=subject))
        facts.append(Fact(f"{ACTIVE_COUNSELLORS}.{leader.category}", on, 1, subject=subject))
    return facts


def activity_payload(activity: Activity, leaders: Sequence[ActivityCounsellor]) -> dict[str, Any]:
    """The cross-plugin payload: ``ref`` names this revision of the record, so an edit's new credits never
    collide with the ones its revoked twin reverses; ``activity_id`` names the record itself."""
    hours = round(activity.duration_minutes / 60, 2)
    return {
        "occurred_on": activity.held_on.isoformat(),
        "ref": f"{activity.id}:{activity.revision}",
        "activity_id": str(activity.id),
        "revision": activity.revision,
        "station_id": str(activity.station_id),
        "kind": activity.kind,
        "duration_minutes": activity.duration_minutes,
        "students": activity.students,
        "credits": [
            {"member_id": str(leader.member_id), "hours": hours, "role": "counsellor"}
            for leader in leaders
            if leader.member_id is not None
        ],
        "volunteers": sum(1 for leader in leaders if leader.member_id is None),
    }


async def _leaders(session: AsyncSession, activity: Activity) -> list[ActivityCounsellor]:
    return list(
        (
            await session.execute(
                select(ActivityCounsellor)
                .where(
                    ActivityCounsellor.tenant_id == activity.tenant_id,
                    ActivityCounsellor.activity_id == activity.id,
                )
                .order_by(ActivityCounsellor.counsellor_id)
            )
        )
        .scalars()
        .all()
    )


async def _check_activity_input(
    session: AsyncSession, data: ActivityIn, tree: Any, *, tenant_id: int | None = None
) -> tuple[Station, list[Counsellor]]:
    station = await get_station(session, data.station_id)
    if tenant_id is not None and station.tenant_id != tenant_id:
        raise WRONG_TENANT.error(
            field="station_id", what="辅导站", what_en="station", tenant=_tenant_name(tree, tenant_id)
        )
    if station.status != "open" and data.held_on >= station.status_since:
        raise STATION_NOT_OPEN.error(
            field="held_on",
            since=station.status_since.isoformat(),
            status=station.status,
            status_zh="已" + STATION_STATUS_ZH[station.status],
        )
    if data.held_on < station.opened_on:
        raise BEFORE_OPENING.error(field="held_on", opened_on=station.opened_on.isoformat())
    rows = (await session.execute(select(Counsellor).where(Counsellor.id.in_(data.counsellor_ids)))).scalars().all()
    by_id = {r.id: r for r in rows}
    ordered = []
    for counsellor_id in data.counsellor_ids:
        row = by_id.get(counsellor_id)
        if row is None:
            raise COUNSELLOR_NOT_FOUND.error(field="counsellor_ids")
        if row.tenant_id != station.tenant_id:
            raise WRONG_TENANT.error(
                field="counsellor_ids",
                what="辅导员",
                what_en="counsellor",
                tenant=_tenant_name(tree, station.tenant_id),
            )
        ordered.append(row)
    views = await counsellor_views(session, ordered)
    for view in views:
        if view.row.status != "active":
            raise COUNSELLOR_INACTIVE.error(field="counsellor_ids", name=view.name)
    return station, ordered


def _apply(activity: Activity, data: ActivityIn) -> None:
    activity.station_id = data.station_id
    activity.kind = data.kind
    activity.title = data.title
    activity.held_on = data.held_on
    activity.duration_minutes = data.duration_minutes
    activity.students = data.students
    activity.parents = data.parents
    activity.teachers = data.teachers
    activity.note = data.note.strip()


async def _set_leaders(
    session: AsyncSession, activity: Activity, counsellors: Sequence[Counsellor]
) -> list[ActivityCounsellor]:
    for old in await _leaders(session, activity):
        await session.delete(old)
    await session.flush()
    leaders = [
        ActivityCounsellor(
            tenant_id=activity.tenant_id,
            activity_id=activity.id,
            counsellor_id=c.id,
            category=c.category,
            member_id=c.member_id,
        )
        for c in counsellors
    ]
    session.add_all(leaders)
    await session.flush()
    return sorted(leaders, key=lambda leader: leader.counsellor_id)


async def record_activity(session: AsyncSession, data: ActivityIn, actor: str, tree: Any = None) -> Activity:
    """Record an activity in its station's tenant; facts and ``education.activity_recorded`` go with it."""
    station, counsellors = await _check_activity_input(session, data, tree)
    activity = Activity(tenant_id=station.tenant_id, status="recorded", revision=1, recorded_by=actor)
    _apply(activity, data)
    session.add(activity)
    await session.flush()
    leaders = await _set_leaders(session, activity, counsellors)
    await record(session, activity.tenant_id, *activity_facts(activity, leaders))
    await emit(
        session,
        tenant_id=activity.tenant_id,
        name=ACTIVITY_RECORDED,
        payload=activity_payload(activity, leaders),
        source=PLUGIN_NAME,
    )
    return activity


async def get_activity(session: AsyncSession, activity_id: uuid.UUID, *, lock: bool = False) -> Activity:
    stmt = select(Activity).where(Activity.id == activity_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise ACTIVITY_NOT_FOUND.error(field="activity_id")
    return row


async def _revoke(session: AsyncSession, activity: Activity, leaders: Sequence[ActivityCounsellor]) -> None:
    """Retract what the current revision counted and tell consumers (points) to reverse its credits."""
    await retract(session, activity.tenant_id, *activity_facts(activity, leaders))
    payload = activity_payload(activity, leaders)
    payload["revokes"] = payload["ref"]
    await emit(session, tenant_id=activity.tenant_id, name=ACTIVITY_REVOKED, payload=payload, source=PLUGIN_NAME)


async def edit_activity(
    session: AsyncSession, activity_id: uuid.UUID, data: ActivityIn, actor: str, tree: Any = None
) -> Activity:
    """Correct an activity: the old revision's facts are retracted and its credits revoked, the new recorded."""
    activity = await get_activity(session, activity_id, lock=True)
    if activity.status == "withdrawn":
        raise ACTIVITY_WITHDRAWN.error(field="activity_id", reason=activity.withdrawn_reason)
    _station, counsellors = await _check_activity_input(session, data, tree, tenant_id=activity.tenant_id)
    await _revoke(session, activity, await _leaders(session, activity))
    _apply(activity, data)
    activity.revision += 1
    activity.recorded_by = actor
    await session.flush()
    leaders = await _set_leaders(session, activity, counsellors)
    await record(session, activity.tenant_id, *activity_facts(activity, leaders))
    await emit(
        session,
        tenant_id=activity.tenant_id,
        name=ACTIVITY_RECORDED,
        payload=activity_payload(activity, leaders),
        source=PLUGIN_NAME,
    )
    return activity


async def withdraw_activity(session: AsyncSession, activity_id: uuid.UUID, reason: str) -> Activity:
    activity = await get_activity(session, activity_id, lock=True)
    if activity.status == "withdrawn":
        raise ACTIVITY_WITHDRAWN.error(field="activity_id", reason=activity.withdrawn_reason)
    await _revoke(session, activity, await _leaders(session, activity))
    activity.status = "withdrawn"
    activity.withdrawn_reason = reason.strip()
    await session.flush()
    return activity


async def list_activities(
    session: AsyncSession,
    *,
    station_id: uuid.UUID | None,
    kind: str | None,
    status: str | None,
    since: datetime.date | None,
    until: datetime.date | None,
    page: int,
    page_size: int,
) -> tuple[Sequence[Activity], int]:
    stmt = select(Activity)
    if station_id is not None:
        stmt = stmt.where(Activity.station_id == station_id)
    if kind:
        stmt = stmt.where(Activity.kind == kind)
    if status:
        stmt = stmt.where(Activity.status == status)
    if since is not None:
        stmt = stmt.where(Activity.held_on >= since)
    if until is not None:
        stmt = stmt.where(Activity.held_on <= until)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await session.execute(
                stmt.order_by(Activity.held_on.desc(), Activity.id.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        )
        .scalars()
        .all()
    )
    return rows, total


async def activities_out(
    session: AsyncSession, rows: Sequence[Activity], *, with_photos: bool = False
) -> list[ActivityOut]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    stations = dict(
        (await session.execute(select(Station.id, Station.name).where(Station.id.in_({r.station_id for r in rows}))))
        .tuples()
        .all()
    )
    leaders: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    for activity_id, counsellor_id in (
        await session.execute(
            select(ActivityCounsellor.activity_id, ActivityCounsellor.counsellor_id)
            .where(ActivityCounsellor.activity_id.in_(ids))
            .order_by(ActivityCounsellor.counsellor_id)
        )
    ).tuples():
        leaders[activity_id].append(counsellor_id)
    photos: dict[uuid.UUID, list[PhotoOut]] = {i: [] for i in ids}
    if with_photos:
        for photo, stored in await _photos(session, ids):
            photos[photo.activity_id].append(photo_out(photo, stored))
    return [
        ActivityOut(
            id=r.id,
            tenant_id=r.tenant_id,
            station_id=r.station_id,
            station_name=stations.get(r.station_id, ""),
            kind=r.kind,
            kind_zh=KIND_ZH[r.kind],
            title=r.title,
            held_on=r.held_on,
            duration_minutes=r.duration_minutes,
            students=r.students,
            parents=r.parents,
            teachers=r.teachers,
            counsellor_ids=leaders[r.id],
            note=r.note,
            status=r.status,
            revision=r.revision,
            withdrawn_reason=r.withdrawn_reason,
            recorded_by=r.recorded_by,
            photos=photos[r.id],
        )
        for r in rows
    ]


# --- photos (the storage API that core/orglife uses for 六有 evidence) -----------------------------------------


def photo_out(photo: ActivityPhoto, stored: StoredFile, url: str | None = None) -> PhotoOut:
    return PhotoOut(
        id=photo.id,
        file_id=stored.id,
        caption=photo.caption,
        content_type=stored.content_type,
        size=stored.size,
        original_name=stored.original_name,
        uploaded_by=photo.uploaded_by,
        url=url,
    )


async def _photos(session: AsyncSession, activity_ids: Sequence[uuid.UUID]) -> list[tuple[ActivityPhoto, StoredFile]]:
    found = await session.execute(
        select(ActivityPhoto, StoredFile)
        .join(StoredFile, and_(StoredFile.tenant_id == ActivityPhoto.tenant_id, StoredFile.id == ActivityPhoto.file_id))
        .where(ActivityPhoto.activity_id.in_(activity_ids))
        .order_by(ActivityPhoto.created_at, ActivityPhoto.id)
    )
    return [(p, s) for p, s in found.tuples()]


async def add_photo(
    session: AsyncSession,
    storage: ObjectStore,
    activity: Activity,
    tenant_code: str,
    *,
    content: bytes,
    filename: str,
    declared_type: str | None,
    caption: str,
    actor: str,
) -> tuple[ActivityPhoto, StoredFile]:
    """Store the photo under the activity tenant's prefix and record it; nothing stays behind on failure."""
    detected = sniff(content)
    if content and detected.mime not in PHOTO_TYPES:
        detected_zh, detected_en = describe_type(detected.mime)
        raise PHOTO_TYPE.error(field="file", detected_zh=detected_zh, detected_en=detected_en)
    stored = await storage.put(
        tenant_code, content, filename=filename, declared_type=declared_type, folder=PHOTO_FOLDER
    )
    try:
        file_row = StoredFile(
            tenant_id=activity.tenant_id,
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=stored.content_type,
            original_name=stored.original_name,
            folder=PHOTO_FOLDER,
            uploaded_by=actor,
        )
        session.add(file_row)
        await session.flush()
        photo = ActivityPhoto(
            tenant_id=activity.tenant_id,
            activity_id=activity.id,
            file_id=file_row.id,
            caption=caption.strip()[:200],
            uploaded_by=actor,
        )
        session.add(photo)
        await session.flush()
    except Exception:
        with contextlib.suppress(Exception):
            await storage.delete(stored.key)
        raise
    return photo, file_row


async def get_photo(session: AsyncSession, activity: Activity, photo_id: uuid.UUID) -> tuple[ActivityPhoto, StoredFile]:
    for photo, stored in await _photos(session, [activity.id]):
        if photo.id == photo_id:
            return photo, stored
    raise PHOTO_NOT_FOUND.error(field="photo_id")


async def delete_photo(session: AsyncSession, storage: ObjectStore, activity: Activity, photo_id: uuid.UUID) -> None:
    photo, stored = await get_photo(session, activity, photo_id)
    await session.delete(photo)
    await session.delete(stored)
    await session.flush()
    await storage.delete(stored.key)


# --- pairings ------------------------------------------------------------------------------------------------


def pairing_out(row: Pairing) -> PairingOut:
    return PairingOut(
        id=row.id,
        tenant_id=row.tenant_id,
        counsellor_id=row.counsellor_id,
        station_id=row.station_id,
        student_alias=mask_name(row.student_alias),
        student_school=mask_text(row.student_school),
        student_grade=row.student_grade,
        guardian_relation=row.guardian_relation,
        consent_on=row.consent_on,
        started_on=row.started_on,
        ends_on=row.ends_on,
        ended_on=row.ended_on,
        status=row.status,
        goal=row.goal,
    )


def pairing_facts(row: Pairing) -> list[Fact]:
    """+1 in force from the start, -1 from the day it ended (or is due to end: a fact dated ahead, so the
    stock falls on its own when the end date comes), and one pairing started."""
    return [
        Fact(PAIRINGS, row.started_on, 1),
        Fact(PAIRINGS, row.ended_on or row.ends_on, -1),
        Fact(PAIRINGS_STARTED, row.started_on, 1),
    ]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        with contextlib.suppress(ValueError):
            return datetime.date(year, month, min(day.day, last))
    raise ValueError(day)  # pragma: no cover


async def create_pairing(
    session: AsyncSession,
    tenant_id: int,
    data: PairingCreate,
    actor: str,
    settings: EducationSettings,
    tree: Any = None,
) -> Pairing:
    """Refused unless the tenant has pairing switched on; stores only what pairing needs, encrypted."""
    if not settings.pairing_enabled:
        raise PAIRING_DISABLED.error(field="pairing_enabled", tenant=_tenant_name(tree, tenant_id))
    counsellor = await get_counsellor(session, data.counsellor_id)
    if counsellor.tenant_id != tenant_id:
        raise PAIRING_ELSEWHERE.error(field="counsellor_id", tenant=_tenant_name(tree, counsellor.tenant_id))
    if counsellor.status != "active":
        name = (await counsellor_views(session, [counsellor]))[0].name
        raise COUNSELLOR_INACTIVE.error(field="counsellor_id", name=name)
    if data.station_id is not None:
        await _check_stations(session, tenant_id, [data.station_id], tree)
    latest = _add_months(data.started_on, settings.max_pairing_months)
    if data.ends_on > latest:
        raise PAIRING_TOO_LONG.error(field="ends_on", months=settings.max_pairing_months, latest=latest.isoformat())
    row = Pairing(
        tenant_id=tenant_id,
        counsellor_id=counsellor.id,
        station_id=data.station_id,
        student_alias=data.student_alias,
        student_school=data.student_school,
        student_grade=data.student_grade,
        guardian_name=data.guardian_name,
        guardian_relation=data.guardian_relation,
        consent_on=data.consent_on,
        consent_record=data.consent_record,
        started_on=data.started_on,
        ends_on=data.ends_on,
        status="active",
        goal=data.goal.strip(),
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    await record(session, tenant_id, *pairing_facts(row))
    return row


async def get_pairing(session: AsyncSession, pairing_id: uuid.UUID, *, lock: bool = False) -> Pairing:
    stmt = select(Pairing).where(Pairing.id == pairing_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise PAIRING_NOT_FOUND.error(field="pairing_id")
    return row


async def end_pairing(session: AsyncSession, pairing_id: uuid.UUID, data: PairingEnd) -> Pairing:
    row = await get_pairing(session, pairing_id, lock=True)
    if row.status == "ended":
        raise PAIRING_ENDED.error(field="pairing_id", ended_on=(row.ended_on or row.ends_on).isoformat())
    if data.ended_on < row.started_on or data.ended_on > today():
        raise PAIRING_END_DATE.error(field="ended_on", started_on=row.started_on.isoformat())
    await retract(session, row.tenant_id, *pairing_facts(row))
    row.ended_on = min(data.ended_on, row.ends_on)
    row.status = "ended"
    if data.note.strip():
        row.goal = (row.goal + " / " + data.note.strip())[:200] if row.goal else data.note.strip()[:200]
    await session.flush()
    await record(session, row.tenant_id, *pairing_facts(row))
    return row


async def list_pairings(
    session: AsyncSession, *, counsellor_id: uuid.UUID | None, status: str | None, page: int, page_size: int
) -> tuple[Sequence[Pairing], int]:
    stmt = select(Pairing)
    if counsellor_id is not None:
        stmt = stmt.where(Pairing.counsellor_id == counsellor_id)
    if status:
        stmt = stmt.where(Pairing.status == status)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await session.execute(
                stmt.order_by(Pairing.started_on.desc(), Pairing.id).offset((page - 1) * page_size).limit(page_size)
            )
        )
        .scalars()
        .all()
    )
    return rows, total


async def reveal_pairing(session: AsyncSession, pairing_id: uuid.UUID, reason: str) -> Pairing:
    row = await get_pairing(session, pairing_id)
    await arecord(
        session,
        action="reveal",
        entity_type="education_pairing",
        entity_id=f"{row.tenant_id},{row.id}",
        tenant_id=row.tenant_id,
        after={"fields": ["student", "guardian", "consent_record"], "reason": reason},
    )
    return row


# --- recount (the metric_facts hook) -------------------------------------------------------------------------


async def facts_of_tenant(session: AsyncSession, tenant_id: int) -> AsyncIterator[Fact]:
    """Every fact the tenant's rows imply now, from scratch."""
    changes = await session.execute(
        select(StationStatusChange.effective_on, StationStatusChange.delta).where(
            StationStatusChange.tenant_id == tenant_id, StationStatusChange.delta != 0
        )
    )
    for on, delta in changes.tuples():
        yield Fact(STATIONS, on, delta)
    activities = (
        (await session.execute(select(Activity).where(Activity.tenant_id == tenant_id, Activity.status == "recorded")))
        .scalars()
        .all()
    )
    leaders: dict[uuid.UUID, list[ActivityCounsellor]] = {a.id: [] for a in activities}
    for leader in (
        (await session.execute(select(ActivityCounsellor).where(ActivityCounsellor.tenant_id == tenant_id)))
        .scalars()
        .all()
    ):
        if leader.activity_id in leaders:
            leaders[leader.activity_id].append(leader)
    for activity in activities:
        for fact in activity_facts(activity, leaders[activity.id]):
            yield fact
    pairings = (await session.execute(select(Pairing).where(Pairing.tenant_id == tenant_id))).scalars().all()
    for pairing in pairings:
        for fact in pairing_facts(pairing):
            yield fact


# --- member panel --------------------------------------------------------------------------------------------


async def member_summary(session: AsyncSession, member_id: uuid.UUID) -> dict[str, Any] | None:
    counsellor = (
        await session.execute(select(Counsellor).where(Counsellor.member_id == member_id).limit(1))
    ).scalar_one_or_none()
    if counsellor is None:
        return None
    rows = (
        await session.execute(
            select(Activity.held_on, Activity.title, Activity.kind, Activity.duration_minutes)
            .join(
                ActivityCounsellor,
                and_(
                    ActivityCounsellor.tenant_id == Activity.tenant_id,
                    ActivityCounsellor.activity_id == Activity.id,
                ),
            )
            .where(ActivityCounsellor.member_id == member_id, Activity.status == "recorded")
            .order_by(Activity.held_on.desc())
        )
    ).all()
    pairings = (
        await session.execute(
            select(func.count())
            .select_from(Pairing)
            .where(Pairing.counsellor_id == counsellor.id, Pairing.status == "active")
        )
    ).scalar_one()
    return {"counsellor": counsellor, "activities": rows, "pairings": pairings}


# --- figures from the maintained aggregates (never from the raw rows) ----------------------------------------


LEVEL_METRICS = (STATIONS, PAIRINGS)


async def figures(session: AsyncSession, tenant_ids: frozenset[int], tenant_id: int, year: int) -> dict[str, float]:
    """The programme's figures for ``year`` in a subtree: sums over its tenants' ``report_sum`` rows (LEVEL
    metrics: every fact up to the end of the year, or up to this month for the current year) and the distinct
    counts kept at ``tenant_id`` itself. Reads only the aggregate tables."""
    from core.reports.models import ReportDistinct, ReportSum

    first = datetime.date(year, 1, 1)
    last_month = datetime.date(year, 12, 1)
    now = today().replace(day=1)
    level_until = min(last_month, now) if year == now.year else last_month
    out: dict[str, float] = {}
    flows = await session.execute(
        select(ReportSum.metric, func.sum(ReportSum.value))
        .where(
            ReportSum.tenant_id.in_(tenant_ids),
            ReportSum.metric.like("education.%"),
            ReportSum.metric.not_in(LEVEL_METRICS),
            ReportSum.month >= first,
            ReportSum.month <= last_month,
        )
        .group_by(ReportSum.metric)
    )
    for metric, value in flows.tuples():
        out[metric] = float(value)
    levels = await session.execute(
        select(ReportSum.metric, func.sum(ReportSum.value))
        .where(
            ReportSum.tenant_id.in_(tenant_ids),
            ReportSum.metric.in_(LEVEL_METRICS),
            ReportSum.month <= level_until,
        )
        .group_by(ReportSum.metric)
    )
    for metric, value in levels.tuples():
        out[metric] = float(value)
    distinct = await session.execute(
        select(ReportDistinct.metric, ReportDistinct.value).where(
            ReportDistinct.tenant_id == tenant_id,
            ReportDistinct.metric.like("education.%"),
            ReportDistinct.period == f"Y{year}",
        )
    )
    for metric, value in distinct.tuples():
        out[metric] = float(value)
    return out
