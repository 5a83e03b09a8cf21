"""The append-only audit table. Updates and deletes are refused by the database itself."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from uuid_utils.compat import uuid7

from core.db.base import Base, TenantOwned, utcnow


class AuditEntry(TenantOwned, Base):
    """One write: who, in which tenant, what, before and after, when, under which request."""

    __tablename__ = "audit_entry"
    __audited__: ClassVar[bool] = False
    __table_args__ = (Index("ix_audit_entry_tenant_at", "tenant_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid7)
    # NULL for platform-wide entities (user accounts) written outside any tenant.
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True, primary_key=False)  # type: ignore[assignment]
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, default=utcnow, nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(160), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonB, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
