"""Recounting from raw rows: the facts the core and every plugin derive from what is stored now.

Used to prove the maintained aggregates (the suite compares them), and by ``yinling reports rebuild`` to
repair them or to backfill a plugin installed after its data existed. Plugins' facts are asked of every plugin
implementing ``metric_facts``, active or not: a disabled programme's data stays, and so do its figures.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

from sqlalchemy import delete

from core.db.scope import TenantScope
from core.platform import Platform
from core.plugin_host.declarations import PluginContext
from core.reports.core_facts import core_metric_facts
from core.reports.facts import Fact, replay
from core.reports.models import ReportDistinct, ReportSubject, ReportSum
from core.tenancy.tree import TenantTree, load_tree


async def _collect(result: Any) -> list[Fact]:
    if result is None:
        return []
    if inspect.isasyncgen(result) or hasattr(result, "__aiter__"):
        return [fact async for fact in result]
    return list(result)


async def facts_from_raw(platform: Platform, tree: TenantTree, tenant_id: int) -> list[Fact]:
    """Every fact the core's and the plugins' rows in ``tenant_id`` imply right now."""
    node = tree.nodes[tenant_id]
    async with platform.database.session(TenantScope.of([tenant_id])) as session:
        facts = [fact async for fact in core_metric_facts(session, tenant_id)]
        for name in sorted(platform.plugins.plugins):
            if not platform.plugins.implements(name, "metric_facts"):
                continue
            context = PluginContext(plugin=name, tenant=node, tree=tree, session=session, settings={})
            result = await platform.plugins.call_one(name, "metric_facts", strict=True, context=context)
            facts += await _collect(result)
    return facts


def totals(facts: list[Fact]) -> dict[tuple[str, Any], float]:
    """(metric, month) → Σ value for summed facts; the same shape as ``report_sum`` rows of one tenant."""
    out: dict[tuple[str, Any], float] = defaultdict(float)
    for fact in facts:
        if fact.subject is None:
            out[(fact.metric, fact.on.replace(day=1))] += fact.value
    return {k: v for k, v in out.items() if v}


async def rebuild(platform: Platform) -> int:
    """Throw the aggregates away and replay every tenant's facts (run with writes stopped)."""
    async with platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        for table in (ReportSum, ReportSubject, ReportDistinct):
            await session.execute(delete(table))
    count = 0
    for node in tree.walk():
        facts = await facts_from_raw(platform, tree, node.id)
        async with platform.database.session(TenantScope.system()) as session:
            count += await replay(session, node.id, facts)
    return count
