"""The talent pool's work: profiles and reviews, demands, matching, assignments, services, the think tank,
stations, figures, and the facts that keep the report aggregates current.

Functions take the session the host gives (scoped to the acting tenant's subtree); every write that changes a
figure records its facts in the same transaction (:func:`core.reports.facts.record` / ``retract``) and
:func:`metric_facts` derives the same facts again from the rows.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.scope import TenantScope, widened
from core.errors import ErrorSpec
from core.events.outbox import emit
from core.orgs.models import Member
from core.reports.facts import Fact, record, retract
from core.storage.base import ObjectStore
from core.storage.models import StoredFile
from core.storage.sniff import describe_type, sniff
from core.tenancy.tree import TenantNode, TenantTree
from plugins.talent_pool import categories, matching, sharing
from plugins.talent_pool.models import (
    OPEN_ASSIGNMENT,
    Assignment,
    Demand,
    ExpertCategory,
    Profile,
    Review,
    ServiceRecord,
    Station,
    Study,
    StudyReport,
    Suggestion,
)
from plugins.talent_pool.schemas import (
    AdoptionIn,
    AssignmentCreate,
    AssignmentOut,
    AssignmentRespond,
    Candidate,
    CategoriesOut,
    CategoryOut,
    DemandCreate,
    DemandOut,
    FeedbackIn,
    FieldCategoryOut,
    MatchOut,
    ProfileCreate,
    ProfileOut,
    ProfileUpdate,
    ReclassifyOut,
    Reminder,
    ReportOut,
    ReviewIn,
    ReviewOut,
    ServiceCreate,
    ServiceOut,
    ServiceRevoke,
    StationClose,
    StationCreate,
    StationOut,
    StatsOut,
    StudyCreate,
    StudyOut,
    SuggestionCreate,
    SuggestionOut,
    TalentPoolSettings,
)

if TYPE_CHECKING:
    from core.platform import Platform

PLUGIN_NAME = "talent_pool"
SERVICE_COMPLETED = "talent_pool.service_completed"
SERVICE_REVOKED = "talent_pool.service_revoked"
REPORT_FOLDER = "talent-pool/reports"
REPORT_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "image/jpeg",
        "image/png",
    }
)

# metric ids
M_EXPERTS = "talent_pool.experts"
M_DEMANDS_POSTED = "talent_pool.demands_posted"
M_DEMANDS_MET = "talent_pool.demands_met"
M_SERVICES = "talent_pool.services"
M_PROBLEMS = "talent_pool.problems_solved"
M_TRAINEES = "talent_pool.trainees"
M_VALUE = "talent_pool.value_yuan"
M_REPORTS = "talent_pool.reports"
M_SUGGESTIONS = "talent_pool.suggestions_made"
M_ADOPTED = "talent_pool.suggestions_adopted"
M_STATIONS = "talent_pool.stations"

#: The field-to-category mapping (``field_categories``) in effect in a tenant: the experts of that tenant count by it.
MappingOf = Callable[[int], Awaitable[Mapping[str, str]]]

# --- errors ------------------------------------------------------------------------------------------------

PROFILE_NOT_FOUND = ErrorSpec("talent_pool.profile_not_found", 404, "找不到该人才档案", "No such expert profile")
MEMBER_NOT_FOUND = ErrorSpec(
    "talent_pool.member_not_found", 404, "党员台账中找不到这位老同志", "No such member in the ledger"
)
MEMBER_INACTIVE = ErrorSpec(
    "talent_pool.member_inactive",
    422,
    "{name}在台账中的状态不是“在册”，不能入库",
    "{name} is not an active member of the ledger and cannot join the pool",
)
PROFILE_EXISTS = ErrorSpec(
    "talent_pool.profile_exists", 409, "{name}已有人才档案，请直接修改", "{name} already has a profile; edit it"
)
FIELD_UNKNOWN = ErrorSpec(
    "talent_pool.field_unknown",
    422,
    "“{value}”不在本单位的人才领域清单中。可选：{fields}",
    "'{value}' is not one of this tenant's fields: {fields}",
)
OVER_AGE = ErrorSpec(
    "talent_pool.over_age_limit",
    422,
    "{name}今年 {age} 周岁，超过本单位人才库的年龄上限 {limit} 周岁",
    "{name} is {age}, above this tenant's age limit of {limit}",
)
HEALTH_UNABLE = ErrorSpec(
    "talent_pool.health_unable",
    422,
    "{name}在台账中的健康状况为“不能参加活动”，暂不能入库或安排服务",
    "{name} is recorded as unable to take part in activities",
)
REVIEW_NOT_ALLOWED = ErrorSpec(
    "talent_pool.review_not_allowed",
    409,
    "该档案现在是“{status_zh}”，不能“{decision_zh}”",
    "A profile that is {status} cannot be given the decision '{decision}'",
)
STATION_NOT_FOUND = ErrorSpec("talent_pool.station_not_found", 404, "找不到该人才工作站", "No such talent station")
STATION_CLOSED = ErrorSpec(
    "talent_pool.station_closed", 409, "该工作站已于 {closed_on} 撤销", "This station closed on {closed_on}"
)
STATION_EXISTS = ErrorSpec(
    "talent_pool.station_exists", 409, "本单位已有名为“{name}”的工作站", "A station named {name} exists already"
)
DEMAND_NOT_FOUND = ErrorSpec("talent_pool.demand_not_found", 404, "找不到该需求", "No such demand")
DEMAND_CLOSED = ErrorSpec(
    "talent_pool.demand_closed",
    409,
    "该需求{status_zh}，不能再派单或修改",
    "This demand is {status}; it cannot be assigned or changed",
)
EXPERT_NOT_AVAILABLE = ErrorSpec(
    "talent_pool.expert_not_available",
    422,
    "这位专家现在不能派单（未入库、暂不服务、超龄、健康原因，或不在可共享的人才库中）",
    "This expert cannot be assigned now (not admitted, unavailable, over the age limit, health, or not shared)",
)
ALREADY_ASSIGNED = ErrorSpec(
    "talent_pool.already_assigned",
    409,
    "这位专家已派到该需求，无需重复派单",
    "This expert is already assigned to this demand",
)
ASSIGNMENT_NOT_FOUND = ErrorSpec("talent_pool.assignment_not_found", 404, "找不到该派单", "No such assignment")
ASSIGNMENT_STATE = ErrorSpec(
    "talent_pool.assignment_state",
    409,
    "该派单现在是“{status_zh}”，不能{action_zh}",
    "An assignment that is {status} cannot be {action}",
)
NO_SERVICE_YET = ErrorSpec(
    "talent_pool.no_service_yet",
    409,
    "还没有登记任何服务记录，不能办结",
    "Record at least one service before completing the assignment",
)
SERVICE_NOT_FOUND = ErrorSpec("talent_pool.service_not_found", 404, "找不到该服务记录", "No such service record")
SERVICE_REVOKED_ALREADY = ErrorSpec(
    "talent_pool.service_revoked", 409, "该服务记录已于 {on} 撤销", "This service record was revoked on {on}"
)
STUDY_NOT_FOUND = ErrorSpec("talent_pool.study_not_found", 404, "找不到该调研课题", "No such study")
REPORT_NOT_FOUND = ErrorSpec("talent_pool.report_not_found", 404, "找不到该调研报告", "No such report")
REPORT_TYPE = ErrorSpec(
    "talent_pool.report_type",
    415,
    "调研报告只能是 PDF、Word（.docx）、Excel（.xlsx）或扫描照片，这个文件是{detected_zh}",
    "A report must be a PDF, .docx, .xlsx or a scanned photo; this file is {detected_en}",
)
REPORT_FILE_MISSING = ErrorSpec(
    "talent_pool.report_file_missing",
    422,
    "请在表单字段 file 中选择报告文件，并在 title 中填写报告标题",
    "Choose the report in the form field 'file' and give its 'title'",
)
SUGGESTION_NOT_FOUND = ErrorSpec("talent_pool.suggestion_not_found", 404, "找不到该建议", "No such suggestion")
ADVISER_UNKNOWN = ErrorSpec(
    "talent_pool.adviser_unknown", 422, "参与专家中有不在本单位人才库的档案", "An adviser is not in this pool"
)
DATE_IN_FUTURE = ErrorSpec("talent_pool.date_in_future", 422, "{what}不能晚于今天", "{what_en} cannot be in the future")

STATUS_ZH = {
    "pending": "待审核",
    "admitted": "已入库",
    "rejected": "未通过",
    "retired": "已退出",
    "open": "待对接",
    "assigned": "已派单",
    "met": "已办结",
    "cancelled": "已取消",
    "proposed": "待专家确认",
    "accepted": "专家已接受",
    "declined": "专家已婉拒",
    "completed": "已办结",
}
DECISION_ZH = {"admit": "审核入库", "reject": "不予入库", "renew": "复审通过", "retire": "退出人才库"}


def today() -> datetime.date:
    return datetime.date.today()


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- profiles ----------------------------------------------------------------------------------------------


def profile_out(row: Profile, member: Member, reviews: list[Review] | None = None) -> ProfileOut:
    return ProfileOut(
        id=row.id,
        tenant_id=row.tenant_id,
        member_id=row.member_id,
        name=member.name,
        age=age_on(member.birth_date, today()),
        health_class=member.health_class,
        fields=list(row.fields or []),
        skills=list(row.skills or []),
        title=row.title,
        achievements=row.achievements,
        availability=row.availability,
        availability_note=row.availability_note,
        willing_to_travel=row.willing_to_travel,
        station_id=row.station_id,
        status=row.status,
        admitted_on=row.admitted_on,
        next_review_on=row.next_review_on,
        retired_on=row.retired_on,
        reviews=[
            ReviewOut(id=r.id, decision=r.decision, decided_on=r.decided_on, decided_by=r.decided_by, note=r.note)
            for r in reviews or []
        ],
    )


def check_fields(values: list[str], settings: TalentPoolSettings, field: str = "fields") -> None:
    for value in values:
        if value not in settings.fields:
            raise FIELD_UNKNOWN.error(field=field, value=value, fields="、".join(settings.fields))


def check_member_fit(member: Member, settings: TalentPoolSettings) -> None:
    if member.status != "active":
        raise MEMBER_INACTIVE.error(field="member_id", name=member.name)
    age = age_on(member.birth_date, today())
    if age > settings.age_limit:
        raise OVER_AGE.error(field="member_id", name=member.name, age=age, limit=settings.age_limit)
    if member.health_class == "unable":
        raise HEALTH_UNABLE.error(field="member_id", name=member.name)


async def get_member(session: AsyncSession, member_id: uuid.UUID) -> Member:
    member = (await session.execute(select(Member).where(Member.id == member_id))).scalar_one_or_none()
    if member is None:
        raise MEMBER_NOT_FOUND.error(field="member_id")
    return member


async def get_profile(session: AsyncSession, profile_id: uuid.UUID, *, lock: bool = False) -> tuple[Profile, Member]:
    """A profile of the scope with its member; ``lock`` holds the profile row until the transaction ends."""
    query = (
        select(Profile, Member)
        .join(Member, and_(Member.tenant_id == Profile.tenant_id, Member.id == Profile.member_id))
        .where(Profile.id == profile_id)
    )
    if lock:
        query = query.with_for_update(of=Profile).execution_options(populate_existing=True)
    found = (await session.execute(query)).tuples().one_or_none()
    if found is None:
        raise PROFILE_NOT_FOUND.error(field="profile_id")
    return found[0], found[1]


async def reviews_of(session: AsyncSession, profile: Profile) -> list[Review]:
    rows = await session.execute(
        select(Review)
        .where(Review.tenant_id == profile.tenant_id, Review.profile_id == profile.id)
        .order_by(Review.decided_on, Review.created_at)
    )
    return list(rows.scalars())


async def get_station(
    session: AsyncSession, station_id: uuid.UUID, *, tenant_id: int | None = None, lock: bool = False
) -> Station:
    query = select(Station).where(Station.id == station_id)
    if tenant_id is not None:
        query = query.where(Station.tenant_id == tenant_id)
    row = (await session.execute(_locked(query, lock))).scalar_one_or_none()
    if row is None:
        raise STATION_NOT_FOUND.error(field="station_id")
    return row


async def create_profile(
    session: AsyncSession, data: ProfileCreate, settings: TalentPoolSettings, actor: str
) -> tuple[Profile, Member]:
    """An application to the pool (待审核) for a member of the ledger; the profile lives in the member's tenant."""
    member = await get_member(session, data.member_id)
    check_member_fit(member, settings)
    check_fields(list(data.fields), settings)
    existing = (
        await session.execute(
            select(Profile.id).where(Profile.tenant_id == member.tenant_id, Profile.member_id == member.id)
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise PROFILE_EXISTS.error(field="member_id", name=member.name)
    if data.station_id is not None:
        station = await get_station(session, data.station_id, tenant_id=member.tenant_id)
        if station.closed_on is not None:
            raise STATION_CLOSED.error(field="station_id", closed_on=station.closed_on.isoformat())
    row = Profile(
        tenant_id=member.tenant_id,
        member_id=member.id,
        fields=list(data.fields),
        skills=list(data.skills),
        title=data.title,
        achievements=data.achievements,
        availability=data.availability,
        availability_note=data.availability_note,
        willing_to_travel=data.willing_to_travel,
        station_id=data.station_id,
        status="pending",
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    return row, member


async def update_profile(
    session: AsyncSession,
    profile_id: uuid.UUID,
    data: ProfileUpdate,
    settings: TalentPoolSettings,
    mapping_of: MappingOf,
) -> tuple[Profile, Member]:
    """Change a profile; an admitted expert whose fields now fall in other categories moves there today."""
    row, member = await get_profile(session, profile_id, lock=True)
    values = data.model_dump(exclude_unset=True, exclude={"clear_station"})
    if data.fields is not None:
        check_fields(list(data.fields), settings)
    if data.station_id is not None:
        station = await get_station(session, data.station_id, tenant_id=row.tenant_id)
        if station.closed_on is not None:
            raise STATION_CLOSED.error(field="station_id", closed_on=station.closed_on.isoformat())
    for key, value in values.items():
        if value is not None:
            setattr(row, key, list(value) if isinstance(value, list) else value)
    if data.clear_station:
        row.station_id = None
    await session.flush()
    await sync_categories(session, row, await mapping_of(row.tenant_id), today())
    return row, member


async def review_profile(
    session: AsyncSession,
    profile_id: uuid.UUID,
    data: ReviewIn,
    settings: TalentPoolSettings,
    actor: str,
    mapping_of: MappingOf,
) -> tuple[Profile, Member]:
    """Admission (待审核 → 已入库 / 未通过), periodic re-review (renew), or leaving the pool (retire).

    Admission counts the expert in the categories of their fields, retirement takes them out of all, and a
    re-review applies the tenant's mapping as it stands (a field remapped since moves them today).
    """
    row, member = await get_profile(session, profile_id, lock=True)
    allowed = {"admit": ("pending",), "reject": ("pending",), "renew": ("admitted",), "retire": ("admitted",)}
    if row.status not in allowed[data.decision]:
        raise REVIEW_NOT_ALLOWED.error(
            field="decision",
            status=row.status,
            status_zh=STATUS_ZH[row.status],
            decision=data.decision,
            decision_zh=DECISION_ZH[data.decision],
        )
    day = today()
    if data.decision in ("admit", "renew"):
        check_member_fit(member, settings)
        row.next_review_on = add_years(day, settings.review_interval_years)
    if data.decision == "admit":
        row.status = "admitted"
        row.admitted_on = day
        await record(session, row.tenant_id, Fact(M_EXPERTS, day))
    elif data.decision == "reject":
        row.status = "rejected"
    elif data.decision == "retire":
        row.status = "retired"
        row.retired_on = day
        row.next_review_on = None
        await record(session, row.tenant_id, Fact(M_EXPERTS, day, -1))
    session.add(
        Review(
            tenant_id=row.tenant_id,
            profile_id=row.id,
            decision=data.decision,
            decided_on=day,
            decided_by=actor,
            note=data.note,
        )
    )
    await session.flush()
    await sync_categories(session, row, await mapping_of(row.tenant_id), day)
    return row, member


# --- categories (experts by the province-wide classification) -----------------------------------------------


async def sync_categories(
    session: AsyncSession, profile: Profile, mapping: Mapping[str, str], day: datetime.date
) -> bool:
    """Make the expert's open category spans what their status and fields imply now; record the change on ``day``.

    Call with the profile row locked. An admitted expert counts in :func:`categories.categories_of` their
    fields, anyone else in none. A span left the day it was opened is dropped (it never counted at any day's
    end, and its +1 and −1 cancel). Returns whether anything moved.
    """
    wanted = set(categories.categories_of(profile.fields or [], mapping)) if profile.status == "admitted" else set()
    spans = (
        (
            await session.execute(
                select(ExpertCategory).where(
                    ExpertCategory.tenant_id == profile.tenant_id,
                    ExpertCategory.profile_id == profile.id,
                    ExpertCategory.to_on.is_(None),
                )
            )
        )
        .scalars()
        .all()
    )
    facts: list[Fact] = []
    held = set()
    for span in spans:
        if span.category in wanted:
            held.add(span.category)
            continue
        if span.from_on >= day:
            await session.delete(span)
        else:
            span.to_on = day
        facts.append(Fact(categories.metric_id(span.category), day, -1))
    for code in sorted(wanted - held, key=categories.ORDER.__getitem__):
        session.add(ExpertCategory(tenant_id=profile.tenant_id, profile_id=profile.id, category=code, from_on=day))
        facts.append(Fact(categories.metric_id(code), day))
    if facts:
        await session.flush()
        await record(session, profile.tenant_id, *facts)
    return bool(facts)


async def reclassify(session: AsyncSession, mapping_of: MappingOf) -> ReclassifyOut:
    """Apply each tenant's current field-to-category mapping to every admitted expert the session may write.

    A change of ``field_categories`` (or of a field's name) does not move anybody by itself: the figures already
    reported stay as they were until this runs (or the expert's profile is next written); experts then move
    from their old categories to the new ones today.
    """
    rows = (
        (
            await session.execute(
                select(Profile)
                .where(Profile.status == "admitted")
                .order_by(Profile.tenant_id, Profile.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    day = today()
    mappings: dict[int, Mapping[str, str]] = {}
    moved = 0
    for row in rows:
        if row.tenant_id not in mappings:
            mappings[row.tenant_id] = await mapping_of(row.tenant_id)
        moved += await sync_categories(session, row, mappings[row.tenant_id], day)
    return ReclassifyOut(checked=len(rows), moved=moved)


def categories_out(settings: TalentPoolSettings) -> CategoriesOut:
    return CategoriesOut(
        categories=[
            CategoryOut(code=c.code, title_zh=c.title_zh, title_en=c.title_en, metric=c.metric)
            for c in categories.CATEGORIES
        ],
        fields=[
            FieldCategoryOut(field=f, category=categories.category_of(f, settings.field_categories))
            for f in settings.fields
        ],
    )


async def list_profiles(
    session: AsyncSession,
    *,
    status: str | None,
    field: str | None,
    q: str | None,
    station_id: uuid.UUID | None,
    page: int,
    page_size: int,
) -> tuple[list[tuple[Profile, Member]], int]:
    query = select(Profile, Member).join(
        Member, and_(Member.tenant_id == Profile.tenant_id, Member.id == Profile.member_id)
    )
    if status:
        query = query.where(Profile.status == status)
    if station_id:
        query = query.where(Profile.station_id == station_id)
    rows = [(p, m) for p, m in (await session.execute(query.order_by(Member.name, Profile.id))).tuples()]
    if field:
        rows = [(p, m) for p, m in rows if field in (p.fields or [])]
    if q:
        needle = q.strip()
        rows = [
            (p, m) for p, m in rows if needle in m.name or any(needle in s for s in p.skills or []) or needle in p.title
        ]
    total = len(rows)
    return rows[(page - 1) * page_size : page * page_size], total


async def reminders(session: AsyncSession, settings_by_tenant: dict[int, TalentPoolSettings]) -> list[Reminder]:
    """Re-reviews due or overdue, and experts who reach the age limit soon or have passed it."""
    day = today()
    out: list[Reminder] = []
    rows = (
        await session.execute(
            select(Profile, Member)
            .join(Member, and_(Member.tenant_id == Profile.tenant_id, Member.id == Profile.member_id))
            .where(Profile.status == "admitted")
            .order_by(Profile.next_review_on, Member.name)
        )
    ).tuples()
    for profile, member in rows:
        settings = settings_by_tenant.get(profile.tenant_id) or TalentPoolSettings()
        horizon = day + datetime.timedelta(days=settings.reminder_days)
        due = profile.next_review_on
        if due is not None and due <= horizon:
            overdue = due < day
            out.append(
                Reminder(
                    profile_id=profile.id,
                    name=member.name,
                    kind="review_overdue" if overdue else "review_due",
                    due_on=due,
                    message=f"{member.name}的入库复审{'已于' if overdue else '将于'} {due.isoformat()} 到期",
                    message_en=f"{member.name}'s periodic re-review {'was' if overdue else 'is'} due on {due}",
                )
            )
        over_on = add_years(member.birth_date, settings.age_limit + 1)
        if over_on <= horizon:
            reached = over_on <= day
            out.append(
                Reminder(
                    profile_id=profile.id,
                    name=member.name,
                    kind="age_limit_reached" if reached else "age_limit_near",
                    due_on=over_on,
                    message=(
                        f"{member.name}已超过年龄上限 {settings.age_limit} 周岁，请办理退出人才库"
                        if reached
                        else f"{member.name}将于 {over_on.isoformat()} 超过年龄上限 {settings.age_limit} 周岁"
                    ),
                    message_en=f"{member.name} passes the age limit of {settings.age_limit} on {over_on}",
                )
            )
    out.sort(key=lambda r: (r.due_on, r.name))
    return out


# --- demands -----------------------------------------------------------------------------------------------


def demand_out(row: Demand) -> DemandOut:
    return DemandOut(
        id=row.id,
        tenant_id=row.tenant_id,
        title=row.title,
        field=row.field,
        requester_kind=row.requester_kind,
        requester_name=row.requester_name,
        place=row.place,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        description=row.description,
        posted_on=row.posted_on,
        status=row.status,
        met_on=row.met_on,
        created_by=row.created_by,
    )


async def create_demand(
    session: AsyncSession, tenant_id: int, data: DemandCreate, settings: TalentPoolSettings, actor: str
) -> Demand:
    check_fields([data.field], settings, field="field")
    day = today()
    row = Demand(tenant_id=tenant_id, posted_on=day, status="open", created_by=actor, **data.model_dump())
    session.add(row)
    await session.flush()
    await record(session, tenant_id, Fact(M_DEMANDS_POSTED, day))
    return row


def _locked(query: Any, lock: bool) -> Any:
    """Hold the row until the transaction ends (concurrent decisions on it queue up and see its new state)."""
    return query.with_for_update().execution_options(populate_existing=True) if lock else query


async def get_demand(session: AsyncSession, demand_id: uuid.UUID, *, lock: bool = False) -> Demand:
    row = (await session.execute(_locked(select(Demand).where(Demand.id == demand_id), lock))).scalar_one_or_none()
    if row is None:
        raise DEMAND_NOT_FOUND.error(field="demand_id")
    return row


async def cancel_demand(session: AsyncSession, demand_id: uuid.UUID) -> Demand:
    row = await get_demand(session, demand_id, lock=True)
    if row.status in ("met", "cancelled"):
        raise DEMAND_CLOSED.error(field="demand_id", status=row.status, status_zh=STATUS_ZH[row.status])
    row.status = "cancelled"
    for assignment in (
        await session.execute(
            select(Assignment).where(
                Assignment.tenant_id == row.tenant_id,
                Assignment.demand_id == row.id,
                Assignment.status.in_(OPEN_ASSIGNMENT),
            )
        )
    ).scalars():
        assignment.status = "cancelled"
    await session.flush()
    return row


async def list_demands(
    session: AsyncSession, *, status: str | None, field: str | None, page: int, page_size: int
) -> tuple[list[Demand], int]:
    query = select(Demand)
    if status:
        query = query.where(Demand.status == status)
    if field:
        query = query.where(Demand.field == field)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(Demand.posted_on.desc(), Demand.id.desc()).offset((page - 1) * page_size).limit(page_size)
    )
    return list(rows.scalars()), total


# --- matching ----------------------------------------------------------------------------------------------


async def match(
    session: AsyncSession,
    platform: Platform,
    tree: TenantTree,
    acting: TenantNode,
    readable: frozenset[int],
    demand_id: uuid.UUID,
    limit: int = 20,
) -> MatchOut:
    """Rank the eligible experts of the acting subtree and, if pools are shared, of the sibling counties."""
    demand = await get_demand(session, demand_id)
    day = today()
    own_ids = [t for t in tree.subtree_ids(acting.id) if t in readable]
    own_settings = await sharing.subtree_settings(platform, tree, own_ids)
    here = own_settings.get(demand.tenant_id) or TalentPoolSettings()
    experts = await sharing.read_own_experts(session, own_settings, day)
    loads = await sharing.open_loads(session)
    pools = await sharing.shared_tenants(platform, tree, acting, readable)
    shared_experts, shared_loads = await sharing.read_shared_experts(platform, pools, day)
    for key, n in shared_loads.items():
        loads[key] = loads.get(key, 0) + n
    words = matching.tokens([demand.title, demand.description])
    demand_path = tree.nodes[demand.tenant_id].path
    candidates: list[Candidate] = []
    for expert, shared in [*((e, False) for e in experts), *((e, True) for e in shared_experts)]:
        load = loads.get((expert.tenant_id, expert.expert_id), 0)
        view = matching.ExpertView(**{**expert.__dict__, "load": load})
        node = tree.nodes[expert.tenant_id]
        total, parts = matching.score(
            view,
            field=demand.field,
            demand_words=words,
            distance=matching.tree_distance(demand_path, node.path),
            max_load=here.max_load,
        )
        candidates.append(
            Candidate(
                expert_id=expert.expert_id,
                tenant_code=node.code,
                tenant_name=node.name,
                shared=shared,
                name=expert.name,
                fields=list(expert.fields),
                skills=list(expert.skills),
                availability=expert.availability,
                load=load,
                score=total,
                explanation=parts,
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.load, c.name))
    return MatchOut(
        demand_id=demand.id,
        sharing=pools.share_within,
        shared_tenants=[tree.nodes[t].code for t in pools.tenant_ids],
        candidates=candidates[:limit],
    )


# --- assignments -------------------------------------------------------------------------------------------


def assignment_out(row: Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=row.id,
        tenant_id=row.tenant_id,
        demand_id=row.demand_id,
        expert_id=row.expert_id,
        expert_tenant_id=row.expert_tenant_id,
        expert_name=row.expert_name,
        expert_fields=list(row.expert_fields or []),
        shared=row.expert_tenant_id != row.tenant_id,
        score=row.score,
        explanation=list(row.explanation or []),
        status=row.status,
        responded_on=row.responded_on,
        completed_on=row.completed_on,
        note=row.note,
    )


async def assign(
    session: AsyncSession,
    platform: Platform,
    tree: TenantTree,
    acting: TenantNode,
    readable: frozenset[int],
    demand_id: uuid.UUID,
    data: AssignmentCreate,
    actor: str,
) -> Assignment:
    """派单: ask an expert (of the subtree, or of a county whose pool is shared) to serve a demand."""
    demand = await get_demand(session, demand_id, lock=True)
    if demand.status not in ("open", "assigned"):
        raise DEMAND_CLOSED.error(field="demand_id", status=demand.status, status_zh=STATUS_ZH[demand.status])
    ranking = await match(session, platform, tree, acting, readable, demand_id, limit=10_000)
    wanted = None
    for candidate in ranking.candidates:
        if candidate.expert_id != data.expert_id:
            continue
        if data.expert_tenant_code is not None and candidate.tenant_code != data.expert_tenant_code:
            continue
        wanted = candidate
        break
    if wanted is None:
        raise EXPERT_NOT_AVAILABLE.error(field="expert_id")
    duplicate = (
        await session.execute(
            select(Assignment.id).where(
                Assignment.tenant_id == demand.tenant_id,
                Assignment.demand_id == demand.id,
                Assignment.expert_id == wanted.expert_id,
                Assignment.status.in_((*OPEN_ASSIGNMENT, "completed")),
            )
        )
    ).first()
    if duplicate is not None:
        raise ALREADY_ASSIGNED.error(field="expert_id")
    expert_tenant = tree.get(wanted.tenant_code)
    member_id = await _expert_member_id(session, platform, wanted.expert_id, expert_tenant.id, readable)
    row = Assignment(
        tenant_id=demand.tenant_id,
        demand_id=demand.id,
        expert_tenant_id=expert_tenant.id,
        expert_id=wanted.expert_id,
        expert_member_id=member_id,
        expert_name=wanted.name,
        expert_fields=list(wanted.fields),
        score=wanted.score,
        explanation=[p.model_dump() for p in wanted.explanation],
        status="proposed",
        note=data.note,
        created_by=actor,
    )
    session.add(row)
    demand.status = "assigned"
    await session.flush()
    return row


async def _expert_member_id(
    session: AsyncSession, platform: Platform, expert_id: uuid.UUID, tenant_id: int, readable: frozenset[int]
) -> uuid.UUID:
    """The member id behind a profile (kept on the assignment so the points plugin can credit the expert)."""
    if tenant_id in readable:
        return (await session.execute(select(Profile.member_id).where(Profile.id == expert_id))).scalar_one()
    async with platform.database.session(TenantScope.of(read=[tenant_id])) as narrow:
        return (await narrow.execute(select(Profile.member_id).where(Profile.id == expert_id))).scalar_one()


async def get_assignment(session: AsyncSession, assignment_id: uuid.UUID, *, lock: bool = False) -> Assignment:
    query = _locked(select(Assignment).where(Assignment.id == assignment_id), lock)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise ASSIGNMENT_NOT_FOUND.error(field="assignment_id")
    return row


def _state_error(row: Assignment, action: str, action_zh: str) -> Exception:
    return ASSIGNMENT_STATE.error(
        field="assignment_id", status=row.status, status_zh=STATUS_ZH[row.status], action=action, action_zh=action_zh
    )


async def respond(session: AsyncSession, assignment_id: uuid.UUID, data: AssignmentRespond) -> Assignment:
    row = await get_assignment(session, assignment_id, lock=True)
    if row.status != "proposed":
        raise _state_error(row, "answered", "再答复")
    row.status = "accepted" if data.accept else "declined"
    row.responded_on = today()
    if data.note:
        row.note = data.note
    await session.flush()
    if not data.accept:
        await _reopen_demand_if_unassigned(session, row)
    return row


async def _reopen_demand_if_unassigned(session: AsyncSession, row: Assignment) -> None:
    open_left = (
        await session.execute(
            select(func.count()).where(
                Assignment.tenant_id == row.tenant_id,
                Assignment.demand_id == row.demand_id,
                Assignment.status.in_(OPEN_ASSIGNMENT),
            )
        )
    ).scalar_one()
    demand = await get_demand(session, row.demand_id)
    if open_left == 0 and demand.status == "assigned":
        demand.status = "open"
        await session.flush()


async def complete(session: AsyncSession, assignment_id: uuid.UUID) -> Assignment:
    """办结: the assignment is done; its demand counts as met (once) on this day."""
    row = await get_assignment(session, assignment_id, lock=True)
    if row.status != "accepted":
        raise _state_error(row, "completed", "办结")
    served = (
        await session.execute(
            select(func.count()).where(
                ServiceRecord.tenant_id == row.tenant_id,
                ServiceRecord.assignment_id == row.id,
                ServiceRecord.revoked.is_(False),
            )
        )
    ).scalar_one()
    if not served:
        raise NO_SERVICE_YET.error(field="assignment_id")
    day = today()
    row.status = "completed"
    row.completed_on = day
    demand = await get_demand(session, row.demand_id, lock=True)
    if demand.status != "met":
        demand.status = "met"
        demand.met_on = day
        await record(session, demand.tenant_id, Fact(M_DEMANDS_MET, day))
    await session.flush()
    return row


async def list_assignments(
    session: AsyncSession, *, demand_id: uuid.UUID | None, status: str | None, page: int, page_size: int
) -> tuple[list[Assignment], int]:
    query = select(Assignment)
    if demand_id:
        query = query.where(Assignment.demand_id == demand_id)
    if status:
        query = query.where(Assignment.status == status)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(Assignment.created_at.desc()).offset((page - 1) * page_size).limit(page_size)
    )
    return list(rows.scalars()), total


# --- services ----------------------------------------------------------------------------------------------


def service_out(row: ServiceRecord) -> ServiceOut:
    return ServiceOut(
        id=row.id,
        tenant_id=row.tenant_id,
        assignment_id=row.assignment_id,
        served_on=row.served_on,
        hours=row.hours,
        visits=row.visits,
        problems_solved=row.problems_solved,
        trainees=row.trainees,
        value_yuan=float(row.value_yuan),
        summary=row.summary,
        recorded_by=row.recorded_by,
        revoked=row.revoked,
        revoked_on=row.revoked_on,
        revoke_reason=row.revoke_reason,
        rating=row.rating,
        feedback=row.feedback,
    )


def service_facts(row: ServiceRecord) -> list[Fact]:
    day = row.served_on
    facts = [Fact(M_SERVICES, day)]
    if row.problems_solved:
        facts.append(Fact(M_PROBLEMS, day, row.problems_solved))
    if row.trainees:
        facts.append(Fact(M_TRAINEES, day, row.trainees))
    if row.value_yuan:
        facts.append(Fact(M_VALUE, day, float(row.value_yuan)))
    return facts


def _payload(row: ServiceRecord, assignment: Assignment) -> dict[str, Any]:
    return {
        "occurred_on": row.served_on.isoformat(),
        "ref": str(row.id),
        "credits": [{"member_id": str(assignment.expert_member_id), "hours": row.hours, "role": "expert"}],
        "service_id": str(row.id),
        "assignment_id": str(assignment.id),
        "demand_id": str(assignment.demand_id),
        "demand_tenant_id": assignment.tenant_id,
        "problems_solved": row.problems_solved,
        "trainees": row.trainees,
    }


async def emit_for_expert(session: AsyncSession, assignment: Assignment, name: str, payload: dict[str, Any]) -> None:
    """Emit in the expert's own tenant, where the points plugin can credit its member.

    For a sibling county's expert the request session may not write there: its write scope is widened by that one
    tenant for this one outbox row and narrowed again at once (reads are not widened).
    """
    async with widened(session, write=[assignment.expert_tenant_id]):
        await emit(session, tenant_id=assignment.expert_tenant_id, name=name, payload=payload, source=PLUGIN_NAME)


async def record_service(
    session: AsyncSession, assignment_id: uuid.UUID, data: ServiceCreate, actor: str
) -> ServiceRecord:
    assignment = await get_assignment(session, assignment_id, lock=True)
    if assignment.status != "accepted":
        raise _state_error(assignment, "given services", "登记服务")
    row = ServiceRecord(
        tenant_id=assignment.tenant_id,
        assignment_id=assignment.id,
        recorded_by=actor,
        **data.model_dump(),
    )
    session.add(row)
    await session.flush()
    await record(session, row.tenant_id, *service_facts(row))
    await emit_for_expert(session, assignment, SERVICE_COMPLETED, _payload(row, assignment))
    return row


async def get_service(session: AsyncSession, service_id: uuid.UUID, *, lock: bool = False) -> ServiceRecord:
    query = _locked(select(ServiceRecord).where(ServiceRecord.id == service_id), lock)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise SERVICE_NOT_FOUND.error(field="service_id")
    return row


async def revoke_service(session: AsyncSession, service_id: uuid.UUID, data: ServiceRevoke) -> ServiceRecord:
    """Withdraw a wrongly recorded service: its figures are retracted and the twin event revokes the credit."""
    row = await get_service(session, service_id, lock=True)
    if row.revoked:
        raise SERVICE_REVOKED_ALREADY.error(field="service_id", on=row.revoked_on.isoformat() if row.revoked_on else "")
    row.revoked = True
    row.revoked_on = today()
    row.revoke_reason = data.reason
    await session.flush()
    await retract(session, row.tenant_id, *service_facts(row))
    assignment = await get_assignment(session, row.assignment_id)
    await emit_for_expert(session, assignment, SERVICE_REVOKED, {**_payload(row, assignment), "revokes": str(row.id)})
    return row


async def give_feedback(session: AsyncSession, service_id: uuid.UUID, data: FeedbackIn, actor: str) -> ServiceRecord:
    row = await get_service(session, service_id, lock=True)
    row.rating = data.rating
    row.feedback = data.feedback
    row.feedback_by = actor
    await session.flush()
    return row


async def list_services(
    session: AsyncSession, *, assignment_id: uuid.UUID | None, page: int, page_size: int
) -> tuple[list[ServiceRecord], int]:
    query = select(ServiceRecord)
    if assignment_id:
        query = query.where(ServiceRecord.assignment_id == assignment_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows.scalars()), total


# --- think tank --------------------------------------------------------------------------------------------


def report_out(row: StudyReport, stored: StoredFile, url: str | None = None) -> ReportOut:
    return ReportOut(
        id=row.id,
        study_id=row.study_id,
        title=row.title,
        file_name=stored.original_name,
        size=stored.size,
        content_type=stored.content_type,
        submitted_on=row.submitted_on,
        uploaded_by=row.uploaded_by,
        download_url=url,
    )


def suggestion_out(row: Suggestion) -> SuggestionOut:
    return SuggestionOut(
        id=row.id,
        study_id=row.study_id,
        content=row.content,
        made_on=row.made_on,
        adopted=row.adopted,
        adopted_on=row.adopted_on,
        adopted_by=row.adopted_by,
    )


async def get_study(session: AsyncSession, study_id: uuid.UUID) -> Study:
    row = (await session.execute(select(Study).where(Study.id == study_id))).scalar_one_or_none()
    if row is None:
        raise STUDY_NOT_FOUND.error(field="study_id")
    return row


async def study_out(session: AsyncSession, row: Study) -> StudyOut:
    reports = (
        await session.execute(
            select(StudyReport, StoredFile)
            .join(StoredFile, and_(StoredFile.tenant_id == StudyReport.tenant_id, StoredFile.id == StudyReport.file_id))
            .where(StudyReport.tenant_id == row.tenant_id, StudyReport.study_id == row.id)
            .order_by(StudyReport.submitted_on)
        )
    ).tuples()
    suggestions = (
        await session.execute(
            select(Suggestion)
            .where(Suggestion.tenant_id == row.tenant_id, Suggestion.study_id == row.id)
            .order_by(Suggestion.made_on, Suggestion.created_at)
        )
    ).scalars()
    return StudyOut(
        id=row.id,
        tenant_id=row.tenant_id,
        title=row.title,
        topic=row.topic,
        adviser_ids=list(row.adviser_ids or []),
        started_on=row.started_on,
        status=row.status,
        reports=[report_out(r, f) for r, f in reports],
        suggestions=[suggestion_out(s) for s in suggestions],
    )


async def create_study(session: AsyncSession, tenant_id: int, data: StudyCreate, actor: str) -> Study:
    if data.adviser_ids:
        found = set(
            (
                await session.execute(
                    select(Profile.id).where(Profile.tenant_id == tenant_id, Profile.id.in_(data.adviser_ids))
                )
            ).scalars()
        )
        if found != set(data.adviser_ids):
            raise ADVISER_UNKNOWN.error(field="adviser_ids")
    row = Study(
        tenant_id=tenant_id,
        title=data.title,
        topic=data.topic,
        adviser_ids=[str(a) for a in data.adviser_ids],
        started_on=data.started_on,
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    return row


async def list_studies(session: AsyncSession, *, page: int, page_size: int) -> tuple[list[Study], int]:
    total = (await session.execute(select(func.count()).select_from(Study))).scalar_one()
    rows = await session.execute(
        select(Study).order_by(Study.started_on.desc(), Study.id).offset((page - 1) * page_size).limit(page_size)
    )
    return list(rows.scalars()), total


async def add_report(
    session: AsyncSession,
    storage: ObjectStore,
    study: Study,
    tenant_code: str,
    *,
    title: str,
    content: bytes,
    filename: str,
    declared_type: str | None,
    actor: str,
) -> tuple[StudyReport, StoredFile]:
    """Store the report under the study tenant's prefix and record it; nothing stays behind on failure."""
    detected = sniff(content)
    if content and detected.mime not in REPORT_TYPES:
        detected_zh, detected_en = describe_type(detected.mime)
        raise REPORT_TYPE.error(field="file", detected_zh=detected_zh, detected_en=detected_en)
    stored = await storage.put(
        tenant_code, content, filename=filename, declared_type=declared_type, folder=REPORT_FOLDER
    )
    try:
        file_row = StoredFile(
            tenant_id=study.tenant_id,
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=stored.content_type,
            original_name=stored.original_name,
            folder=REPORT_FOLDER,
            uploaded_by=actor,
        )
        session.add(file_row)
        await session.flush()
        day = today()
        report = StudyReport(
            tenant_id=study.tenant_id,
            study_id=study.id,
            title=title.strip()[:100] or stored.original_name[:100],
            file_id=file_row.id,
            submitted_on=day,
            uploaded_by=actor,
        )
        session.add(report)
        study.status = "concluded"
        await session.flush()
        await record(session, study.tenant_id, Fact(M_REPORTS, day))
    except Exception:
        with contextlib.suppress(Exception):
            await storage.delete(stored.key)
        raise
    return report, file_row


async def get_report(session: AsyncSession, study: Study, report_id: uuid.UUID) -> tuple[StudyReport, StoredFile]:
    found = (
        (
            await session.execute(
                select(StudyReport, StoredFile)
                .join(
                    StoredFile,
                    and_(StoredFile.tenant_id == StudyReport.tenant_id, StoredFile.id == StudyReport.file_id),
                )
                .where(
                    StudyReport.id == report_id,
                    StudyReport.study_id == study.id,
                    StudyReport.tenant_id == study.tenant_id,
                )
            )
        )
        .tuples()
        .one_or_none()
    )
    if found is None:
        raise REPORT_NOT_FOUND.error(field="report_id")
    return found[0], found[1]


async def add_suggestion(session: AsyncSession, study: Study, data: SuggestionCreate, actor: str) -> Suggestion:
    if data.made_on > today():
        raise DATE_IN_FUTURE.error(field="made_on", what="提出日期", what_en="The date made")
    row = Suggestion(
        tenant_id=study.tenant_id, study_id=study.id, content=data.content, made_on=data.made_on, created_by=actor
    )
    session.add(row)
    await session.flush()
    await record(session, study.tenant_id, Fact(M_SUGGESTIONS, data.made_on))
    return row


async def set_adoption(session: AsyncSession, suggestion_id: uuid.UUID, data: AdoptionIn) -> Suggestion:
    """Mark a suggestion adopted (counted on the day of adoption) or not adopted after all (retracted)."""
    query = _locked(select(Suggestion).where(Suggestion.id == suggestion_id), True)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise SUGGESTION_NOT_FOUND.error(field="suggestion_id")
    if row.adopted and row.adopted_on is not None:
        await retract(session, row.tenant_id, Fact(M_ADOPTED, row.adopted_on))
    if data.adopted:
        day = data.adopted_on or today()
        if day > today():
            raise DATE_IN_FUTURE.error(field="adopted_on", what="采纳日期", what_en="The adoption date")
        row.adopted, row.adopted_on, row.adopted_by = True, day, data.adopted_by
        await record(session, row.tenant_id, Fact(M_ADOPTED, day))
    else:
        row.adopted, row.adopted_on, row.adopted_by = False, None, ""
    await session.flush()
    return row


# --- stations ----------------------------------------------------------------------------------------------


async def create_station(session: AsyncSession, tenant_id: int, data: StationCreate) -> Station:
    exists = (
        await session.execute(select(Station.id).where(Station.tenant_id == tenant_id, Station.name == data.name))
    ).first()
    if exists is not None:
        raise STATION_EXISTS.error(field="name", name=data.name)
    row = Station(tenant_id=tenant_id, **data.model_dump())
    session.add(row)
    await session.flush()
    await record(session, tenant_id, Fact(M_STATIONS, data.opened_on))
    return row


async def close_station(session: AsyncSession, station_id: uuid.UUID, data: StationClose) -> Station:
    row = await get_station(session, station_id, lock=True)
    if row.closed_on is not None:
        raise STATION_CLOSED.error(field="station_id", closed_on=row.closed_on.isoformat())
    closed_on = max(data.closed_on, row.opened_on)
    row.closed_on = closed_on
    await session.flush()
    await record(session, row.tenant_id, Fact(M_STATIONS, closed_on, -1))
    return row


_solved = func.coalesce(func.sum(ServiceRecord.problems_solved), 0)
_assignment_of_profile = and_(Assignment.expert_tenant_id == Profile.tenant_id, Assignment.expert_id == Profile.id)
_service_of_assignment = and_(
    ServiceRecord.tenant_id == Assignment.tenant_id, ServiceRecord.assignment_id == Assignment.id
)


async def station_figures(session: AsyncSession, rows: list[Station]) -> list[StationOut]:
    """Each station with how many admitted experts it groups and the services they gave."""
    ids = [r.id for r in rows]
    experts: Counter[uuid.UUID | None] = Counter()
    services: Counter[uuid.UUID | None] = Counter()
    problems: Counter[uuid.UUID | None] = Counter()
    if ids:
        for sid, n in (
            await session.execute(
                select(Profile.station_id, func.count())
                .where(Profile.station_id.in_(ids), Profile.status == "admitted")
                .group_by(Profile.station_id)
            )
        ).tuples():
            experts[sid] = n
        for sid, n, solved in (
            await session.execute(
                select(
                    Profile.station_id,
                    func.count(ServiceRecord.id),
                    func.coalesce(func.sum(ServiceRecord.problems_solved), 0),
                )
                .join(
                    Assignment,
                    and_(Assignment.expert_tenant_id == Profile.tenant_id, Assignment.expert_id == Profile.id),
                )
                .join(
                    ServiceRecord,
                    and_(ServiceRecord.tenant_id == Assignment.tenant_id, ServiceRecord.assignment_id == Assignment.id),
                )
                .where(Profile.station_id.in_(ids), ServiceRecord.revoked.is_(False))
                .group_by(Profile.station_id)
            )
        ).tuples():
            services[sid], problems[sid] = n, int(solved)
    return [
        StationOut(
            id=r.id,
            tenant_id=r.tenant_id,
            name=r.name,
            address=r.address,
            focus=r.focus,
            opened_on=r.opened_on,
            closed_on=r.closed_on,
            experts=experts[r.id],
            services=services[r.id],
            problems_solved=problems[r.id],
        )
        for r in rows
    ]


async def list_stations(session: AsyncSession) -> list[Station]:
    return list((await session.execute(select(Station).order_by(Station.opened_on, Station.name))).scalars())


async def station_services(session: AsyncSession, station: Station) -> list[ServiceRecord]:
    rows = await session.execute(
        select(ServiceRecord)
        .join(
            Assignment,
            and_(Assignment.tenant_id == ServiceRecord.tenant_id, Assignment.id == ServiceRecord.assignment_id),
        )
        .join(Profile, and_(Profile.tenant_id == Assignment.expert_tenant_id, Profile.id == Assignment.expert_id))
        .where(Profile.station_id == station.id, Profile.tenant_id == station.tenant_id)
        .order_by(ServiceRecord.served_on.desc())
        .limit(200)
    )
    return list(rows.scalars())


# --- figures -----------------------------------------------------------------------------------------------


async def stats(session: AsyncSession) -> StatsOut:
    """Figures over everything the session may read (the acting subtree), counted from the rows."""
    admitted = (await session.execute(select(Profile.fields).where(Profile.status == "admitted"))).scalars().all()
    by_field: Counter[str] = Counter()
    for fields in admitted:
        for f in fields or []:
            by_field[f] += 1
    posted = (await session.execute(select(func.count()).select_from(Demand))).scalar_one()
    met = (await session.execute(select(func.count()).where(Demand.status == "met"))).scalar_one()
    services, problems, trainees, value = (
        await session.execute(
            select(
                func.count(ServiceRecord.id),
                func.coalesce(func.sum(ServiceRecord.problems_solved), 0),
                func.coalesce(func.sum(ServiceRecord.trainees), 0),
                func.coalesce(func.sum(ServiceRecord.value_yuan), 0),
            ).where(ServiceRecord.revoked.is_(False))
        )
    ).one()
    reports = (await session.execute(select(func.count()).select_from(StudyReport))).scalar_one()
    made = (await session.execute(select(func.count()).select_from(Suggestion))).scalar_one()
    adopted = (await session.execute(select(func.count()).where(Suggestion.adopted.is_(True)))).scalar_one()
    stations = (await session.execute(select(func.count()).where(Station.closed_on.is_(None)))).scalar_one()
    by_category = dict.fromkeys((c.code for c in categories.CATEGORIES), 0)
    for code, n in (
        await session.execute(
            select(ExpertCategory.category, func.count())
            .where(ExpertCategory.to_on.is_(None))
            .group_by(ExpertCategory.category)
        )
    ).tuples():
        by_category[code] = n
    return StatsOut(
        experts=len(admitted),
        experts_by_field=dict(sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0]))),
        experts_by_category=by_category,
        demands_posted=posted,
        demands_met=met,
        services=services,
        problems_solved=int(problems),
        trainees=int(trainees),
        value_yuan=float(value),
        reports=reports,
        suggestions_made=made,
        suggestions_adopted=adopted,
        stations=stations,
    )


async def metric_facts(session: AsyncSession, tenant_id: int) -> AsyncIterator[Fact]:
    """Every fact the rows of ``tenant_id`` imply now (what :func:`record` was told as they were written)."""
    for admitted_on, retired_on in (
        await session.execute(
            select(Profile.admitted_on, Profile.retired_on).where(
                Profile.tenant_id == tenant_id, Profile.admitted_on.is_not(None)
            )
        )
    ).tuples():
        if admitted_on is None:
            continue
        yield Fact(M_EXPERTS, admitted_on)
        if retired_on is not None:
            yield Fact(M_EXPERTS, retired_on, -1)
    for category, from_on, to_on in (
        await session.execute(
            select(ExpertCategory.category, ExpertCategory.from_on, ExpertCategory.to_on).where(
                ExpertCategory.tenant_id == tenant_id
            )
        )
    ).tuples():
        yield Fact(categories.metric_id(category), from_on)
        if to_on is not None:
            yield Fact(categories.metric_id(category), to_on, -1)
    for posted_on, met_on in (
        await session.execute(select(Demand.posted_on, Demand.met_on).where(Demand.tenant_id == tenant_id))
    ).tuples():
        yield Fact(M_DEMANDS_POSTED, posted_on)
        if met_on is not None:
            yield Fact(M_DEMANDS_MET, met_on)
    for row in (
        await session.execute(
            select(ServiceRecord).where(ServiceRecord.tenant_id == tenant_id, ServiceRecord.revoked.is_(False))
        )
    ).scalars():
        for fact in service_facts(row):
            yield fact
    for (submitted_on,) in (
        await session.execute(select(StudyReport.submitted_on).where(StudyReport.tenant_id == tenant_id))
    ).tuples():
        yield Fact(M_REPORTS, submitted_on)
    for made_on, adopted_on in (
        await session.execute(
            select(Suggestion.made_on, Suggestion.adopted_on).where(Suggestion.tenant_id == tenant_id)
        )
    ).tuples():
        yield Fact(M_SUGGESTIONS, made_on)
        if adopted_on is not None:
            yield Fact(M_ADOPTED, adopted_on)
    for opened_on, closed_on in (
        await session.execute(select(Station.opened_on, Station.closed_on).where(Station.tenant_id == tenant_id))
    ).tuples():
        yield Fact(M_STATIONS, opened_on)
        if closed_on is not None:
            yield Fact(M_STATIONS, closed_on, -1)
