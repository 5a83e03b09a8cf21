"""Roll-ups: a tenant's subtree over a period, per child, against the previous period — from aggregates only.

Three queries whatever the size of the subtree: the summed and level metrics from ``report_sum`` (one row per
tenant, metric and month), the distinct counts from ``report_distinct`` for the tenant and its children (or,
for a custom range of months, counted from their ``report_subject`` rows), and the model branches from the
published rankings. Rates are computed from their two summed metrics at every level, never averaged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orglife.metrics import MODEL_BRANCHES, core_metrics
from core.orglife.models import RankingEntry
from core.plugin_host.declarations import Aggregation, MetricSpec
from core.reports.models import ReportDistinct, ReportSubject, ReportSum
from core.reports.periods import ReportPeriod
from core.tenancy.tree import TenantNode, TenantTree

Values = dict[str, float | None]


@dataclass(frozen=True)
class CatalogueEntry:
    source: str  # "core" or the plugin's name
    spec: MetricSpec


def catalogue(plugins: Any) -> list[CatalogueEntry]:
    """Every metric the core and the loaded plugins declare, in declaration order."""
    out = [CatalogueEntry("core", spec) for spec in core_metrics()]
    out += [CatalogueEntry(name, spec) for name, spec in plugins.metrics()]
    return out


@dataclass
class Unit:
    """The tenant asked about, or one of its children, with the figures of its whole subtree."""

    node: TenantNode
    values: Values = field(default_factory=dict)
    previous: Values = field(default_factory=dict)


@dataclass
class Rollup:
    node: TenantNode
    period: ReportPeriod
    previous_period: ReportPeriod
    specs: list[MetricSpec]
    total: Unit
    children: list[Unit]


def _number(value: Any) -> float:
    if isinstance(value, Decimal):
        value = float(value)
    return float(value or 0)


async def _sums(
    session: AsyncSession, tenant_ids: Sequence[int], metric_ids: Sequence[str], period: ReportPeriod
) -> dict[tuple[int, str], tuple[float, float]]:
    """(tenant, metric) -> (flow within the period, level at its end)."""
    if not metric_ids:
        return {}
    query = (
        select(
            ReportSum.tenant_id,
            ReportSum.metric,
            func.sum(case((ReportSum.month >= period.first, ReportSum.value), else_=0)),
            func.sum(ReportSum.value),
        )
        .where(ReportSum.tenant_id.in_(tenant_ids), ReportSum.metric.in_(metric_ids), ReportSum.month <= period.last)
        .group_by(ReportSum.tenant_id, ReportSum.metric)
    )
    rows = (await session.execute(query)).tuples()
    return {(t, m): (_number(flow), _number(level)) for t, m, flow, level in rows}


async def _distinct(
    session: AsyncSession, unit_ids: Sequence[int], metric_ids: Sequence[str], period: ReportPeriod
) -> dict[tuple[int, str], float]:
    if not metric_ids:
        return {}
    if period.key is not None:
        query = select(ReportDistinct.tenant_id, ReportDistinct.metric, ReportDistinct.value).where(
            ReportDistinct.tenant_id.in_(unit_ids),
            ReportDistinct.metric.in_(metric_ids),
            ReportDistinct.period == period.key,
        )
    else:
        keys = [f"M{m.year}-{m.month:02d}" for m in period.months]
        query = (
            select(ReportSubject.tenant_id, ReportSubject.metric, func.count(func.distinct(ReportSubject.subject)))
            .where(
                ReportSubject.tenant_id.in_(unit_ids),
                ReportSubject.metric.in_(metric_ids),
                ReportSubject.period.in_(keys),
                ReportSubject.n > 0,
            )
            .group_by(ReportSubject.tenant_id, ReportSubject.metric)
        )
    return {(t, m): _number(v) for t, m, v in (await session.execute(query)).tuples()}


async def _model_branches(session: AsyncSession, tenant_ids: Sequence[int], period: ReportPeriod) -> dict[int, float]:
    rows = await session.execute(
        select(RankingEntry.tenant_id, func.count(func.distinct(RankingEntry.org_id)))
        .where(
            RankingEntry.tenant_id.in_(tenant_ids),
            RankingEntry.is_model,
            RankingEntry.year >= period.first.year,
            RankingEntry.year <= period.last.year,
        )
        .group_by(RankingEntry.tenant_id)
    )
    return {t: float(c) for t, c in rows.tuples()}


async def figures(
    session: AsyncSession,
    tree: TenantTree,
    units: Sequence[TenantNode],
    specs: Sequence[MetricSpec],
    period: ReportPeriod,
    known: dict[str, MetricSpec] | None = None,
) -> dict[int, Values]:
    """Each unit's subtree figures for ``period``; the session must be able to read every unit's subtree.

    ``known`` names every metric (the catalogue) so a rate knows whether its two parts are flows or stocks.
    """
    known = {**(known or {}), **{s.id: s for s in specs}}

    def part(metric: str, flows: dict[str, float], levels: dict[str, float]) -> float:
        spec = known.get(metric)
        return levels[metric] if spec is not None and spec.aggregation is Aggregation.LEVEL else flows[metric]

    subtree = {u.id: tree.subtree_ids(u.id) for u in units}
    all_ids = sorted({t for ids in subtree.values() for t in ids})
    by_kind: dict[Aggregation, list[str]] = defaultdict(list)
    for spec in specs:
        by_kind[spec.aggregation].append(spec.id)
    summed = [s.id for s in specs if s.aggregation in (Aggregation.SUM, Aggregation.LEVEL) and s.id != MODEL_BRANCHES]
    for spec in specs:
        if spec.aggregation is Aggregation.RATE:
            summed += [m for m in (spec.numerator, spec.denominator) if m]
    sums = await _sums(session, all_ids, sorted(set(summed)), period)
    distinct = await _distinct(session, [u.id for u in units], by_kind[Aggregation.DISTINCT_COUNT], period)
    models = await _model_branches(session, all_ids, period) if any(s.id == MODEL_BRANCHES for s in specs) else {}
    out: dict[int, Values] = {}
    for unit in units:
        ids = subtree[unit.id]
        flows: dict[str, float] = defaultdict(float)
        levels: dict[str, float] = defaultdict(float)
        for (tenant_id, metric), (flow, level) in sums.items():
            if tenant_id in ids:
                flows[metric] += flow
                levels[metric] += level
        values: Values = {}
        for spec in specs:
            if spec.id == MODEL_BRANCHES:
                values[spec.id] = sum(v for t, v in models.items() if t in ids)
            elif spec.aggregation is Aggregation.SUM:
                values[spec.id] = flows[spec.id]
            elif spec.aggregation is Aggregation.LEVEL:
                values[spec.id] = levels[spec.id]
            elif spec.aggregation is Aggregation.DISTINCT_COUNT:
                values[spec.id] = distinct.get((unit.id, spec.id), 0.0)
            elif spec.aggregation is Aggregation.RATE and spec.numerator and spec.denominator:
                denominator = part(spec.denominator, flows, levels)
                numerator = part(spec.numerator, flows, levels)
                values[spec.id] = numerator / denominator if denominator else None
        out[unit.id] = values
    return out


async def rollup(
    session: AsyncSession,
    tree: TenantTree,
    node: TenantNode,
    specs: Sequence[MetricSpec],
    period: ReportPeriod,
    known: dict[str, MetricSpec] | None = None,
) -> Rollup:
    """The figures of ``node``'s subtree and of each child's, for ``period`` and the one before."""
    children = [tree.nodes[c] for c in tree.children.get(node.id, [])]
    units = [node, *children]
    previous_period = period.previous()
    now = await figures(session, tree, units, specs, period, known)
    before = await figures(session, tree, units, specs, previous_period, known)
    made = [Unit(u, now[u.id], before[u.id]) for u in units]
    return Rollup(node, period, previous_period, list(specs), made[0], made[1:])


def as_number(value: float | None) -> float | int | None:
    """Whole numbers as ints (counts), others rounded for display."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 4)
