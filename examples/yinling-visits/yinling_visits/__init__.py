"""走访慰问 Visits and care calls to elderly retired cadres — a third-party Yinling plugin.

This module is what the entry point ``visits = "yinling_visits"`` names: it declares ``PLUGIN`` and the hook
implementations, and nothing else happens on import (every plugin is loaded into every process and serves
every tenant). It uses only the documented plugin API: ``core.plugin_host``, ``core.events.outbox``/``types``,
``core.db.base``/``rls``, ``core.errors``, ``core.identity.access`` (``Acting``, ``provide_acting``) and
``core.identity.roles`` (``Role``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.events.types import DomainEvent, EventContext
from core.identity.roles import Role
from core.plugin_host import Aggregation, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl
from yinling_visits import demo, service
from yinling_visits.models import MODELS
from yinling_visits.routes import VisitController
from yinling_visits.schemas import VisitsSettings

__version__ = "0.1.0"

PLUGIN = PluginInfo(
    name="visits",
    version=__version__,
    title_zh="走访慰问",
    title_en="Visits and care",
    description="走访慰问老干部：计划、记录、发现的需求与回访 / visit plans, records, needs found, follow-ups",
)

READ = "visits.read"
WRITE = "visits.write"

VISITOR = Role(
    "visitor",
    "走访员",
    "Visitor",
    # tenant.read lets a visitor who holds no other role open the console and its navigation.
    frozenset({READ, WRITE, "tenant.read"}),
)

HERE = Path(__file__).parent


@hookimpl
def register_routes() -> Sequence[Any]:
    return [VisitController]


@hookimpl
def register_models() -> Sequence[type[Any]]:
    return list(MODELS)


@hookimpl
def migrations_dir() -> Path:
    return HERE / "migrations"


@hookimpl
def register_roles() -> Sequence[Role]:
    return [VISITOR]


@hookimpl
def settings_schema() -> type[BaseModel]:
    return VisitsSettings


@hookimpl
def navigation(context: PluginContext) -> Sequence[NavItem]:
    items = [
        NavItem("走访计划", "Visit plans", "plans", READ, icon="calendar", order=40),
        NavItem("走访记录", "Visit records", "records", READ, icon="notebook", order=41),
        NavItem("回访事项", "Follow-ups", "follow-ups", READ, icon="bell", order=42),
        NavItem("走访统计", "Visit figures", "stats", READ, icon="chart", order=43),
    ]
    return [item for item in items if context.can(item.permission)]


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    return [
        MetricSpec("visits.visits_made", "走访次数", "Visits made", "次", "visits"),
        MetricSpec(
            "visits.people_visited",
            "走访人数",
            "People visited",
            "人",
            "people",
            aggregation=Aggregation.DISTINCT_COUNT,
        ),
        MetricSpec("visits.needs_found", "发现需求", "Needs found", "条", "needs"),
        MetricSpec("visits.follow_ups_done", "完成回访", "Follow-ups done", "件", "follow-ups"),
    ]


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    """Count our own ``visits.visit_recorded`` into the tenant's tally; ignore every other event."""
    if event.name == service.VISIT_RECORDED:
        await service.count_visit(context.session, event)


@hookimpl
async def on_tenant_enabled(context: PluginContext) -> None:
    """Make sure the tenant has its tally row; a re-enabled tenant keeps the one (and the data) it had."""
    await service.ensure_tally(context.session, context.tenant.id)


@hookimpl
async def demo_data(context: PluginContext) -> None:
    await demo.seed(context.session, context.tenant.id, VisitsSettings.model_validate(context.settings))


__all__ = ["PLUGIN", "VISITOR"]
