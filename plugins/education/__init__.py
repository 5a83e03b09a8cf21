"""关心下一代: youth-education stations (校外教育辅导站) and their "五老" counsellors.

Stations at schools, communities and villages; counsellors (members of the ledger or, where the tenant allows,
non-member volunteers) by their "五老" category; activities with audience counts and photos; pairings
(结对帮扶) with a student, only where the tenant switched pairing on. Recording an activity emits
``education.activity_recorded`` (the points plugin credits the counsellors' hours); an edit or a withdrawal
emits the ``education.activity_revoked`` twin. Report figures are maintained as facts in the same transaction.

Metric conventions: ``education.stations`` is a LEVEL (open stations); active counsellors are a DISTINCT_COUNT
in total (``education.active_counsellors``) and one metric id per "五老" category
(``education.active_counsellors.old_cadre`` …); activities are counted in total and one id per kind
(``education.activities.red_history`` …). A counsellor is "active" in a period when they led an activity in it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.identity.roles import Role
from core.plugin_host import Aggregation, MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl
from core.reports.facts import Fact
from plugins.education import service
from plugins.education.models import CATEGORIES, MODELS
from plugins.education.schemas import CATEGORY_EN, CATEGORY_ZH, KIND_EN, KIND_ZH, EducationSettings

PLUGIN = PluginInfo(
    name="education",
    version="0.1.0",
    title_zh="关心下一代",
    title_en="Youth education",
    description="校外教育辅导站、“五老”辅导员、活动记录、结对帮扶",
)

READ = "education.read"
WRITE = "education.write"
REVEAL = "education.reveal"
PAIRING = "education.pairing"
PAIRING_REVEAL = "education.pairing_reveal"

COUNSELLOR = Role("counsellor", "辅导员", "Counsellor", frozenset({READ, WRITE, "tenant.read"}))
EDUCATION_OFFICER = Role(
    "education_officer",
    "关工委工作人员",
    "Youth-education officer",
    frozenset({READ, WRITE, REVEAL, PAIRING, PAIRING_REVEAL, "tenant.read"}),
)

HERE = Path(__file__).parent


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.education.routes import EducationController

    return [EducationController]


@hookimpl
def register_pages() -> Sequence[Any]:
    from plugins.education.pages import EducationPages

    return [EducationPages]


@hookimpl
def templates_dir() -> Path:
    return HERE / "templates"


@hookimpl
def translations_dir() -> Path:
    return HERE / "translations"


@hookimpl
def navigation(context: PluginContext) -> Sequence[NavItem]:
    items = [
        NavItem("辅导站", "Stations", "stations", READ, icon="home", order=60),
        NavItem("辅导活动", "Activities", "activities", READ, icon="notebook", order=61),
        NavItem("关心下一代统计", "Youth-education figures", "figures", READ, icon="chart", order=62),
    ]
    return [item for item in items if context.can(item.permission)]


@hookimpl
def register_models() -> Sequence[type[Any]]:
    return list(MODELS)


@hookimpl
def migrations_dir() -> Path:
    return HERE / "migrations"


@hookimpl
def register_roles() -> Sequence[Role]:
    return [COUNSELLOR, EDUCATION_OFFICER]


@hookimpl
def settings_schema() -> type[BaseModel]:
    return EducationSettings


@hookimpl
def register_metrics() -> Sequence[MetricSpec]:
    metrics = [
        MetricSpec(service.STATIONS, "辅导站", "Open stations", "个", "stations", aggregation=Aggregation.LEVEL),
        MetricSpec(
            service.ACTIVE_COUNSELLORS,
            "活跃辅导员",
            "Active counsellors",
            "人",
            "people",
            aggregation=Aggregation.DISTINCT_COUNT,
        ),
    ]
    for category in CATEGORIES:
        metrics.append(
            MetricSpec(
                f"{service.ACTIVE_COUNSELLORS}.{category}",
                f"活跃辅导员（{CATEGORY_ZH[category]}）",
                f"Active counsellors ({CATEGORY_EN[category]})",
                "人",
                "people",
                aggregation=Aggregation.DISTINCT_COUNT,
            )
        )
    metrics.append(MetricSpec(service.ACTIVITIES, "辅导活动", "Activities", "场", "activities"))
    for kind, zh in KIND_ZH.items():
        metrics.append(
            MetricSpec(
                f"{service.ACTIVITIES}.{kind}", f"辅导活动（{zh}）", f"Activities ({KIND_EN[kind]})", "场", "activities"
            )
        )
    metrics += [
        MetricSpec(service.STUDENTS_REACHED, "受教育学生", "Students reached", "人次", "attendances"),
        MetricSpec(service.PARENTS_REACHED, "参加活动家长", "Parents reached", "人次", "attendances"),
        MetricSpec(service.TEACHERS_REACHED, "参加活动教师", "Teachers reached", "人次", "attendances"),
        MetricSpec(service.COUNSELLOR_HOURS, "辅导员服务时长", "Counsellor hours", "小时", "hours"),
        MetricSpec(service.PAIRINGS, "在帮结对", "Pairings in force", "对", "pairings", aggregation=Aggregation.LEVEL),
        MetricSpec(service.PAIRINGS_STARTED, "新结对", "Pairings started", "对", "pairings"),
    ]
    return metrics


@hookimpl
async def metric_facts(context: PluginContext) -> AsyncIterator[Fact]:
    async for fact in service.facts_of_tenant(context.session, context.tenant.id):
        yield fact


@hookimpl
async def member_panel(context: PluginContext, member_id: str) -> MemberPanel | None:
    try:
        member = uuid.UUID(str(member_id))
    except ValueError:
        return None
    summary = await service.member_summary(context.session, member)
    if summary is None:
        return None
    counsellor = summary["counsellor"]
    activities = summary["activities"]
    minutes = sum(row.duration_minutes for row in activities)
    items: list[dict[str, Any]] = [
        {"label": "“五老”类别", "label_en": "Category", "value": CATEGORY_ZH[counsellor.category]},
        {"label": "辅导活动", "label_en": "Activities", "value": str(len(activities))},
        {"label": "辅导时长（小时）", "label_en": "Hours", "value": f"{minutes / 60:g}"},
        {"label": "在帮结对", "label_en": "Pairings in force", "value": str(summary["pairings"])},
    ]
    for row in activities[:10]:
        items.append(
            {
                "on": row.held_on.isoformat(),
                "text": f"{KIND_ZH[row.kind]}：{row.title}（{row.duration_minutes} 分钟）",
                "text_en": f"{KIND_EN[row.kind]}: {row.title} ({row.duration_minutes} min)",
            }
        )
    return MemberPanel("关心下一代", "Youth education", items=items, order=60)


@hookimpl
async def demo_data(context: PluginContext) -> None:
    from plugins.education import demo

    is_county = str(getattr(context.tenant.level, "value", context.tenant.level)) == "county"
    await demo.seed(context.session, context.tenant.id, EducationSettings.model_validate(context.settings), is_county)


__all__ = ["COUNSELLOR", "EDUCATION_OFFICER", "PLUGIN"]
