"""Organisation-relation transfers (组织关系转接): one request, kept by each tenant it touches.

A transfer between two tenants (玄武 → 秦淮) is stored as two rows with the same ``id``: the *sending copy*
(``tenant_id == from_tenant_id``) and the *receiving copy* (``tenant_id == to_tenant_id``). A transfer within one
tenant, and a deferral (原单位兜底管理), is one row. Each tenant therefore reads its transfers through the
ordinary tenant locks (ORM criteria and row-level security) and never through a special policy, and each copy
holds only what its owner may know:

* the receiving copy carries the member's essentials needed to decide (name, gender, birth year, masked ID
  number), the sending tenant and the reason, never the sending branch nor anything else of the sending tenant;
* an organisation id is stored only on the copy whose tenant owns that organisation (``from_org_id`` on the
  sending copy, ``to_org_id`` on the receiving copy), with a foreign key that carries ``tenant_id``: no row
  references a row of another tenant. The other side keeps the branch's name for display.

``member_id`` has no foreign key: the receiving copy names a member of the sending tenant until completion
re-homes the record, under the same id, in the receiving tenant (see :func:`core.orgs.transfers._hand_over`).
Every step (who, when, in which tenant, with which note) is appended to ``steps`` on both copies, and the
automatic audit trail records each copy's every change in its own tenant.
"""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned, utcnow


class TransferKind(StrEnum):
    """How the relation moves (《组织关系转接操作细则》: 分类施策)."""

    DIRECT = "direct"  # 直接转接: lives where the receiving branch is
    NEGOTIATED = "negotiated"  # 协商转接: lives elsewhere, agreed with the receiving side
    DEFERRED = "deferred"  # 暂不转接，原单位兜底管理: very old or ill, on request

    @property
    def zh(self) -> str:
        return {"direct": "直接转接", "negotiated": "协商转接", "deferred": "原单位兜底管理"}[self.value]


class TransferStatus(StrEnum):
    REQUESTED = "requested"  # 已申请
    APPROVED = "approved"  # 接收方已同意，待报到办结
    COMPLETED = "completed"  # 已办结：组织关系已转入
    REJECTED = "rejected"  # 接收方不同意
    CANCELLED = "cancelled"  # 申请人撤回
    DEFERRED = "deferred"  # 暂不转接，由原单位兜底管理

    @property
    def zh(self) -> str:
        return {
            "requested": "待审批",
            "approved": "已同意，待办结",
            "completed": "已办结",
            "rejected": "已退回",
            "cancelled": "已撤回",
            "deferred": "原单位兜底管理",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({TransferStatus.REQUESTED, TransferStatus.APPROVED})

_OPEN_SQL = "status IN ('requested', 'approved') AND tenant_id = from_tenant_id"


class MemberTransfer(Entity, TenantOwned, Base):
    """One copy of a transfer request (see the module docstring for the two-copy rule)."""

    __tablename__ = "member_transfer"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "from_org_id"],
            ["organization.tenant_id", "organization.id"],
            name="fk_member_transfer_from_org",
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "to_org_id"],
            ["organization.tenant_id", "organization.id"],
            name="fk_member_transfer_to_org",
            ondelete="RESTRICT",
        ),
        CheckConstraint("kind IN ('direct', 'negotiated', 'deferred')", name="kind_known"),
        CheckConstraint(
            "status IN ('requested', 'approved', 'completed', 'rejected', 'cancelled', 'deferred')",
            name="status_known",
        ),
        CheckConstraint("tenant_id = from_tenant_id OR tenant_id = to_tenant_id", name="copy_of_a_side"),
        # At most one open transfer per member: enforced on the sending copy, which every request has.
        Index(
            "uq_member_transfer_open",
            "tenant_id",
            "member_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        Index("ix_member_transfer_tenant_requested", "tenant_id", "requested_at"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=TransferStatus.REQUESTED.value)
    from_tenant_id: Mapped[int] = mapped_column(Integer, ForeignKey("tenant.id", ondelete="RESTRICT"), nullable=False)
    to_tenant_id: Mapped[int] = mapped_column(Integer, ForeignKey("tenant.id", ondelete="RESTRICT"), nullable=False)
    from_org_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)  # sending copy only
    from_org_name: Mapped[str | None] = mapped_column(String(128), nullable=True)  # sending copy only
    to_org_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)  # receiving copy only
    to_org_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The member's essentials at the time of the request: what the receiving side needs to decide.
    member_name: Mapped[str] = mapped_column(String(64), nullable=False)
    member_gender: Mapped[str] = mapped_column(String(8), nullable=False)
    member_birth_year: Mapped[int] = mapped_column(Integer, nullable=False)
    member_id_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    review_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)  # deferrals: when to review
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # the reason of a rejection
    requested_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(128), nullable=False)
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    #: ``[{"step": "requested", "at": iso, "by": username, "by_id": uuid, "tenant_code": "320102", "note": …}]``
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, nullable=False, default=list)

    @property
    def is_sending_copy(self) -> bool:
        return self.tenant_id == self.from_tenant_id

    @property
    def is_receiving_copy(self) -> bool:
        return self.tenant_id == self.to_tenant_id
