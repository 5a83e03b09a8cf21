"""Keeping report aggregates current: call :func:`record` in the same transaction as the write it reflects.

A *fact* is one change to a metric on a day: ``Fact("mediation.cases_settled", day)`` adds 1,
``Fact("points.volunteer_hours", day, 2.5)`` adds 2.5 hours, ``Fact("points.members_with_points", day,
subject=str(member_id))`` counts that member once in every period and level above. A reversal records the same
fact with the opposite value (``retract``); nothing is ever edited in place, so the aggregates stay right after
reversals, transfers (a ``-1`` in the old tenant and ``+1`` in the new) and late events (a fact dated last
month updates last month). Plugins also answer the ``metric_facts`` hook with the facts their raw rows imply,
which is how the suite proves the aggregates against a recount and how ``yinling reports rebuild`` repairs them.

Cost per call on PostgreSQL: one upsert for summed facts; for a distinct fact one tenant-path lookup, one
multi-row upsert of the subject rows (tenant and ancestors × month, quarter, year) and one of the counters.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.reports.models import ReportDistinct, ReportSubject, ReportSum

#: The PostgreSQL setting that lets :func:`record` write the aggregate rows of a tenant's ancestors (the RLS
#: policies of ``report_subject`` and ``report_distinct`` accept it); set only around those two statements.
UPKEEP_SETTING = "yinling.report_upkeep"


@dataclass(frozen=True)
class Fact:
    """One change to a metric on a day. ``subject`` marks a distinct-count fact (who or what is counted once)."""

    metric: str
    on: datetime.date
    value: float = 1
    subject: str | None = None

    def negated(self) -> Fact:
        return replace(self, value=-self.value)


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def period_keys(day: datetime.date) -> tuple[str, str, str]:
    """The month, quarter and year a day belongs to, as stored in ``report_subject.period``."""
    return f"M{day.year}-{day.month:02d}", f"Q{day.year}-{(day.month - 1) // 3 + 1}", f"Y{day.year}"


def _insert(session: Session, table: type) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def record(session: AsyncSession, tenant_id: int, *facts: Fact) -> None:
    """Apply ``facts`` that happened in ``tenant_id`` to the aggregates, inside the caller's transaction."""
    if facts:
        await session.run_sync(lambda sync: record_sync(sync, tenant_id, *facts))


async def retract(session: AsyncSession, tenant_id: int, *facts: Fact) -> None:
    """Undo ``facts`` recorded earlier (a reversal, a deletion, a member leaving a tenant)."""
    await record(session, tenant_id, *(f.negated() for f in facts))


def record_sync(session: Session, tenant_id: int, *facts: Fact) -> None:
    """:func:`record` for synchronous code (flush listeners)."""
    sums: dict[tuple[str, datetime.date], float] = defaultdict(float)
    subjects: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for fact in facts:
        if fact.subject is None:
            sums[(fact.metric, month_of(fact.on))] += fact.value
        elif fact.value:
            step = 1 if fact.value > 0 else -1
            for period in period_keys(fact.on):
                subjects[(fact.metric, fact.subject)].append((period, step))
    rows = [{"tenant_id": tenant_id, "metric": m, "month": mo, "value": v} for (m, mo), v in sums.items() if v]
    if rows:
        stmt = _insert(session, ReportSum).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "metric", "month"], set_={"value": ReportSum.value + stmt.excluded.value}
        )
        session.connection().execute(stmt)
    if subjects:
        _add_subjects(session, tenant_id, subjects)


def changes(before: Iterable[Fact], after: Iterable[Fact]) -> list[Fact]:
    """What turns the facts ``before`` into ``after``: the diff to record when a row changes."""
    totals: dict[tuple[str, datetime.date, str | None], float] = defaultdict(float)
    for fact in before:
        totals[(fact.metric, fact.on, fact.subject)] -= fact.value
    for fact in after:
        totals[(fact.metric, fact.on, fact.subject)] += fact.value
    return [Fact(m, on, v, s) for (m, on, s), v in totals.items() if v]


def lineage_ids(session: Session, tenant_id: int) -> list[int]:
    """The tenant and its ancestors, from the stored path (``/1/4/9/``)."""
    from core.tenancy.models import Tenant

    path = session.connection().execute(select(Tenant.path).where(Tenant.id == tenant_id)).scalar_one()
    ids = [int(part) for part in path.strip("/").split("/") if part]
    return ids if tenant_id in ids else [*ids, tenant_id]


def _add_subjects(session: Session, tenant_id: int, subjects: dict[tuple[str, str], list[tuple[str, int]]]) -> None:
    levels = lineage_ids(session, tenant_id)
    steps: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for (metric, subject), periods in subjects.items():
        for level in levels:
            for period, step in periods:
                steps[(level, metric, period, subject)] += step
    rows = [{"tenant_id": t, "metric": m, "period": p, "subject": s, "n": n} for (t, m, p, s), n in steps.items() if n]
    if not rows:
        return
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text(f"SELECT set_config('{UPKEEP_SETTING}', 'on', true)"))
    try:
        stmt = _insert(session, ReportSubject).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "metric", "period", "subject"], set_={"n": ReportSubject.n + stmt.excluded.n}
        ).returning(
            ReportSubject.tenant_id, ReportSubject.metric, ReportSubject.period, ReportSubject.subject, ReportSubject.n
        )
        moves: dict[tuple[int, str, str], int] = defaultdict(int)
        for t, m, p, s, n in connection.execute(stmt).tuples():
            before = n - steps[(t, m, p, s)]
            if before <= 0 < n:
                moves[(t, m, p)] += 1
            elif n <= 0 < before:
                moves[(t, m, p)] -= 1
        counters = [{"tenant_id": t, "metric": m, "period": p, "value": v} for (t, m, p), v in moves.items() if v]
        if counters:
            upsert = _insert(session, ReportDistinct).values(counters)
            upsert = upsert.on_conflict_do_update(
                index_elements=["tenant_id", "metric", "period"],
                set_={"value": ReportDistinct.value + upsert.excluded.value},
            )
            connection.execute(upsert)
    finally:
        if postgres:
            connection.execute(text(f"SELECT set_config('{UPKEEP_SETTING}', 'off', true)"))


async def replay(session: AsyncSession, tenant_id: int, facts: Iterable[Fact], batch: int = 500) -> int:
    """Record many facts in batches (rebuilds, demo data, the benchmark); returns how many."""
    count = 0
    chunk: list[Fact] = []
    for fact in facts:
        chunk.append(fact)
        if len(chunk) >= batch:
            await record(session, tenant_id, *chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        await record(session, tenant_id, *chunk)
        count += len(chunk)
    return count
