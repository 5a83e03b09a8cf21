"""银发人才库: retired experts matched to local needs.

Profiles linked to members of the ledger (admission by review, periodic re-review, an age limit, reminders);
demands (需求清单) matched to experts with an explained score, also across the counties of a city when the city
opens its pools to each other (银龄人才援基层, see :mod:`plugins.talent_pool.sharing`); assignments, service
records and feedback; the think tank (智囊团) with reports in object storage and adopted suggestions; talent
stations. Nothing happens on import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.identity.roles import Role
from core.plugin_host import Aggregation, MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl
from core.reports.facts import Fact
from plugins.talent_pool import demo, panel, service
from plugins.talent_pool.categories import CATEGORIES
from plugins.talent_pool.models import MODELS
from plugins.talent_pool.pages import TalentPoolPages
from plugins.talent_pool.routes import TalentPoolController
from plugins.talent_pool.schemas import TalentPoolSettings

PLUGIN = PluginInfo(
    name="talent_pool",
    version="0.1.0",
    title_zh="银发人才库",
    title_en="Silver talent pool",
    description="人才入库与复审、需求清单与智能匹配、服务记录、智囊团、人才工作站",
)

READ = "talent_pool.read"
WRITE = "talent_pool.write"
REVIEW = "talent_pool.review"

TALENT_OFFICER = Role(
    "talent_officer",
    "人才专员",
    "Talent officer",
    frozenset({READ, WRITE, REVIEW, "tenant.read", "file.read"}),
)
TALENT_VIEWER = Role("talent_viewer", "人才库查阅", "Talent pool reader", frozenset({READ, "tenant.read"}))

HERE = Path(__file__).parent


@hookimpl
def register_routes() -> Sequence[Any]:
    return [TalentPoolController]


@hookimpl
def register_models() -> Sequence[type[Any]]:
    return list(MODELS)


@hookimpl
def register_pages() -> Sequence[Any]:
    return [TalentPoolPages]


@hookimpl
def templates_dir() -> Path:
    return HERE / "templates"


@hookimpl
def translations_dir() -> Path:
    return HERE / "translations"


@hookimpl
def navigation(context: PluginContext) -> Sequence[NavItem]:
    items = [
        NavItem("银发人才库", "Silver talent pool", "", READ, icon="people", order=50),
        NavItem("需求清单", "Demands", "demands", READ, icon="list", order=51),
        NavItem("专家名录", "Experts", "experts", READ, icon="id", order=52),
    ]
    return [item for item in items if context.can(item.permission)]


@hookimpl
def migrations_dir() -> Path:
    return HERE / "migrations"


@hookimpl
def register_roles() -> Sequence[Role]:
    return [TALENT_OFFICER, TALENT_VIEWER]


@hookimpl
def settings_schema() -> type[BaseModel]:
    return TalentPoolSettings


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    level = Aggregation.LEVEL
    return [
        MetricSpec("talent_pool.experts", "在库专家", "Experts in the pool", "人", "experts", aggregation=level),
        MetricSpec("talent_pool.demands_posted", "发布需求", "Demands posted", "项", "demands"),
        MetricSpec("talent_pool.demands_met", "满足需求", "Demands met", "项", "demands"),
        MetricSpec(
            "talent_pool.demand_met_rate",
            "需求满足率",
            "Share of demands met",
            "%",
            "%",
            aggregation=Aggregation.RATE,
            numerator="talent_pool.demands_met",
            denominator="talent_pool.demands_posted",
        ),
        MetricSpec("talent_pool.services", "专家服务", "Services given", "次", "services"),
        MetricSpec("talent_pool.problems_solved", "解决难题", "Problems solved", "个", "problems"),
        MetricSpec("talent_pool.trainees", "培训人次", "Trainees", "人次", "trainees"),
        MetricSpec("talent_pool.value_yuan", "创造效益", "Value created", "元", "yuan"),
        MetricSpec("talent_pool.reports", "调研报告", "Study reports", "篇", "reports"),
        MetricSpec("talent_pool.suggestions_made", "提出建议", "Suggestions made", "条", "suggestions"),
        MetricSpec("talent_pool.suggestions_adopted", "采纳建议", "Suggestions adopted", "条", "suggestions"),
        MetricSpec("talent_pool.stations", "人才工作站", "Talent stations", "个", "stations", aggregation=level),
        # Experts by the province-wide classification (an expert counts once in each category of their fields).
        *(
            MetricSpec(c.metric, f"{c.title_zh}领域专家", f"Experts: {c.title_en}", "人", "experts", aggregation=level)
            for c in CATEGORIES
        ),
    ]


@hookimpl
async def metric_facts(context: PluginContext) -> AsyncIterator[Fact]:
    async for fact in service.metric_facts(context.session, context.tenant.id):
        yield fact


@hookimpl
async def member_panel(context: PluginContext, member_id: str) -> MemberPanel | None:
    return await panel.member_panel(context.session, member_id)


@hookimpl
async def demo_data(context: PluginContext) -> None:
    settings = TalentPoolSettings.model_validate(context.settings or {})
    await demo.seed(context.session, context.tenant.id, settings.field_categories)


__all__ = ["PLUGIN", "TALENT_OFFICER", "TALENT_VIEWER"]
