"""Key-value stores behind Litestar's :class:`~litestar.stores.base.Store` interface.

With ``YINLING_REDIS_URL`` every named store (``rate_limit``, ``sessions``, ``cache``) is a namespace of one
Redis connection pool, shared across processes; without it each is an in-process :class:`MemoryStore`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry

from core.settings import Settings

logger = logging.getLogger(__name__)


class FailOpenStore(Store):
    """Wraps a store whose outage must not stop requests (rate limits): errors read as 'nothing stored'.

    The outage still shows on ``/ready`` and in the log; losing a few rate-limit counters is better than
    refusing every request while Redis restarts.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        try:
            await self.inner.set(key, value, expires_in)
        except Exception as exc:  # noqa: BLE001 - any backend failure fails open
            logger.warning("store unavailable, set(%s) skipped: %s", key, exc)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        try:
            return await self.inner.get(key, renew_for)
        except Exception as exc:  # noqa: BLE001 - any backend failure fails open
            logger.warning("store unavailable, get(%s) answered empty: %s", key, exc)
            return None

    async def delete(self, key: str) -> None:
        try:
            await self.inner.delete(key)
        except Exception as exc:  # noqa: BLE001 - any backend failure fails open
            logger.warning("store unavailable, delete(%s) skipped: %s", key, exc)

    async def delete_all(self) -> None:
        await self.inner.delete_all()

    async def exists(self, key: str) -> bool:
        try:
            return await self.inner.exists(key)
        except Exception:  # noqa: BLE001 - any backend failure fails open
            return False

    async def expires_in(self, key: str) -> int | None:
        try:
            return await self.inner.expires_in(key)
        except Exception:  # noqa: BLE001 - any backend failure fails open
            return None


FAIL_OPEN = frozenset({"rate_limit"})


def create_store_registry(settings: Settings) -> StoreRegistry:
    if settings.redis_url:
        root = RedisStore.with_client(url=settings.redis_url, namespace="yinling")

        def redis_factory(name: str) -> Store:
            store = root.with_namespace(name)
            return FailOpenStore(store) if name in FAIL_OPEN else store

        return StoreRegistry(default_factory=redis_factory)
    return StoreRegistry(default_factory=lambda name: MemoryStore())


async def check_store(store: Store) -> None:
    """Round-trip one key (readiness)."""
    inner = store.inner if isinstance(store, FailOpenStore) else store
    await inner.set("ready-probe", b"1", expires_in=10)
    if await inner.get("ready-probe") != b"1":
        raise RuntimeError("store did not return what was written")
