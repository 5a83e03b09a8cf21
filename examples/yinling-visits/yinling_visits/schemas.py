"""What the API accepts and answers. Validation messages a person can act on are in Chinese (the host adds
``field`` and English on request); the kinds of visit are the words bureaus use in their reports."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

Kind = Literal["节日慰问", "生病探望", "生日慰问", "困难帮扶", "日常走访"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Community = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Need = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class VisitsSettings(BaseModel):
    """Per-tenant settings (inherited down the tenant tree; every field has a default)."""

    follow_up_days: int = Field(default=7, ge=1, le=90, description="回访期限（天）：登记需回访时默认的期限")
    require_photo: bool = Field(default=False, description="登记走访时必须附走访照片（先上传文件，再填文件编号）")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanCreate(_Input):
    person_name: Name = Field(description="被走访的老同志姓名")
    community: Community = Field(description="所在社区")
    planned_date: datetime.date
    visitor: Name = Field(description="走访人")
    kind: Kind
    note: str = Field(default="", max_length=500)


class PlanUpdate(_Input):
    planned_date: datetime.date | None = None
    visitor: Name | None = None
    note: str | None = Field(default=None, max_length=500)
    status: Literal["planned", "cancelled"] | None = None


class PlanOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    person_name: str
    community: str
    planned_date: datetime.date
    visitor: str
    kind: str
    note: str
    status: str
    created_by: str


class PlanPage(BaseModel):
    items: list[PlanOut]
    total: int


class RecordCreate(_Input):
    plan_id: uuid.UUID | None = Field(default=None, description="关联的走访计划；不关联时须填写被走访人、社区、类型")
    person_name: Name | None = None
    community: Community | None = None
    kind: Kind | None = None
    visited_on: datetime.date
    visitor: Name
    duration_minutes: int = Field(ge=1, le=720, description="走访时长（分钟）")
    findings: str = Field(default="", max_length=2000, description="走访了解到的情况")
    needs: list[Need] = Field(default_factory=list, max_length=20, description="发现的需求，每条一句话")
    follow_up_required: bool = False
    follow_up_due: datetime.date | None = Field(default=None, description="回访期限；不填则按本单位设置的天数")
    photo_file_id: uuid.UUID | None = None

    @field_validator("visited_on")
    @classmethod
    def _not_in_future(cls, value: datetime.date) -> datetime.date:
        if value > datetime.date.today():
            raise ValueError("走访日期不能晚于今天")
        return value

    @field_validator("follow_up_due")
    @classmethod
    def _after_visit(cls, value: datetime.date | None, info: ValidationInfo) -> datetime.date | None:
        visited = info.data.get("visited_on")
        if value is not None and isinstance(visited, datetime.date) and value < visited:
            raise ValueError("回访期限不能早于走访日期")
        return value


class FollowUpOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    record_id: uuid.UUID
    due_on: datetime.date
    done: bool
    done_on: datetime.date | None
    done_by: str | None
    note: str


class RecordOut(BaseModel):
    id: uuid.UUID
    tenant_id: int
    plan_id: uuid.UUID | None
    person_name: str
    community: str
    kind: str
    visited_on: datetime.date
    visitor: str
    duration_minutes: int
    findings: str
    needs: list[str]
    follow_up_required: bool
    follow_up_due: datetime.date | None
    photo_file_id: uuid.UUID | None
    recorded_by: str
    follow_ups: list[FollowUpOut] = Field(default_factory=list)


class RecordPage(BaseModel):
    items: list[RecordOut]
    total: int


class FollowUpUpdate(_Input):
    done: bool
    note: str = Field(default="", max_length=1000)


class FollowUpPage(BaseModel):
    items: list[FollowUpOut]
    total: int


class StatsOut(BaseModel):
    """Figures for the acting tenant's subtree (what a bureau's report counts)."""

    visits_made: int
    people_visited: int
    needs_found: int
    follow_ups_done: int
    follow_ups_open: int
    counted_by_events: int
    minutes_by_events: int
