"""Organisation life (组织生活), branch standards ("六有" checklist, "六好" scoring) and their rankings.

Every table is tenant-owned and every reference to another tenant-owned row carries ``tenant_id`` in a
composite foreign key, so a meeting, a mark, a checklist entry or a score can only point at a branch or a
member of its own tenant. Two references deliberately have no foreign key: a score line's ``item_id`` (the
item may belong to an ancestor's list, which the branch's tenant cannot see; the line keeps a snapshot of it)
and a ranking entry's publisher (an ancestor tenant; referenced through ``tenant.id`` only).
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned, utcnow

# --- organisation life -------------------------------------------------------------------------------------


class MeetingKind(StrEnum):
    """三会一课, 主题党日 and the political ceremonies."""

    BRANCH_CONGRESS = "branch_congress"  # 支部党员大会
    COMMITTEE = "committee"  # 支委会
    GROUP = "group"  # 党小组会
    LECTURE = "lecture"  # 党课
    THEME_DAY = "theme_day"  # 主题党日
    OATH = "oath"  # 重温入党誓词
    POLITICAL_BIRTHDAY = "political_birthday"  # 政治生日
    OTHER = "other"  # 其他

    @property
    def zh(self) -> str:
        return _MEETING_KIND_ZH[self.value]


_MEETING_KIND_ZH = {
    "branch_congress": "支部党员大会",
    "committee": "支委会",
    "group": "党小组会",
    "lecture": "党课",
    "theme_day": "主题党日",
    "oath": "重温入党誓词",
    "political_birthday": "政治生日",
    "other": "其他",
}


class MeetingMode(StrEnum):
    OFFLINE = "offline"  # 线下
    ONLINE = "online"  # 线上（云党课等）
    HYBRID = "hybrid"  # 线上线下结合

    @property
    def zh(self) -> str:
        return {"offline": "线下", "online": "线上", "hybrid": "线上线下结合"}[self.value]


class AttendanceStatus(StrEnum):
    PRESENT = "present"  # 出席
    ABSENT = "absent"  # 缺席（注明原因）
    EXCUSED = "excused"  # 请假（健康原因；"不能参加活动"的党员默认如此，不计缺席）

    @property
    def zh(self) -> str:
        return {"present": "出席", "absent": "缺席", "excused": "请假"}[self.value]


class Meeting(Entity, TenantOwned, Base):
    """One meeting or activity of a branch or party group, held (or planned) on one day."""

    __tablename__ = "meeting"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id"], ["organization.tenant_id", "organization.id"], ondelete="RESTRICT"
        ),
        CheckConstraint(
            "kind IN ('branch_congress', 'committee', 'group', 'lecture', 'theme_day', 'oath', "
            "'political_birthday', 'other')",
            name="kind_known",
        ),
        CheckConstraint("mode IN ('offline', 'online', 'hybrid')", name="mode_known"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        Index("ix_meeting_tenant_held_on", "tenant_id", "held_on"),
        Index("ix_meeting_tenant_org", "tenant_id", "org_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    title: Mapped[str] = mapped_column(String(128), nullable=False)
    held_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    start_time: Mapped[datetime.time | None] = mapped_column(Time, nullable=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    place: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="offline")
    topic: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    lecturer: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # 讲课人, for 党课
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    cancelled_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    cancel_reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class Attendance(TenantOwned, Base):
    """One member's mark at one meeting.

    ``credit`` is the payload of the ``core.attendance_recorded`` event that currently stands for this mark
    (``None`` when no credit stands); it is what a later ``core.attendance_revoked`` takes back, so a
    correction never credits twice and a revocation takes back exactly what was credited.
    """

    __tablename__ = "meeting_attendance"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["meeting.tenant_id", "meeting.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="RESTRICT"),
        CheckConstraint("status IN ('present', 'absent', 'excused')", name="status_known"),
        Index("ix_meeting_attendance_member", "tenant_id", "member_id"),
    )

    meeting_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    auto: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # excused by default (health)
    credit: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    recorded_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)


# --- "六有" ----------------------------------------------------------------------------------------------


class SixHaveItem(StrEnum):
    """有场所、有标识、有设施、有制度、有经费、有活动."""

    PLACE = "place"
    SIGN = "sign"
    FACILITIES = "facilities"
    RULES = "rules"
    FUNDS = "funds"
    ACTIVITIES = "activities"

    @property
    def zh(self) -> str:
        return {
            "place": "有场所",
            "sign": "有标识",
            "facilities": "有设施",
            "rules": "有制度",
            "funds": "有经费",
            "activities": "有活动",
        }[self.value]


class BranchSixHave(TenantOwned, Base):
    """One of a branch's six items: met or not, with a note (a missing row means "not met yet")."""

    __tablename__ = "branch_six_have"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id"], ["organization.tenant_id", "organization.id"], ondelete="CASCADE"
        ),
        CheckConstraint("item IN ('place', 'sign', 'facilities', 'rules', 'funds', 'activities')", name="item_known"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    item: Mapped[str] = mapped_column(String(16), primary_key=True)
    met: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    checked_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    checked_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)


