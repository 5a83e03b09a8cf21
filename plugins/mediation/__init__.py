"""银龄调解室: mediation rooms run by retired cadres.

Rooms (调解室, 民生信访室, 婚姻家庭辅导中心 …) with their mediators (members of the ledger); cases from intake
(受理, with the notice of rights and duties) through investigation and mediation to an outcome (调解成功 /
调解不成 / 转交), performance, follow-up (回访) and the optional 司法确认, within the legal time limit; the
agreement (调解协议书) and the case file (卷宗) as .docx; scans and photos in object storage; figures kept as
report facts; ``mediation.case_settled`` and ``mediation.case_followed_up`` for the points plugin.

Importing this module only declares things (no connections, no settings read, no per-tenant state).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.identity.roles import Role
from core.plugin_host import MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl
from core.reports.facts import Fact

PLUGIN = PluginInfo(
    name="mediation",
    version="0.1.0",
    title_zh="银龄调解室",
    title_en="Mediation rooms",
    description="调解室与调解员、案件受理到回访的全流程、调解协议书、卷宗、信访事项",
)

READ = "mediation.read"
MANAGE = "mediation.manage"
CASE_READ = "mediation.case.read"
CASE_WRITE = "mediation.case.write"
CASE_REVEAL = "mediation.case.reveal"
STATS = "mediation.stats"

MEDIATOR = Role(
    "mediator",
    "调解员",
    "Mediator",
    frozenset({READ, CASE_READ, CASE_WRITE, CASE_REVEAL, STATS, "tenant.read", "file.read"}),
)
MANAGER = Role(
    "mediation_manager",
    "调解工作管理员",
    "Mediation manager",
    frozenset({READ, MANAGE, CASE_READ, CASE_WRITE, CASE_REVEAL, STATS, "tenant.read", "file.read"}),
)

HERE = Path(__file__).parent


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.mediation.routes import MediationController

    return [MediationController]


@hookimpl
def register_pages() -> Sequence[Any]:
    from plugins.mediation.pages import MediationPages

    return [MediationPages]


@hookimpl
def templates_dir() -> Path:
    return HERE / "templates"


@hookimpl
def translations_dir() -> Path:
    return HERE / "translations"


@hookimpl
def register_models() -> Sequence[type[Any]]:
    from plugins.mediation.models import MODELS

    return list(MODELS)


@hookimpl
def migrations_dir() -> Path:
    return HERE / "migrations"


@hookimpl
def register_roles() -> Sequence[Role]:
    return [MEDIATOR, MANAGER]


@hookimpl
def settings_schema() -> type[BaseModel]:
    from plugins.mediation.schemas import MediationSettings

    return MediationSettings


@hookimpl
def navigation(context: PluginContext) -> Sequence[NavItem]:
    items = [
        NavItem("调解案件", "Mediation cases", "cases", CASE_READ, icon="scale", order=50),
        NavItem("调解室", "Mediation rooms", "rooms", READ, icon="home", order=51),
        NavItem("调解统计", "Mediation figures", "stats", STATS, icon="chart", order=52),
    ]
    return [item for item in items if context.can(item.permission)]


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    from plugins.mediation.metrics import metric_specs

    return metric_specs()


@hookimpl
async def metric_facts(context: PluginContext) -> AsyncIterator[Fact]:
    from plugins.mediation.service import recount

    for fact in await recount(context.session, context.tenant.id):
        yield fact


@hookimpl
async def member_panel(context: PluginContext, member_id: str) -> MemberPanel | None:
    from plugins.mediation.panel import panel

    return await panel(context.session, member_id)


@hookimpl
async def demo_data(context: PluginContext) -> None:
    from plugins.mediation.demo import seed

    await seed(context)


__all__ = ["MANAGER", "MEDIATOR", "PLUGIN"]
