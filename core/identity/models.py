"""Accounts and role grants. A grant (user, tenant, role) covers the tenant's whole subtree."""

from __future__ import annotations

import datetime
import uuid
from typing import ClassVar

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned


class User(Entity, Base):
    """A person who signs in: locally (argon2 hash) in embedded mode, or through Keycloak (``external_id``)."""

    __tablename__ = "user_account"
    __audit_redact__: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class RoleGrant(Entity, TenantOwned, Base):
    """User ``user_id`` holds ``role`` in ``tenant_id`` and everything below it."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id", "role", name="uq_role_grant_user_tenant_role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(64), nullable=False)
    granted_by: Mapped[str] = mapped_column(String(64), nullable=False, default="system")
