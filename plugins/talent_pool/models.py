"""The talent pool's tables. Every one is tenant-owned: ``tenant_id`` leads the primary key and every foreign key
to a table of the same tenant, so a row can only point at a row of its own tenant.

One deliberate exception: an assignment (派单) of a county's demand may name an expert of a sibling county when
the city (or province) has opened its counties' pools to each other ("银龄人才援基层"). The assignment lives in the
demand's tenant and carries the expert's tenant and ids *without* a foreign key, plus the few shareable words
(name, fields) that were visible when it was made; nothing else of the other county is ever copied.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, JsonB
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned

PROFILE_STATUSES = ("pending", "admitted", "rejected", "retired")
AVAILABILITY = ("available", "busy", "unavailable")
REQUESTER_KINDS = ("village", "enterprise", "school", "community", "other")
DEMAND_STATUSES = ("open", "assigned", "met", "cancelled")
ASSIGNMENT_STATUSES = ("proposed", "accepted", "declined", "completed", "cancelled")
OPEN_ASSIGNMENT = ("proposed", "accepted")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Station(Entity, TenantOwned, Base):
    """人才工作站: a grouping of experts (e.g. 镇江 15 银发人才工作站, 南京 21 紫金银辉工作站)."""

    __tablename__ = "talent_pool_station"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_talent_pool_station_name"),)

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    focus: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    opened_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    closed_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)


class Profile(Entity, TenantOwned, Base):
    """An expert's profile (人才档案), linked to one member of the ledger; admission and re-review by review."""

    __tablename__ = "talent_pool_profile"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="RESTRICT"),
        ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["talent_pool_station.tenant_id", "talent_pool_station.id"],
            ondelete="RESTRICT",
        ),
        UniqueConstraint("tenant_id", "member_id", name="uq_talent_pool_profile_member"),
        CheckConstraint(_in("status", PROFILE_STATUSES), name="status_known"),
        CheckConstraint(_in("availability", AVAILABILITY), name="availability_known"),
        Index("ix_talent_pool_profile_status", "tenant_id", "status"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    fields: Mapped[list[str]] = mapped_column(JsonB, nullable=False, default=list)
    skills: Mapped[list[str]] = mapped_column(JsonB, nullable=False, default=list)
    title: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # 职称
    achievements: Mapped[str] = mapped_column(Text, nullable=False, default="")
    availability: Mapped[str] = mapped_column(String(16), nullable=False, default="available")
    availability_note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    willing_to_travel: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    station_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    admitted_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    next_review_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    retired_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Review(Entity, TenantOwned, Base):
    """One review decision on a profile: admission, periodic re-review, rejection or retirement from the pool."""

    __tablename__ = "talent_pool_review"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "profile_id"], ["talent_pool_profile.tenant_id", "talent_pool_profile.id"], ondelete="CASCADE"
        ),
        CheckConstraint(_in("decision", ("admit", "reject", "renew", "retire")), name="decision_known"),
        Index("ix_talent_pool_review_profile", "tenant_id", "profile_id"),
    )

    profile_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    decision: Mapped[str] = mapped_column(String(8), nullable=False)
    decided_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    decided_by: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class ExpertCategory(Entity, TenantOwned, Base):
    """A span of days an admitted expert counts in one category of the province-wide classification.

    Opened (``from_on``) when the expert is admitted, or a change of fields or of the tenant's field-to-category
    mapping moves them into the category; closed (``to_on``) when they leave it or the pool. The report facts
    of ``talent_pool.experts.<category>`` are these openings (+1) and closings (−1), on those days, so the
    recount reproduces every past month's figure. At most one open span per expert and category.
    See :mod:`plugins.talent_pool.categories`.
    """

    __tablename__ = "talent_pool_expert_category"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "profile_id"], ["talent_pool_profile.tenant_id", "talent_pool_profile.id"], ondelete="CASCADE"
        ),
        CheckConstraint("to_on IS NULL OR to_on >= from_on", name="dates_ordered"),
        Index("ix_talent_pool_expert_category_profile", "tenant_id", "profile_id"),
        Index(
            "uq_talent_pool_expert_category_open",
            "tenant_id",
            "profile_id",
            "category",
            unique=True,
            postgresql_where=text("to_on IS NULL"),
            sqlite_where=text("to_on IS NULL"),
        ),
    )

    profile_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    from_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    to_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)


