"""The core's statistics for reports: branches, members covered, organisation life, "六有", model branches.

Every function takes a session that can read the tenants asked for, a set of tenant ids and a period, and
answers **per tenant** (a mapping tenant id → number), so a report rolls a subtree up by adding the tenants
of that subtree. Rates are never computed per tenant and averaged: a ``RATE`` metric names the two summed
metrics it divides (``numerator`` / ``denominator``), see :func:`rate`.

Flows (counted within the period): activities held (非取消的会议，日期在期间内且不晚于今天), attendance (出席人次),
expected attendance (应到人次 = 出席 + 缺席; 请假 is not expected), lectures and their audience, and model
branches (branches flagged 示范党支部 in rankings published for a year that overlaps the period; counted once
even when several levels flagged them).
Stocks (the current state; the period only bounds branches by founding date): branches by kind, members
covered (active members whose 组织关系 is in an active branch), "六有" items met and items due.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orglife.models import Attendance, AttendanceStatus, Meeting, MeetingKind, RankingEntry
from core.orglife.periods import Period
from core.orglife.six_haves import completion_by_tenant
from core.orgs.models import BranchKind, Member, Organization, OrgLevel
from core.plugin_host.declarations import Aggregation, MetricSpec

BRANCHES = "core.branches"
MEMBERS = "core.members"
ACTIVITIES = "core.activities"
ATTENDANCE = "core.attendance"
ATTENDANCE_EXPECTED = "core.attendance_expected"
ATTENDANCE_RATE = "core.attendance_rate"
LECTURES = "core.lectures"
LECTURE_AUDIENCE = "core.lecture_audience"
SIX_HAVES_MET = "core.six_haves_met"
SIX_HAVES_TOTAL = "core.six_haves_total"
SIX_HAVES_RATE = "core.six_haves_rate"
SIX_HAVES_COMPLETE = "core.six_haves_complete_branches"
MODEL_BRANCHES = "core.model_branches"
UNSPECIFIED_KIND = "unspecified"
LEVEL = Aggregation.LEVEL


def branches_by_kind_id(kind: str) -> str:
    return f"{BRANCHES}.{kind}"


def core_metrics() -> list[MetricSpec]:
    """The core's metrics, declared like a plugin's (``register_metrics``)."""
    kinds = [
        MetricSpec(
            branches_by_kind_id(k.value), f"{k.zh}数", f"Branches: {k.value}", "个", "branches", aggregation=LEVEL
        )
        for k in BranchKind
    ]
    return [
        MetricSpec(BRANCHES, "党支部数", "Branches", "个", "branches", aggregation=LEVEL),
        *kinds,
        MetricSpec(
            branches_by_kind_id(UNSPECIFIED_KIND),
            "未填类型的支部数",
            "Branches of no stated kind",
            "个",
            "branches",
            aggregation=LEVEL,
        ),
        MetricSpec(MEMBERS, "覆盖党员数", "Members covered", "人", "members", aggregation=LEVEL),
        MetricSpec(ACTIVITIES, "开展组织生活", "Activities held", "次", "activities"),
        MetricSpec(ATTENDANCE, "参加人次", "Attendance", "人次", "attendances"),
        MetricSpec(ATTENDANCE_EXPECTED, "应到人次", "Expected attendance", "人次", "attendances"),
        MetricSpec(
            ATTENDANCE_RATE,
            "出席率",
            "Attendance rate",
            "%",
            "%",
            aggregation=Aggregation.RATE,
            numerator=ATTENDANCE,
            denominator=ATTENDANCE_EXPECTED,
        ),
        MetricSpec(LECTURES, "党课", "Party lectures", "场", "lectures"),
        MetricSpec(LECTURE_AUDIENCE, "党课受教育人次", "Lecture audience", "人次", "attendances"),
        MetricSpec(SIX_HAVES_MET, "“六有”达标项", "Six-haves items met", "项", "items", aggregation=LEVEL),
        MetricSpec(SIX_HAVES_TOTAL, "“六有”应达标项", "Six-haves items due", "项", "items", aggregation=LEVEL),
        MetricSpec(
            SIX_HAVES_RATE,
            "“六有”达标率",
            "Six-haves completion",
            "%",
            "%",
            aggregation=Aggregation.RATE,
            numerator=SIX_HAVES_MET,
            denominator=SIX_HAVES_TOTAL,
        ),
        MetricSpec(
            SIX_HAVES_COMPLETE, "“六有”全部达标支部", "Branches meeting all six", "个", "branches", aggregation=LEVEL
        ),
        MetricSpec(MODEL_BRANCHES, "示范党支部", "Model branches", "个", "branches"),
    ]


def _zeros(tenant_ids: Collection[int]) -> dict[int, int]:
    return dict.fromkeys(sorted(set(tenant_ids)), 0)


async def branches_by_kind(
    session: AsyncSession, tenant_ids: Collection[int], period: Period
) -> dict[int, dict[str, int]]:
    """Active branches founded by the period's end (or of unknown founding date), by kind."""
    out: dict[int, dict[str, int]] = {t: {} for t in sorted(set(tenant_ids))}
    rows = await session.execute(
        select(Organization.tenant_id, Organization.kind, func.count())
        .where(
            Organization.tenant_id.in_(out),
            Organization.is_active,
            Organization.level == OrgLevel.BRANCH.value,
            or_(Organization.founded_on.is_(None), Organization.founded_on <= period.end),
        )
        .group_by(Organization.tenant_id, Organization.kind)
    )
    for tenant_id, kind, count in rows.tuples():
        out[tenant_id][kind or UNSPECIFIED_KIND] = count
    return out


