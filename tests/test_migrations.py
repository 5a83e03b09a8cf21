"""Every migration branch goes up, matches the models, and comes down, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import core.models  # noqa: F401
from core.db.base import metadata
from core.db.engine import create_engine
from core.db.migrate import downgrade, heads, upgrade
from core.db.migrations.env_support import compare_type
from core.settings import Settings
from tests.conftest import migration_dirs_for_tests, require_env


async def _diff_and_tables(url: str) -> tuple[list[Any], set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect_db(sync_conn: Any) -> tuple[list[Any], set[str]]:
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": compare_type})
                return compare_metadata(ctx, metadata), set(inspect(sync_conn).get_table_names())

            return await conn.run_sync(inspect_db)
    finally:
        await engine.dispose()


async def check_round_trip(settings: Settings) -> None:
    dirs = migration_dirs_for_tests()
    await asyncio.to_thread(upgrade, settings, "heads", dirs)
    diff, tables = await _diff_and_tables(settings.effective_migration_url)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"tenant", "user_account", "role_grant", "audit_entry", "stored_file", "sample_effect"} <= tables
    await asyncio.to_thread(downgrade, settings, "base", dirs)
    _, tables = await _diff_and_tables(settings.effective_migration_url)
    assert tables == {"alembic_version"}
    await asyncio.to_thread(upgrade, settings, "heads", dirs)


async def test_up_compare_down_on_sqlite(tmp_path: Path) -> None:
    await check_round_trip(Settings(data_dir=tmp_path))


async def test_up_compare_down_on_postgres() -> None:
    admin_dsn = require_env("YINLING_TEST_PG_ADMIN_DSN")
    owner_url = require_env("YINLING_TEST_PG_OWNER_URL")
    name = f"yinling_m_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = owner_url.rsplit("/", 1)[0] + f"/{name}"
        await check_round_trip(
            Settings(
                database_url=url.replace("yinling_owner:yinling_owner", "yinling_app:yinling_app"),
                database_migration_url=url,
            )
        )
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def test_the_core_is_one_labelled_branch() -> None:
    from alembic.script import ScriptDirectory

    from core.db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(Settings(), []))
    assert len(heads(Settings(), extra=[])) == 1
    base = script.get_revision("0001_core")
    assert base is not None and base.branch_labels == {"core"} and base.down_revision is None
