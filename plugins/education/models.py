"""The plugin's tables. Every one is tenant-owned: ``tenant_id`` leads the primary key and every foreign key, so
a row only ever points at a row of the same tenant (and the schema can be distributed by tenant).

Personal data lives in :class:`~core.privacy.crypto.EncryptedText` columns: the station contact's phone, a
non-member volunteer's name and phone, and what a pairing needs to know about the student (alias, school, grade,
guardian consent record). Children are otherwise only ever counted (``students``/``parents``/``teachers``).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from advanced_alchemy.types import GUID, JsonB
from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned
from core.privacy.crypto import EncryptedText

PLACE_KINDS = ("school", "community", "village")
STATION_STATUSES = ("open", "suspended", "closed")
CATEGORIES = ("old_cadre", "old_soldier", "old_expert", "old_teacher", "old_model")
ACTIVITY_KINDS = ("red_history", "tutoring", "reading", "safety", "internet_cafe", "pairing", "other")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Station(Entity, TenantOwned, Base):
    """A 校外教育辅导站 at a school, a community or a village."""

    __tablename__ = "education_station"
    __audit_redact__: ClassVar[frozenset[str]] = frozenset({"contact_phone"})
    __table_args__ = (
        CheckConstraint(_in("place_kind", PLACE_KINDS), name="place_kind_known"),
        CheckConstraint(_in("status", STATION_STATUSES), name="status_known"),
        Index("ix_education_station_tenant_status", "tenant_id", "status"),
    )

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    place_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    address: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    partner_school: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    contact_name: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    schedule: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    opened_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    status_since: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class StationStatusChange(Entity, TenantOwned, Base):
    """Each opening (+1) and closing or suspension (-1) of a station: the history the LEVEL metric sums."""

    __tablename__ = "education_station_status_change"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(_in("status", STATION_STATUSES), name="status_known"),
        CheckConstraint("delta IN (-1, 0, 1)", name="delta_unit"),
        Index("ix_education_station_status_change_station", "tenant_id", "station_id"),
    )

    station_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    effective_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class Counsellor(Entity, TenantOwned, Base):
    """A "五老" counsellor: a member of the ledger, or (where the tenant allows) a non-member volunteer."""

    __tablename__ = "education_counsellor"
    __audit_redact__: ClassVar[frozenset[str]] = frozenset({"volunteer_name", "volunteer_phone"})
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="RESTRICT"),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint("status IN ('active', 'inactive')", name="status_known"),
        CheckConstraint("(member_id IS NULL) <> (volunteer_name IS NULL)", name="member_or_volunteer"),
        Index("ix_education_counsellor_member", "tenant_id", "member_id"),
    )

    member_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    volunteer_name: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    volunteer_phone: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    subjects: Mapped[list[Any]] = mapped_column(JsonB, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class CounsellorStation(TenantOwned, Base):
    """A station a counsellor serves."""

    __tablename__ = "education_counsellor_station"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "counsellor_id"],
            ["education_counsellor.tenant_id", "education_counsellor.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            ondelete="CASCADE",
        ),
    )

    counsellor_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)


class Activity(Entity, TenantOwned, Base):
    """One activity at a station. Children are counted, never named. Edits bump ``revision``."""

    __tablename__ = "education_activity"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint(_in("kind", ACTIVITY_KINDS), name="kind_known"),
        CheckConstraint("status IN ('recorded', 'withdrawn')", name="status_known"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("students >= 0 AND parents >= 0 AND teachers >= 0", name="audience_not_negative"),
        Index("ix_education_activity_tenant_date", "tenant_id", "held_on"),
        Index("ix_education_activity_station", "tenant_id", "station_id"),
    )

    station_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    held_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    students: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    parents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    teachers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="recorded")
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    withdrawn_reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class ActivityCounsellor(TenantOwned, Base):
    """A counsellor who led an activity, with the category and report subject as they were at the time (so
    the per-category figures of a past activity do not move when a counsellor's record changes later)."""

    __tablename__ = "education_activity_counsellor"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["education_activity.tenant_id", "education_activity.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "counsellor_id"],
            ["education_counsellor.tenant_id", "education_counsellor.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        Index("ix_education_activity_counsellor_counsellor", "tenant_id", "counsellor_id"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    counsellor_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    member_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)


class ActivityPhoto(Entity, TenantOwned, Base):
    """A photo of an activity; the bytes live in object storage (``stored_file``), like 六有 evidence."""

    __tablename__ = "education_activity_photo"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["education_activity.tenant_id", "education_activity.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "file_id"], ["stored_file.tenant_id", "stored_file.id"], ondelete="CASCADE"),
        Index("ix_education_activity_photo_activity", "tenant_id", "activity_id"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    file_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    caption: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class Pairing(Entity, TenantOwned, Base):
    """结对帮扶: a counsellor paired with one student. Only what pairing needs, encrypted; no ID number."""

    __tablename__ = "education_pairing"
    __audit_redact__: ClassVar[frozenset[str]] = frozenset(
        {"student_alias", "student_school", "student_grade", "guardian_name", "consent_record"}
    )
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "counsellor_id"],
            ["education_counsellor.tenant_id", "education_counsellor.id"],
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("status IN ('active', 'ended')", name="status_known"),
        CheckConstraint("ends_on >= started_on", name="ends_after_start"),
        Index("ix_education_pairing_counsellor", "tenant_id", "counsellor_id"),
    )

    counsellor_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    station_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    student_alias: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    student_school: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    student_grade: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    guardian_name: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    guardian_relation: Mapped[str] = mapped_column(String(16), nullable=False)
    consent_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    consent_record: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    started_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    goal: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


MODELS: tuple[type[Base], ...] = (
    Station,
    StationStatusChange,
    Counsellor,
    CounsellorStation,
    Activity,
    ActivityCounsellor,
    ActivityPhoto,
    Pairing,
)
