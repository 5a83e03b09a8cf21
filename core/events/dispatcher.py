"""Delivering outbox events to the ``on_event`` hooks of the plugins active in the event's tenant.

Two steps, each safe to run in several worker processes at once (``FOR UPDATE SKIP LOCKED`` on PostgreSQL):

* fan-out: an undispatched event gets one :class:`EventDelivery` per consumer active in its tenant then;
* delivery: a due delivery is locked, the consumer runs inside a savepoint of the same transaction that
  marks the delivery done, so its writes and the mark commit together (its effect happens once). When the
  consumer raises, the savepoint is rolled back and the delivery is rescheduled with exponential backoff;
  it stays visible to admins and is never dropped.
"""

from __future__ import annotations

import datetime
import logging
import traceback
import uuid
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import AuditContext
from core.db.engine import Database
from core.db.scope import TenantScope
from core.events.models import EventDelivery, OutboxEvent
from core.events.types import DomainEvent, EventContext
from core.plugin_host.activation import ActivationCache, effective_settings, resolve
from core.plugin_host.host import PluginHost
from core.plugin_host.settings import plugin_defaults
from core.tenancy.tree import load_tree

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(2 ** max(attempts, 0), MAX_BACKOFF_SECONDS))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Dispatcher:
    def __init__(self, database: Database, host: PluginHost, activation: ActivationCache) -> None:
        self.database = database
        self.host = host
        self.activation = activation

    def _locking(self, query: Any) -> Any:
        return query.with_for_update(skip_locked=True) if self.database.dialect == "postgresql" else query

    async def fan_out(self, limit: int = 200) -> int:
        """Turn undispatched events into deliveries for the consumers active in their tenants."""
        snapshot = await self.activation.get(self.database)
        deps = {name: p.info.depends for name, p in self.host.plugins.items()}
        consumers = [name for name in self.host.plugins if self.host.implements(name, "on_event")]
        async with self.database.session(TenantScope.system(), AuditContext.system("event-dispatcher")) as session:
            query = (
                select(OutboxEvent)
                .where(OutboxEvent.dispatched_at.is_(None))
                .order_by(OutboxEvent.occurred_at)
                .limit(limit)
            )
            events = (await session.execute(self._locking(query))).scalars().all()
            if not events:
                return 0
            tree = await load_tree(session)
            now = _now()
            for event in events:
                active = resolve(tree, snapshot, event.tenant_id, deps) if event.tenant_id in tree.nodes else {}
                for consumer in consumers:
                    if active.get(consumer) and active[consumer].active:
                        session.add(
                            EventDelivery(
                                tenant_id=event.tenant_id, event_id=event.id, consumer=consumer, next_attempt_at=now
                            )
                        )
                event.dispatched_at = now
        return len(events)

    async def due(self, limit: int = 200) -> list[tuple[int, uuid.UUID, str]]:
        async with self.database.session(TenantScope.system()) as session:
            rows = await session.execute(
                select(EventDelivery.tenant_id, EventDelivery.event_id, EventDelivery.consumer)
                .where(and_(EventDelivery.status == "pending", EventDelivery.next_attempt_at <= _now()))
                .order_by(EventDelivery.next_attempt_at)
                .limit(limit)
            )
            return [(r[0], r[1], r[2]) for r in rows]

    async def deliver_due(self, limit: int = 200) -> int:
        delivered = 0
        for key in await self.due(limit):
            if await self.deliver_one(*key):
                delivered += 1
        return delivered

    async def deliver_one(self, tenant_id: int, event_id: uuid.UUID, consumer: str) -> bool:
        """Deliver one event to one consumer; True when it was delivered now."""
        snapshot = await self.activation.get(self.database)
        scope = TenantScope.of([tenant_id], [tenant_id])
        async with self.database.session(scope, AuditContext.system(f"plugin:{consumer}")) as session:
            query = select(EventDelivery).where(
                EventDelivery.tenant_id == tenant_id,
                EventDelivery.event_id == event_id,
                EventDelivery.consumer == consumer,
            )
            delivery = (await session.execute(self._locking(query))).scalar_one_or_none()
            if delivery is None or delivery.status != "pending":
                return False  # another worker has it, or it is done
            event = await session.get(OutboxEvent, (tenant_id, event_id))
            assert event is not None
            delivery.attempts += 1
            try:
                async with session.begin_nested():
                    await self._call(session, event, consumer, delivery.attempts, snapshot)
            except Exception as exc:  # noqa: BLE001 - the consumer's failure is recorded and retried
                delivery.last_error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
                delivery.next_attempt_at = _now() + backoff(delivery.attempts)
                logger.warning("event %s to %s failed (attempt %d): %s", event.name, consumer, delivery.attempts, exc)
                return False
            delivery.status = "delivered"
            delivery.delivered_at = _now()
            delivery.last_error = None
        return True

    async def _call(
        self, session: AsyncSession, event: OutboxEvent, consumer: str, attempt: int, snapshot: Any
    ) -> None:
        tree = await load_tree(session)
        tenant = tree.nodes[event.tenant_id]
        values, _ = effective_settings(tree, snapshot, tenant.id, consumer, plugin_defaults(self.host, consumer))
        domain_event = DomainEvent(
            id=event.id,
            tenant_id=tenant.id,
            tenant_code=tenant.code,
            name=event.name,
            payload=dict(event.payload),
            source=event.source,
            occurred_at=event.occurred_at,
        )
        context = EventContext(
            plugin=consumer, tenant=tenant, tree=tree, session=session, settings=values, attempt=attempt
        )
        await self.host.call_one(consumer, "on_event", strict=True, event=domain_event, context=context)

    async def run_once(self) -> int:
        return await self.fan_out() + await self.deliver_due()
