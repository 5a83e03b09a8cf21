"""The delivery loop: ``yinling worker`` in production (woken through a Redis list), a background task of
the web process in embedded mode (woken in-process). Both also poll, so nothing waits on a lost wake-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from redis.asyncio import Redis

from core.events.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
REDIS_WAKE_KEY = "yinling:events:wake"


class Wake(Protocol):
    async def notify(self) -> None: ...

    async def wait(self, seconds: float) -> None: ...


class InProcessWake:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    async def notify(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()


class RedisWake:
    """Committing processes push a token; a worker blocks on the list (any worker may take it).

    ``key`` names the list, so other background work (member imports) can have a channel of its own.
    """

    def __init__(self, redis: Redis, key: str = REDIS_WAKE_KEY) -> None:
        self.redis = redis
        self.key = key

    async def notify(self) -> None:
        try:
            await self.redis.lpush(self.key, b"1")
            await self.redis.ltrim(self.key, 0, 99)
        except Exception as exc:  # noqa: BLE001 - the worker's poll picks the event up anyway
            logger.warning("could not wake the event worker: %s", exc)

    async def wait(self, seconds: float) -> None:
        try:
            await self.redis.blpop([self.key], timeout=max(1, int(seconds)))
        except Exception as exc:  # noqa: BLE001 - Redis down: fall back to polling
            logger.warning("event wake-up channel unavailable: %s", exc)
            await asyncio.sleep(seconds)


async def run_worker(dispatcher: Dispatcher, wake: Wake, stop: asyncio.Event) -> None:
    """Deliver until ``stop`` is set; a failing round is logged and retried after a pause."""
    logger.info("event worker started")
    while not stop.is_set():
        try:
            busy = await dispatcher.run_once()
        except Exception:
            logger.exception("event delivery round failed")
            busy = 0
        if not busy:
            waiter = asyncio.create_task(wake.wait(POLL_SECONDS))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, stopper):
                task.cancel()
    logger.info("event worker stopped")
