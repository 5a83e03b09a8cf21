"""Request and answer bodies of the mediation API, and the plugin's per-tenant settings."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from core.orgs.idcard import IdCardError, parse

RoomKind = Literal["mediation_room", "petition_room", "family_centre", "other"]
CaseType = Literal["neighbour", "family", "marriage", "property", "labour", "petition", "other"]
Source = Literal["walk_in", "referral", "petition"]
PartyKind = Literal["person", "organisation"]
PartySide = Literal["applicant", "respondent", "third_party"]
ReferralTarget = Literal["court", "committee", "department"]
AttachmentKind = Literal[
    "application", "identity", "investigation", "record", "agreement", "follow_up", "evidence", "other"
]
Action = Literal[
    "investigate", "mediate", "settle", "fail", "refer", "perform", "follow_up", "confirm", "record", "extend",
    "void", "undo",
]  # fmt: skip

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class MediationSettings(BaseModel):
    """Per-tenant settings, inherited down the tree."""

    time_limit_months: int = Field(default=1, ge=1, le=6, description="调解期限（月），一般为一个月")
    warn_days: int = Field(default=5, ge=0, le=30, description="期限届满前几天开始提醒")
    max_extension_days: int = Field(default=30, ge=0, le=90, description="延长期限合计最多天数")
    case_number_word: str = Field(
        default="调", min_length=1, max_length=4, description="案号中的字，如（2026）调字第1号"
    )


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _not_future(value: datetime.date | None) -> datetime.date | None:
    if value is not None and value > datetime.date.today():
        raise ValueError("日期不能晚于今天")
    return value


# --- rooms and mediators ---------------------------------------------------------------------------


class RoomCreate(_Input):
    name: Name
    kind: RoomKind = "mediation_room"
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=255)]
    opening_hours: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    opened_on: datetime.date = Field(default_factory=datetime.date.today)


class RoomUpdate(_Input):
    name: Name | None = None
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=255)] | None = None
    opening_hours: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    closed_on: datetime.date | None = None


class MediatorOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    room_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    user_id: uuid.UUID | None
    specialties: list[str]
    availability: str
    since: datetime.date
    until: datetime.date | None


class RoomOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    name: str
    kind: str
    place: str
    opening_hours: str
    phone: str
    opened_on: datetime.date
    closed_on: datetime.date | None
    mediators: list[MediatorOut] = Field(default_factory=list)


class RoomPage(BaseModel):
    items: list[RoomOut]
    total: int


class MediatorCreate(_Input):
    member_id: uuid.UUID
    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        default=None, description="该调解员登录用的账号（用于让其看到本调解室的案件）"
    )
    specialties: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=12
    )
    availability: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    since: datetime.date = Field(default_factory=datetime.date.today)


class MediatorUpdate(_Input):
    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    specialties: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]] | None = (
        None
    )
    availability: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    until: datetime.date | None = None


# --- cases -----------------------------------------------------------------------------------------


class PartyIn(_Input):
    kind: PartyKind = "person"
    side: PartySide = "applicant"
    name: Name
    gender: Literal["", "male", "female"] = ""
    representative: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+\- ]{5,20}$")] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) == 18:
            try:
                return parse(value).number
            except IdCardError as exc:
                raise ValueError(exc.zh) from exc
        return value.upper()  # an organisation's 统一社会信用代码 or another document


class PartyOut(BaseModel):
    id: uuid.UUID
    kind: str
    side: str
    name: str
    gender: str
    representative: str
    id_number: str | None  # masked
    phone: str | None  # masked
    has_address: bool


class CaseCreate(_Input):
    room_id: uuid.UUID
    case_type: CaseType
    source: Source = "walk_in"
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=128)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=4000)]
    received_on: datetime.date = Field(default_factory=datetime.date.today)
    rights_notified: bool = Field(description="已向当事人告知人民调解的性质、原则和当事人的权利义务")
    intake_note: Text = ""
    parties: list[PartyIn] = Field(min_length=1, max_length=30)
    mediator_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)

    _received = field_validator("received_on")(_not_future)

    @field_validator("rights_notified")
    @classmethod
    def _must_notify(cls, value: bool) -> bool:
        if not value:
            raise ValueError("受理时须告知当事人权利义务（人民调解法第二十三、二十四条），告知后再受理")
        return value


class CaseUpdate(_Input):
    case_type: CaseType | None = None
    source: Source | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=128)] | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=4000)] | None = None
    received_on: datetime.date | None = None

    _received = field_validator("received_on")(_not_future)


class MediatorsAssign(_Input):
    mediator_ids: list[uuid.UUID] = Field(min_length=1, max_length=10)
    lead_id: uuid.UUID | None = None


class AgreementIn(_Input):
    """What the parties agreed (人民调解法第二十九条: the agreed terms, how and when they are performed)."""

    dispute: Text = Field(default="", description="纠纷的主要事实、争议事项以及各方当事人的责任")
    terms: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=1000)]] = Field(
        min_length=1, max_length=30
    )
    performance_method: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
    performance_deadline: datetime.date


class StepIn(_Input):
    action: Action
    occurred_on: datetime.date = Field(default_factory=datetime.date.today)
    note: Text = ""
    record_kind: Literal["investigation", "mediation"] | None = None  # for action "record"
    agreement: AgreementIn | None = None  # for "settle"
    referred_to: ReferralTarget | None = None  # for "refer"
    referred_to_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] = ""
    extension_days: int | None = Field(default=None, ge=1, le=90)  # for "extend"
    satisfied: bool | None = None  # for "follow_up": the parties are satisfied / performed
    court: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] = ""  # for "confirm"

    _occurred = field_validator("occurred_on")(_not_future)

    @model_validator(mode="after")
    def _needs(self) -> StepIn:
        if self.action == "settle" and self.agreement is None:
            raise ValueError("调解成功须填写协议内容（agreement）：协议条款、履行方式和期限")
        if self.action == "refer" and self.referred_to is None:
            raise ValueError(
                "转交须写明转交给谁（referred_to：court 法院、committee 人民调解委员会、department 有关部门）"
            )
        if self.action == "extend" and self.extension_days is None:
            raise ValueError("延长期限须写明延长天数（extension_days）")
        if self.action == "record" and self.record_kind is None:
            raise ValueError("记录须写明是调查记录还是调解记录（record_kind）")
        if self.action in {"record", "void", "extend", "fail"} and len(self.note) < 2:
            raise ValueError("请在 note 中写明情况（调查/调解经过、作废或延期的理由、未达成协议的原因）")
        return self


class StepOut(BaseModel):
    id: uuid.UUID
    seq: int
    action: str
    from_status: str
    to_status: str
    occurred_on: datetime.date
    recorded_at: datetime.datetime
    note: str
    details: dict[str, Any]
    actor: str


class TimeLimit(BaseModel):
    deadline: datetime.date
    days_left: int | None
    state: Literal["ok", "due_soon", "overdue", "closed"]


class CaseOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    room_id: uuid.UUID
    number: str
    case_type: str
    source: str
    title: str
    description: str
    status: str
    received_on: datetime.date
    outcome_on: datetime.date | None
    settled_on: datetime.date | None
    referred_to: str | None
    referred_to_name: str
    agreement: dict[str, Any]
    followed_up_on: datetime.date | None
    confirmed_on: datetime.date | None
    time_limit: TimeLimit
    created_by: str
    parties: list[PartyOut] = Field(default_factory=list)
    mediators: list[MediatorOut] = Field(default_factory=list)
    lead_mediator_id: uuid.UUID | None = None
    steps: list[StepOut] = Field(default_factory=list)


class CaseSummary(BaseModel):
    id: uuid.UUID
    tenant_id: int
    room_id: uuid.UUID
    number: str
    case_type: str
    source: str
    title: str
    status: str
    received_on: datetime.date
    time_limit: TimeLimit


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int


class RevealRequest(_Input):
    fields: list[Literal["id_number", "phone", "address"]] = Field(min_length=1)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class Revealed(BaseModel):
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None


class AttachmentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    caption: str
    name: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: datetime.datetime
    download_url: str | None = None


class TemplateOut(BaseModel):
    custom: bool
    uploaded_by: str | None = None
    uploaded_on: datetime.date | None = None
    placeholders: list[str]
    download_url: str | None = None
    inherited_from: str | None = None  # the level above whose template serves here (no own template)


class FigureRow(BaseModel):
    key: str
    label: str = ""
    label_en: str = ""
    received: float
    settled: float
    concluded: float
    settlement_rate: float | None


class StatsOut(BaseModel):
    """Figures for the acting tenant's subtree in a period, read from the maintained report aggregates."""

    since: datetime.date
    until: datetime.date
    cases_received: float
    cases_settled: float
    cases_concluded: float
    settlement_rate: float | None
    petitions_received: float
    petitions_resolved: float
    people_served: float
    cases_followed_up: float
    average_days_to_settle: float | None
    by_type: list[FigureRow]
    by_room_kind: list[FigureRow]
    by_room: list[FigureRow]
    open_cases: int
    overdue_cases: int