class Demand(Entity, TenantOwned, Base):
    """需求清单: a need posted for a village, an enterprise, a school …"""

    __tablename__ = "talent_pool_demand"
    __table_args__ = (
        CheckConstraint(_in("requester_kind", REQUESTER_KINDS), name="requester_kind_known"),
        CheckConstraint(_in("status", DEMAND_STATUSES), name="status_known"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_talent_pool_demand_status", "tenant_id", "status"),
    )

    title: Mapped[str] = mapped_column(String(100), nullable=False)
    field: Mapped[str] = mapped_column(String(32), nullable=False)
    requester_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    requester_name: Mapped[str] = mapped_column(String(100), nullable=False)
    place: Mapped[str] = mapped_column(String(128), nullable=False)
    starts_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    posted_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    met_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Assignment(Entity, TenantOwned, Base):
    """An expert asked to serve a demand (派单), accepted or declined, then completed.

    ``expert_tenant_id`` / ``expert_id`` may name a sibling county's expert (shared pools); hence no foreign key
    to the profile, and ``expert_name`` / ``expert_fields`` keep the shareable projection seen at the time.
    """

    __tablename__ = "talent_pool_assignment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "demand_id"], ["talent_pool_demand.tenant_id", "talent_pool_demand.id"], ondelete="RESTRICT"
        ),
        CheckConstraint(_in("status", ASSIGNMENT_STATUSES), name="status_known"),
        Index("ix_talent_pool_assignment_demand", "tenant_id", "demand_id"),
        Index("ix_talent_pool_assignment_expert", "expert_tenant_id", "expert_id", "status"),
    )

    demand_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    expert_tenant_id: Mapped[int] = mapped_column(Integer, nullable=False)
    expert_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    expert_member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    expert_name: Mapped[str] = mapped_column(String(64), nullable=False)
    expert_fields: Mapped[list[str]] = mapped_column(JsonB, nullable=False, default=list)
    score: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    explanation: Mapped[list[Any]] = mapped_column(JsonB, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="proposed")
    responded_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    completed_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class ServiceRecord(Entity, TenantOwned, Base):
    """服务记录: one service given under an assignment (visits, problems solved, trainees, value) and its feedback."""

    __tablename__ = "talent_pool_service"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "assignment_id"],
            ["talent_pool_assignment.tenant_id", "talent_pool_assignment.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("visits >= 0 AND problems_solved >= 0 AND trainees >= 0", name="counts_not_negative"),
        CheckConstraint("value_yuan >= 0", name="value_not_negative"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_talent_pool_service_assignment", "tenant_id", "assignment_id"),
        Index("ix_talent_pool_service_date", "tenant_id", "served_on"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    served_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    visits: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    problems_solved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    trainees: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    value_yuan: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False), nullable=False, default=0)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revoked_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    revoke_reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    feedback: Mapped[str] = mapped_column(Text, nullable=False, default="")
    feedback_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class Study(Entity, TenantOwned, Base):
    """智囊团 advisory study (调研课题)."""

    __tablename__ = "talent_pool_study"
    __table_args__ = (CheckConstraint(_in("status", ("ongoing", "concluded")), name="status_known"),)

    title: Mapped[str] = mapped_column(String(100), nullable=False)
    topic: Mapped[str] = mapped_column(Text, nullable=False, default="")
    adviser_ids: Mapped[list[str]] = mapped_column(JsonB, nullable=False, default=list)  # profile ids
    started_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="ongoing")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class StudyReport(Entity, TenantOwned, Base):
    """A study's report (调研报告); the document lives in object storage (``stored_file``)."""

    __tablename__ = "talent_pool_report"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "study_id"], ["talent_pool_study.tenant_id", "talent_pool_study.id"], ondelete="RESTRICT"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "file_id"], ["stored_file.tenant_id", "stored_file.id"], ondelete="RESTRICT"
        ),
        Index("ix_talent_pool_report_study", "tenant_id", "study_id"),
    )

    study_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    file_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    submitted_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Suggestion(Entity, TenantOwned, Base):
    """A suggestion (建议) made by a study, and whether it was adopted (采纳)."""

    __tablename__ = "talent_pool_suggestion"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "study_id"], ["talent_pool_study.tenant_id", "talent_pool_study.id"], ondelete="RESTRICT"
        ),
        Index("ix_talent_pool_suggestion_study", "tenant_id", "study_id"),
    )

    study_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    made_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    adopted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    adopted_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    adopted_by: Mapped[str] = mapped_column(String(100), nullable=False, default="")  # 采纳单位
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


MODELS: tuple[type[Base], ...] = (
    Station,
    Profile,
    Review,
    ExpertCategory,
    Demand,
    Assignment,
    ServiceRecord,
    Study,
    StudyReport,
    Suggestion,
)
