"""积分管理 + 时间银行: points for retired cadres' contributions and the volunteer time bank.

Rules. The rules are the plugin's settings (:mod:`plugins.points.rules`): base score, the five aspects, items
with points per event or per hour, caps per item and period, deductions (反向扣分), disqualifying items (一票否决),
scaling or exemption by health class, star thresholds, what happens at the year's end, the coin rate and balance
cap. The host inherits settings down the tenant tree key by key, so the province can fix the star thresholds
and a county its own items; that is why rules are settings and not a table resolved along the lineage — one
mechanism, validated on every change, with the origin of each value shown by the host. The defaults (Fengjie's
"红岩青松" and the city report's star scheme) apply as soon as a tenant enables the plugin; ``on_tenant_enabled``
opens the current year's cycle and stocks a small default catalogue.

Ledgers. Points and coins are append-only ledgers (:mod:`plugins.points.ledger`, :mod:`plugins.points.timebank`):
credits from events (``core.attendance_recorded`` and the plugins' ``*.case_settled`` / ``service_completed`` /
``activity_recorded`` events, with their ``*_revoked`` / ``*_cancelled`` twins reversed), manual entries under
maker-checker, reversals as new entries, the yearly closing, quarterly publications with objections, and
redemptions that are safe under concurrency. A member's transfer to another county (``core.member_transferred``)
moves his coins and this year's points with a pair of entries through ``points_clearing``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.events.types import DomainEvent, EventContext
from core.identity.roles import Role
from core.plugin_host import MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl
from core.reports.facts import Fact

log = logging.getLogger(__name__)

PLUGIN = PluginInfo(
    name="points",
    version="0.1.0",
    title_zh="积分管理与时间银行",
    title_en="Points and time bank",
    description="积分规则、积分台账、年度周期与季度公示、星级党员、志愿服务时间银行（以行储币、以币换物）",
)

READ = "points.read"
PROPOSE = "points.propose"
APPROVE = "points.approve"
MANAGE = "points.manage"
REDEEM = "points.redeem"

#: 积分管理员 (county bureau staff): approves, reverses, publishes, closes the year, runs the catalogue.
OFFICER = Role(
    "points_officer",
    "积分管理员",
    "Points officer",
    frozenset({READ, PROPOSE, APPROVE, MANAGE, REDEEM, "tenant.read"}),
)
#: 积分录入员 (a branch secretary): proposes entries, enters on members' behalf, hands out redemptions.
RECORDER = Role(
    "points_recorder",
    "积分录入员",
    "Points recorder",
    frozenset({READ, PROPOSE, REDEEM, "tenant.read"}),
)

HERE = Path(__file__).parent
MEMBER_TRANSFERRED = "core.member_transferred"


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.points.routes import PointsController

    return [PointsController]


@hookimpl
def register_pages() -> Sequence[Any]:
    from plugins.points.pages import PointsPages

    return [PointsPages]


@hookimpl
def register_models() -> Sequence[type[Any]]:
    from plugins.points.models import MODELS

    return list(MODELS)


@hookimpl
def migrations_dir() -> Path:
    return HERE / "migrations"


@hookimpl
def templates_dir() -> Path:
    return HERE / "templates"


@hookimpl
def translations_dir() -> Path:
    return HERE / "translations"


@hookimpl
def register_roles() -> Sequence[Role]:
    return [OFFICER, RECORDER]


@hookimpl
def settings_schema() -> type[BaseModel]:
    from plugins.points.rules import PointsSettings

    return PointsSettings


@hookimpl
def navigation(context: PluginContext) -> Sequence[NavItem]:
    items = [
        NavItem("积分台账", "Points ledger", "ledger", READ, icon="notebook", order=30),
        NavItem("积分申报审核", "Proposals", "proposals", READ, icon="check", order=31),
        NavItem("积分排名与公示", "Ranking", "ranking", READ, icon="chart", order=32),
        NavItem("时间银行", "Time bank", "timebank", READ, icon="gift", order=33),
    ]
    visible = [item for item in items if context.can(item.permission)]
    link = context.principal.member if context.principal else None
    if link is not None and link.tenant_id == context.tenant.id:  # 账号关联: the person's own points
        visible.append(NavItem("我的积分", "My points", "mine", "tenant.read", icon="star", order=2))
    return visible


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    from plugins.points.metrics import SPECS

    return list(SPECS)


@hookimpl
async def metric_facts(context: PluginContext) -> AsyncIterator[Fact]:
    from plugins.points.metrics import recount

    async for fact in recount(context.session, context.tenant.id):
        yield fact


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    """Credit from other programmes' events and the core's attendance; reverse on their withdrawal twins;
    move balances with a member who transfers to another county."""
    from plugins.points import ledger, timebank
    from plugins.points.rules import effective

    if event.name == MEMBER_TRANSFERRED:
        side = event.payload.get("side")
        if side == "outgoing":
            await timebank.move_out_on_transfer(context.session, event.tenant_id, event.payload)
        elif side == "incoming":
            await timebank.move_in_on_transfer(context.session, event.tenant_id, event.payload, context.attempt)
        return
    settings = effective(context.settings)
    if ledger.is_revocation(event.name):
        await ledger.revoke_event(context.session, event)
    elif any(event.name in rule.events for rule in settings.rules):
        await ledger.credit_event(context.session, settings, event)


@hookimpl
async def member_panel(context: PluginContext, member_id: str) -> MemberPanel | None:
    from plugins.points import service
    from plugins.points.rules import effective

    return await service.panel(context.session, effective(context.settings), member_id)


@hookimpl
async def on_tenant_enabled(context: PluginContext) -> None:
    """Open the current year's cycle and stock the default catalogue (a tenant enabled again keeps its own)."""
    from plugins.points import demo

    await demo.defaults(context.session, context.tenant.id)


@hookimpl
async def demo_data(context: PluginContext) -> None:
    from plugins.points import demo
    from plugins.points.rules import effective

    await demo.seed(context.session, context.tenant.id, effective(context.settings))


__all__ = ["OFFICER", "PLUGIN", "RECORDER"]
