"""The points ledger: credits from events, maker-checker manual entries, reversals, the yearly cycle, stars.

Every write goes through :func:`post_entry`, which (1) locks the year's cycle row ``FOR SHARE`` so a closing
(which takes it ``FOR UPDATE``) waits for the writers in flight and every writer after it sees ``closed``;
(2) locks the member's balance row for the year ``FOR UPDATE`` so caps per item and period are counted without
a race; (3) inserts the immutable entry, moves the balance and records the report facts — one transaction.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.errors import AppError, ErrorSpec
from core.events.types import DomainEvent
from core.orgs.models import Member, Organization
from core.reports.facts import Fact, record
from plugins.points import metrics
from plugins.points.models import Balance, Cycle, Entry, Proposal, YearResult
from plugins.points.rules import PointsSettings, Rule

log = logging.getLogger(__name__)

CREDIT_KINDS = ("event", "manual")

YEAR_CLOSED = ErrorSpec(
    "points.year_closed",
    409,
    "{year} 年度积分已结算封存，不能再记入或更改；如需更正请在新年度登记",
    "The points year {year} is closed; nothing can be entered or changed in it",
)
MEMBER_NOT_FOUND = ErrorSpec("points.member_not_found", 404, "找不到该党员", "No such member")
RULE_NOT_FOUND = ErrorSpec(
    "points.rule_not_found", 422, "本单位积分规则中没有项目 {code}", "The tenant's rules have no item {code}"
)
ENTRY_NOT_FOUND = ErrorSpec("points.entry_not_found", 404, "找不到该积分记录", "No such points entry")
ALREADY_REVERSED = ErrorSpec(
    "points.already_reversed", 409, "这条积分记录已经冲销过了", "This entry has already been reversed"
)
NOT_REVERSIBLE = ErrorSpec(
    "points.not_reversible",
    409,
    "冲销记录、结转和转移记录不能再冲销",
    "Reversals, carried balances and transfers cannot be reversed",
)
PROPOSAL_NOT_FOUND = ErrorSpec("points.proposal_not_found", 404, "找不到该积分申报", "No such proposal")
PROPOSAL_DECIDED = ErrorSpec(
    "points.proposal_decided", 409, "该申报已经处理（{status}），不能重复处理", "The proposal was already {status}"
)
OWN_PROPOSAL = ErrorSpec(
    "points.own_proposal",
    403,
    "不能审核自己提交的积分申报，请由另一位管理员审核",
    "You cannot approve or reject your own proposal; another administrator must decide",
)
YEAR_ALREADY_CLOSED = ErrorSpec(
    "points.year_already_closed", 409, "{year} 年度已经结算过了", "The year {year} is already closed"
)
YEAR_NOT_OVER = ErrorSpec(
    "points.year_not_over",
    409,
    "{year} 年度还没有结束，不能结算",
    "The year {year} is not over yet and cannot be closed",
)
PROXY_INCOMPLETE = ErrorSpec(
    "points.proxy_incomplete",
    422,
    "代录须写明代录原因和本人同意的方式",
    "An entry on a member's behalf needs the reason and how the member consented",
)

_STATUS_ZH = {"proposed": "待审核", "approved": "已通过", "rejected": "未通过"}
TWO = Decimal("0.01")


def q(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def today() -> datetime.date:
    return datetime.date.today()


# --- the cycle ----------------------------------------------------------------------------------------------


async def ensure_cycle(session: AsyncSession, tenant_id: int, year: int) -> None:
    await session.execute(
        _insert(session, Cycle)
        .values(
            id=uuid.uuid4(), tenant_id=tenant_id, year=year, status="open", created_at=utcnow(), updated_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "year"])
    )


async def require_open(session: AsyncSession, tenant_id: int, year: int) -> None:
    """Lock the cycle ``FOR SHARE`` (closing waits for us; we wait for a closing) and refuse a closed year."""
    await ensure_cycle(session, tenant_id, year)
    status = (
        await session.execute(
            select(Cycle.status).where(Cycle.tenant_id == tenant_id, Cycle.year == year).with_for_update(read=True)
        )
    ).scalar_one()
    if status != "open":
        raise YEAR_CLOSED.error(field="on_date", year=year)


async def _locked_balance(session: AsyncSession, tenant_id: int, member_id: uuid.UUID, year: int) -> Balance:
    await session.execute(
        _insert(session, Balance)
        .values(tenant_id=tenant_id, member_id=member_id, year=year, total=0, disqualified=False, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["tenant_id", "member_id", "year"])
    )
    return (
        await session.execute(
            select(Balance)
            .where(Balance.tenant_id == tenant_id, Balance.member_id == member_id, Balance.year == year)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def get_member(session: AsyncSession, member_id: uuid.UUID, tenant_id: int | None = None) -> Member:
    query = select(Member).where(Member.id == member_id, Member.status == "active")
    if tenant_id is not None:
        query = query.where(Member.tenant_id == tenant_id)
    member = (await session.execute(query)).scalars().first()
    if member is None:
        raise MEMBER_NOT_FOUND.error(field="member_id")
    return member


# --- writing entries ----------------------------------------------------------------------------------------


def _period_start(day: datetime.date, period: str) -> datetime.date:
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _period_end(day: datetime.date, period: str) -> datetime.date:
    start = _period_start(day, period)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 + months
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


async def _used(session: AsyncSession, tenant_id: int, member_id: uuid.UUID, rule: Rule, day: datetime.date) -> Decimal:
    """Points of ``rule`` the member already has in the rule's cap period (reversals included)."""
    total = (
        await session.execute(
            select(func.coalesce(func.sum(Entry.points), 0)).where(
                Entry.tenant_id == tenant_id,
                Entry.member_id == member_id,
                Entry.rule_code == rule.code,
                Entry.kind.in_(("event", "manual", "reversal")),
                Entry.on_date >= _period_start(day, rule.cap_period),
                Entry.on_date < _period_end(day, rule.cap_period),
            )
        )
    ).scalar_one()
    return q(total)


