"""Alembic environment: async engines (asyncpg, aiosqlite), the shared metadata, batch mode on SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401 - registers the core tables
from core.db.base import metadata
from core.db.migrations.env_support import compare_type

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
        include_schemas=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run() -> None:
    existing: Any = config.attributes.get("connection")
    if existing is not None:
        _run(existing)
        return
    asyncio.run(_run_async(config.attributes["url"]))


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: run `yinling db upgrade`")
run()
