"""时间银行: volunteer hours earn coins (以行储币), coins buy services and goods (以币换物).

Concurrency. A redemption is three statements in one transaction, each safe on its own under any number of
concurrent requests:

1. insert the redemption with its idempotency key (unique per tenant): a second request with the same key waits
   for the first to commit, fails on the key inside a savepoint, and answers with the first one's redemption;
2. ``UPDATE item SET stock = stock - n WHERE id = … AND active AND stock >= n`` — the row lock serialises the
   sellers, and PostgreSQL re-checks the condition after waiting, so the last item is sold once;
3. ``UPDATE account SET balance = balance - price WHERE … AND balance >= price`` — the same for coins.

If 2 or 3 finds nothing, the request fails and its transaction (with 1) rolls back. ``CHECK (stock >= 0)`` and
``CHECK (balance >= 0)`` stand behind both.

Across counties. A county's session sees only its own subtree, so coins move between counties through
``points_clearing``: the sending county debits the member and writes a pending row naming both counties; the
receiving county settles it once (a conditional ``UPDATE … WHERE status = 'pending'``) and credits the member
there. A member's transfer (``core.member_transferred``) moves points and coins this way automatically, and a
member can move coins himself to another county of the province (通存通兑).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.errors import ErrorSpec
from core.reports.facts import record
from plugins.points import metrics
from plugins.points.ledger import _insert, post_entry, q
from plugins.points.models import CatalogueItem, Clearing, CoinAccount, CoinEntry, Redemption
from plugins.points.rules import PointsSettings

log = logging.getLogger(__name__)

INSUFFICIENT = ErrorSpec(
    "points.insufficient_balance",
    409,
    "时间币余额不足：需要 {need} 币，现有 {have} 币",
    "Not enough coins: {need} needed, {have} available",
)
OUT_OF_STOCK = ErrorSpec(
    "points.out_of_stock",
    409,
    "“{name}”已经兑换完了（剩余 {stock}），请选择其他项目",
    "'{name}' is out of stock ({stock} left)",
)
ITEM_NOT_FOUND = ErrorSpec("points.item_not_found", 404, "找不到该兑换项目", "No such catalogue item")
ITEM_INACTIVE = ErrorSpec("points.item_inactive", 409, "“{name}”已下架，不能兑换", "'{name}' is no longer offered")
REDEMPTION_NOT_FOUND = ErrorSpec("points.redemption_not_found", 404, "找不到该兑换记录", "No such redemption")
ALREADY_CANCELLED = ErrorSpec(
    "points.redemption_cancelled", 409, "该兑换已经取消过了", "This redemption was already cancelled"
)
KEY_REUSED = ErrorSpec(
    "points.idempotency_key_reused",
    409,
    "这个请求编号已用于另一笔兑换，请刷新页面后重新提交",
    "This idempotency key belongs to a different redemption",
)
BALANCE_CAP = ErrorSpec(
    "points.balance_cap",
    409,
    "收款人时间币余额将超过本单位上限 {cap} 币（现有 {have} 币）",
    "The recipient's balance would exceed the tenant's cap of {cap} coins (has {have})",
)
SAME_MEMBER = ErrorSpec("points.same_member", 422, "不能捐赠给自己", "A member cannot donate to himself")
CROSS_COUNTY_OFF = ErrorSpec(
    "points.cross_county_off", 409, "本单位未开通时间币通存通兑", "Cross-county exchange is not enabled here"
)
OTHER_PROVINCE = ErrorSpec(
    "points.other_province",
    422,
    "时间币只能转入本省的其他县（区），{code} 不在本省或就是本单位",
    "Coins can only go to another county of the same province; {code} is not one",
)
CLEARING_NOT_FOUND = ErrorSpec(
    "points.clearing_not_found", 404, "找不到待接收的时间币或积分转入", "No such pending transfer of coins"
)


def _today() -> datetime.date:
    return datetime.date.today()


# --- accounts -----------------------------------------------------------------------------------------------


async def _ensure_account(session: AsyncSession, tenant_id: int, member_id: uuid.UUID) -> None:
    await session.execute(
        _insert(session, CoinAccount)
        .values(tenant_id=tenant_id, member_id=member_id, balance=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["tenant_id", "member_id"])
    )


async def balance_of(session: AsyncSession, tenant_id: int, member_id: uuid.UUID, *, lock: bool = False) -> int:
    query = select(CoinAccount.balance).where(CoinAccount.tenant_id == tenant_id, CoinAccount.member_id == member_id)
    if lock:
        await _ensure_account(session, tenant_id, member_id)
        query = query.with_for_update()
    return int((await session.execute(query)).scalar_one_or_none() or 0)


async def _debit(session: AsyncSession, tenant_id: int, member_id: uuid.UUID, amount: int) -> int:
    """Take ``amount`` coins if the balance allows it (one conditional UPDATE); the new balance."""
    await _ensure_account(session, tenant_id, member_id)
    new = (
        await session.execute(
            update(CoinAccount)
            .where(
                CoinAccount.tenant_id == tenant_id,
                CoinAccount.member_id == member_id,
                CoinAccount.balance >= amount,
            )
            .values(balance=CoinAccount.balance - amount, updated_at=utcnow())
            .returning(CoinAccount.balance)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if new is None:
        have = await balance_of(session, tenant_id, member_id)
        raise INSUFFICIENT.error(field="member_id", need=amount, have=have)
    return int(new)


async def _credit(session: AsyncSession, tenant_id: int, member_id: uuid.UUID, amount: int, cap: int | None) -> int:
    """Add ``amount`` (refusing to pass ``cap`` when given); the new balance."""
    await _ensure_account(session, tenant_id, member_id)
    query = update(CoinAccount).where(CoinAccount.tenant_id == tenant_id, CoinAccount.member_id == member_id)
    if cap is not None:
        query = query.where(CoinAccount.balance + amount <= cap)
    new = (
        await session.execute(
            query.values(balance=CoinAccount.balance + amount, updated_at=utcnow())
            .returning(CoinAccount.balance)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if new is None:
        have = await balance_of(session, tenant_id, member_id)
        raise BALANCE_CAP.error(field="to_member_id", cap=cap, have=have)
    return int(new)


async def _entry(session: AsyncSession, **values: Any) -> CoinEntry:
    entry = CoinEntry(**values)
    session.add(entry)
    await session.flush()
    facts = list(metrics.coin_facts(entry))
    if facts:
        await record(session, entry.tenant_id, *facts)
    return entry


# --- earning ------------------------------------------------------------------------------------------------


async def earn(
    session: AsyncSession,
    settings: PointsSettings,
    *,
    tenant_id: int,
    member_id: uuid.UUID,
    hours: Decimal,
    coins_per_hour: int,
    on_date: datetime.date,
    description: str,
    entered_by: str,
    source: str,
    source_ref: str | None = None,
    event_id: uuid.UUID | None = None,
    proxy: dict[str, Any] | None = None,
) -> CoinEntry:
    """以行储币: hours × rate coins, up to the tenant's balance cap (the hours always count)."""
    have = await balance_of(session, tenant_id, member_id, lock=True)
    wanted = int((hours * coins_per_hour).to_integral_value())
    amount = max(0, min(wanted, settings.coin_balance_cap - have))
    if amount:
        await _credit(session, tenant_id, member_id, amount, None)
    note = (
        description
        if amount == wanted
        else f"{description}（余额已达上限 {settings.coin_balance_cap} 币，按 {amount} 币存入）"
    )
    return await _entry(
        session,
        tenant_id=tenant_id,
        member_id=member_id,
        on_date=on_date,
        kind="earn",
        amount=amount,
        hours=q(hours),
        description=note,
        source=source,
        source_ref=source_ref,
        event_id=event_id,
        entered_by=entered_by,
        **(proxy or {}),
    )


