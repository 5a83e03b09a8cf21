"""What the API accepts and answers. Validation messages are in Chinese a person can act on; the words for
the kinds of station, counsellor and activity are those the bureaus' reports use."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

PlaceKind = Literal["school", "community", "village"]
StationStatus = Literal["open", "suspended", "closed"]
Category = Literal["old_cadre", "old_soldier", "old_expert", "old_teacher", "old_model"]
ActivityKind = Literal["red_history", "tutoring", "reading", "safety", "internet_cafe", "pairing", "other"]

PLACE_KIND_ZH = {"school": "学校", "community": "社区", "village": "村"}
STATION_STATUS_ZH = {"open": "开放", "suspended": "暂停", "closed": "关闭"}
PLACE_KIND_EN = {"school": "School", "community": "Community", "village": "Village"}
STATION_STATUS_EN = {"open": "Open", "suspended": "Suspended", "closed": "Closed"}
CATEGORY_ZH = {
    "old_cadre": "老干部",
    "old_soldier": "老战士",
    "old_expert": "老专家",
    "old_teacher": "老教师",
    "old_model": "老模范",
}
CATEGORY_EN = {
    "old_cadre": "Veteran cadres",
    "old_soldier": "Veteran soldiers",
    "old_expert": "Veteran experts",
    "old_teacher": "Veteran teachers",
    "old_model": "Veteran model workers",
}
KIND_ZH = {
    "red_history": "红色教育课",
    "tutoring": "课业辅导",
    "reading": "读书活动",
    "safety": "安全教育",
    "internet_cafe": "网吧义务监督",
    "pairing": "结对帮扶",
    "other": "其他",
}
KIND_EN = {
    "red_history": "Red-history lessons",
    "tutoring": "Tutoring",
    "reading": "Reading",
    "safety": "Safety education",
    "internet_cafe": "Internet-café supervision",
    "pairing": "Pairing with a student",
    "other": "Other",
}

Text32 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+\-]{7,20}$")]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]


class EducationSettings(BaseModel):
    """Per-tenant settings (inherited down the tenant tree; every field has a default)."""

    allow_volunteers: bool = Field(default=True, description="允许登记非党员“五老”志愿者为辅导员")
    pairing_enabled: bool = Field(
        default=False, description="开展结对帮扶：开启后才可登记受助学生（仅限结对所需的最少信息）"
    )
    max_pairing_months: int = Field(default=24, ge=1, le=72, description="一次结对的最长期限（月）")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _not_future(value: datetime.date, what: str) -> datetime.date:
    if value > datetime.date.today():
        raise ValueError(f"{what}不能晚于今天")
    return value


# --- stations ------------------------------------------------------------------------------------------------


class StationCreate(_Input):
    name: Text64 = Field(description="辅导站名称")
    place_kind: PlaceKind = Field(description="设在学校、社区还是村")
    address: str = Field(default="", max_length=128)
    partner_school: str = Field(default="", max_length=64, description="结对学校")
    contact_name: str = Field(default="", max_length=32, description="联系人")
    contact_phone: Phone | None = Field(default=None, description="联系电话（加密保存，列表中打码）")
    schedule: str = Field(default="", max_length=200, description="开放时间，如“每周六上午 9:00-11:00”")
    opened_on: datetime.date = Field(default_factory=datetime.date.today, description="开放日期")

    @field_validator("opened_on")
    @classmethod
    def _opened(cls, value: datetime.date) -> datetime.date:
        return _not_future(value, "开放日期")


class StationUpdate(_Input):
    name: Text64 | None = None
    address: str | None = Field(default=None, max_length=128)
    partner_school: str | None = Field(default=None, max_length=64)
    contact_name: str | None = Field(default=None, max_length=32)
    contact_phone: Phone | None = None
    schedule: str | None = Field(default=None, max_length=200)


class StationStatusIn(_Input):
    status: StationStatus
    effective_on: datetime.date = Field(default_factory=datetime.date.today)
    note: str = Field(default="", max_length=200)

    @field_validator("effective_on")
    @classmethod
    def _effective(cls, value: datetime.date) -> datetime.date:
        return _not_future(value, "生效日期")


class StationOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    name: str
    place_kind: str
    place_kind_zh: str
    address: str
    partner_school: str
    contact_name: str
    contact_phone: str | None  # masked unless revealed
    schedule: str
    status: str
    status_zh: str
    opened_on: datetime.date


class StationPage(BaseModel):
    items: list[StationOut]
    total: int


class RevealIn(_Input):
    reason: str = Field(min_length=2, max_length=200, description="查看原因（记入审计）")


class StationRevealed(BaseModel):
    contact_phone: str | None


# --- counsellors ---------------------------------------------------------------------------------------------


class CounsellorCreate(_Input):
    member_id: uuid.UUID | None = Field(default=None, description="党员台账中的编号；非党员志愿者不填")
    volunteer_name: Text32 | None = Field(default=None, description="非党员志愿者姓名（加密保存）")
    volunteer_phone: Phone | None = None
    category: Category = Field(description="“五老”类别")
    subjects: list[Subject] = Field(default_factory=list, max_length=12, description="擅长科目/内容")
    station_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20, description="服务的辅导站")
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _one_of(self) -> CounsellorCreate:
        if (self.member_id is None) == (self.volunteer_name is None):
            raise ValueError("请在“党员”（member_id）和“非党员志愿者姓名”（volunteer_name）中二选一")
        if self.member_id is not None and self.volunteer_phone is not None:
            raise ValueError("党员的电话以党员台账为准，这里不再填写")
        return self


class CounsellorUpdate(_Input):
    category: Category | None = None
    subjects: list[Subject] | None = Field(default=None, max_length=12)
    station_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    status: Literal["active", "inactive"] | None = None
    volunteer_phone: Phone | None = None
    note: str | None = Field(default=None, max_length=200)


class CounsellorOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    member_id: uuid.UUID | None
    is_member: bool
    name: str  # a member's name; a volunteer's name masked unless revealed
    phone: str | None  # volunteers only, masked
    category: str
    category_zh: str
    subjects: list[str]
    station_ids: list[uuid.UUID]
    status: str
    note: str


class CounsellorPage(BaseModel):
    items: list[CounsellorOut]
    total: int


class CounsellorRevealed(BaseModel):
    name: str | None
    phone: str | None


# --- activities ----------------------------------------------------------------------------------------------


class ActivityIn(_Input):
    station_id: uuid.UUID
    kind: ActivityKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    held_on: datetime.date
    duration_minutes: int = Field(ge=1, le=720, description="时长（分钟）")
    counsellor_ids: list[uuid.UUID] = Field(min_length=1, max_length=30, description="参加的辅导员")
    students: int = Field(default=0, ge=0, le=100000, description="学生人次")
    parents: int = Field(default=0, ge=0, le=100000, description="家长人次")
    teachers: int = Field(default=0, ge=0, le=100000, description="教师人次")
    note: str = Field(default="", max_length=2000)

    @field_validator("held_on")
    @classmethod
    def _held(cls, value: datetime.date) -> datetime.date:
        return _not_future(value, "活动日期")

    @field_validator("counsellor_ids")
    @classmethod
    def _distinct(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(value)) != len(value):
            raise ValueError("同一位辅导员不能重复填写")
        return value


class WithdrawIn(_Input):
    reason: str = Field(min_length=2, max_length=200, description="撤回原因")


class PhotoOut(BaseModel):
    id: uuid.UUID
    file_id: uuid.UUID
    caption: str
    content_type: str
    size: int
    original_name: str
    uploaded_by: str
    url: str | None = None


class ActivityOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    station_id: uuid.UUID
    station_name: str
    kind: str
    kind_zh: str
    title: str
    held_on: datetime.date
    duration_minutes: int
    students: int
    parents: int
    teachers: int
    counsellor_ids: list[uuid.UUID]
    note: str
    status: str
    revision: int
    withdrawn_reason: str
    recorded_by: str
    photos: list[PhotoOut] = Field(default_factory=list)


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    total: int


# --- pairings ------------------------------------------------------------------------------------------------


class PairingCreate(_Input):
    """Only what pairing needs: a given name or alias, school, grade and the guardian's consent. No ID number."""

    counsellor_id: uuid.UUID
    station_id: uuid.UUID | None = None
    student_alias: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)] = Field(
        description="学生的名或化名（不填全名、不填身份证号）"
    )
    student_school: Text64
    student_grade: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    guardian_name: Text32 = Field(description="监护人姓名")
    guardian_relation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)] = Field(
        description="与学生关系，如“母亲”"
    )
    consent_on: datetime.date = Field(description="监护人同意日期")
    consent_record: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] = Field(
        description="同意记录：如“书面同意书已存档，编号 2026-017”"
    )
    started_on: datetime.date = Field(default_factory=datetime.date.today)
    ends_on: datetime.date = Field(description="结对截止日期")
    goal: str = Field(default="", max_length=200)

    @field_validator("consent_on")
    @classmethod
    def _consent(cls, value: datetime.date) -> datetime.date:
        return _not_future(value, "同意日期")

    @model_validator(mode="after")
    def _dates(self) -> PairingCreate:
        if self.consent_on > self.started_on:
            raise ValueError("须先取得监护人同意，再开始结对（同意日期不能晚于开始日期）")
        if self.ends_on <= self.started_on:
            raise ValueError("结对截止日期须晚于开始日期")
        return self


class PairingEnd(_Input):
    ended_on: datetime.date = Field(default_factory=datetime.date.today)
    note: str = Field(default="", max_length=200)


class PairingOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    counsellor_id: uuid.UUID
    station_id: uuid.UUID | None
    student_alias: str  # masked
    student_school: str  # masked
    student_grade: str
    guardian_relation: str
    consent_on: datetime.date
    started_on: datetime.date
    ends_on: datetime.date
    ended_on: datetime.date | None
    status: str
    goal: str


class PairingPage(BaseModel):
    items: list[PairingOut]
    total: int


class PairingRevealed(BaseModel):
    student_alias: str
    student_school: str
    student_grade: str
    guardian_name: str
    guardian_relation: str
    consent_record: str
