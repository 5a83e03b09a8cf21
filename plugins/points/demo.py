"""Defaults when a tenant enables the plugin, and demo data for ``yinling demo``.

Figures follow the reports: Fengjie's time bank buys services and goods at set places and times (以币换物), its
volunteers served in 9 teams and 120+ activities; the city report rated 156 star members in a year.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orgs.models import Member
from plugins.points import ledger, timebank
from plugins.points.models import CatalogueItem, Entry
from plugins.points.rules import PointsSettings

DEFAULT_CATALOGUE = (
    ("上门理发", "service", 30, 50, "社区党群服务中心“红齐剪吧”", "每周三上午 9:00—11:30"),
    ("家电小修", "service", 40, 30, "社区党群服务中心“红齐修吧”", "每周五下午 2:30—5:00"),
    ("上门量血压、测血糖", "service", 20, 100, "预约后上门", "工作日"),
    ("老年大学短期课程一期", "service", 120, 20, "县老年大学", "每学期开学前两周"),
    ("米面油礼包", "goods", 80, 40, "县委老干部局服务窗口", "每月 10 日上午"),
    ("老花镜", "goods", 50, 25, "县委老干部局服务窗口", "每月 10 日上午"),
)


async def defaults(session: AsyncSession, tenant_id: int) -> None:
    """The current year's cycle and, for a tenant with no catalogue yet, the default items."""
    await ledger.ensure_cycle(session, tenant_id, datetime.date.today().year)
    count = (
        await session.execute(
            select(func.count()).select_from(CatalogueItem).where(CatalogueItem.tenant_id == tenant_id)
        )
    ).scalar_one()
    if count:
        return
    for name, kind, price, stock, place, times in DEFAULT_CATALOGUE:
        session.add(
            CatalogueItem(tenant_id=tenant_id, name=name, kind=kind, price=price, stock=stock, place=place, times=times)
        )
    await session.flush()


async def seed(session: AsyncSession, tenant_id: int, settings: PointsSettings) -> None:
    """Idempotent: a tenant that already has entries is left as it is."""
    await defaults(session, tenant_id)
    existing = (
        await session.execute(select(func.count()).select_from(Entry).where(Entry.tenant_id == tenant_id))
    ).scalar_one()
    if existing:
        return
    members = (
        (
            await session.execute(
                select(Member)
                .where(Member.tenant_id == tenant_id, Member.status == "active")
                .order_by(Member.name, Member.id)
                .limit(24)
            )
        )
        .scalars()
        .all()
    )
    if not members:
        return
    today = datetime.date.today()
    start = today.replace(month=1, day=1)
    span = max((today - start).days, 1)
    plan = [("meeting", None), ("theme_day", None), ("volunteer_hour", Decimal(3)), ("mediation", None),
            ("study", None), ("volunteer_hour", Decimal(2)), ("education", None), ("absence", None)]  # fmt: skip
    for index, member in enumerate(members):
        for step in range(3 + index % 6):
            code, hours = plan[(index + step) % len(plan)]
            rule = settings.rule(code)
            if rule is None:
                continue
            day = start + datetime.timedelta(days=(index * 7 + step * 23) % span)
            await ledger.credit_by_rule(
                session, settings, tenant_id=tenant_id, member=member, rule=rule, on_date=day,
                kind="manual", entered_by="demo", approved_by="demo", source="manual", hours=hours,
                note="演示数据",
            )  # fmt: skip
            if rule.coins_per_hour and hours:
                await timebank.earn(
                    session, settings, tenant_id=tenant_id, member_id=member.id, hours=hours,
                    coins_per_hour=rule.coins_per_hour, on_date=day, description=rule.name_zh, entered_by="demo",
                    source="manual",
                )  # fmt: skip
