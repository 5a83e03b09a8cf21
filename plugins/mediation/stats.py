"""Figures for a tenant's subtree. Totals, types and room kinds come from the maintained report aggregates
(``report_sum``), never from the cases; only the per-room split and the open/overdue counts are counted from
the plugin's own rows, within one subtree (a room is not a declared metric: see :mod:`plugins.mediation.metrics`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.reports.facts import month_of
from core.reports.models import ReportSum
from core.tenancy.tree import TenantTree
from plugins.mediation import metrics
from plugins.mediation.models import CASE_TYPES, ROOM_KINDS, Case, Room
from plugins.mediation.schemas import FigureRow, StatsOut


def _rate(numerator: float, denominator: float, scale: float = 100) -> float | None:
    return round(numerator / denominator * scale, 1) if denominator else None


async def sums(
    session: AsyncSession, tenant_ids: frozenset[int], since: datetime.date, until: datetime.date
) -> dict[str, float]:
    rows = await session.execute(
        select(ReportSum.metric, func.sum(ReportSum.value))
        .where(
            ReportSum.tenant_id.in_(sorted(tenant_ids)),
            ReportSum.metric.like("mediation.%"),
            ReportSum.month >= month_of(since),
            ReportSum.month <= month_of(until),
        )
        .group_by(ReportSum.metric)
    )
    return {metric: float(value or 0) for metric, value in rows.tuples()}


def _row(figures: dict[str, float], key: str, suffix: str, label: tuple[str, str] = ("", "")) -> FigureRow:
    received = figures.get(metrics.RECEIVED + suffix, 0.0)
    settled = figures.get(metrics.SETTLED + suffix, 0.0)
    concluded = figures.get(metrics.CONCLUDED + suffix, 0.0)
    return FigureRow(
        key=key,
        label=label[0],
        label_en=label[1][:1].upper() + label[1][1:],
        received=received,
        settled=settled,
        concluded=concluded,
        settlement_rate=_rate(settled, concluded),
    )


async def by_room(session: AsyncSession, since: datetime.date, until: datetime.date) -> list[FigureRow]:
    """Per room, counted from the cases in scope (one subtree), with the same rules as the facts."""
    live = Case.status != "voided"
    received = func.count().filter(and_(live, Case.received_on.between(since, until)))
    settled = func.count().filter(and_(live, Case.settled_on.between(since, until)))
    concluded = func.count().filter(and_(live, Case.outcome_on.between(since, until)))
    rows = await session.execute(
        select(Room.id, Room.name, received, settled, concluded)
        .join(Case, and_(Case.tenant_id == Room.tenant_id, Case.room_id == Room.id), isouter=True)
        .group_by(Room.id, Room.name)
        .order_by(Room.name)
    )
    out = []
    for room_id, name, r, s, c in rows.tuples():
        out.append(
            FigureRow(
                key=str(room_id),
                label=str(name),
                label_en=str(name),
                received=r,
                settled=s,
                concluded=c,
                settlement_rate=_rate(s, c),
            )
        )
    return out


async def figures(
    session: AsyncSession, tree: TenantTree, tenant_id: int, since: datetime.date, until: datetime.date
) -> StatsOut:
    figures = await sums(session, tree.subtree_ids(tenant_id), since, until)
    total = _row(figures, "all", "")
    days = figures.get(metrics.SETTLE_DAYS, 0.0)
    open_ = Case.status.in_(sorted(metrics.OPEN_STATUSES))
    counts: dict[str, int] = defaultdict(int)
    late_expr = Case.deadline < datetime.date.today()
    for late, n in (await session.execute(select(late_expr, func.count()).where(open_).group_by(late_expr))).tuples():
        counts["open"] += n
        if late:
            counts["overdue"] += n
    return StatsOut(
        since=since,
        until=until,
        cases_received=total.received,
        cases_settled=total.settled,
        cases_concluded=total.concluded,
        settlement_rate=total.settlement_rate,
        petitions_received=figures.get(metrics.PETITIONS_RECEIVED, 0.0),
        petitions_resolved=figures.get(metrics.PETITIONS_RESOLVED, 0.0),
        people_served=figures.get(metrics.PEOPLE_SERVED, 0.0),
        cases_followed_up=figures.get(metrics.FOLLOWED_UP, 0.0),
        average_days_to_settle=_rate(days, total.settled, 1),
        by_type=[_row(figures, t, f".{t}", metrics.TYPE_ZH[t]) for t in CASE_TYPES],
        by_room_kind=[_row(figures, k, f".room_{k}", metrics.ROOM_KIND_ZH[k]) for k in ROOM_KINDS],
        by_room=await by_room(session, since, until),
        open_cases=counts["open"],
        overdue_cases=counts["overdue"],
    )
