"""The plugin's tables. Every one is tenant-owned: ``tenant_id`` leads the primary key and every foreign key,
so a row can only ever point at a row of the same tenant (and the schema can be distributed by tenant)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned, utcnow

KINDS = ("节日慰问", "生病探望", "生日慰问", "困难帮扶", "日常走访")
PLAN_STATUSES = ("planned", "done", "cancelled")

_KINDS_SQL = ", ".join(f"'{k}'" for k in KINDS)


class VisitPlan(Entity, TenantOwned, Base):
    """A visit someone is to make: whom (name and community until the member ledger exists), when, what kind."""

    __tablename__ = "visits_plan"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_KINDS_SQL})", name="kind_known"),
        CheckConstraint("status IN ('planned', 'done', 'cancelled')", name="status_known"),
        Index("ix_visits_plan_tenant_date", "tenant_id", "planned_date"),
    )

    person_name: Mapped[str] = mapped_column(String(32), nullable=False)
    community: Mapped[str] = mapped_column(String(64), nullable=False)
    planned_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    visitor: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class VisitRecord(Entity, TenantOwned, Base):
    """A visit that was made: when, by whom, for how long, what was found and which needs came up."""

    __tablename__ = "visits_record"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "plan_id"],
            ["visits_plan.tenant_id", "visits_plan.id"],
            name="fk_visits_record_plan",
            ondelete="RESTRICT",
        ),
        CheckConstraint(f"kind IN ({_KINDS_SQL})", name="kind_known"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        Index("ix_visits_record_tenant_date", "tenant_id", "visited_on"),
    )

    plan_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    person_name: Mapped[str] = mapped_column(String(32), nullable=False)
    community: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    visited_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    visitor: Mapped[str] = mapped_column(String(32), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    findings: Mapped[str] = mapped_column(Text, nullable=False, default="")
    needs: Mapped[list[Any]] = mapped_column(JsonB, nullable=False, default=list)
    follow_up_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    follow_up_due: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    photo_file_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)


class FollowUp(Entity, TenantOwned, Base):
    """What a visit left to do (回访): due on a date, done or not, with a note."""

    __tablename__ = "visits_follow_up"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "record_id"],
            ["visits_record.tenant_id", "visits_record.id"],
            name="fk_visits_follow_up_record",
            ondelete="RESTRICT",
        ),
        Index("ix_visits_follow_up_open", "tenant_id", "done", "due_on"),
    )

    record_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    due_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    done_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class VisitTally(TenantOwned, Base):
    """Per-tenant running totals, kept by the plugin's own ``on_event`` consumer of ``visits.visit_recorded``."""

    __tablename__ = "visits_tally"

    visits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)


class ConsumedEvent(TenantOwned, Base):
    """The events the consumer has counted: the event id is the key, so counting one twice is impossible."""

    __tablename__ = "visits_consumed_event"

    event_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(96), nullable=False)
    consumed_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)


MODELS: tuple[type[Base], ...] = (VisitPlan, VisitRecord, FollowUp, VisitTally, ConsumedEvent)
