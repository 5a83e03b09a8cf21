"""The mediation plugin's tables. Every one is tenant-owned: ``tenant_id`` leads the primary key and every
foreign key, so a row can only point at a row of the same tenant (a case at its room, a mediator at a member
of the ledger, an attachment at a stored file).

Parties' ID numbers, phones and addresses are encrypted at rest like the member ledger's (``EncryptedText``);
an HMAC blind index of the ID number allows exact-match search without the value.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, JsonB
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned
from core.privacy.crypto import EncryptedText

ROOM_KINDS = ("mediation_room", "petition_room", "family_centre", "other")
CASE_TYPES = ("neighbour", "family", "marriage", "property", "labour", "petition", "other")
SOURCES = ("walk_in", "referral", "petition")
STATUSES = (
    "intake",  # 受理
    "investigating",  # 调查
    "mediating",  # 调解
    "settled",  # 调解成功
    "failed",  # 调解不成
    "referred",  # 转交
    "performing",  # 履行
    "followed_up",  # 回访
    "voided",  # 作废 (entered in error)
)
REFERRAL_TARGETS = ("court", "committee", "department")
PARTY_KINDS = ("person", "organisation")
PARTY_SIDES = ("applicant", "respondent", "third_party")
ATTACHMENT_KINDS = (
    "application",
    "identity",
    "investigation",
    "record",
    "agreement",
    "follow_up",
    "evidence",
    "dossier",
    "other",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Room(Entity, TenantOwned, Base):
    """A mediation room (调解室, 民生信访室, 婚姻家庭辅导中心 …): where it is and when it is open."""

    __tablename__ = "mediation_room"
    __table_args__ = (
        CheckConstraint(_in("kind", ROOM_KINDS), name="kind_known"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"),
    )

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    place: Mapped[str] = mapped_column(String(255), nullable=False)
    opening_hours: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    opened_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    closed_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)


class Mediator(Entity, TenantOwned, Base):
    """A member of the tenant's ledger serving as mediator (调解员) in a room.

    The room's cases are visible to the mediator through the core's account link of the member (账号关联,
    ``principal.member``); ``user_id`` names an account explicitly, for one that is not linked to the record.
    """

    __tablename__ = "mediation_mediator"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "room_id"], ["mediation_room.tenant_id", "mediation_room.id"], ondelete="RESTRICT"
        ),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["member.tenant_id", "member.id"], ondelete="RESTRICT"),
        Index("ix_mediation_mediator_user", "user_id"),
        Index("uq_mediation_mediator_room_member", "tenant_id", "room_id", "member_id", unique=True),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    specialties: Mapped[list[str]] = mapped_column(JsonB, nullable=False, default=list)
    availability: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    since: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    until: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)


class Case(Entity, TenantOwned, Base):
    """A dispute brought to a room, from intake (受理) to follow-up (回访)."""

    __tablename__ = "mediation_case"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "room_id"], ["mediation_room.tenant_id", "mediation_room.id"], ondelete="RESTRICT"
        ),
        CheckConstraint(_in("case_type", CASE_TYPES), name="type_known"),
        CheckConstraint(_in("source", SOURCES), name="source_known"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint(f"referred_to IS NULL OR {_in('referred_to', REFERRAL_TARGETS)}", name="referral_known"),
        Index("ix_mediation_case_room", "tenant_id", "room_id", "status"),
        Index("ix_mediation_case_received", "tenant_id", "received_on"),
        Index("uq_mediation_case_number", "tenant_id", "number", unique=True),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    number: Mapped[str] = mapped_column(String(48), nullable=False)  # 案号
    case_type: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(128), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="intake")
    received_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    deadline: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    rights_notified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    outcome_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)  # settled / failed / referred
    settled_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    referred_to: Mapped[str | None] = mapped_column(String(16), nullable=True)
    referred_to_name: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    agreement: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)
    followed_up_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    confirmed_on: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Party(Entity, TenantOwned, Base):
    """A person or organisation in a case; personal data encrypted, masked in answers, reveals audited."""

    __tablename__ = "mediation_party"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["mediation_case.tenant_id", "mediation_case.id"], ondelete="CASCADE"
        ),
        CheckConstraint(_in("kind", PARTY_KINDS), name="kind_known"),
        CheckConstraint(_in("side", PARTY_SIDES), name="side_known"),
        Index("ix_mediation_party_case", "tenant_id", "case_id"),
        Index("ix_mediation_party_id_index", "tenant_id", "id_number_index"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    side: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    gender: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    representative: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # organisations
    id_number: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    id_number_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    address: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)


class CaseMediator(TenantOwned, Base):
    """A mediator working on a case (``lead`` for the one in charge); they are credited when it settles."""

    __tablename__ = "mediation_case_mediator"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["mediation_case.tenant_id", "mediation_case.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "mediator_id"], ["mediation_mediator.tenant_id", "mediation_mediator.id"], ondelete="RESTRICT"
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    mediator_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    lead: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Step(Entity, TenantOwned, Base):
    """One step of a case's workflow, timed (``occurred_on`` and ``created_at``) and by whom.

    ``action`` is the transition (``investigate``, ``mediate``, ``settle`` …) or ``record`` (a mediation or
    investigation record that does not change the status) or ``extend`` (the time limit extended).
    """

    __tablename__ = "mediation_step"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["mediation_case.tenant_id", "mediation_case.id"], ondelete="CASCADE"
        ),
        Index("ix_mediation_step_case", "tenant_id", "case_id", "seq"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    from_status: Mapped[str] = mapped_column(String(16), nullable=False)
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    occurred_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)


class Attachment(Entity, TenantOwned, Base):
    """A scan, photo or generated document of a case; the bytes are a ``stored_file`` in object storage."""

    __tablename__ = "mediation_attachment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["mediation_case.tenant_id", "mediation_case.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "file_id"], ["stored_file.tenant_id", "stored_file.id"], ondelete="RESTRICT"
        ),
        CheckConstraint(_in("kind", ATTACHMENT_KINDS), name="kind_known"),
        Index("ix_mediation_attachment_case", "tenant_id", "case_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    file_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    caption: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)


class AgreementTemplate(TenantOwned, Base):
    """The tenant's own 调解协议书 template (a .docx in object storage) replacing the one shipped."""

    __tablename__ = "mediation_template"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "file_id"], ["stored_file.tenant_id", "stored_file.id"], ondelete="RESTRICT"
        ),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "agreement"
    file_id: Mapped[uuid.UUID] = mapped_column(GUID, nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)


MODELS: tuple[type[Base], ...] = (Room, Mediator, Case, Party, CaseMediator, Step, Attachment, AgreementTemplate)
