"""The points plugin's tables.

Ledgers are append-only by design: ``points_entry`` and ``points_coin_entry`` rows are never updated; a
correction is a new entry (``reverses_id`` names the entry it cancels, and a unique constraint allows only one
reversal per entry). Balances (``points_balance``, ``points_coin_account``) are maintained sums kept in the same
transaction as each entry; they are the rows that concurrent writers lock (``SELECT … FOR UPDATE``) or change with
a conditional ``UPDATE``, and ``CHECK (balance >= 0)`` is the database's last word on "never below zero".

``points_clearing`` is the one table that is not tenant-owned: it carries coins and points between two counties
(a member's transfer, 通存通兑). Each row names the two tenants, and its PostgreSQL row-level-security policies let
only those two read or change it (see the migration).
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from uuid_utils.compat import uuid7

from core.db.base import Base, Entity, TenantOwned, utcnow

POINTS = Numeric(10, 2)
HOURS = Numeric(8, 2)


class _Proxy:
    """代录: who entered a record for a member who does not use a phone, why, and the member's consent."""

    proxy_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    proxy_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consent_note: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Cycle(Entity, TenantOwned, Base):
    """一年为一个积分周期: a tenant's year, open until closed; closing freezes it."""

    __tablename__ = "points_cycle"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", name="uq_points_cycle_year"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
    )

    year: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="open")
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    year_end: Mapped[str | None] = mapped_column(String(8), nullable=True)  # carry | reset, as applied


class Entry(_Proxy, Entity, TenantOwned, Base):
    """One immutable line of a member's points ledger."""

    __tablename__ = "points_entry"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "reverses_id"], ["points_entry.tenant_id", "points_entry.id"], ondelete="RESTRICT"
        ),
        UniqueConstraint("tenant_id", "event_id", "member_id", "rule_code", name="uq_points_entry_event"),
        UniqueConstraint("tenant_id", "reverses_id", name="uq_points_entry_reverses"),
        CheckConstraint(
            "kind IN ('event', 'manual', 'reversal', 'carry', 'transfer_in', 'transfer_out')", name="kind_known"
        ),
        Index("ix_points_entry_member_year", "tenant_id", "member_id", "year"),
        Index("ix_points_entry_ref", "tenant_id", "source_ref"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    on_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    rule_code: Mapped[str] = mapped_column(String(48), nullable=False)
    points: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    hours: Mapped[Decimal | None] = mapped_column(HOURS, nullable=True)
    disqualifies: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source: Mapped[str] = mapped_column(String(96), nullable=False)  # event name, "manual", "cycle", …
    source_ref: Mapped[str | None] = mapped_column(String(160), nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entered_by: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Balance(TenantOwned, Base):
    """A member's points in one year: the sum of his entries, kept with each entry (the row writers lock)."""

    __tablename__ = "points_balance"
    __audited__ = False

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[Decimal] = mapped_column(POINTS, nullable=False, default=Decimal(0))
    disqualified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)


class Proposal(_Proxy, Entity, TenantOwned, Base):
    """A manual entry proposed by a branch secretary, approved (or rejected) by another person (maker-checker)."""

    __tablename__ = "points_proposal"
    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status_known"),
        Index("ix_points_proposal_status", "tenant_id", "status"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    rule_code: Mapped[str] = mapped_column(String(48), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    points: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    hours: Mapped[Decimal | None] = mapped_column(HOURS, nullable=True)
    on_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="proposed")
    proposed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entry_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)


class YearResult(TenantOwned, Base):
    """A member's frozen result when the year closed: score, stars (星级党员), or why none."""

    __tablename__ = "points_year_result"
    __table_args__ = (
        CheckConstraint("rating IN ('stars', 'unqualified', 'disqualified', 'exempt')", name="rating_known"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    member_name: Mapped[str] = mapped_column(String(64), nullable=False)
    score: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    stars: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rating: Mapped[str] = mapped_column(String(16), nullable=False)
    closed_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)


class Publication(Entity, TenantOwned, Base):
    """每季度公示: a ranking frozen when published (the rows are a snapshot, never recomputed)."""

    __tablename__ = "points_publication"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "quarter", "scope_key", name="uq_points_publication_scope"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
    )

    year: Mapped[int] = mapped_column(Integer, nullable=False)
    quarter: Mapped[int] = mapped_column(Integer, nullable=False)
    scope_key: Mapped[str] = mapped_column(String(40), nullable=False)  # "tenant" or the branch id
    org_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    scope_name: Mapped[str] = mapped_column(String(128), nullable=False)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, nullable=False, default=list)
    published_by: Mapped[str] = mapped_column(String(64), nullable=False)
    published_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)


