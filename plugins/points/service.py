"""Reading the ledgers for people: a member's summary and panel, the catalogue's upkeep, the subtree's figures."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError
from core.plugin_host import MemberPanel
from plugins.points import ledger, timebank
from plugins.points.models import CatalogueItem, CoinEntry, Entry, Proposal, Redemption
from plugins.points.rules import PointsSettings
from plugins.points.schemas import ItemUpdate, MemberSummary, StatsOut

KIND_ZH = {
    "event": "",
    "manual": "",
    "reversal": "冲销",
    "carry": "上年结转",
    "transfer_in": "随组织关系转入",
    "transfer_out": "随组织关系转出",
}
COIN_KIND_ZH = {
    "earn": "存入",
    "reversal": "撤销",
    "redeem": "兑换",
    "refund": "退回",
    "donate_out": "捐出",
    "donate_in": "受赠",
    "exchange_out": "通兑转出",
    "exchange_in": "通兑转入",
    "transfer_out": "转出",
    "transfer_in": "转入",
    "expire": "清零",
}


def _signed(value: Decimal | int) -> str:
    return f"{value:+}" if isinstance(value, int) else f"{Decimal(value).normalize():+f}"


def _proxy_note(row: Any) -> tuple[str, str]:
    if not row.proxy_by:
        return "", ""
    return (
        f"（{row.proxy_by} 代录：{row.proxy_reason}；本人同意：{row.consent_note}）",
        f" (entered on the member's behalf by {row.proxy_by}: {row.proxy_reason}; consent: {row.consent_note})",
    )


async def history(
    session: AsyncSession, settings: PointsSettings, tenant_id: int, member_id: uuid.UUID, limit: int = 50
) -> list[dict[str, Any]]:
    entries = (
        (
            await session.execute(
                select(Entry)
                .where(Entry.tenant_id == tenant_id, Entry.member_id == member_id)
                .order_by(Entry.on_date.desc(), Entry.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    coins = (
        (
            await session.execute(
                select(CoinEntry)
                .where(CoinEntry.tenant_id == tenant_id, CoinEntry.member_id == member_id)
                .order_by(CoinEntry.on_date.desc(), CoinEntry.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    items: list[dict[str, Any]] = []
    for e in entries:
        rule = settings.rule(e.rule_code)
        name = rule.name_zh if rule else (KIND_ZH.get(e.kind) or e.rule_code)
        name_en = (rule.name_en if rule else "") or e.kind
        prefix = KIND_ZH.get(e.kind, "")
        zh, en = _proxy_note(e)
        items.append(
            {
                "on": e.on_date.isoformat(),
                "text": f"{prefix + '：' if prefix else ''}{name} {_signed(e.points)} 分{zh}",
                "text_en": f"{name_en} {_signed(e.points)} points{en}",
                "kind": e.kind,
                "proxy": bool(e.proxy_by),
            }
        )
    for c in coins:
        zh, en = _proxy_note(c)
        hours = f"，{Decimal(c.hours).normalize():f} 小时" if c.hours else ""
        items.append(
            {
                "on": c.on_date.isoformat(),
                "text": f"时间币{COIN_KIND_ZH.get(c.kind, c.kind)} {_signed(c.amount)} 币：{c.description}{hours}{zh}",
                "text_en": f"Coins {c.kind} {_signed(c.amount)}{en}",
                "kind": f"coin_{c.kind}",
                "proxy": bool(c.proxy_by),
            }
        )
    items.sort(key=lambda i: i["on"], reverse=True)
    return items[:limit]


async def member_summary(
    session: AsyncSession, settings: PointsSettings, member_id: uuid.UUID, year: int | None
) -> MemberSummary:
    member = await ledger.get_member(session, member_id)
    year = year or datetime.date.today().year
    rows = await ledger.standings(session, settings, year=year, tenant_ids=[member.tenant_id])
    mine = next((r for r in rows if r["member_id"] == str(member.id)), None)
    points = await ledger.member_year(session, member.tenant_id, member.id, year)
    score = ledger.q(settings.base_score + points)
    rating, stars = ledger.rating_of(settings, score, False, member.health_class)
    if mine is not None:
        rating, stars = mine["rating"], mine["stars"]
    return MemberSummary(
        member_id=member.id,
        name=member.name,
        year=year,
        base_score=settings.base_score,
        points=points,
        score=score,
        stars=stars,
        rating=rating,
        rating_zh=ledger.RATING_ZH[rating],
        rank=mine["rank"] if mine else None,
        ranked=len(rows),
        coins=await timebank.member_coins(session, member.tenant_id, member.id),
        history=await history(session, settings, member.tenant_id, member.id),
    )


async def panel(session: AsyncSession, settings: PointsSettings, member_id: str) -> MemberPanel | None:
    try:
        summary = await member_summary(session, settings, uuid.UUID(member_id), None)
    except (AppError, ValueError):  # not a member here (or gone): no panel
        return None
    stars = "★" * summary.stars if summary.stars else summary.rating_zh
    items: list[dict[str, Any]] = [
        {"label": "本年积分", "label_en": "Score this year", "value": f"{summary.score.normalize():f}"},
        {"label": "排名", "label_en": "Rank", "value": f"{summary.rank} / {summary.ranked}" if summary.rank else "—"},
        {"label": "星级", "label_en": "Stars", "value": f"{stars}（{summary.stars} 星）" if summary.stars else stars},
        {"label": "时间币", "label_en": "Time-bank coins", "value": str(summary.coins["balance"])},
    ]
    items.extend({"on": h["on"], "text": h["text"], "text_en": h["text_en"]} for h in summary.history[:20])
    return MemberPanel(title_zh="积分与时间银行", title_en="Points and time bank", items=items)


async def update_item(session: AsyncSession, item_id: uuid.UUID, data: ItemUpdate) -> CatalogueItem:
    item = (
        await session.execute(select(CatalogueItem).where(CatalogueItem.id == item_id).with_for_update())
    ).scalar_one_or_none()
    if item is None:
        raise timebank.ITEM_NOT_FOUND.error(field="item_id")
    for name in ("price", "place", "times", "active"):
        value = getattr(data, name)
        if value is not None:
            setattr(item, name, value)
    if data.add_stock:
        item.stock += data.add_stock
    await session.flush()
    return item


async def stats(session: AsyncSession, year: int) -> StatsOut:
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    issued, members = (
        await session.execute(
            select(func.coalesce(func.sum(Entry.points), 0), func.count(func.distinct(Entry.member_id))).where(
                Entry.year == year, Entry.kind.in_(("event", "manual", "reversal"))
            )
        )
    ).one()
    waiting = (
        await session.execute(select(func.count()).select_from(Proposal).where(Proposal.status == "proposed"))
    ).scalar_one()
    in_year = (CoinEntry.on_date >= start) & (CoinEntry.on_date <= end)
    hours, earned = (
        await session.execute(
            select(func.coalesce(func.sum(CoinEntry.hours), 0), func.coalesce(func.sum(CoinEntry.amount), 0)).where(
                in_year, CoinEntry.kind.in_(("earn", "reversal"))
            )
        )
    ).one()
    redeemed = (
        await session.execute(
            select(func.coalesce(func.sum(CoinEntry.amount), 0)).where(
                in_year, CoinEntry.kind.in_(("redeem", "refund"))
            )
        )
    ).scalar_one()
    redemptions = (
        await session.execute(select(func.count()).select_from(Redemption).where(Redemption.status == "redeemed"))
    ).scalar_one()
    return StatsOut(
        year=year,
        points_issued=ledger.q(issued),
        members_with_points=int(members),
        proposals_waiting=int(waiting),
        volunteer_hours=ledger.q(hours),
        coins_earned=int(earned),
        coins_redeemed=-int(redeemed),
        redemptions=int(redemptions),
    )
