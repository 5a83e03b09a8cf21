"""Shared fixtures. The suite runs against the real services that ``scripts/services.sh up`` starts
(PostgreSQL, Redis, MinIO, Keycloak); a missing service fails the tests that need it, never skips them.
A smoke set (``-m embedded``) runs on the embedded defaults."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import tests.fixture_plugins.sample as sample_plugin
from core.db.engine import create_engine
from core.db.migrate import installed_plugin_dirs, upgrade
from core.platform import Platform
from core.settings import Settings
from core.web.app import create_app
from tests.support import seed_world

REPO = Path(__file__).resolve().parent.parent
TEST_PLUGINS = (sample_plugin,)


def migration_dirs_for_tests() -> list[Path]:
    """Installed plugins' branches plus the test fixture plugin's."""
    return [*installed_plugin_dirs(), sample_plugin.HERE / "migrations"]


def _load_services_env() -> None:
    """Pick up ``.services/env`` when the caller did not source it (running pytest by hand)."""
    env_file = Path(os.environ.get("YINLING_SERVICES_DIR", REPO / ".services")) / "env"
    if not env_file.is_file():
        return
    for line in env_file.read_text().splitlines():
        line = line.strip().removeprefix("export ").strip()
        if "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key, value.strip().strip("'\""))


_load_services_env()


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: start the real services with `bash scripts/services.sh up` "
            "(the test command in the README does this)",
            pytrace=False,
        )
    return value


# --- PostgreSQL ---------------------------------------------------------------------------------


def _with_db(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def pg_urls() -> Iterator[dict[str, str]]:
    """A scratch database for this run, migrated by the owner role; the app connects as the app role."""
    owner_url = require_env("YINLING_TEST_PG_OWNER_URL")
    app_url = require_env("YINLING_TEST_PG_APP_URL")
    admin_dsn = require_env("YINLING_TEST_PG_ADMIN_DSN")
    dbname = f"yinling_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{dbname}"'))
    urls = {"owner": _with_db(owner_url, dbname), "app": _with_db(app_url, dbname), "name": dbname}
    settings = Settings(database_url=urls["app"], database_migration_url=urls["owner"], db_app_role="yinling_app")
    upgrade(settings, extra=migration_dirs_for_tests())
    yield urls
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def owner_engine(pg_urls: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_urls["owner"])
    yield engine
    await engine.dispose()


async def truncate_all(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            )
            .scalars()
            .all()
        )
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def service_settings(pg_urls: dict[str, str], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": pg_urls["app"],
        "database_migration_url": pg_urls["owner"],
        "redis_url": require_env("YINLING_TEST_REDIS_URL"),
        "s3_endpoint": require_env("YINLING_TEST_S3_ENDPOINT"),
        "s3_access_key": require_env("YINLING_TEST_S3_ACCESS_KEY"),
        "s3_secret_key": require_env("YINLING_TEST_S3_SECRET_KEY"),
        "s3_secure": False,
        "s3_bucket": f"yinling-test-{os.getpid()}",
        "rate_limit_per_minute": 100000,
        "public_url": "http://testserver.local",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def pg_platform(pg_urls: dict[str, str], owner_engine: AsyncEngine) -> AsyncIterator[Platform]:
    """A platform on the real services with an empty database."""
    await truncate_all(owner_engine)
    platform = Platform.from_settings(service_settings(pg_urls), extra_plugins=TEST_PLUGINS)
    # Each test starts with empty stores too (rate-limit counters and the like).
    await platform.stores.get("rate_limit").delete_all()
    yield platform
    await platform.close()


@pytest.fixture
async def pg_app(pg_platform: Platform) -> Litestar:
    return create_app(pg_platform.settings, platform=pg_platform)


@asynccontextmanager
async def http_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in this event loop (the engines' pools live in it)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def client(pg_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(pg_app) as c:
        yield c


@pytest.fixture
async def world(pg_platform: Platform) -> dict[str, Any]:
    """The demo tree (江苏 > 南京, 镇江 > five counties) and one account per role, on PostgreSQL."""
    return await seed_world(pg_platform)


# --- embedded ------------------------------------------------------------------------------------


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return Settings(env="test", data_dir=tmp_path / "data", public_url="http://testserver.local")
