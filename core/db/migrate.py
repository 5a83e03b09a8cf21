"""Alembic, driven from code: the core's branch plus every installed plugin's branch, ``upgrade heads``.

The migration role (``YINLING_DATABASE_MIGRATION_URL``) owns the tables; the migrations grant the
application role (``YINLING_DB_APP_ROLE``) what it needs and nothing more.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from core.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CORE_VERSIONS = MIGRATIONS_DIR / "versions"


def alembic_config(settings: Settings, extra_version_locations: Sequence[Path] = (), url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    locations = [CORE_VERSIONS, *extra_version_locations]
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.attributes["url"] = url or settings.effective_migration_url
    cfg.attributes["app_role"] = settings.db_app_role
    return cfg


def installed_plugin_dirs() -> list[Path]:
    """The migration folders of every plugin installed in this environment."""
    from core.plugin_host.host import PluginHost

    return PluginHost.discover().migration_dirs()


def upgrade(settings: Settings, revision: str = "heads", extra: Sequence[Path] | None = None) -> None:
    """Core and every installed plugin (``upgrade heads``), or ``extra`` folders when given."""
    dirs = installed_plugin_dirs() if extra is None else extra
    if not settings.is_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings, dirs), revision)


def downgrade(settings: Settings, revision: str, extra: Sequence[Path] | None = None) -> None:
    dirs = installed_plugin_dirs() if extra is None else extra
    command.downgrade(alembic_config(settings, dirs), revision)


def heads(settings: Settings, extra: Sequence[Path] | None = None) -> list[str]:
    dirs = installed_plugin_dirs() if extra is None else extra
    script = ScriptDirectory.from_config(alembic_config(settings, dirs))
    return list(script.get_heads())
