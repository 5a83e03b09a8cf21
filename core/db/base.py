"""Declarative base shared by the core and every plugin.

One metadata with a naming convention (so Alembic names constraints the same on every database), UUIDv7
keys, UTC timestamps, and :class:`TenantOwned` for every row that belongs to a tenant. Plugins import
:class:`Base` and :class:`TenantOwned` from here; their tables land in the same metadata and their own
Alembic branch.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from advanced_alchemy.base import AdvancedDeclarativeBase, CommonTableAttributes, create_registry
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import ForeignKey, Integer, inspect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from uuid_utils.compat import uuid7

registry = create_registry()


class Base(CommonTableAttributes, AdvancedDeclarativeBase, AsyncAttrs):
    """Base of every table. ``__audited__ = False`` opts a model out of the automatic audit trail."""

    __abstract__ = True
    registry = registry
    __audited__: ClassVar[bool] = True

    def column_values(self) -> dict[str, Any]:
        """Plain column values, for audit before/after images and JSON output."""
        state = inspect(self)
        out: dict[str, Any] = {}
        for attr in state.mapper.column_attrs:
            value = getattr(self, attr.key)
            out[attr.key] = value
        return out


# Advanced Alchemy's base keeps its own metadata registry; the tables land in this one.
metadata = Base.metadata


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Entity:
    """A row with a time-ordered UUID key and created/updated timestamps (UTC)."""

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid7, sort_order=-100)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, sort_order=90)
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow, sort_order=91
    )


class TenantOwned:
    """Mixin for rows that belong to one tenant; ``tenant_id`` leads the primary key.

    The ORM adds the acting scope to every query of such a model, and on PostgreSQL the migration that
    creates its table must call :func:`core.db.rls.enable_tenant_rls`. ``tenant_id`` is indexed and
    ends every primary key where practical so the schema can be distributed by tenant later.
    """

    __tenant_owned__: ClassVar[bool] = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenant.id", ondelete="RESTRICT"), primary_key=True, sort_order=-200)


def is_tenant_owned(model: type[Any] | Any) -> bool:
    cls = model if isinstance(model, type) else type(model)
    return bool(getattr(cls, "__tenant_owned__", False))
