"""The state of a programme in *other* tenants, for a plugin that has to look beyond the acting one.

Why: a programme such as the talent pool opens its counties' pools to each other when both sides agree, so it
needs, for each sibling county, whether the programme is on there and what that county's settings say. The
activation snapshot, the inheritance of settings and the plugin defaults are the host's internals; this is the
one public door to them (import it from ``core.plugin_host``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.plugin_host.activation import effective_settings
from core.plugin_host.service import effective_in
from core.plugin_host.settings import plugin_defaults

if TYPE_CHECKING:
    from core.platform import Platform
    from core.tenancy.tree import TenantTree


@dataclass(frozen=True)
class ProgrammeState:
    active: bool
    settings: dict[str, Any]  # the effective settings there, defaults and inheritance applied (not validated)


class ProgrammeStates:
    """Ask per tenant; everything comes from one activation snapshot read when this was made."""

    def __init__(self, platform: Platform, tree: TenantTree, plugin: str, snapshot: Any) -> None:
        self._platform, self._tree, self._plugin, self._snapshot = platform, tree, plugin, snapshot
        self._defaults = plugin_defaults(platform.plugins, plugin)

    def __call__(self, tenant_id: int) -> ProgrammeState:
        effective = effective_in(self._platform.plugins, self._tree, self._snapshot, tenant_id).get(self._plugin)
        values, _ = effective_settings(self._tree, self._snapshot, tenant_id, self._plugin, self._defaults)
        return ProgrammeState(bool(effective and effective.active), values)


async def programme_states(platform: Platform, tree: TenantTree, plugin: str) -> ProgrammeStates:
    """Whether ``plugin`` is on in a given tenant, and its effective settings there: ``states(tenant_id)``."""
    return ProgrammeStates(platform, tree, plugin, await platform.activation.get(platform.database))
