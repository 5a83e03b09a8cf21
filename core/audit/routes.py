"""``/api/v1/t/{tenant_code}/audit``: the audit trail of a tenant's subtree, newest first."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.models import AuditEntry
from core.identity.roles import AUDIT_READ


class AuditEntryOut(BaseModel):
    id: str
    tenant_id: int | None
    at: datetime.datetime
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int
    page_size: int


class AuditController(Controller):
    path = "/api/v1/t/{tenant_code:str}/audit"
    tags = ["audit"]

    @get("/", opt={"permission": AUDIT_READ}, summary="Audit entries of the tenant's subtree")
    async def list_entries(
        self,
        db_session: NamedDependency[AsyncSession],
        entity_type: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> AuditPage:
        # The session's tenant scope limits the rows to the acting tenant's subtree.
        query = select(AuditEntry)
        if entity_type:
            query = query.where(AuditEntry.entity_type == entity_type)
        if action:
            query = query.where(AuditEntry.action == action)
        total = (await db_session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (
            await db_session.execute(
                query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        ).scalars()
        items = [
            AuditEntryOut(
                id=str(r.id),
                tenant_id=r.tenant_id,
                at=r.at,
                actor_name=r.actor_name,
                action=r.action,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                before=r.before,
                after=r.after,
                request_id=r.request_id,
            )
            for r in rows
        ]
        return AuditPage(items=items, total=total, page=page, page_size=page_size)
