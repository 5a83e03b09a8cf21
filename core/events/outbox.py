"""Writing events: :func:`emit` adds the event to the caller's transaction, and wakes the dispatcher once
that transaction commits (an event of a rolled-back transaction never existed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import after_commit
from core.events.models import OutboxEvent

WAKE_KEY = "events_wake"


async def emit(
    session: AsyncSession, *, tenant_id: int, name: str, payload: dict[str, Any], source: str
) -> OutboxEvent:
    """Record that ``name`` happened in ``tenant_id``; delivered to active plugins after commit."""
    event = OutboxEvent(tenant_id=tenant_id, name=name, payload=payload, source=source)
    session.add(event)
    await session.flush()
    waker = session.info.get(WAKE_KEY)
    if waker is not None:
        after_commit(session, waker)
    return event
