"""The services one process shares: settings, database, stores, object storage, roles.

Created once by the app factory (or the CLI) and reachable from requests as ``request.app.state.platform``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.stores.registry import StoreRegistry

from core.cache.stores import create_store_registry
from core.db.engine import Database, create_engine
from core.identity.roles import RoleRegistry
from core.settings import Settings
from core.storage.base import ObjectStore
from core.storage.factory import create_store


@dataclass
class Platform:
    settings: Settings
    database: Database
    stores: StoreRegistry
    storage: ObjectStore
    roles: RoleRegistry = field(default_factory=RoleRegistry)

    @classmethod
    def from_settings(cls, settings: Settings) -> Platform:
        if not settings.is_postgres:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.effective_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            echo=settings.database_echo,
        )
        return cls(
            settings=settings,
            database=Database(engine),
            stores=create_store_registry(settings),
            storage=create_store(settings),
        )

    async def close(self) -> None:
        await self.database.dispose()
        await self.storage.close()
