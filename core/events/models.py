"""The outbox and the record of each delivery to each consumer."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from uuid_utils.compat import uuid7

from core.db.base import Base, TenantOwned, utcnow


class OutboxEvent(TenantOwned, Base):
    """A domain event, written in the transaction of the change it describes."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "dispatched_at", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(96), nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)
    occurred_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)
    dispatched_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class EventDelivery(TenantOwned, Base):
    """One event for one consumer plugin: pending until its ``on_event`` committed, retried with backoff."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["outbox_event.tenant_id", "outbox_event.id"], ondelete="RESTRICT"
        ),
        Index("ix_event_delivery_due", "status", "next_attempt_at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