class SixHaveEvidence(Entity, TenantOwned, Base):
    """A photo (or scanned document) proving one item; the bytes live in object storage (``stored_file``)."""

    __tablename__ = "six_have_evidence"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id", "item"],
            ["branch_six_have.tenant_id", "branch_six_have.org_id", "branch_six_have.item"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "file_id"], ["stored_file.tenant_id", "stored_file.id"], ondelete="CASCADE"),
        Index("ix_six_have_evidence_item", "tenant_id", "org_id", "item"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    item: Mapped[str] = mapped_column(String(16), nullable=False)
    file_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    caption: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


# --- "六好" ----------------------------------------------------------------------------------------------


class ItemKind(StrEnum):
    BONUS = "bonus"  # 正向加分
    DEDUCTION = "deduction"  # 反向扣分

    @property
    def zh(self) -> str:
        return {"bonus": "加分项", "deduction": "扣分项"}[self.value]


POINTS = Numeric(7, 1)


class StandardItem(Entity, TenantOwned, Base):
    """One scoring item of a tenant's own "六好" list (see :mod:`core.orglife.standards` for inheritance)."""

    __tablename__ = "standard_item"
    __table_args__ = (
        CheckConstraint("kind IN ('bonus', 'deduction')", name="kind_known"),
        CheckConstraint("max_points > 0", name="max_positive"),
        CheckConstraint("unit_points IS NULL OR unit_points > 0", name="unit_positive"),
        UniqueConstraint("tenant_id", "aspect", "name", name="uq_standard_item_name"),
    )

    aspect: Mapped[str] = mapped_column(String(32), nullable=False)  # 组织设置好 …
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    max_points: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    unit_points: Mapped[Decimal | None] = mapped_column(POINTS, nullable=True)  # per occurrence, capped at max
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class BranchScore(TenantOwned, Base):
    """A branch's "六好" score for one year: bonus − deductions."""

    __tablename__ = "branch_score"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id"], ["organization.tenant_id", "organization.id"], ondelete="RESTRICT"
        ),
        Index("ix_branch_score_year", "tenant_id", "year"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    bonus: Mapped[Decimal] = mapped_column(POINTS, nullable=False, default=Decimal(0))
    deduction: Mapped[Decimal] = mapped_column(POINTS, nullable=False, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(POINTS, nullable=False, default=Decimal(0))
    list_source: Mapped[str] = mapped_column(String(160), nullable=False, default="")  # whose list was used
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    scored_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    scored_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)


class BranchScoreLine(TenantOwned, Base):
    """The points of one item in a branch's score, with a snapshot of the item as it was when scored."""

    __tablename__ = "branch_score_line"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id", "year"],
            ["branch_score.tenant_id", "branch_score.org_id", "branch_score.year"],
            ondelete="CASCADE",
        ),
        CheckConstraint("kind IN ('bonus', 'deduction')", name="kind_known"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    aspect: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    max_points: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    unit_points: Mapped[Decimal | None] = mapped_column(POINTS, nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    points: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    capped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class RankingPublication(TenantOwned, Base):
    """Tenant ``tenant_id`` published its subtree's ranking of ``year``: every score below is frozen."""

    __tablename__ = "ranking_publication"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    threshold: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    branches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    model_branches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    published_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    published_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)


class RankingEntry(TenantOwned, Base):
    """A branch's place in a published ranking; owned by the branch's tenant, so that tenant sees it."""

    __tablename__ = "ranking_entry"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id"], ["organization.tenant_id", "organization.id"], ondelete="RESTRICT"
        ),
        Index("ix_ranking_entry_year", "tenant_id", "year"),
    )

    publisher_tenant_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tenant.id", ondelete="RESTRICT"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    total: Mapped[Decimal] = mapped_column(POINTS, nullable=False)
    is_model: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


MODELS = (
    Meeting,
    Attendance,
    BranchSixHave,
    SixHaveEvidence,
    StandardItem,
    BranchScore,
    BranchScoreLine,
    RankingPublication,
    RankingEntry,
)
