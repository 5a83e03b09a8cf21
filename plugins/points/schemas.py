"""What the API accepts and answers. Validation messages are in Chinese, the words bureaus use."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=100)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Proxy(_Input):
    """代录: the member does not use a phone; someone enters it for him, with his consent."""

    reason: Text200 = Field(description="代录原因，如“本人不使用智能手机”")
    consent: Text200 = Field(description="本人同意的方式，如“本人当面口头同意，支部书记见证”")


class ProposalCreate(_Input):
    member_id: uuid.UUID
    rule_code: str = Field(min_length=1, max_length=48)
    on_date: datetime.date
    reason: str = Field(min_length=1, max_length=1000, description="事由")
    hours: Decimal | None = Field(default=None, gt=0, le=24, description="按小时计分的项目填写时长")
    points: Decimal | None = Field(default=None, ge=-100, le=100, description="不填则按规则的分值")
    proxy: Proxy | None = None

    @field_validator("on_date")
    @classmethod
    def _not_future(cls, value: datetime.date) -> datetime.date:
        if value > datetime.date.today():
            raise ValueError("日期不能晚于今天")
        return value


class Decision(_Input):
    note: str = Field(default="", max_length=1000)


class ReversalCreate(_Input):
    reason: str = Field(min_length=1, max_length=500, description="冲销原因")


class ProposalOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    member_id: uuid.UUID
    rule_code: str
    category: str
    points: Decimal
    hours: Decimal | None
    on_date: datetime.date
    reason: str
    status: str
    proposed_by: str
    decided_by: str | None
    decision_note: str
    entry_id: uuid.UUID | None
    proxy_by: str | None
    proxy_reason: str | None
    consent_note: str | None


class EntryOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    member_id: uuid.UUID
    year: int
    on_date: datetime.date
    kind: str
    category: str
    rule_code: str
    points: Decimal
    hours: Decimal | None
    source: str
    source_ref: str | None
    reverses_id: uuid.UUID | None
    note: str
    entered_by: str
    approved_by: str | None
    proxy_by: str | None
    proxy_reason: str | None
    consent_note: str | None


class Page(BaseModel):
    items: list[Any]
    total: int


class CycleOut(BaseModel):
    year: int
    status: str
    closed_at: datetime.datetime | None
    closed_by: str | None
    year_end: str | None


class CloseYear(_Input):
    confirm: bool = Field(description="结算后本年度封存，不能再记分；确认请填 true")

    @field_validator("confirm")
    @classmethod
    def _confirmed(cls, value: bool) -> bool:
        if not value:
            raise ValueError("请确认年度结算")
        return value


class PublicationCreate(_Input):
    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)
    org_id: uuid.UUID | None = Field(default=None, description="党支部；不填为全单位排名")


class PublicationOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    year: int
    quarter: int
    org_id: uuid.UUID | None
    scope_name: str
    rows: list[dict[str, Any]]
    published_by: str
    published_on: datetime.date


class ObjectionCreate(_Input):
    member_id: uuid.UUID
    text: str = Field(min_length=1, max_length=2000, description="异议内容")


class ObjectionStep(_Input):
    to: Literal["investigating", "answered", "filed"]
    note: str = Field(min_length=1, max_length=2000, description="调查情况、答复内容或归档说明")


class ObjectionOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    publication_id: uuid.UUID
    member_id: uuid.UUID
    text: str
    status: str
    steps: list[dict[str, Any]]
    raised_by: str


class ItemCreate(_Input):
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["service", "goods"]
    price: int = Field(ge=1, le=100000, description="所需时间币")
    stock: int = Field(ge=0, le=1000000)
    place: str = Field(default="", max_length=128, description="兑换地点")
    times: str = Field(default="", max_length=128, description="兑换时间，如“每月 10 日上午”")
    description: str = Field(default="", max_length=1000)


class ItemUpdate(_Input):
    price: int | None = Field(default=None, ge=1, le=100000)
    add_stock: int | None = Field(default=None, ge=1, le=1000000, description="补充库存")
    place: str | None = Field(default=None, max_length=128)
    times: str | None = Field(default=None, max_length=128)
    active: bool | None = None


class ItemOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    name: str
    kind: str
    price: int
    stock: int
    place: str
    times: str
    description: str
    active: bool


class RedemptionCreate(_Input):
    item_id: uuid.UUID
    member_id: uuid.UUID
    quantity: int = Field(default=1, ge=1, le=100)
    idempotency_key: Key = Field(description="每次兑换一个新的请求编号，重复提交同一编号只兑换一次")
    proxy: Proxy | None = None


class RedemptionCancel(_Input):
    reason: str = Field(default="", max_length=500)


class RedemptionOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    item_id: uuid.UUID
    member_id: uuid.UUID
    quantity: int
    coins: int
    status: str
    idempotency_key: str
    redeemed_by: str
    cancelled_by: str | None
    proxy_by: str | None


class DonationCreate(_Input):
    from_member_id: uuid.UUID
    to_member_id: uuid.UUID
    coins: int = Field(ge=1, le=100000)
    note: str = Field(default="", max_length=200)
    idempotency_key: Key


class ExchangeCreate(_Input):
    member_id: uuid.UUID
    to_tenant_code: str = Field(pattern=r"^\d{6}$", description="转入县（区）的行政区划代码")
    coins: int = Field(ge=1, le=100000)
    idempotency_key: Key


class ClearingOut(BaseModel):
    id: uuid.UUID
    kind: str
    member_id: uuid.UUID
    member_name: str
    from_tenant: int
    to_tenant: int
    coins: int
    points: Decimal
    year: int
    status: str
    created_by: str
    settled_by: str | None


class CoinEntryOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    member_id: uuid.UUID
    on_date: datetime.date
    kind: str
    amount: int
    hours: Decimal | None
    description: str
    source: str
    entered_by: str
    proxy_by: str | None
    proxy_reason: str | None
    consent_note: str | None


class MemberSummary(BaseModel):
    member_id: uuid.UUID
    name: str
    year: int
    base_score: Decimal
    points: Decimal
    score: Decimal
    stars: int
    rating: str
    rating_zh: str
    rank: int | None
    ranked: int
    coins: dict[str, int]
    history: list[dict[str, Any]]


class StatsOut(BaseModel):
    year: int
    points_issued: Decimal
    members_with_points: int
    proposals_waiting: int
    volunteer_hours: Decimal
    coins_earned: int
    coins_redeemed: int
    redemptions: int