async def reverse_earnings(session: AsyncSession, tenant_id: int, ref: str, *, by: str, source: str) -> int:
    """Take back coins and hours a withdrawn record earned (never below zero: what was spent stays spent)."""
    reversed_ids = select(CoinEntry.reverses_id).where(
        CoinEntry.tenant_id == tenant_id, CoinEntry.reverses_id.is_not(None)
    )
    earned = (
        (
            await session.execute(
                select(CoinEntry).where(
                    CoinEntry.tenant_id == tenant_id,
                    CoinEntry.source_ref == ref,
                    CoinEntry.kind == "earn",
                    ~CoinEntry.id.in_(reversed_ids),
                )
            )
        )
        .scalars()
        .all()
    )
    for entry in earned:
        have = await balance_of(session, tenant_id, entry.member_id, lock=True)
        take = min(entry.amount, have)
        if take:
            await _debit(session, tenant_id, entry.member_id, take)
        note = "来源记录撤销" if take == entry.amount else f"来源记录撤销；余额不足，只扣回 {take} 币"
        await _entry(
            session,
            tenant_id=tenant_id,
            member_id=entry.member_id,
            on_date=entry.on_date,
            kind="reversal",
            amount=-take,
            hours=-entry.hours if entry.hours is not None else None,
            description=note,
            source=source,
            source_ref=ref,
            reverses_id=entry.id,
            entered_by=by,
        )
    return len(earned)


