"""``GET /metrics`` for Prometheus: request counts and latency (Litestar's Prometheus middleware, paths
grouped by route so tenants do not explode the label space) and the event queue, read at scrape time.

With several uvicorn workers in one pod set ``PROMETHEUS_MULTIPROC_DIR`` so the workers' figures add up.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from core.db.scope import TenantScope
from core.events.models import EventDelivery, OutboxEvent

PROMETHEUS = PrometheusConfig(
    app_name="yinling", prefix="yinling", group_path=True, exclude=["^/metrics", "^/health", "^/ready"]
)

EVENTS_UNDISPATCHED = Gauge("yinling_events_undispatched", "Outbox events not yet fanned out to consumers")
DELIVERIES_PENDING = Gauge("yinling_event_deliveries_pending", "Event deliveries waiting (queue depth)")
DELIVERIES_FAILING = Gauge("yinling_event_deliveries_failing", "Pending deliveries that failed at least once")
DELIVERY_LAG = Gauge("yinling_event_delivery_lag_seconds", "Age of the oldest event not yet delivered to all consumers")


async def refresh_event_gauges(platform: Any) -> None:
    now = datetime.datetime.now(datetime.UTC)
    async with platform.database.session(TenantScope.system()) as session:
        undispatched, oldest_event = (
            await session.execute(
                select(func.count(), func.min(OutboxEvent.occurred_at)).where(OutboxEvent.dispatched_at.is_(None))
            )
        ).one()
        pending, failing = (
            await session.execute(
                select(func.count(), func.count().filter(EventDelivery.attempts > 0)).where(
                    EventDelivery.status == "pending"
                )
            )
        ).one()
        oldest_pending = (
            await session.execute(
                select(func.min(OutboxEvent.occurred_at))
                .join(
                    EventDelivery,
                    (EventDelivery.tenant_id == OutboxEvent.tenant_id) & (EventDelivery.event_id == OutboxEvent.id),
                )
                .where(EventDelivery.status == "pending")
            )
        ).scalar()
    EVENTS_UNDISPATCHED.set(undispatched)
    DELIVERIES_PENDING.set(pending)
    DELIVERIES_FAILING.set(failing)
    oldest = min((t for t in (oldest_event, oldest_pending) if t is not None), default=None)
    DELIVERY_LAG.set((now - oldest).total_seconds() if oldest else 0)


@get("/metrics", opt={"public": True}, tags=["health"], summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    await refresh_event_gauges(request.app.state.platform)
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