def apply_cap(rule: Rule, wanted: Decimal, used: Decimal) -> Decimal:
    """Clip ``wanted`` so the period's total of the item stays within its cap (deductions: its magnitude)."""
    if rule.cap is None:
        return wanted
    if wanted >= 0:
        return max(Decimal(0), min(wanted, rule.cap - used))
    return min(Decimal(0), max(wanted, -rule.cap - used))


async def post_entry(
    session: AsyncSession,
    *,
    tenant_id: int,
    member_id: uuid.UUID,
    on_date: datetime.date,
    kind: str,
    category: str,
    rule_code: str,
    points: Decimal,
    entered_by: str,
    source: str,
    hours: Decimal | None = None,
    disqualifies: bool = False,
    source_ref: str | None = None,
    event_id: uuid.UUID | None = None,
    reverses_id: uuid.UUID | None = None,
    proposal_id: uuid.UUID | None = None,
    note: str = "",
    approved_by: str | None = None,
    proxy: dict[str, str | None] | None = None,
    year: int | None = None,
    check_open: bool = True,
) -> Entry:
    year = year or on_date.year
    if check_open:
        await require_open(session, tenant_id, year)
    balance = await _locked_balance(session, tenant_id, member_id, year)
    entry = Entry(
        tenant_id=tenant_id,
        member_id=member_id,
        year=year,
        on_date=on_date,
        kind=kind,
        category=category,
        rule_code=rule_code,
        points=q(points),
        hours=hours,
        disqualifies=disqualifies,
        source=source,
        source_ref=source_ref,
        event_id=event_id,
        reverses_id=reverses_id,
        proposal_id=proposal_id,
        note=note,
        entered_by=entered_by,
        approved_by=approved_by,
        **(proxy or {}),
    )
    session.add(entry)
    balance.total = q(balance.total + entry.points)
    if disqualifies:
        balance.disqualified = True
    await session.flush()
    facts = list(metrics.entry_facts(entry))
    if facts:
        await record(session, tenant_id, *facts)
    return entry


