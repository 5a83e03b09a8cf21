"""The plugin host: discovery (entry points ``yinling.plugins``), hooks, per-tenant activation.

Plugin authors import ``hookimpl`` and ``PluginInfo`` from here; see ``docs/plugins.md``.
"""

import pluggy

from core.plugin_host.declarations import Aggregation, MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo
from core.plugin_host.hookspecs import PROJECT
from core.plugin_host.states import ProgrammeState, programme_states

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Mark a function of a plugin module as the implementation of the hook of the same name."""

__all__ = [
    "Aggregation",
    "MemberPanel",
    "MetricSpec",
    "NavItem",
    "PluginContext",
    "PluginInfo",
    "ProgrammeState",
    "hookimpl",
    "programme_states",
]
