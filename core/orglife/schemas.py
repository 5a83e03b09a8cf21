"""Request and response shapes of organisation life, the "六有" checklist and "六好" scoring."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.orglife.models import AttendanceStatus, ItemKind, MeetingKind, MeetingMode, SixHaveItem

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Points = Annotated[Decimal, Field(ge=0, le=1000, max_digits=7, decimal_places=1)]

# --- meetings ----------------------------------------------------------------------------------------------


class MeetingFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MeetingKind | None = None
    title: Title | None = None
    held_on: datetime.date | None = Field(default=None, description="会议日期")
    start_time: datetime.time | None = Field(default=None, description="开始时间（当地时间）")
    duration_minutes: int | None = Field(default=None, ge=5, le=720, description="时长（分钟）")
    place: str | None = Field(default=None, max_length=255)
    mode: MeetingMode | None = None
    topic: str | None = Field(default=None, max_length=4000)
    notes: str | None = Field(default=None, max_length=8000)
    lecturer: str | None = Field(default=None, max_length=64, description="讲课人（党课必填）")


class MeetingCreate(MeetingFields):
    org_id: str = Field(description="召开会议的党支部或党小组（本单位）")
    kind: MeetingKind
    title: Title
    held_on: datetime.date
    duration_minutes: int = Field(ge=5, le=720)


class MeetingUpdate(MeetingFields):
    org_id: str | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class AttendanceMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: str
    status: AttendanceStatus
    reason: ShortText = ""


class AttendanceBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[AttendanceMark] = Field(min_length=1, max_length=1000)


class AttendanceSummary(BaseModel):
    roster: int = Field(description="名册人数（本支部党员及参加本支部活动的党员）")
    expected: int = Field(description="应到（不含请假）")
    present: int = Field(description="实到")
    absent: int = Field(description="缺席")
    excused: int = Field(description="请假（含健康原因默认请假）")
    unmarked: int = Field(description="尚未登记")
    rate: float | None = Field(description="出席率 = 实到 / 应到")


class AttendanceOut(BaseModel):
    member_id: str
    name: str
    relation: str  # formal | participant | guest
    relation_zh: str
    health_class: str
    status: str  # present | absent | excused | unmarked
    status_zh: str
    reason: str
    by_default: bool
    recorded_by: str | None


class MeetingOut(BaseModel):
    id: str
    tenant_code: str
    org_id: str
    org_name: str
    kind: MeetingKind
    kind_zh: str
    title: str
    held_on: datetime.date
    start_time: datetime.time | None
    duration_minutes: int
    place: str
    mode: MeetingMode
    mode_zh: str
    topic: str
    notes: str
    lecturer: str
    state: str  # planned | held | cancelled
    state_zh: str
    cancel_reason: str
    present: int
    absent: int
    excused: int
    summary: AttendanceSummary | None = None
    attendance: list[AttendanceOut] | None = None


class MeetingPage(BaseModel):
    items: list[MeetingOut]
    total: int
    page: int
    page_size: int


# --- "六有" --------------------------------------------------------------------------------------------


class SixHaveUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    met: bool
    note: str = Field(default="", max_length=2000)


class EvidenceOut(BaseModel):
    id: str
    item: SixHaveItem
    name: str
    content_type: str
    size: int
    caption: str
    uploaded_by: str
    uploaded_at: datetime.datetime
    download_url: str | None = None


class SixHaveOut(BaseModel):
    item: SixHaveItem
    item_zh: str
    met: bool
    note: str
    checked_by: str | None
    checked_at: datetime.datetime | None
    evidence: list[EvidenceOut]


class BranchSixHavesOut(BaseModel):
    org_id: str
    org_name: str
    tenant_code: str
    met: int
    total: int
    items: list[SixHaveOut]


class ItemRate(BaseModel):
    item: SixHaveItem
    item_zh: str
    met: int
    rate: float | None


class CompletionRow(BaseModel):
    tenant_code: str
    tenant_name: str
    branches: int
    branches_complete: int = Field(description="六项全部达标的支部数")
    items_met: int
    items_total: int
    rate: float | None = Field(description="达标率 = 达标项数 / (支部数 × 6)")


class CompletionOut(CompletionRow):
    by_item: list[ItemRate]
    children: list[CompletionRow]


# --- "六好" --------------------------------------------------------------------------------------------


class StandardItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aspect: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: str = Field(default="", max_length=2000)
    kind: ItemKind
    max_points: Annotated[Decimal, Field(gt=0, le=1000, max_digits=7, decimal_places=1)]
    unit_points: Annotated[Decimal, Field(gt=0, le=1000, max_digits=7, decimal_places=1)] | None = None
    position: int | None = Field(default=None, ge=0, le=100000)


class StandardItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aspect: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    description: str | None = Field(default=None, max_length=2000)
    kind: ItemKind | None = None
    max_points: Annotated[Decimal, Field(gt=0, le=1000, max_digits=7, decimal_places=1)] | None = None
    unit_points: Annotated[Decimal, Field(gt=0, le=1000, max_digits=7, decimal_places=1)] | None = None
    position: int | None = Field(default=None, ge=0, le=100000)
    is_active: bool | None = None


class StandardItemOut(BaseModel):
    id: str
    aspect: str
    name: str
    description: str
    kind: ItemKind
    kind_zh: str
    max_points: float
    unit_points: float | None
    position: int
    is_active: bool


class StandardListOut(BaseModel):
    source: str = Field(description="own 本单位细则 | inherited 沿用上级 | default 平台默认（江苏“六好”）")
    source_tenant_code: str | None
    source_zh: str
    max_total: float = Field(description="加分项满分合计")
    items: list[StandardItemOut]


class ScoreLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    points: Points | None = Field(default=None, description="得分或扣分（不超过该项分值）")
    count: int | None = Field(default=None, ge=0, le=1000, description="次数（按次计分的项目）")
    note: ShortText = ""


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ScoreLineIn] = Field(max_length=500)
    comment: str = Field(default="", max_length=4000)


class ScoreLineOut(BaseModel):
    item_id: str
    aspect: str
    name: str
    kind: ItemKind
    max_points: float
    unit_points: float | None
    count: int | None
    points: float
    capped: bool
    note: str


class ScoreOut(BaseModel):
    org_id: str
    org_name: str
    tenant_code: str
    year: int
    bonus: float
    deduction: float
    total: float
    list_source: str
    comment: str
    scored_by: str
    scored_at: datetime.datetime
    frozen: bool
    lines: list[ScoreLineOut]


class RankingRow(BaseModel):
    rank: int
    org_id: str
    org_name: str
    tenant_code: str
    tenant_name: str
    total: float
    is_model: bool


class RankingOut(BaseModel):
    tenant_code: str
    year: int
    threshold: float
    published: bool
    published_at: datetime.datetime | None
    published_by: str | None
    branches_scored: int
    branches_unscored: int
    model_branches: int
    rows: list[RankingRow]


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: Annotated[Decimal, Field(ge=0, le=1000, max_digits=7, decimal_places=1)] | None = Field(
        default=None, description="示范党支部分数线（默认 90 分）"
    )