async def credit_by_rule(
    session: AsyncSession,
    settings: PointsSettings,
    *,
    tenant_id: int,
    member: Member,
    rule: Rule,
    on_date: datetime.date,
    kind: str,
    entered_by: str,
    source: str,
    hours: Decimal | None = None,
    points: Decimal | None = None,
    **extra: Any,
) -> Entry | None:
    """Points for one occurrence of ``rule``: per event or per hour, scaled by health class, capped."""
    await require_open(session, tenant_id, on_date.year)
    await _locked_balance(session, tenant_id, member.id, on_date.year)  # serialise the member's cap arithmetic
    if points is None:
        points = rule.points * (hours or Decimal(0)) if rule.per == "hour" else rule.points
    if points > 0:
        points = points * settings.health_rule(member.health_class).scale
    used = await _used(session, tenant_id, member.id, rule, on_date)
    granted = q(apply_cap(rule, q(points), used))
    if granted == 0 and not rule.disqualifies:
        return None
    return await post_entry(
        session,
        tenant_id=tenant_id,
        member_id=member.id,
        on_date=on_date,
        kind=kind,
        category=rule.category,
        rule_code=rule.code,
        points=granted,
        hours=hours,
        disqualifies=rule.disqualifies,
        entered_by=entered_by,
        source=source,
        note=extra.pop("note", "") or ("" if granted == q(points) else f"本项已达上限，按 {granted} 分计"),
        **extra,
    )


async def reverse_entry(session: AsyncSession, entry: Entry, *, by: str, note: str, source: str = "manual") -> Entry:
    """A new entry that cancels ``entry`` (never an edit); one reversal per entry (unique constraint)."""
    if entry.kind not in CREDIT_KINDS:
        raise NOT_REVERSIBLE.error(field="entry_id")
    await require_open(session, entry.tenant_id, entry.year)
    existing = (
        await session.execute(select(Entry.id).where(Entry.tenant_id == entry.tenant_id, Entry.reverses_id == entry.id))
    ).scalar_one_or_none()
    if existing is not None:
        raise ALREADY_REVERSED.error(field="entry_id")
    reversal = await post_entry(
        session,
        tenant_id=entry.tenant_id,
        member_id=entry.member_id,
        on_date=entry.on_date,
        year=entry.year,
        kind="reversal",
        category=entry.category,
        rule_code=entry.rule_code,
        points=-entry.points,
        hours=-entry.hours if entry.hours is not None else None,
        entered_by=by,
        source=source,
        source_ref=entry.source_ref,
        reverses_id=entry.id,
        note=note,
        check_open=False,
    )
    if entry.disqualifies:
        still = (
            await session.execute(
                select(func.count())
                .select_from(Entry)
                .where(
                    Entry.tenant_id == entry.tenant_id,
                    Entry.member_id == entry.member_id,
                    Entry.year == entry.year,
                    Entry.disqualifies.is_(True),
                    Entry.id != entry.id,
                    ~Entry.id.in_(
                        select(Entry.reverses_id).where(
                            Entry.tenant_id == entry.tenant_id, Entry.reverses_id.is_not(None)
                        )
                    ),
                )
            )
        ).scalar_one()
        if not still:
            await session.execute(
                update(Balance)
                .where(
                    Balance.tenant_id == entry.tenant_id,
                    Balance.member_id == entry.member_id,
                    Balance.year == entry.year,
                )
                .values(disqualified=False)
            )
    return reversal


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> Entry:
    entry = (await session.execute(select(Entry).where(Entry.id == entry_id))).scalar_one_or_none()
    if entry is None:
        raise ENTRY_NOT_FOUND.error(field="entry_id")
    return entry