class Objection(Entity, TenantOwned, Base):
    """A member's objection to a publication: raised → investigating → answered → filed, every step recorded."""

    __tablename__ = "points_objection"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "publication_id"],
            ["points_publication.tenant_id", "points_publication.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("status IN ('raised', 'investigating', 'answered', 'filed')", name="status_known"),
    )

    publication_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="raised")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, nullable=False, default=list)
    raised_by: Mapped[str] = mapped_column(String(64), nullable=False)


class CoinAccount(TenantOwned, Base):
    """A member's time-bank coins in a tenant; ``balance`` never goes below zero (CHECK and conditional UPDATE)."""

    __tablename__ = "points_coin_account"
    __audited__ = False
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)


class CoinEntry(_Proxy, Entity, TenantOwned, Base):
    """One immutable line of a member's coin ledger (以行储币 earns, 以币换物 spends, donations, moves)."""

    __tablename__ = "points_coin_entry"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "reverses_id"], ["points_coin_entry.tenant_id", "points_coin_entry.id"], ondelete="RESTRICT"
        ),
        UniqueConstraint("tenant_id", "event_id", "member_id", name="uq_points_coin_entry_event"),
        UniqueConstraint("tenant_id", "reverses_id", name="uq_points_coin_entry_reverses"),
        UniqueConstraint("tenant_id", "idem_key", name="uq_points_coin_entry_idem"),
        CheckConstraint(
            "kind IN ('earn', 'reversal', 'redeem', 'refund', 'donate_out', 'donate_in', 'exchange_out', "
            "'exchange_in', 'transfer_out', 'transfer_in', 'expire')",
            name="kind_known",
        ),
        Index("ix_points_coin_entry_member", "tenant_id", "member_id", "on_date"),
        Index("ix_points_coin_entry_ref", "tenant_id", "source_ref"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    on_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    hours: Mapped[Decimal | None] = mapped_column(HOURS, nullable=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(String(96), nullable=False)
    source_ref: Mapped[str | None] = mapped_column(String(160), nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    idem_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    counterpart: Mapped[str | None] = mapped_column(String(64), nullable=True)  # member id or tenant code
    entered_by: Mapped[str] = mapped_column(String(64), nullable=False)


class CatalogueItem(Entity, TenantOwned, Base):
    """A service or good the time bank offers for coins, with its stock and where/when it is handed out."""

    __tablename__ = "points_catalogue_item"
    __table_args__ = (
        CheckConstraint("kind IN ('service', 'goods')", name="kind_known"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    place: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    times: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Redemption(_Proxy, Entity, TenantOwned, Base):
    """以币换物: coins spent on an item; idempotent by key; cancelling returns the coins and the stock."""

    __tablename__ = "points_redemption"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["points_catalogue_item.tenant_id", "points_catalogue_item.id"],
            ondelete="RESTRICT",
        ),
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_points_redemption_key"),
        CheckConstraint("status IN ('redeemed', 'cancelled')", name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    coins: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="redeemed")
    idempotency_key: Mapped[str] = mapped_column(String(120), nullable=False)
    redeemed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    cancelled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancelled_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class Clearing(Base):
    """Coins and points on their way between two counties of a province (a transfer, 通存通兑).

    Written by the sending county (which has already debited the member there), settled once by the receiving
    county (which credits him there). Not tenant-owned: each row belongs to exactly two tenants, and row-level
    security lets only those two see it.
    """

    __tablename__ = "points_clearing"
    __table_args__ = (
        UniqueConstraint("kind", "ref", "member_id", name="uq_points_clearing_ref"),
        CheckConstraint("kind IN ('transfer', 'exchange')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'settled')", name="status_known"),
        CheckConstraint("coins >= 0", name="coins_not_negative"),
        Index("ix_points_clearing_to", "to_tenant", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    ref: Mapped[str] = mapped_column(String(120), nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    member_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    from_tenant: Mapped[int] = mapped_column(Integer, nullable=False)
    to_tenant: Mapped[int] = mapped_column(Integer, nullable=False)
    coins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    points: Mapped[Decimal] = mapped_column(POINTS, nullable=False, default=Decimal(0))
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="pending")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)
    settled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    settled_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)


MODELS: tuple[type[Base], ...] = (
    Cycle,
    Entry,
    Balance,
    Proposal,
    YearResult,
    Publication,
    Objection,
    CoinAccount,
    CoinEntry,
    CatalogueItem,
    Redemption,
    Clearing,
)
