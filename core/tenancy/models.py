"""The tenant table: reference data for the whole deployment (not tenant-owned itself)."""

from __future__ import annotations

import datetime
from enum import StrEnum
from typing import Any

from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow


class TenantLevel(StrEnum):
    """省 > 市（州） > 县（区）."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"

    @property
    def rank(self) -> int:
        return {"province": 0, "city": 1, "county": 2}[self.value]

    @property
    def zh(self) -> str:
        return {"province": "省级", "city": "市级", "county": "县级"}[self.value]

    @property
    def en(self) -> str:
        return self.value

    @classmethod
    def from_code(cls, code: str) -> TenantLevel:
        """The level a GB/T 2260 code denotes: ``xx0000`` a province, ``xxyy00`` a city, anything else a county."""
        if code.endswith("0000"):
            return cls.PROVINCE
        if code.endswith("00"):
            return cls.CITY
        return cls.COUNTY


class Tenant(Base):
    """A province, city or county bureau. ``path`` lists the ids from the root (``/1/4/9/``) for subtree reads."""

    __tablename__ = "tenant"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'city', 'county')", name="level_known"),
        CheckConstraint("length(code) = 6", name="code_six_digits"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(start=1), primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    path: Mapped[str] = mapped_column(String(255), nullable=False, index=True, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)

    def audit_tenant_id(self) -> int:
        """Changes to a tenant are logged in that tenant, so its own and its ancestors' admins see them."""
        return self.id
