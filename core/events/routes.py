"""``/api/v1/t/{tenant_code}/events/deliveries``: what was delivered to whom, what is failing and why;
an admin may ask for a failing delivery to be retried now."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.events.models import EventDelivery, OutboxEvent
from core.identity.roles import EVENT_READ, PLUGIN_MANAGE

DELIVERY_NOT_FOUND = ErrorSpec("event.delivery_not_found", 404, "找不到该事件投递记录", "No such event delivery")


class DeliveryOut(BaseModel):
    event_id: str
    event_name: str
    tenant_id: int
    consumer: str
    status: str
    attempts: int
    next_attempt_at: datetime.datetime
    last_error: str | None
    occurred_at: datetime.datetime
    delivered_at: datetime.datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int


class EventController(Controller):
    path = "/api/v1/t/{tenant_code:str}/events/deliveries"
    tags = ["events"]

    @get("/", opt={"permission": EVENT_READ}, summary="Deliveries in the subtree; failing ones first")
    async def list_deliveries(
        self,
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        failing: FromQuery[bool] = False,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> DeliveryPage:
        query = select(EventDelivery, OutboxEvent).join(
            OutboxEvent, (OutboxEvent.tenant_id == EventDelivery.tenant_id) & (OutboxEvent.id == EventDelivery.event_id)
        )
        if status:
            query = query.where(EventDelivery.status == status)
        if failing:
            query = query.where(EventDelivery.status == "pending", EventDelivery.attempts > 0)
        total = (await db_session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await db_session.execute(
            query.order_by(EventDelivery.status.desc(), EventDelivery.attempts.desc(), OutboxEvent.occurred_at.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        items = [
            DeliveryOut(
                event_id=str(d.event_id),
                event_name=e.name,
                tenant_id=d.tenant_id,
                consumer=d.consumer,
                status=d.status,
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at,
                last_error=d.last_error,
                occurred_at=e.occurred_at,
                delivered_at=d.delivered_at,
            )
            for d, e in rows.tuples()
        ]
        return DeliveryPage(items=items, total=total)

    @post(
        "/{event_id:uuid}/{consumer:str}/retry",
        opt={"permission": PLUGIN_MANAGE},
        summary="Retry a pending delivery now",
        status_code=200,
    )
    async def retry(
        self, db_session: NamedDependency[AsyncSession], event_id: FromPath[uuid.UUID], consumer: FromPath[str]
    ) -> dict[str, Any]:
        delivery = (
            await db_session.execute(
                select(EventDelivery).where(EventDelivery.event_id == event_id, EventDelivery.consumer == consumer)
            )
        ).scalar_one_or_none()
        if delivery is None:
            raise DELIVERY_NOT_FOUND.error(field="event_id")
        if delivery.status == "pending":
            delivery.next_attempt_at = datetime.datetime.now(datetime.UTC)
        await db_session.flush()
        return {"status": delivery.status, "next_attempt_at": delivery.next_attempt_at.isoformat()}