# --- events -------------------------------------------------------------------------------------------------


def _source_ref(event: DomainEvent) -> str | None:
    payload = event.payload
    if event.name.startswith("core.attendance_"):
        if payload.get("meeting_id") and payload.get("member_id"):
            return f"core.attendance:{payload['meeting_id']}:{payload['member_id']}"
        return None
    prefix = event.name.split(".", 1)[0]
    ref = payload.get("revokes") or payload.get("ref")
    return f"{prefix}:{ref}" if ref else None


def _credits(event: DomainEvent) -> list[tuple[str, Decimal | None, str | None]]:
    """(member id, hours, role) triples the event names, for either payload convention."""
    payload = event.payload
    if event.name.startswith("core.attendance_"):
        minutes = payload.get("duration_minutes") or 0
        return [(str(payload["member_id"]), q(Decimal(minutes) / 60), payload.get("kind"))]
    out = []
    for credit in payload.get("credits") or []:
        if not isinstance(credit, dict) or not credit.get("member_id"):
            continue
        hours = credit.get("hours")
        out.append((str(credit["member_id"]), q(hours) if hours is not None else None, credit.get("role")))
    return out


def _occurred_on(event: DomainEvent) -> datetime.date:
    raw = event.payload.get("occurred_on") or event.payload.get("date")
    try:
        return datetime.date.fromisoformat(str(raw))
    except ValueError:
        return event.occurred_at.date()


def is_revocation(name: str) -> bool:
    return name.endswith(("_revoked", "_cancelled"))


async def credit_event(session: AsyncSession, settings: PointsSettings, event: DomainEvent) -> list[Entry]:
    """Credit the members an event names by the tenant's rules; the same event twice credits once.

    Idempotency has two keys: the event id (a redelivery of the same event), and the source record's ref (the
    same record announced again under a new event id) — an unreversed entry of the same ref, member and item
    already there means nothing to do.
    """
    from plugins.points import timebank  # the time bank credits coins for volunteer hours

    rules = [r for r in settings.rules if event.name in r.events]
    if not rules:
        return []
    day = _occurred_on(event)
    ref = _source_ref(event)
    if await _closed(session, event.tenant_id, day.year):
        log.warning("points: %s for %s falls in the closed year %s; not credited", event.name, ref, day.year)
        return []
    written: list[Entry] = []
    for member_id, hours, role in _credits(event):
        try:
            member = await get_member(session, uuid.UUID(member_id), event.tenant_id)
        except (AppError, ValueError):  # not a member of this tenant (or not an id): nothing to credit here
            log.warning("points: %s names member %s unknown in tenant %s", event.name, member_id, event.tenant_id)
            continue
        for rule in rules:
            if rule.roles and role not in rule.roles:
                continue
            if await _already(session, event, member.id, rule.code, ref):
                continue
            entry = await credit_by_rule(
                session,
                settings,
                tenant_id=event.tenant_id,
                member=member,
                rule=rule,
                on_date=day,
                kind="event",
                entered_by=f"event:{event.source}",
                source=event.name,
                hours=hours,
                source_ref=ref,
                event_id=event.id,
            )
            if entry is not None:
                written.append(entry)
            if rule.coins_per_hour and hours:
                await timebank.earn(
                    session,
                    settings,
                    tenant_id=event.tenant_id,
                    member_id=member.id,
                    hours=hours,
                    coins_per_hour=rule.coins_per_hour,
                    on_date=day,
                    description=rule.name_zh,
                    entered_by=f"event:{event.source}",
                    source=event.name,
                    source_ref=ref,
                    event_id=event.id,
                )
    return written


async def _closed(session: AsyncSession, tenant_id: int, year: int) -> bool:
    status = (
        await session.execute(select(Cycle.status).where(Cycle.tenant_id == tenant_id, Cycle.year == year))
    ).scalar_one_or_none()
    return status == "closed"


