"""What ``on_event`` receives."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.tenancy.tree import TenantNode, TenantTree


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened in a tenant, e.g. ``mediation.case_settled`` with the case and mediators."""

    id: uuid.UUID
    tenant_id: int
    tenant_code: str
    name: str
    payload: dict[str, Any]
    source: str
    occurred_at: datetime.datetime


@dataclass
class EventContext:
    """Where a consumer runs: the event's tenant, a session scoped to it, the consumer's effective settings."""

    plugin: str
    tenant: TenantNode
    tree: TenantTree
    session: AsyncSession
    settings: dict[str, Any]
    attempt: int
