"""Keeping report aggregates current: call :func:`record` in the same transaction as the write it reflects.

A *fact* is one change to a metric on a day: ``Fact("mediation.cases_settled", day)`` adds 1,
``Fact("points.volunteer_hours", day, 2.5)`` adds 2.5 hours, ``Fact("points.members_with_points", day,
subject=str(member_id))`` counts that member once in every period and level above. A reversal records the same
fact with the opposite value (``retract``); nothing is ever edited in place, so the aggregates stay right after
reversals, transfers (a ``-1`` in the old tenant and ``+1`` in the new) and late events (a fact dated last
month updates last month). Plugins also answer the ``metric_facts`` hook with the facts their raw rows imply,
which is how the suite proves the aggregates against a recount and how ``yinling reports rebuild`` repairs them.

Cost per call on PostgreSQL: one statement per kind of fact, whatever the number of facts. Summed facts are one
upsert of ``report_sum`` rows at the writing tenant. Distinct facts are one call of the function
``yinling_report_count`` (migration ``0009_report_upkeep``), which finds the tenant's ancestors in ``tenant.path``,
upserts the subject rows at every level × month, quarter and year and moves the counters, all in one statement.
Both statements have a fixed text (the facts travel as arrays), so the driver prepares each once per connection.
On SQLite (the embedded mode, no row-level security) the same rows are written by portable upserts.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.reports.models import ReportDistinct, ReportSubject, ReportSum

#: The PostgreSQL setting under which the aggregate rows of a tenant's ancestors may be written (the RLS policies
#: of ``report_subject`` and ``report_distinct`` accept it). Only the function ``yinling_report_count`` raises it,
#: around its one statement and within the same call; see :func:`_count_subjects_postgres`.
UPKEEP_SETTING = "yinling.report_upkeep"

_SUMS_SQL = text(
    "INSERT INTO report_sum AS r (tenant_id, metric, month, value) "
    "SELECT CAST(:tenant_id AS integer), f.metric, f.month, f.value "
    "FROM unnest(CAST(:metrics AS text[]), CAST(:months AS date[]), CAST(:values AS numeric[])) "
    "AS f(metric, month, value) "
    "ON CONFLICT (tenant_id, metric, month) DO UPDATE SET value = r.value + excluded.value"
)
_COUNT_SQL = text(
    "SELECT yinling_report_count(CAST(:tenant_id AS integer), CAST(:metrics AS text[]), CAST(:periods AS text[]), "
    "CAST(:subjects AS text[]), CAST(:steps AS integer[]))"
)


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
    steps: dict[tuple[str, str, str], int] = defaultdict(int)
    for fact in facts:
        if fact.subject is None:
            sums[(fact.metric, month_of(fact.on))] += fact.value
        elif fact.value:
            step = 1 if fact.value > 0 else -1
            for period in period_keys(fact.on):
                steps[(fact.metric, period, fact.subject)] += step
    sums = {k: v for k, v in sums.items() if v}
    steps = {k: n for k, n in steps.items() if n}
    if not (sums or steps):
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if sums:
            connection.execute(
                _SUMS_SQL,
                {
                    "tenant_id": tenant_id,
                    "metrics": [m for m, _ in sums],
                    "months": [mo for _, mo in sums],
                    "values": [Decimal(str(v)) for v in sums.values()],
                },
            )
        if steps:
            _count_subjects_postgres(connection, tenant_id, steps)
        return
    if sums:
        rows = [{"tenant_id": tenant_id, "metric": m, "month": mo, "value": v} for (m, mo), v in sums.items()]
        stmt = sqlite.insert(ReportSum).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "metric", "month"], set_={"value": ReportSum.value + stmt.excluded.value}
        )
        connection.execute(stmt)
    if steps:
        _count_subjects_portable(connection, tenant_id, steps)


def changes(before: Iterable[Fact], after: Iterable[Fact]) -> list[Fact]:
    """What turns the facts ``before`` into ``after``: the diff to record when a row changes."""
    totals: dict[tuple[str, datetime.date, str | None], float] = defaultdict(float)
    for fact in before:
        totals[(fact.metric, fact.on, fact.subject)] -= fact.value
    for fact in after:
        totals[(fact.metric, fact.on, fact.subject)] += fact.value
    return [Fact(m, on, v, s) for (m, on, s), v in totals.items() if v]


def _count_subjects_postgres(connection: Connection, tenant_id: int, steps: dict[tuple[str, str, str], int]) -> None:
    """One call of ``yinling_report_count`` (migration ``0009_report_upkeep``) for all levels × periods.

    Why this is safe: the ancestors' rows of ``report_subject`` and ``report_distinct`` are writable only while
    ``yinling.report_upkeep`` is on. The function turns it on (transaction-local) just before its one upsert
    statement and puts the previous value (off) back just after it, within the same call; if the upsert fails,
    the rollback of the transaction or of the savepoint around it undoes the setting too. So every statement the
    application itself sends runs with the setting off, and an ordinary query, even raw SQL that forgot its
    tenant filter, still cannot write (or read) another tenant's aggregate rows. The function itself writes only
    what a fact in ``tenant_id`` implies: it refuses a tenant the transaction may not write (as ``report_sum``'s
    policy does) and takes the levels from the stored ``tenant.path``, not from its caller. The lookup of the
    path happens inside the statement, so it costs no round trip (cheaper than passing the lineage in from the
    request's tenant tree, which the function would have to verify against ``tenant.path`` anyway).
    """
    keys = list(steps)
    connection.execute(
        _COUNT_SQL,
        {
            "tenant_id": tenant_id,
            "metrics": [m for m, _, _ in keys],
            "periods": [p for _, p, _ in keys],
            "subjects": [s for _, _, s in keys],
            "steps": [steps[k] for k in keys],
        },
    )


def lineage_ids(connection: Connection, tenant_id: int) -> list[int]:
    """The tenant and its ancestors, from the stored path (``/1/4/9/``)."""
    from core.tenancy.models import Tenant

    path = connection.execute(select(Tenant.path).where(Tenant.id == tenant_id)).scalar_one()
    ids = [int(part) for part in path.strip("/").split("/") if part]
    return ids if tenant_id in ids else [*ids, tenant_id]


def _count_subjects_portable(connection: Connection, tenant_id: int, steps: dict[tuple[str, str, str], int]) -> None:
    """What ``yinling_report_count`` does, in portable statements (SQLite: no row-level security to satisfy)."""
    levels = lineage_ids(connection, tenant_id)
    by_row = {(t, m, p, s): n for (m, p, s), n in steps.items() for t in levels}
    rows = [{"tenant_id": t, "metric": m, "period": p, "subject": s, "n": n} for (t, m, p, s), n in by_row.items()]
    insert = sqlite.insert(ReportSubject).values(rows)
    stmt = insert.on_conflict_do_update(
        index_elements=["tenant_id", "metric", "period", "subject"], set_={"n": ReportSubject.n + insert.excluded.n}
    ).returning(
        ReportSubject.tenant_id, ReportSubject.metric, ReportSubject.period, ReportSubject.subject, ReportSubject.n
    )
    moves: dict[tuple[int, str, str], int] = defaultdict(int)
    for t, m, p, s, n in connection.execute(stmt).tuples():
        before = n - by_row[(t, m, p, s)]
        if before <= 0 < n:
            moves[(t, m, p)] += 1
        elif n <= 0 < before:
            moves[(t, m, p)] -= 1
    counters = [{"tenant_id": t, "metric": m, "period": p, "value": v} for (t, m, p), v in moves.items() if v]
    if counters:
        upsert = sqlite.insert(ReportDistinct).values(counters)
        upsert = upsert.on_conflict_do_update(
            index_elements=["tenant_id", "metric", "period"],
            set_={"value": ReportDistinct.value + upsert.excluded.value},
        )
        connection.execute(upsert)


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
