"""Request and response shapes of the organisation and member ledger API."""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.orgs.models import BranchKind, HealthClass, OrgLevel, RetirementType

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")]


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OrgName
    level: OrgLevel
    kind: BranchKind | None = Field(default=None, description="支部类型, for branches")
    parent_id: str | None = None
    address: str = Field(default="", max_length=255)
    founded_on: datetime.date | None = None


class OrgUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OrgName | None = None
    kind: BranchKind | None = None
    address: str | None = Field(default=None, max_length=255)
    founded_on: datetime.date | None = None


class OrgOut(BaseModel):
    id: str
    tenant_code: str
    name: str
    level: OrgLevel
    level_zh: str
    kind: BranchKind | None
    kind_zh: str | None
    parent_id: str | None
    address: str
    founded_on: datetime.date | None
    is_active: bool
    members: int = 0


class MemberFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    gender: str | None = Field(default=None, pattern=r"^(male|female)$")
    birth_date: datetime.date | None = None
    id_number: str | None = Field(default=None, max_length=32)
    phone: Phone | None = None
    retirement_type: RetirementType | None = None
    retired_on: datetime.date | None = None
    former_unit: str | None = Field(default=None, max_length=128)
    former_rank: str | None = Field(default=None, max_length=64)
    is_party_member: bool | None = None
    party_joined_on: datetime.date | None = None
    health_class: HealthClass | None = None
    specialties: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]] | None = (
        None
    )
    residence_community: str | None = Field(default=None, max_length=128)
    formal_org_id: str | None = None
    notes: str | None = Field(default=None, max_length=2000)


class MemberCreate(MemberFields):
    name: Name
    birth_date: datetime.date | None = None  # taken from the ID number when omitted


class MemberOut(BaseModel):
    id: str
    tenant_code: str
    name: str
    gender: str
    birth_date: datetime.date
    age: int
    id_number: str | None  # masked unless revealed
    phone: str | None  # masked unless revealed
    retirement_type: RetirementType
    retired_on: datetime.date | None
    former_unit: str
    former_rank: str
    is_party_member: bool
    party_joined_on: datetime.date | None
    health_class: HealthClass
    health_class_zh: str
    specialties: list[str]
    residence_community: str
    formal_org_id: str | None
    formal_org_name: str | None
    participations: list[str]
    status: str
    notes: str


class MemberPage(BaseModel):
    items: list[MemberOut]
    total: int
    page: int
    page_size: int


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[Annotated[str, StringConstraints(pattern=r"^(id_number|phone)$")]] = Field(min_length=1)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class Revealed(BaseModel):
    id_number: str | None = None
    phone: str | None = None


class ParticipationsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_ids: list[str]


class HistoryEntry(BaseModel):
    at: datetime.datetime
    actor: str
    action: str
    changes: dict[str, dict[str, object]]


class AccountLinkIn(BaseModel):
    """账号关联: the login account of the person this record belongs to."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class AccountLinkOut(BaseModel):
    username: str
    display_name: str
    linked_at: datetime.datetime
    linked_by: str
