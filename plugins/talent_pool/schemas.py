"""What the API accepts and answers, and the plugin's per-tenant settings. Validation messages are in Chinese."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from plugins.talent_pool.categories import CATEGORIES, OTHER, choices_text, normalise

#: The 12 fields the pool is seeded with (a tenant may edit the list in its settings): the province-wide
#: classification's categories but 其他, so a tenant that keeps them needs no ``field_categories``.
DEFAULT_FIELDS = tuple(c.title_zh for c in CATEGORIES if c.code != OTHER)

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Availability = Literal["available", "busy", "unavailable"]
RequesterKind = Literal["village", "enterprise", "school", "community", "other"]
ShareWithin = Literal["none", "city", "province"]

AVAILABILITY_ZH = {"available": "可以服务", "busy": "近期较忙", "unavailable": "暂不服务"}
REQUESTER_ZH = {"village": "村（社区）", "enterprise": "企业", "school": "学校", "community": "社区", "other": "其他"}


class TalentPoolSettings(BaseModel):
    """Per-tenant settings, inherited down the tree (every field has a default)."""

    fields: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FIELDS), min_length=1, max_length=40, description="人才领域清单"
    )
    review_interval_years: int = Field(default=2, ge=1, le=10, description="入库后每隔几年复审一次")
    age_limit: int = Field(default=75, ge=55, le=100, description="入库年龄上限（周岁）")
    reminder_days: int = Field(default=60, ge=1, le=365, description="复审到期、到龄前多少天提醒")
    share_within: ShareWithin = Field(
        default="none",
        description="银龄人才援基层：none 不共享；city 本市各县（区）人才库互相开放；province 全省开放",
    )
    max_load: int = Field(default=3, ge=1, le=20, description="一位专家同时承担的服务任务上限（用于匹配打分）")
    field_categories: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description=(
            '各领域归入的全省统一专业分类（统计报表按分类汇总）：{领域: 分类代码或名称}，如 {"水利": "engineering"}；'
            "与分类同名的领域自动归入该分类，其余未列出的领域归入“其他”"
        ),
    )

    @field_validator("fields")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value if v and v.strip()]
        if len(set(cleaned)) != len(cleaned) or not cleaned:
            raise ValueError("领域名称不能为空，也不能重复")
        return cleaned

    @field_validator("field_categories")
    @classmethod
    def _known_categories(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for field, category in value.items():
            name = field.strip()
            # PydanticCustomError, not ValueError: the settings API shows its own words, not a generic "取值不正确".
            if not name or len(name) > 32:
                raise PydanticCustomError("field_name_invalid", "领域名称不能为空，也不能超过 32 个字")
            code = normalise(category)
            if code is None:
                raise PydanticCustomError(
                    "field_category_unknown",
                    "“{value}”不是全省统一的专业分类。可选：{choices}",
                    {"value": category, "choices": choices_text()},
                )
            out[name] = code
        return out


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- profiles --------------------------------------------------------------------------------------------


class ProfileCreate(_Input):
    member_id: uuid.UUID = Field(description="党员台账中的老同志")
    fields: list[Word] = Field(min_length=1, max_length=5, description="专业领域（从本单位领域清单中选）")
    skills: list[Word] = Field(default_factory=list, max_length=20, description="专长，每项一个词或短语")
    title: str = Field(default="", max_length=64, description="职称，如 高级农艺师")
    achievements: str = Field(default="", max_length=2000)
    availability: Availability = "available"
    availability_note: str = Field(default="", max_length=200, description="如：每周二、四上午")
    willing_to_travel: bool = True
    station_id: uuid.UUID | None = None


class ProfileUpdate(_Input):
    fields: list[Word] | None = Field(default=None, min_length=1, max_length=5)
    skills: list[Word] | None = Field(default=None, max_length=20)
    title: str | None = Field(default=None, max_length=64)
    achievements: str | None = Field(default=None, max_length=2000)
    availability: Availability | None = None
    availability_note: str | None = Field(default=None, max_length=200)
    willing_to_travel: bool | None = None
    station_id: uuid.UUID | None = None
    clear_station: bool = False


class ReviewIn(_Input):
    decision: Literal["admit", "reject", "renew", "retire"]
    note: str = Field(default="", max_length=1000)


class ReviewOut(BaseModel):
    id: uuid.UUID
    decision: str
    decided_on: datetime.date
    decided_by: str
    note: str


class ProfileOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    member_id: uuid.UUID
    name: str
    age: int
    health_class: str
    fields: list[str]
    skills: list[str]
    title: str
    achievements: str
    availability: str
    availability_note: str
    willing_to_travel: bool
    station_id: uuid.UUID | None
    status: str
    admitted_on: datetime.date | None
    next_review_on: datetime.date | None
    retired_on: datetime.date | None
    reviews: list[ReviewOut] = Field(default_factory=list)


class ProfilePage(BaseModel):
    items: list[ProfileOut]
    total: int


class Reminder(BaseModel):
    profile_id: uuid.UUID
    name: str
    kind: Literal["review_due", "review_overdue", "age_limit_near", "age_limit_reached"]
    due_on: datetime.date
    message: str
    message_en: str


# --- demands, matching, assignments, services ---------------------------------------------------------------


class DemandCreate(_Input):
    title: Short
    field: Word = Field(description="需求所属领域（本单位领域清单中的一项）")
    requester_kind: RequesterKind
    requester_name: Short = Field(description="提出需求的村、企业、学校名称")
    place: Short
    starts_on: datetime.date
    ends_on: datetime.date
    description: str = Field(default="", max_length=4000, description="需要解决什么问题")

    @field_validator("ends_on")
    @classmethod
    def _ordered(cls, value: datetime.date, info: ValidationInfo) -> datetime.date:
        starts = info.data.get("starts_on")
        if isinstance(starts, datetime.date) and value < starts:
            raise ValueError("结束日期不能早于开始日期")
        return value


class DemandOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    title: str
    field: str
    requester_kind: str
    requester_name: str
    place: str
    starts_on: datetime.date
    ends_on: datetime.date
    description: str
    posted_on: datetime.date
    status: str
    met_on: datetime.date | None
    created_by: str


class DemandPage(BaseModel):
    items: list[DemandOut]
    total: int


class ScorePart(BaseModel):
    factor: Literal["field", "skills", "distance", "availability", "load"]
    points: float
    max_points: float
    reason: str
    reason_en: str


class Candidate(BaseModel):
    """One ranked expert. For an expert of another county only the shareable projection is shown."""

    expert_id: uuid.UUID
    tenant_code: str
    tenant_name: str
    shared: bool  # from another county's pool through 银龄人才援基层
    name: str
    fields: list[str]
    skills: list[str]
    availability: str
    load: int
    score: float
    explanation: list[ScorePart]


class MatchOut(BaseModel):
    demand_id: uuid.UUID
    sharing: ShareWithin
    shared_tenants: list[str]
    candidates: list[Candidate]


class AssignmentCreate(_Input):
    expert_id: uuid.UUID
    expert_tenant_code: str | None = Field(default=None, description="专家所在单位；不填则为本单位（及下级）")
    note: str = Field(default="", max_length=1000)


class AssignmentRespond(_Input):
    accept: bool
    note: str = Field(default="", max_length=1000)


class AssignmentOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    demand_id: uuid.UUID
    expert_id: uuid.UUID
    expert_tenant_id: int
    expert_name: str
    expert_fields: list[str]
    shared: bool
    score: float
    explanation: list[Any]
    status: str
    responded_on: datetime.date | None
    completed_on: datetime.date | None
    note: str


class AssignmentPage(BaseModel):
    items: list[AssignmentOut]
    total: int


class ServiceCreate(_Input):
    served_on: datetime.date
    hours: float | None = Field(default=None, gt=0, le=24)
    visits: int = Field(default=1, ge=0, le=1000, description="上门指导次数")
    problems_solved: int = Field(default=0, ge=0, le=10000)
    trainees: int = Field(default=0, ge=0, le=100000, description="培训人次")
    value_yuan: float = Field(default=0, ge=0, le=1e11, description="带来的经济效益（元）")
    summary: str = Field(default="", max_length=4000)

    @field_validator("served_on")
    @classmethod
    def _not_future(cls, value: datetime.date) -> datetime.date:
        if value > datetime.date.today():
            raise ValueError("服务日期不能晚于今天")
        return value


class ServiceRevoke(_Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class FeedbackIn(_Input):
    rating: int = Field(ge=1, le=5, description="满意度 1-5 分")
    feedback: str = Field(default="", max_length=2000)


class ServiceOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    assignment_id: uuid.UUID
    served_on: datetime.date
    hours: float | None
    visits: int
    problems_solved: int
    trainees: int
    value_yuan: float
    summary: str
    recorded_by: str
    revoked: bool
    revoked_on: datetime.date | None
    revoke_reason: str
    rating: int | None
    feedback: str


class ServicePage(BaseModel):
    items: list[ServiceOut]
    total: int


# --- think tank and stations --------------------------------------------------------------------------------


class StudyCreate(_Input):
    title: Short
    topic: str = Field(default="", max_length=4000)
    adviser_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100, description="参与的专家（人才档案）")
    started_on: datetime.date


class ReportOut(BaseModel):
    id: uuid.UUID
    study_id: uuid.UUID
    title: str
    file_name: str
    size: int
    content_type: str
    submitted_on: datetime.date
    uploaded_by: str
    download_url: str | None = None


class SuggestionCreate(_Input):
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    made_on: datetime.date


class AdoptionIn(_Input):
    adopted: bool
    adopted_on: datetime.date | None = None
    adopted_by: str = Field(default="", max_length=100, description="采纳的单位或部门")


class SuggestionOut(BaseModel):
    id: uuid.UUID
    study_id: uuid.UUID
    content: str
    made_on: datetime.date
    adopted: bool
    adopted_on: datetime.date | None
    adopted_by: str


class StudyOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    title: str
    topic: str
    adviser_ids: list[str]
    started_on: datetime.date
    status: str
    reports: list[ReportOut] = Field(default_factory=list)
    suggestions: list[SuggestionOut] = Field(default_factory=list)


class StudyPage(BaseModel):
    items: list[StudyOut]
    total: int


class StationCreate(_Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    address: str = Field(default="", max_length=128)
    focus: str = Field(default="", max_length=200, description="服务方向")
    opened_on: datetime.date


class StationClose(_Input):
    closed_on: datetime.date


class StationOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    name: str
    address: str
    focus: str
    opened_on: datetime.date
    closed_on: datetime.date | None
    experts: int = 0
    services: int = 0
    problems_solved: int = 0


class StationDetail(StationOut):
    expert_list: list[ProfileOut] = Field(default_factory=list)
    service_list: list[ServiceOut] = Field(default_factory=list)


class CategoryOut(BaseModel):
    code: str
    title_zh: str
    title_en: str
    metric: str


class FieldCategoryOut(BaseModel):
    field: str
    category: str


class CategoriesOut(BaseModel):
    """The province-wide classification, and where the acting tenant's fields fall in it."""

    categories: list[CategoryOut]
    fields: list[FieldCategoryOut]


class ReclassifyOut(BaseModel):
    checked: int  # admitted experts of the subtree
    moved: int  # of them, those whose categories changed


class StatsOut(BaseModel):
    """Figures of the acting tenant's subtree (what a bureau's report counts)."""

    experts: int
    experts_by_field: dict[str, int]
    experts_by_category: dict[str, int] = Field(default_factory=dict)  # category code -> experts, every category
    demands_posted: int
    demands_met: int
    services: int
    problems_solved: int
    trainees: int
    value_yuan: float
    reports: int
    suggestions_made: int
    suggestions_adopted: int
    stations: int