async def _already(
    session: AsyncSession, event: DomainEvent, member_id: uuid.UUID, rule_code: str, ref: str | None
) -> bool:
    same_event = select(Entry.id).where(
        Entry.tenant_id == event.tenant_id,
        Entry.event_id == event.id,
        Entry.member_id == member_id,
        Entry.rule_code == rule_code,
    )
    if (await session.execute(same_event)).first() is not None:
        return True
    if ref is None:
        return False
    reversed_ids = select(Entry.reverses_id).where(Entry.tenant_id == event.tenant_id, Entry.reverses_id.is_not(None))
    same_record = select(Entry.id).where(
        Entry.tenant_id == event.tenant_id,
        Entry.source_ref == ref,
        Entry.member_id == member_id,
        Entry.rule_code == rule_code,
        Entry.kind == "event",
        Entry.source == event.name,
        ~Entry.id.in_(reversed_ids),
    )
    return (await session.execute(same_record)).first() is not None


async def revoke_event(session: AsyncSession, event: DomainEvent) -> int:
    """A ``*_revoked`` / ``*_cancelled`` event: reverse what its record credited (points and coins)."""
    from plugins.points import timebank

    ref = _source_ref(event)
    if ref is None:
        return 0
    reversed_ids = select(Entry.reverses_id).where(Entry.tenant_id == event.tenant_id, Entry.reverses_id.is_not(None))
    entries = (
        (
            await session.execute(
                select(Entry).where(
                    Entry.tenant_id == event.tenant_id,
                    Entry.source_ref == ref,
                    Entry.kind == "event",
                    ~Entry.id.in_(reversed_ids),
                )
            )
        )
        .scalars()
        .all()
    )
    done = 0
    for entry in entries:
        if await _closed(session, entry.tenant_id, entry.year):
            log.warning("points: %s would reverse an entry of the closed year %s; kept", event.name, entry.year)
            continue
        await reverse_entry(
            session, entry, by=f"event:{event.source}", note=f"来源记录撤销（{event.name}）", source=event.name
        )
        done += 1
    done += await timebank.reverse_earnings(
        session, event.tenant_id, ref, by=f"event:{event.source}", source=event.name
    )
    return done


# --- manual entries: maker-checker --------------------------------------------------------------------------


def proxy_fields(proxy: Any, actor: str) -> dict[str, str | None]:
    if proxy is None:
        return {}
    if not (proxy.reason and proxy.consent):
        raise PROXY_INCOMPLETE.error(field="proxy")
    return {"proxy_by": actor, "proxy_reason": proxy.reason, "consent_note": proxy.consent}


