"""Request and response shapes of the tenants API."""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.tenancy.models import Tenant, TenantLevel
from core.tenancy.tree import TenantNode, TenantTree

DivisionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
TenantName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: DivisionCode = Field(description="GB/T 2260 行政区划代码, 6 digits, e.g. 320102")
    name: TenantName = Field(description="单位名称, e.g. 玄武区委老干部局 or 玄武区")
    parent_code: DivisionCode | None = Field(default=None, description="上级单位代码; omitted for a province")
    level: TenantLevel | None = Field(default=None, description="Derived from the code when omitted")


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TenantName


class TenantOut(BaseModel):
    code: str
    name: str
    level: TenantLevel
    parent_code: str | None
    is_active: bool
    depth: int
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    @classmethod
    def of_row(cls, row: Tenant, tree: TenantTree) -> TenantOut:
        parent = tree.nodes.get(row.parent_id) if row.parent_id is not None else None
        return cls(
            code=row.code,
            name=row.name,
            level=TenantLevel(row.level),
            parent_code=parent.code if parent else None,
            is_active=row.is_active,
            depth=row.path.count("/") - 2,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    def of_node(cls, node: TenantNode, tree: TenantTree) -> TenantOut:
        parent = tree.nodes.get(node.parent_id) if node.parent_id is not None else None
        return cls(
            code=node.code,
            name=node.name,
            level=node.level,
            parent_code=parent.code if parent else None,
            is_active=node.is_active,
            depth=node.path.count("/") - 2,
        )


class TenantList(BaseModel):
    items: list[TenantOut]
    total: int
