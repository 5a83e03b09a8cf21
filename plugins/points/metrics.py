"""The plugin's report metrics and the facts each ledger row implies.

The same functions serve both directions: the ledgers call them as they write (``record`` in the same
transaction), and ``metric_facts`` calls them over the stored rows to recount from scratch. Since ledger rows are
never edited, a reversal is a row of its own whose facts are the negation of the original's, so the two agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.plugin_host import Aggregation, MetricSpec
from core.reports.facts import Fact

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from plugins.points.models import CoinEntry, Entry, YearResult

POINTS_ISSUED = "points.points_issued"
MEMBERS_WITH_POINTS = "points.members_with_points"
STARS_AWARDED = "points.stars_awarded"
VOLUNTEER_HOURS = "points.volunteer_hours"
COINS_EARNED = "points.coins_earned"
COINS_REDEEMED = "points.coins_redeemed"

SPECS = (
    MetricSpec(POINTS_ISSUED, "发放积分", "Points issued", "分", "points"),
    MetricSpec(
        MEMBERS_WITH_POINTS, "获得积分人数", "Members with points", "人", "members",
        aggregation=Aggregation.DISTINCT_COUNT,
    ),
    MetricSpec(STARS_AWARDED, "星级党员", "Star members", "人", "members"),
    MetricSpec(VOLUNTEER_HOURS, "志愿服务时长", "Volunteer hours", "小时", "hours"),
    MetricSpec(COINS_EARNED, "存入时间币", "Coins earned", "币", "coins"),
    MetricSpec(COINS_REDEEMED, "兑换时间币", "Coins redeemed", "币", "coins"),
)  # fmt: skip

#: Entry kinds that issue points (carried balances and transfers move points, they do not issue them).
ISSUING = ("event", "manual")


def entry_facts(entry: Entry, original_kind: str | None = None) -> Iterator[Fact]:
    """Points issued on the entry's date; the member counted once per period while a credit stands.

    A reversal of an issuing entry yields the negation (``original_kind`` tells what it reverses; when not
    given, a reversal is assumed to cancel an issuing entry, which is the only kind that can be reversed).
    """
    points = float(entry.points)
    if entry.kind in ISSUING:
        yield Fact(POINTS_ISSUED, entry.on_date, points)
        if points > 0:
            yield Fact(MEMBERS_WITH_POINTS, entry.on_date, 1, subject=str(entry.member_id))
    elif entry.kind == "reversal" and (original_kind or "event") in ISSUING:
        yield Fact(POINTS_ISSUED, entry.on_date, points)
        if points < 0:
            yield Fact(MEMBERS_WITH_POINTS, entry.on_date, -1, subject=str(entry.member_id))


def coin_facts(entry: CoinEntry) -> Iterator[Fact]:
    """Volunteer hours and coins earned by earnings (and their reversals); coins redeemed (and refunds)."""
    if entry.kind in ("earn", "reversal"):
        if entry.hours:
            yield Fact(VOLUNTEER_HOURS, entry.on_date, float(entry.hours))
        if entry.amount:
            yield Fact(COINS_EARNED, entry.on_date, float(entry.amount))
    elif entry.kind in ("redeem", "refund") and entry.amount:
        yield Fact(COINS_REDEEMED, entry.on_date, float(-entry.amount))


def result_facts(result: YearResult) -> Iterator[Fact]:
    if result.stars > 0:
        yield Fact(STARS_AWARDED, result.closed_on, 1)


async def recount(session: AsyncSession, tenant_id: int) -> AsyncIterator[Fact]:
    """Every fact the stored rows of ``tenant_id`` imply."""
    from plugins.points.models import CoinEntry, Entry, YearResult

    entries = (
        (await session.execute(select(Entry).where(Entry.tenant_id == tenant_id).order_by(Entry.id))).scalars().all()
    )
    kinds = {e.id: e.kind for e in entries}
    for entry in entries:
        original = kinds.get(entry.reverses_id) if entry.reverses_id else None
        for fact in entry_facts(entry, original):
            yield fact
    coins = (await session.execute(select(CoinEntry).where(CoinEntry.tenant_id == tenant_id))).scalars().all()
    for coin in coins:
        for fact in coin_facts(coin):
            yield fact
    results = (await session.execute(select(YearResult).where(YearResult.tenant_id == tenant_id))).scalars().all()
    for result in results:
        for fact in result_facts(result):
            yield fact