# --- the catalogue ------------------------------------------------------------------------------------------


async def get_item(session: AsyncSession, item_id: uuid.UUID) -> CatalogueItem:
    item = (await session.execute(select(CatalogueItem).where(CatalogueItem.id == item_id))).scalar_one_or_none()
    if item is None:
        raise ITEM_NOT_FOUND.error(field="item_id")
    return item


# --- redemption ---------------------------------------------------------------------------------------------


async def redeem(
    session: AsyncSession,
    *,
    item_id: uuid.UUID,
    member_id: uuid.UUID,
    quantity: int,
    idempotency_key: str,
    actor: str,
    proxy: dict[str, Any] | None = None,
) -> tuple[Redemption, bool]:
    """以币换物, once per idempotency key; returns the redemption and whether this call made it."""
    from plugins.points.ledger import get_member

    item = await get_item(session, item_id)
    existing = await _by_key(session, item.tenant_id, idempotency_key)
    if existing is not None:
        return _same(existing, item_id, member_id, quantity), False
    member = await get_member(session, member_id, item.tenant_id)
    redemption = Redemption(
        tenant_id=item.tenant_id,
        item_id=item.id,
        member_id=member.id,
        quantity=quantity,
        coins=0,
        idempotency_key=idempotency_key,
        redeemed_by=actor,
        **(proxy or {}),
    )
    try:
        async with session.begin_nested():
            session.add(redemption)
            await session.flush()
    except IntegrityError:
        # The same key was committed by a concurrent request meanwhile: answer with that one.
        existing = await _by_key(session, item.tenant_id, idempotency_key)
        if existing is None:
            raise
        return _same(existing, item_id, member_id, quantity), False
    price = (
        await session.execute(
            update(CatalogueItem)
            .where(
                CatalogueItem.tenant_id == item.tenant_id,
                CatalogueItem.id == item.id,
                CatalogueItem.active.is_(True),
                CatalogueItem.stock >= quantity,
            )
            .values(stock=CatalogueItem.stock - quantity, updated_at=utcnow())
            .returning(CatalogueItem.price)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if price is None:
        await session.refresh(item)
        if not item.active:
            raise ITEM_INACTIVE.error(field="item_id", name=item.name)
        raise OUT_OF_STOCK.error(field="item_id", name=item.name, stock=item.stock)
    coins = int(price) * quantity
    await _debit(session, item.tenant_id, member.id, coins)
    redemption.coins = coins
    await _entry(
        session,
        tenant_id=item.tenant_id,
        member_id=member.id,
        on_date=_today(),
        kind="redeem",
        amount=-coins,
        description=f"兑换“{item.name}”×{quantity}",
        source="redemption",
        source_ref=f"redemption:{redemption.id}",
        entered_by=actor,
        **(proxy or {}),
    )
    await session.flush()
    return redemption, True


async def _by_key(session: AsyncSession, tenant_id: int, key: str) -> Redemption | None:
    return (
        await session.execute(
            select(Redemption).where(Redemption.tenant_id == tenant_id, Redemption.idempotency_key == key)
        )
    ).scalar_one_or_none()


def _same(existing: Redemption, item_id: uuid.UUID, member_id: uuid.UUID, quantity: int) -> Redemption:
    if (existing.item_id, existing.member_id, existing.quantity) != (item_id, member_id, quantity):
        raise KEY_REUSED.error(field="idempotency_key")
    return existing


async def cancel(session: AsyncSession, redemption_id: uuid.UUID, *, actor: str, reason: str) -> Redemption:
    """Return the coins and the stock, once (the redemption row is locked while cancelling)."""
    redemption = (
        await session.execute(
            select(Redemption)
            .where(Redemption.id == redemption_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if redemption is None:
        raise REDEMPTION_NOT_FOUND.error(field="redemption_id")
    if redemption.status != "redeemed":
        raise ALREADY_CANCELLED.error()
    redemption.status = "cancelled"
    redemption.cancelled_by = actor
    redemption.cancelled_at = utcnow()
    await session.execute(
        update(CatalogueItem)
        .where(CatalogueItem.tenant_id == redemption.tenant_id, CatalogueItem.id == redemption.item_id)
        .values(stock=CatalogueItem.stock + redemption.quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await _credit(session, redemption.tenant_id, redemption.member_id, redemption.coins, None)
    await _entry(
        session,
        tenant_id=redemption.tenant_id,
        member_id=redemption.member_id,
        on_date=_today(),
        kind="refund",
        amount=redemption.coins,
        description=f"取消兑换，退回 {redemption.coins} 币" + (f"：{reason}" if reason else ""),
        source="redemption",
        source_ref=f"redemption:{redemption.id}",
        entered_by=actor,
    )
    await session.flush()
    return redemption


# --- donation -----------------------------------------------------------------------------------------------


async def donate(
    session: AsyncSession,
    settings: PointsSettings,
    *,
    from_member_id: uuid.UUID,
    to_member_id: uuid.UUID,
    coins: int,
    note: str,
    actor: str,
    idempotency_key: str,
) -> tuple[CoinEntry, CoinEntry]:
    from plugins.points.ledger import get_member

    if from_member_id == to_member_id:
        raise SAME_MEMBER.error(field="to_member_id")
    giver = await get_member(session, from_member_id)
    taker = await get_member(session, to_member_id, giver.tenant_id)
    tenant_id = giver.tenant_id
    earlier = (
        await session.execute(
            select(CoinEntry).where(CoinEntry.tenant_id == tenant_id, CoinEntry.idem_key == f"donate:{idempotency_key}")
        )
    ).scalar_one_or_none()
    if earlier is not None:
        pair = (
            (
                await session.execute(
                    select(CoinEntry).where(
                        CoinEntry.tenant_id == tenant_id, CoinEntry.source_ref == earlier.source_ref
                    )
                )
            )
            .scalars()
            .all()
        )
        out = next(e for e in pair if e.kind == "donate_out")
        in_ = next(e for e in pair if e.kind == "donate_in")
        return out, in_
    # Lock both accounts in a fixed order so two opposite donations cannot deadlock.
    for member_id in sorted((giver.id, taker.id)):
        await balance_of(session, tenant_id, member_id, lock=True)
    await _debit(session, tenant_id, giver.id, coins)
    await _credit(session, tenant_id, taker.id, coins, settings.coin_balance_cap)
    ref = f"donation:{uuid.uuid4()}"
    common = {"tenant_id": tenant_id, "on_date": _today(), "source": "donation", "source_ref": ref, "entered_by": actor}
    out = await _entry(
        session, member_id=giver.id, kind="donate_out", amount=-coins, counterpart=str(taker.id),
        description=f"捐赠给{taker.name}" + (f"：{note}" if note else ""), idem_key=f"donate:{idempotency_key}",
        **common,
    )  # fmt: skip
    in_ = await _entry(
        session, member_id=taker.id, kind="donate_in", amount=coins, counterpart=str(giver.id),
        description=f"{giver.name}捐赠" + (f"：{note}" if note else ""), **common,
    )  # fmt: skip
    return out, in_


# --- across counties ----------------------------------------------------------------------------------------


def _same_province(tree: Any, a: int, b: int) -> bool:
    def root(tenant_id: int) -> int:
        node = tree.nodes[tenant_id]
        while node.parent_id is not None:
            node = tree.nodes[node.parent_id]
        return int(node.id)

    return a != b and root(a) == root(b)


async def send_coins(
    session: AsyncSession,
    settings: PointsSettings,
    tree: Any,
    *,
    member_id: uuid.UUID,
    to_tenant_code: str,
    coins: int,
    actor: str,
    idempotency_key: str,
) -> Clearing:
    """通存通兑: move a member's coins to his account in another county of the province (settled there)."""
    from plugins.points.ledger import get_member

    if not settings.allow_cross_county:
        raise CROSS_COUNTY_OFF.error()
    member = await get_member(session, member_id)
    target = tree.by_code.get(to_tenant_code)
    if target is None or not _same_province(tree, member.tenant_id, target.id):
        raise OTHER_PROVINCE.error(field="to_tenant_code", code=to_tenant_code)
    ref = f"exchange:{idempotency_key}"
    earlier = (
        await session.execute(
            select(Clearing).where(Clearing.kind == "exchange", Clearing.ref == ref, Clearing.member_id == member.id)
        )
    ).scalar_one_or_none()
    if earlier is not None:
        return earlier
    await _debit(session, member.tenant_id, member.id, coins)
    clearing = Clearing(
        kind="exchange",
        ref=ref,
        member_id=member.id,
        member_name=member.name,
        from_tenant=member.tenant_id,
        to_tenant=target.id,
        coins=coins,
        points=Decimal(0),
        year=_today().year,
        created_by=actor,
    )
    session.add(clearing)
    await session.flush()
    await _entry(
        session,
        tenant_id=member.tenant_id,
        member_id=member.id,
        on_date=_today(),
        kind="exchange_out",
        amount=-coins,
        description=f"通存通兑：转入{target.name}",
        source="exchange",
        source_ref=f"clearing:{clearing.id}",
        counterpart=target.code,
        idem_key=ref,
        entered_by=actor,
    )
    return clearing


async def move_out_on_transfer(session: AsyncSession, tenant_id: int, payload: dict[str, Any]) -> Clearing | None:
    """``core.member_transferred`` (outgoing): take the member's coins and this year's points out of the county."""
    member_id = uuid.UUID(str(payload["member_id"]))
    ref = f"transfer:{payload['transfer_id']}"
    earlier = (
        await session.execute(
            select(Clearing).where(Clearing.kind == "transfer", Clearing.ref == ref, Clearing.member_id == member_id)
        )
    ).scalar_one_or_none()
    if earlier is not None:
        return earlier
    year = _today().year
    coins = await balance_of(session, tenant_id, member_id, lock=True)
    from plugins.points.ledger import member_year

    points = await member_year(session, tenant_id, member_id, year)
    if coins == 0 and points == 0:
        return None
    to_code = str(payload.get("to_tenant_code") or "")
    if coins:
        await _debit(session, tenant_id, member_id, coins)
        await _entry(
            session, tenant_id=tenant_id, member_id=member_id, on_date=_today(), kind="transfer_out", amount=-coins,
            description=f"组织关系转出，时间币随转至 {to_code}", source="core.member_transferred", source_ref=ref,
            counterpart=to_code, idem_key=f"{ref}:out", entered_by="event:core",
        )  # fmt: skip
    if points:
        await post_entry(
            session, tenant_id=tenant_id, member_id=member_id, on_date=_today(), kind="transfer_out",
            category="transfer", rule_code="transfer", points=-points, entered_by="event:core",
            source="core.member_transferred", source_ref=ref, note=f"组织关系转出，{year} 年度积分随转至 {to_code}",
            check_open=False,
        )  # fmt: skip
    clearing = Clearing(
        kind="transfer",
        ref=ref,
        member_id=member_id,
        from_tenant=tenant_id,
        to_tenant=int(payload["to_tenant_id"]),
        coins=coins,
        points=points,
        year=year,
        created_by="event:core",
    )
    session.add(clearing)
    await session.flush()
    return clearing


async def pending_for(session: AsyncSession, tenant_ids: frozenset[int]) -> list[Clearing]:
    rows = await session.execute(
        select(Clearing)
        .where(Clearing.to_tenant.in_(sorted(tenant_ids)), Clearing.status == "pending")
        .order_by(Clearing.created_at)
    )
    return list(rows.scalars())


async def get_clearing(session: AsyncSession, clearing_id: uuid.UUID, tenant_ids: frozenset[int]) -> Clearing:
    row = (
        await session.execute(
            select(Clearing).where(
                Clearing.id == clearing_id,
                or_(Clearing.to_tenant.in_(sorted(tenant_ids)), Clearing.from_tenant.in_(sorted(tenant_ids))),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise CLEARING_NOT_FOUND.error(field="clearing_id")
    return row


async def settle(session: AsyncSession, clearing_id: uuid.UUID, tenant_ids: frozenset[int], *, actor: str) -> Clearing:
    """The receiving county credits what the sending county sent, exactly once."""
    claimed = (
        await session.execute(
            update(Clearing)
            .where(
                Clearing.id == clearing_id,
                Clearing.status == "pending",
                Clearing.to_tenant.in_(sorted(tenant_ids)),
            )
            .values(status="settled", settled_by=actor, settled_at=utcnow())
            .returning(Clearing.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if claimed is None:
        raise CLEARING_NOT_FOUND.error(field="clearing_id")
    row = (
        await session.execute(
            select(Clearing).where(Clearing.id == clearing_id).execution_options(populate_existing=True)
        )
    ).scalar_one()
    source = "core.member_transferred" if row.kind == "transfer" else "exchange"
    ref = f"clearing:{row.id}"
    if row.coins:
        await _credit(session, row.to_tenant, row.member_id, row.coins, None)
        await _entry(
            session, tenant_id=row.to_tenant, member_id=row.member_id, on_date=_today(),
            kind="transfer_in" if row.kind == "transfer" else "exchange_in", amount=row.coins,
            description="组织关系转入，时间币随转" if row.kind == "transfer" else "通存通兑：外县（区）转入",
            source=source, source_ref=ref, idem_key=f"{ref}:in", entered_by=actor,
        )  # fmt: skip
    if row.points:
        await post_entry(
            session, tenant_id=row.to_tenant, member_id=row.member_id, on_date=_today(), kind="transfer_in",
            category="transfer", rule_code="transfer", points=row.points, entered_by=actor, source=source,
            source_ref=ref, note=f"组织关系转入，{row.year} 年度积分随转", check_open=False,
        )  # fmt: skip
    return row


async def move_in_on_transfer(session: AsyncSession, tenant_id: int, payload: dict[str, Any], attempt: int) -> bool:
    """``core.member_transferred`` (incoming): settle what the sending county sent; wait for it a few times."""
    member_id = uuid.UUID(str(payload["member_id"]))
    ref = f"transfer:{payload['transfer_id']}"
    row = (
        await session.execute(
            select(Clearing).where(Clearing.kind == "transfer", Clearing.ref == ref, Clearing.member_id == member_id)
        )
    ).scalar_one_or_none()
    if row is None:
        if attempt < 5:
            raise LookupError(f"points: the sending county has not released {ref} yet; retry")
        log.warning("points: nothing came with %s (the programme may be off in the sending county)", ref)
        return False
    if row.status == "settled":
        return False
    await settle(session, row.id, frozenset({tenant_id}), actor="event:core")
    return True


async def expire_all(session: AsyncSession, tenant_id: int, *, on_date: datetime.date, by: str, year: int) -> int:
    """Coins reset at the year's end (when the tenant's rule says so): an ``expire`` entry per account."""
    accounts = (
        (
            await session.execute(
                select(CoinAccount).where(CoinAccount.tenant_id == tenant_id, CoinAccount.balance > 0).with_for_update()
            )
        )
        .scalars()
        .all()
    )
    for account in accounts:
        amount = account.balance
        await _debit(session, tenant_id, account.member_id, amount)
        await _entry(
            session, tenant_id=tenant_id, member_id=account.member_id, on_date=on_date, kind="expire",
            amount=-amount, description=f"{year} 年度结算，时间币清零", source="cycle",
            source_ref=f"expire:{year}", idem_key=f"expire:{year}:{account.member_id}", entered_by=by,
        )  # fmt: skip
    return len(accounts)


async def member_coins(session: AsyncSession, tenant_id: int, member_id: uuid.UUID) -> dict[str, int]:
    rows = (
        await session.execute(
            select(CoinEntry.kind, func.coalesce(func.sum(CoinEntry.amount), 0))
            .where(CoinEntry.tenant_id == tenant_id, CoinEntry.member_id == member_id)
            .group_by(CoinEntry.kind)
        )
    ).all()
    sums = {kind: int(total) for kind, total in rows}
    return {
        "balance": await balance_of(session, tenant_id, member_id),
        "earned": sums.get("earn", 0) + sums.get("reversal", 0),
        "redeemed": -(sums.get("redeem", 0) + sums.get("refund", 0)),
    }
