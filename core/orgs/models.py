"""Organisations (党委 > 党总支 > 党支部 > 党小组) and members, both owned by a tenant.

References between them carry ``tenant_id`` in the foreign key, so the database itself refuses a member
whose branch belongs to another tenant ("a row never references a row outside its tenant").
"""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any, ClassVar

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned, utcnow
from core.privacy.crypto import EncryptedText


class OrgLevel(StrEnum):
    """党委 > 党总支 > 党支部 > 党小组."""

    COMMITTEE = "committee"  # 党委
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部
    GROUP = "group"  # 党小组

    @property
    def zh(self) -> str:
        return {"committee": "党委", "general_branch": "党总支", "branch": "党支部", "group": "党小组"}[self.value]


#: Which levels may sit directly under which.
ALLOWED_CHILDREN: dict[OrgLevel, tuple[OrgLevel, ...]] = {
    OrgLevel.COMMITTEE: (OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH),
    OrgLevel.GENERAL_BRANCH: (OrgLevel.BRANCH,),
    OrgLevel.BRANCH: (OrgLevel.GROUP,),
    OrgLevel.GROUP: (),
}


class BranchKind(StrEnum):
    """支部类型."""

    ORIGINAL_UNIT = "original_unit"  # 原单位支部
    COMMUNITY = "community"  # 社区"家门口"支部
    SOCIETY = "society"  # 社团支部（老年大学等）
    JOINT = "joint"  # 联合党支部

    @property
    def zh(self) -> str:
        return {"original_unit": "原单位支部", "community": "社区支部", "society": "社团支部", "joint": "联合党支部"}[
            self.value
        ]


class HealthClass(StrEnum):
    """健康与活动类别."""

    NORMAL = "normal"  # 正常活动
    LIMITED = "limited"  # 适当参加活动
    UNABLE = "unable"  # 不能参加活动

    @property
    def zh(self) -> str:
        return {"normal": "正常活动", "limited": "适当参加活动", "unable": "不能参加活动"}[self.value]


class RetirementType(StrEnum):
    LIXIU = "lixiu"  # 离休
    TUIXIU = "tuixiu"  # 退休

    @property
    def zh(self) -> str:
        return {"lixiu": "离休", "tuixiu": "退休"}[self.value]


class Organization(Entity, TenantOwned, Base):
    """A party organisation of retired cadres within one tenant."""

    __tablename__ = "organization"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "parent_id"], ["organization.tenant_id", "organization.id"], ondelete="RESTRICT"
        ),
        CheckConstraint("level IN ('committee', 'general_branch', 'branch', 'group')", name="level_known"),
        UniqueConstraint("tenant_id", "parent_id", "name", name="uq_organization_sibling_name"),
    )

    name: Mapped[str] = mapped_column(String(128), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # BranchKind, for branches
    parent_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    address: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    founded_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Member(Entity, TenantOwned, Base):
    """一人一档: one retired cadre's record. ID number and phone are encrypted; a blind index finds them."""

    __tablename__ = "member"
    __audit_redact__: ClassVar[frozenset[str]] = frozenset({"id_number", "phone"})
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "formal_org_id"], ["organization.tenant_id", "organization.id"], ondelete="RESTRICT"
        ),
        UniqueConstraint("tenant_id", "id_number_index", name="uq_member_id_number"),
        Index("ix_member_tenant_name", "tenant_id", "name"),
        Index("ix_member_tenant_org", "tenant_id", "formal_org_id"),
        CheckConstraint("gender IN ('male', 'female')", name="gender_known"),
        CheckConstraint("health_class IN ('normal', 'limited', 'unable')", name="health_known"),
        CheckConstraint("status IN ('active', 'transferred_out', 'deceased')", name="status_known"),
    )

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    gender: Mapped[str] = mapped_column(String(8), nullable=False)
    birth_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    id_number: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    id_number_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    retirement_type: Mapped[str] = mapped_column(String(8), nullable=False, default="tuixiu")
    retired_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    former_unit: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    former_rank: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    is_party_member: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    party_joined_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    health_class: Mapped[str] = mapped_column(String(16), nullable=False, default="normal")
    specialties: Mapped[list[str]] = mapped_column(JsonB, nullable=False, default=list)
    specialties_text: Mapped[str] = mapped_column(Text, nullable=False, default="")  # for search
    residence_community: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    formal_org_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)  # 组织关系所在支部
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)


class Participation(TenantOwned, Base):
    """一方隶属，多重管理: a member takes part in a branch other than the formal one."""

    __tablename__ = "member_participation"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "org_id"], ["organization.tenant_id", "organization.id"], ondelete="CASCADE"
        ),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    since: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)


class MemberAccount(TenantOwned, Base):
    """账号关联: the login account a retired cadre uses for their own page, linked to their record.

    One account, one person: ``user_id`` is unique across the province. The row lives in the tenant that holds the
    member's active record and moves with it on a transfer between tenants, together with the ``member`` role.
    """

    __tablename__ = "member_account"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="CASCADE"),
        UniqueConstraint("user_id", name="uq_member_account_user_id"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    linked_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)
    linked_by: Mapped[str] = mapped_column(String(64), nullable=False, default="system")


class CommitteePosition(StrEnum):
    """支委会职务."""

    SECRETARY = "secretary"  # 书记
    DEPUTY_SECRETARY = "deputy_secretary"  # 副书记
    ORGANIZATION = "organization"  # 组织委员
    PROPAGANDA = "propaganda"  # 宣传委员
    DISCIPLINE = "discipline"  # 纪检委员
    MEMBER = "member"  # 委员

    @property
    def zh(self) -> str:
        return {
            "secretary": "书记",
            "deputy_secretary": "副书记",
            "organization": "组织委员",
            "propaganda": "宣传委员",
            "discipline": "纪检委员",
            "member": "委员",
        }[self.value]


class CommitteeSeat(Entity, TenantOwned, Base):
    """A seat on an organisation's committee (支委会 / 党委班子): who, which post, since when, until when."""

    __tablename__ = "committee_seat"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "org_id"], ["organization.tenant_id", "organization.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="RESTRICT"),
        Index("ix_committee_seat_org", "tenant_id", "org_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    position: Mapped[str] = mapped_column(String(24), nullable=False)
    since: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    until: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)  # NULL while serving
