"""Demo data for ``yinling demo``: a few plans and records with the names a county bureau would see."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yinling_visits import service
from yinling_visits.models import VisitPlan
from yinling_visits.schemas import PlanCreate, RecordCreate, VisitsSettings

PLANS = (
    ("张秀英", "梅园新村社区", 3, "王建国", "生日慰问"),
    ("李德明", "玄武门社区", 5, "王建国", "生病探望"),
    ("陈桂兰", "锁金村社区", 10, "刘芳", "节日慰问"),
    ("赵永福", "后宰门社区", 14, "刘芳", "困难帮扶"),
)
RECORDS: tuple[dict[str, Any], ...] = (
    {"person_name": "周淑珍", "community": "兰园社区", "days_ago": 6, "visitor": "王建国", "kind": "日常走访",
     "duration_minutes": 45, "findings": "身体硬朗，每天散步；独居，子女在外地。",
     "needs": ["希望社区定期上门量血压"], "follow_up_required": True},
    {"person_name": "孙志强", "community": "新街口社区", "days_ago": 2, "visitor": "刘芳", "kind": "困难帮扶",
     "duration_minutes": 60, "findings": "老伴住院，家中无人照料。",
     "needs": ["申请临时救助", "联系志愿者帮忙买菜"], "follow_up_required": True},
    {"person_name": "吴玉梅", "community": "梅园新村社区", "days_ago": 1, "visitor": "王建国", "kind": "节日慰问",
     "duration_minutes": 30, "findings": "精神很好，感谢组织关心。", "needs": [], "follow_up_required": False},
)  # fmt: skip


async def seed(session: AsyncSession, tenant_id: int, settings: VisitsSettings) -> None:
    """Idempotent: a tenant that already has plans is left as it is."""
    existing = (
        await session.execute(select(func.count()).select_from(VisitPlan).where(VisitPlan.tenant_id == tenant_id))
    ).scalar_one()
    if existing:
        return
    today = datetime.date.today()
    for name, community, days, visitor, kind in PLANS:
        await service.create_plan(
            session,
            tenant_id,
            PlanCreate.model_validate(
                {
                    "person_name": name,
                    "community": community,
                    "planned_date": today + datetime.timedelta(days=days),
                    "visitor": visitor,
                    "kind": kind,
                }
            ),
            actor="demo",
        )
    for record in RECORDS:
        values = {k: v for k, v in record.items() if k != "days_ago"}
        data = RecordCreate.model_validate(
            {**values, "visited_on": today - datetime.timedelta(days=record["days_ago"])}
        )
        # The demo shows visits as they are, whatever the tenant's photo rule says.
        await service.record_visit(
            session, tenant_id, data, actor="demo", settings=settings.model_copy(update={"require_photo": False})
        )