async def propose(
    session: AsyncSession,
    settings: PointsSettings,
    *,
    tenant_id: int,
    member_id: uuid.UUID,
    rule_code: str,
    on_date: datetime.date,
    reason: str,
    hours: Decimal | None,
    points: Decimal | None,
    actor: str,
    proxy: Any = None,
) -> Proposal:
    rule = settings.rule(rule_code)
    if rule is None:
        raise RULE_NOT_FOUND.error(field="rule_code", code=rule_code)
    member = await get_member(session, member_id)
    await require_open(session, member.tenant_id, on_date.year)
    if points is None:
        points = rule.points * (hours or Decimal(1)) if rule.per == "hour" else rule.points
    proposal = Proposal(
        tenant_id=member.tenant_id,
        member_id=member.id,
        rule_code=rule.code,
        category=rule.category,
        points=q(points),
        hours=hours,
        on_date=on_date,
        reason=reason,
        proposed_by=actor,
        **proxy_fields(proxy, actor),
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def get_proposal(session: AsyncSession, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal:
    query = select(Proposal).where(Proposal.id == proposal_id)
    if lock:
        query = query.with_for_update()
    proposal = (await session.execute(query)).scalar_one_or_none()
    if proposal is None:
        raise PROPOSAL_NOT_FOUND.error(field="proposal_id")
    return proposal


async def decide(
    session: AsyncSession,
    settings: PointsSettings,
    proposal_id: uuid.UUID,
    *,
    approve: bool,
    actor: str,
    note: str,
) -> Proposal:
    """Approve (writes the entry) or reject; the proposer can never decide on his own proposal."""
    proposal = await get_proposal(session, proposal_id, lock=True)
    if proposal.status != "proposed":
        raise PROPOSAL_DECIDED.error(status=_STATUS_ZH.get(proposal.status, proposal.status))
    if proposal.proposed_by == actor:
        raise OWN_PROPOSAL.error()
    proposal.status = "approved" if approve else "rejected"
    proposal.decided_by = actor
    proposal.decided_at = utcnow()
    proposal.decision_note = note
    if approve:
        rule = settings.rule(proposal.rule_code)
        if rule is None:
            raise RULE_NOT_FOUND.error(field="rule_code", code=proposal.rule_code)
        member = await get_member(session, proposal.member_id, proposal.tenant_id)
        proxy = (
            {k: getattr(proposal, k) for k in ("proxy_by", "proxy_reason", "consent_note")}
            if proposal.proxy_by
            else None
        )
        entry = await credit_by_rule(
            session,
            settings,
            tenant_id=proposal.tenant_id,
            member=member,
            rule=rule,
            on_date=proposal.on_date,
            kind="manual",
            entered_by=proposal.proposed_by,
            approved_by=actor,
            source="manual",
            hours=proposal.hours,
            points=proposal.points,
            source_ref=f"proposal:{proposal.id}",
            proposal_id=proposal.id,
            note=proposal.reason,
            proxy=proxy,
        )
        proposal.entry_id = entry.id if entry else None
        if rule.coins_per_hour and proposal.hours:
            from plugins.points import timebank

            await timebank.earn(
                session,
                settings,
                tenant_id=proposal.tenant_id,
                member_id=member.id,
                hours=proposal.hours,
                coins_per_hour=rule.coins_per_hour,
                on_date=proposal.on_date,
                description=proposal.reason,
                entered_by=proposal.proposed_by,
                source="manual",
                source_ref=f"proposal:{proposal.id}",
                proxy=proxy,
            )
    await session.flush()
    return proposal


# --- scores, ranking, stars ---------------------------------------------------------------------------------


def rating_of(
    settings: PointsSettings, score: Decimal, disqualified: bool, health_class: str | None
) -> tuple[str, int]:
    if disqualified:
        return "disqualified", 0
    if settings.health_rule(health_class).exempt_from_rating:
        return "exempt", 0
    stars = settings.stars_for(score)
    return ("stars", stars) if stars else ("unqualified", 0)


RATING_ZH = {"stars": "星级党员", "unqualified": "不合格", "disqualified": "一票否决", "exempt": "免于评定"}


async def standings(
    session: AsyncSession,
    settings: PointsSettings,
    *,
    year: int,
    until: datetime.date | None = None,
    org_id: uuid.UUID | None = None,
    tenant_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Every active member's score (base + entries up to ``until``), rank, stars — best first."""
    members_q = (
        select(Member, Organization.name)
        .outerjoin(
            Organization, (Organization.tenant_id == Member.tenant_id) & (Organization.id == Member.formal_org_id)
        )
        .where(Member.status == "active")
    )
    if org_id is not None:
        members_q = members_q.where(Member.formal_org_id == org_id)
    if tenant_ids is not None:
        members_q = members_q.where(Member.tenant_id.in_(list(tenant_ids)))
    members = (await session.execute(members_q)).all()
    sums_q = (
        select(Entry.tenant_id, Entry.member_id, func.sum(Entry.points))
        .where(Entry.year == year)
        .group_by(Entry.tenant_id, Entry.member_id)
    )
    if until is not None:
        sums_q = sums_q.where(Entry.on_date <= until)
    sums = {(t, m): q(s or 0) for t, m, s in (await session.execute(sums_q)).all()}
    disqualified = {
        (t, m)
        for t, m in (
            await session.execute(
                select(Balance.tenant_id, Balance.member_id).where(Balance.year == year, Balance.disqualified.is_(True))
            )
        ).all()
    }
    rows = []
    for member, org_name in members:
        total = sums.get((member.tenant_id, member.id), Decimal(0))
        dq = (member.tenant_id, member.id) in disqualified
        score = q(settings.base_score + total)
        rating, stars = rating_of(settings, score, dq, member.health_class)
        rows.append(
            {
                "member_id": str(member.id),
                "tenant_id": member.tenant_id,
                "member_name": member.name,
                "branch": org_name or "",
                "points": str(total),
                "score": str(score),
                "stars": stars,
                "rating": rating,
                "rating_zh": RATING_ZH[rating],
            }
        )
    rows.sort(key=lambda r: (-Decimal(r["score"]), r["member_name"]))
    rank = 0
    last: str | None = None
    for index, row in enumerate(rows, start=1):
        if row["score"] != last:
            rank, last = index, row["score"]
        row["rank"] = rank
    return rows


# --- closing the year ---------------------------------------------------------------------------------------


async def close_year(
    session: AsyncSession, settings: PointsSettings, *, tenant_id: int, year: int, actor: str, force: bool = False
) -> Cycle:
    """Freeze the year: results and stars per member, then carry or reset points (and coins) as the rules say."""
    from plugins.points import timebank

    if year >= today().year and not force:
        raise YEAR_NOT_OVER.error(field="year", year=year)
    await ensure_cycle(session, tenant_id, year)
    cycle = (
        await session.execute(
            select(Cycle)
            .where(Cycle.tenant_id == tenant_id, Cycle.year == year)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if cycle.status == "closed":
        raise YEAR_ALREADY_CLOSED.error(field="year", year=year)
    cycle.status = "closed"
    cycle.closed_at = utcnow()
    cycle.closed_by = actor
    cycle.year_end = settings.year_end
    closed_on = datetime.date(year, 12, 31)
    rows = await standings(session, settings, year=year, tenant_ids=[tenant_id])
    facts: list[Fact] = []
    for row in rows:
        result = YearResult(
            tenant_id=tenant_id,
            year=year,
            member_id=uuid.UUID(row["member_id"]),
            member_name=row["member_name"],
            score=Decimal(row["score"]),
            stars=row["stars"],
            rating=row["rating"],
            closed_on=closed_on,
        )
        session.add(result)
        facts.extend(metrics.result_facts(result))
    await session.flush()
    if facts:
        await record(session, tenant_id, *facts)
    await ensure_cycle(session, tenant_id, year + 1)
    if settings.year_end == "carry":
        for row in rows:
            points = Decimal(row["points"])
            if points == 0:
                continue
            await post_entry(
                session,
                tenant_id=tenant_id,
                member_id=uuid.UUID(row["member_id"]),
                on_date=datetime.date(year + 1, 1, 1),
                kind="carry",
                category="carry",
                rule_code="carry",
                points=points,
                entered_by=actor,
                source="cycle",
                source_ref=f"carry:{year}",
                note=f"{year} 年度积分结转",
            )
    if settings.coins_year_end == "reset":
        await timebank.expire_all(session, tenant_id, on_date=closed_on, by=actor, year=year)
    await session.flush()
    return cycle


async def member_year(session: AsyncSession, tenant_id: int, member_id: uuid.UUID, year: int) -> Decimal:
    total = (
        await session.execute(
            select(Balance.total).where(
                Balance.tenant_id == tenant_id, Balance.member_id == member_id, Balance.year == year
            )
        )
    ).scalar_one_or_none()
    return q(total or 0)
