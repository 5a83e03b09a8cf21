"""Loading plugins and calling their hooks: a small typed facade over ``pm.hook``.

Loading is forgiving: a plugin that fails to import, declares nothing, implements a hook that does not exist
(a misspelt name), needs a newer core, or depends on a plugin that is missing is reported in
:attr:`PluginHost.failures` and left out; the platform starts without it. Each hook call is attributed to the
plugin that answered it, and one plugin's exception does not stop the others.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from packaging.version import InvalidVersion, Version

import core
from core.identity.roles import Role, RoleRegistry
from core.plugin_host import hookspecs
from core.plugin_host.declarations import MetricSpec, PluginInfo

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "yinling.plugins"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


@dataclass(frozen=True)
class PluginFailure:
    """Why a plugin was left out, in words an operator can act on."""

    source: str
    reason: str


@dataclass
class LoadedPlugin:
    info: PluginInfo
    module: ModuleType
    source: str
    hooks: list[str] = field(default_factory=list)


def _hook_names() -> set[str]:
    return {n for n, v in vars(hookspecs).items() if callable(v) and hasattr(v, f"{hookspecs.PROJECT}_spec")}


class PluginHost:
    """The plugins of this process and typed calls into their hooks."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self.failures: list[PluginFailure] = []
        # Settings schemas are read on hot paths (navigation, settings, event delivery); plugins never change
        # after loading, so the hook is asked once per load.
        self._schemas: dict[str, Any] | None = None

    # --- loading -----------------------------------------------------------------------------------

    @classmethod
    def discover(cls, extra: Iterable[ModuleType | str] = ()) -> PluginHost:
        """Load every plugin registered under the entry-point group, plus ``extra`` modules (tests)."""
        host = cls()
        candidates: list[tuple[str, Callable[[], Any]]] = []
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            candidates.append((f"entry point {ep.name} = {ep.value}", _loader(ep)))
        for item in extra:
            if isinstance(item, str):
                candidates.append((f"module {item}", _importer(item)))
            else:
                candidates.append((f"module {item.__name__}", _given(item)))
        host.load(candidates)
        return host

    def load(self, candidates: Sequence[tuple[str, Callable[[], Any]]]) -> None:
        modules: list[tuple[str, ModuleType, PluginInfo]] = []
        for source, load in candidates:
            try:
                module = load()
            except Exception as exc:  # noqa: BLE001 - any import failure leaves the plugin out
                self._fail(source, f"import failed: {type(exc).__name__}: {exc}")
                continue
            info = getattr(module, "PLUGIN", None)
            if not isinstance(info, PluginInfo):
                self._fail(source, "declares no PLUGIN = PluginInfo(...)")
                continue
            problem = _check_info(info)
            if problem:
                self._fail(source, problem)
                continue
            if info.name in {name for _, _, i in modules for name in [i.name]}:
                self._fail(source, f"a plugin named {info.name!r} is already loaded")
                continue
            modules.append((source, module, info))
        for source, module, info in _dependency_order(modules, self):
            self._register(source, module, info)

    def _register(self, source: str, module: ModuleType, info: PluginInfo) -> None:
        known = _hook_names()
        implemented = [n for n in dir(module) if self.pm.parse_hookimpl_opts(module, n) is not None]
        unknown = sorted(set(implemented) - known)
        if unknown:
            self._fail(source, f"implements unknown hooks (misspelt?): {', '.join(unknown)}")
            return
        missing = [d for d in info.depends if d not in self.plugins]
        if missing:
            self._fail(source, f"depends on plugins that are not loaded: {', '.join(missing)}")
            return
        try:
            self.pm.register(module, name=info.name)
            self.pm.check_pending()
        except Exception as exc:  # noqa: BLE001 - a bad signature etc. leaves the plugin out
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            self._fail(source, f"hooks rejected: {exc}")
            return
        problem = self._check_models(info.name) or self._check_roles(info.name)
        if problem:
            self.pm.unregister(module)
            self._fail(source, problem)
            return
        self.plugins[info.name] = LoadedPlugin(info, module, source, sorted(implemented))
        self._schemas = None
        logger.info("plugin %s %s loaded from %s", info.name, info.version, source)

    def _check_models(self, plugin: str) -> str | None:
        """A table with a ``tenant_id`` column must be :class:`TenantOwned`, or isolation would not apply."""
        from core.db.base import is_tenant_owned

        for _, models in self.call_one_sync(plugin, "register_models"):
            for model in models or []:
                table = getattr(model, "__table__", None)
                if table is not None and "tenant_id" in table.columns and not is_tenant_owned(model):
                    return f"table {table.name} has tenant_id but its model does not mix in TenantOwned"
        return None

    def _check_roles(self, plugin: str) -> str | None:
        """A plugin may add roles, never replace the core's or another plugin's."""
        from core.identity.roles import CORE_ROLES

        taken = {r.name for r in CORE_ROLES} | {
            r.name for name, roles in self.call_each("register_roles") if name != plugin for r in (roles or [])
        }
        for _, roles in self.call_one_sync(plugin, "register_roles"):
            clash = sorted({r.name for r in roles or []} & taken)
            if clash:
                return f"declares roles that already exist: {', '.join(clash)}"
        return None

    def call_one_sync(self, plugin: str, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        return [(name, result) for name, result in self.call_each(hook, **kwargs) if name == plugin]

    def _fail(self, source: str, reason: str) -> None:
        logger.error("plugin left out (%s): %s", source, reason)
        self.failures.append(PluginFailure(source, reason))

    # --- calling hooks -----------------------------------------------------------------------------

    def call_each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` in every plugin implementing it; results paired with the plugin name.

        An implementation that raises is logged and skipped, so one broken plugin cannot break a page.
        Awaitables are returned as they are: :meth:`acall_each` awaits them.
        """
        caller = getattr(self.pm.hook, hook)
        out: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                out.append((impl.plugin_name, impl.function(**args)))
            except Exception:
                logger.exception("plugin %s failed in hook %s", impl.plugin_name, hook)
        return out

    async def acall_each(self, hook: str, only: Iterable[str] | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        allowed = set(only) if only is not None else None
        out: list[tuple[str, Any]] = []
        caller = getattr(self.pm.hook, hook)
        for impl in reversed(caller.get_hookimpls()):
            if allowed is not None and impl.plugin_name not in allowed:
                continue
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                result = impl.function(**args)
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                logger.exception("plugin %s failed in hook %s", impl.plugin_name, hook)
                continue
            out.append((impl.plugin_name, result))
        return out

    async def call_one(self, plugin: str, hook: str, *, strict: bool = False, **kwargs: Any) -> Any:
        """Call one plugin's implementation of ``hook`` (``None`` when it has none).

        With ``strict`` the plugin's exception propagates (event delivery must see the failure to retry).
        """
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            if impl.plugin_name != plugin:
                continue
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                result = impl.function(**args)
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                if strict:
                    raise
                logger.exception("plugin %s failed in hook %s", plugin, hook)
                return None
            return result
        return None

    def implements(self, plugin: str, hook: str) -> bool:
        return any(i.plugin_name == plugin for i in getattr(self.pm.hook, hook).get_hookimpls())

    # --- typed views of the declarations ---------------------------------------------------------

    def title(self, plugin: str) -> tuple[str, str]:
        info = self.plugins[plugin].info
        return info.title_zh, info.title_en

    def routes(self) -> dict[str, list[Any]]:
        return {name: list(result or []) for name, result in self.call_each("register_routes")}

    def pages(self) -> dict[str, list[Any]]:
        return {name: list(result or []) for name, result in self.call_each("register_pages")}

    def translation_dirs(self) -> dict[str, Path]:
        return {name: Path(result) for name, result in self.call_each("translations_dir") if result}

    def roles(self) -> list[Role]:
        return [role for _, result in self.call_each("register_roles") for role in (result or [])]

    def role_registry(self) -> RoleRegistry:
        """The core's roles and every loaded plugin's."""
        registry = RoleRegistry()
        for role in self.roles():
            registry.add(role)
        return registry

    def metrics(self) -> list[tuple[str, MetricSpec]]:
        return [(name, m) for name, result in self.call_each("register_metrics") for m in (result or [])]

    def migration_dirs(self) -> list[Path]:
        return [Path(result) for _, result in self.call_each("migrations_dir") if result]

    def settings_schemas(self) -> dict[str, Any]:
        if self._schemas is None:
            self._schemas = {name: result for name, result in self.call_each("settings_schema") if result is not None}
        return self._schemas

    def models(self) -> dict[str, list[type[Any]]]:
        return {name: list(result or []) for name, result in self.call_each("register_models")}


def _importer(name: str) -> Callable[[], ModuleType]:
    return lambda: importlib.import_module(name)


def _given(module: ModuleType) -> Callable[[], ModuleType]:
    return lambda: module


def _loader(ep: EntryPoint) -> Callable[[], Any]:
    def load() -> Any:
        loaded = ep.load()
        return loaded if isinstance(loaded, ModuleType) else importlib.import_module(ep.module)

    return load


def _check_info(info: PluginInfo) -> str | None:
    if not _NAME.match(info.name):
        return f"plugin name {info.name!r} must match {_NAME.pattern}"
    if info.name in {"core", "plugins", "audit", "files", "users", "events", "navigation", "settings"}:
        return f"plugin name {info.name!r} is reserved by the core"
    try:
        if Version(core.__version__) < Version(info.min_core_version):
            return f"needs Yinling core >= {info.min_core_version}, this is {core.__version__}"
    except InvalidVersion:
        return f"min_core_version {info.min_core_version!r} is not a version"
    return None


def _dependency_order(
    modules: list[tuple[str, ModuleType, PluginInfo]], host: PluginHost
) -> list[tuple[str, ModuleType, PluginInfo]]:
    """Plugins after the plugins they depend on; a cycle leaves its members out."""
    by_name = {info.name: (source, module, info) for source, module, info in modules}
    ordered: list[tuple[str, ModuleType, PluginInfo]] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done" or name not in by_name:
            return
        if state.get(name) == "visiting":
            host._fail(by_name[name][0], f"circular dependency: {' -> '.join((*chain, name))}")
            state[name] = "cycle"
            return
        if state.get(name) == "cycle":
            return
        state[name] = "visiting"
        for dep in by_name[name][2].depends:
            visit(dep, (*chain, name))
        if state.get(name) == "visiting":
            state[name] = "done"
            ordered.append(by_name[name])

    for name in sorted(by_name):
        visit(name, ())
    return ordered
