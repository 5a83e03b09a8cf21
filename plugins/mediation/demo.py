"""Demo data for ``yinling demo`` (filled in below)."""

from __future__ import annotations

from core.plugin_host import PluginContext


async def seed(context: PluginContext) -> None:
    """Idempotent: a tenant that already has rooms is left as it is."""
    return
