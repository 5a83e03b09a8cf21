"""The services one process shares: settings, database, stores, object storage, plugins, events.

Created once by the app factory (or the CLI, the worker) and reachable from requests as
``request.app.state.platform``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from litestar.stores.registry import StoreRegistry
from redis.asyncio import Redis

from core.cache.stores import create_store_registry
from core.db.engine import Database, create_engine
from core.events.dispatcher import Dispatcher
from core.events.outbox import WAKE_KEY
from core.events.worker import InProcessWake, RedisWake, Wake
from core.identity.roles import RoleRegistry
from core.plugin_host.activation import ActivationCache
from core.plugin_host.host import PluginHost
from core.privacy import crypto as privacy
from core.settings import Settings
from core.storage.base import ObjectStore
from core.storage.factory import create_store


@dataclass
class Platform:
    settings: Settings
    database: Database
    stores: StoreRegistry
    storage: ObjectStore
    plugins: PluginHost
    activation: ActivationCache
    wake: Wake
    roles: RoleRegistry = field(default_factory=RoleRegistry)
    redis: Redis | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, plugins: PluginHost | None = None, extra_plugins: tuple[ModuleType | str, ...] = ()
    ) -> Platform:
        if not settings.is_postgres:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.effective_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            echo=settings.database_echo,
        )
        privacy.configure(settings.pii_keys.get_secret_value(), settings.secret_key.get_secret_value())
        host = plugins or PluginHost.discover(extra_plugins)
        stores = create_store_registry(settings)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        wake: Wake = RedisWake(redis) if redis is not None else InProcessWake()
        database = Database(engine)
        database.session_info[WAKE_KEY] = wake.notify
        roles = host.role_registry()
        return cls(
            settings=settings,
            database=database,
            stores=stores,
            storage=create_store(settings),
            plugins=host,
            activation=ActivationCache(stores.get("plugin_activation")),
            wake=wake,
            roles=roles,
            redis=redis,
        )

    @property
    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.database, self.plugins, self.activation)

    @property
    def events_inline(self) -> bool:
        """Embedded mode delivers events in the web process; with Redis, ``yinling worker`` does."""
        return self.redis is None

    async def close(self) -> None:
        await self.database.dispose()
        await self.storage.close()
        if self.redis is not None:
            await self.redis.aclose()