async def members_covered(session: AsyncSession, tenant_ids: Collection[int], period: Period) -> dict[int, int]:
    """Active members whose formal organisation (组织关系) is an active branch."""
    out = _zeros(tenant_ids)
    rows = await session.execute(
        select(Member.tenant_id, func.count())
        .join(
            Organization,
            and_(Organization.tenant_id == Member.tenant_id, Organization.id == Member.formal_org_id),
        )
        .where(
            Member.tenant_id.in_(out),
            Member.status == "active",
            Organization.is_active,
            Organization.level == OrgLevel.BRANCH.value,
        )
        .group_by(Member.tenant_id)
    )
    for tenant_id, count in rows.tuples():
        out[tenant_id] = count
    return out


def _held(period: Period, tenant_ids: Collection[int]) -> list[Any]:
    last = min(period.end, datetime.date.today())
    return [
        Meeting.tenant_id.in_(tenant_ids),
        Meeting.cancelled_at.is_(None),
        Meeting.held_on >= period.start,
        Meeting.held_on <= last,
    ]


async def activities(
    session: AsyncSession, tenant_ids: Collection[int], period: Period, kind: MeetingKind | None = None
) -> dict[int, int]:
    """Meetings and activities held in the period (not cancelled, not in the future)."""
    out = _zeros(tenant_ids)
    query = select(Meeting.tenant_id, func.count()).where(*_held(period, list(out)))
    if kind is not None:
        query = query.where(Meeting.kind == kind.value)
    for tenant_id, count in (await session.execute(query.group_by(Meeting.tenant_id))).tuples():
        out[tenant_id] = count
    return out


async def attendance(
    session: AsyncSession,
    tenant_ids: Collection[int],
    period: Period,
    statuses: tuple[AttendanceStatus, ...] = (AttendanceStatus.PRESENT,),
    kind: MeetingKind | None = None,
) -> dict[int, int]:
    """Marks (人次) of the given statuses at meetings held in the period (present: 参加人次)."""
    out = _zeros(tenant_ids)
    query = (
        select(Attendance.tenant_id, func.count())
        .join(Meeting, and_(Meeting.tenant_id == Attendance.tenant_id, Meeting.id == Attendance.meeting_id))
        .where(*_held(period, list(out)), Attendance.status.in_([s.value for s in statuses]))
    )
    if kind is not None:
        query = query.where(Meeting.kind == kind.value)
    for tenant_id, count in (await session.execute(query.group_by(Attendance.tenant_id))).tuples():
        out[tenant_id] = count
    return out


async def model_branches(session: AsyncSession, tenant_ids: Collection[int], period: Period) -> dict[int, int]:
    """Distinct branches flagged as model branches in rankings published for the period's years."""
    out = _zeros(tenant_ids)
    rows = await session.execute(
        select(RankingEntry.tenant_id, func.count(func.distinct(RankingEntry.org_id)))
        .where(
            RankingEntry.tenant_id.in_(out),
            RankingEntry.is_model,
            RankingEntry.year >= period.start.year,
            RankingEntry.year <= period.end.year,
        )
        .group_by(RankingEntry.tenant_id)
    )
    for tenant_id, count in rows.tuples():
        out[tenant_id] = count
    return out


async def compute_core_metrics(
    session: AsyncSession, tenant_ids: Collection[int], period: Period
) -> dict[str, dict[int, int]]:
    """Every summed metric of :func:`core_metrics`, per tenant (``RATE`` metrics: see :func:`rate`)."""
    ids = sorted(set(tenant_ids))
    out: dict[str, dict[int, int]] = {}
    by_kind = await branches_by_kind(session, ids, period)
    out[BRANCHES] = {t: sum(kinds.values()) for t, kinds in by_kind.items()}
    for kind in [*(k.value for k in BranchKind), UNSPECIFIED_KIND]:
        out[branches_by_kind_id(kind)] = {t: kinds.get(kind, 0) for t, kinds in by_kind.items()}
    out[MEMBERS] = await members_covered(session, ids, period)
    out[ACTIVITIES] = await activities(session, ids, period)
    out[ATTENDANCE] = await attendance(session, ids, period)
    out[ATTENDANCE_EXPECTED] = await attendance(
        session, ids, period, (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT)
    )
    out[LECTURES] = await activities(session, ids, period, MeetingKind.LECTURE)
    out[LECTURE_AUDIENCE] = await attendance(session, ids, period, kind=MeetingKind.LECTURE)
    completion = await completion_by_tenant(session, ids)
    out[SIX_HAVES_MET] = {t: c.items_met for t, c in completion.items()}
    out[SIX_HAVES_TOTAL] = {t: c.items_total for t, c in completion.items()}
    out[SIX_HAVES_COMPLETE] = {t: c.complete for t, c in completion.items()}
    out[MODEL_BRANCHES] = await model_branches(session, ids, period)
    return out


def total(values: Mapping[str, Mapping[int, int]], metric_id: str, tenant_ids: Collection[int]) -> int:
    """A summed metric over some tenants (e.g. a subtree's ids)."""
    per_tenant = values.get(metric_id, {})
    return sum(per_tenant.get(t, 0) for t in set(tenant_ids))


def rate(values: Mapping[str, Mapping[int, int]], spec: MetricSpec, tenant_ids: Collection[int]) -> float | None:
    """A ``RATE`` metric over some tenants: the sum of its numerator over the sum of its denominator."""
    if spec.aggregation is not Aggregation.RATE or not spec.numerator or not spec.denominator:
        raise ValueError(f"{spec.id} is not a rate")
    denominator = total(values, spec.denominator, tenant_ids)
    return total(values, spec.numerator, tenant_ids) / denominator if denominator else None
