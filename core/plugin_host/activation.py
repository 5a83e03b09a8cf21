"""Which plugins are active in which tenant, and why.

Resolution for plugin P in tenant T, over the path root → T:
1. the root-most ``policy`` on that path decides if there is one: ``mandate`` → active ("mandated by X"),
   ``forbid`` → inactive ("forbidden by X") — a province's word outranks a city's;
2. otherwise the nearest ``state`` on that path, T's own first: ``enabled``/``disabled`` ("set here" or
   "inherited from X");
3. otherwise inactive ("not enabled");
4. and whatever the above says, P is inactive where a plugin it depends on is inactive ("requires Q").

The activation rows are few (tenants × plugins), so each process keeps a snapshot and reloads it when the
version counter in the shared store (Redis when configured) moves; every change bumps the counter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar.stores.base import Store
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.scope import TenantScope
from core.plugin_host.models import PluginActivation
from core.tenancy.tree import TenantTree

VERSION_KEY = "plugin-activation-version"


@dataclass(frozen=True)
class Setting:
    state: str | None
    policy: str | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class Effective:
    """The effective state of a plugin in a tenant and the reason, in both languages."""

    plugin: str
    active: bool
    source: str  # mandated | forbidden | set_here | inherited | default | dependency
    by: str | None  # the tenant code (or plugin name for "dependency") that decided
    reason_zh: str
    reason_en: str


@dataclass
class ActivationSnapshot:
    rows: dict[tuple[int, str], Setting]

    @classmethod
    def of(cls, rows: Iterable[PluginActivation]) -> ActivationSnapshot:
        return cls({(r.tenant_id, r.plugin): Setting(r.state, r.policy, dict(r.settings or {})) for r in rows})

    def own(self, tenant_id: int, plugin: str) -> Setting | None:
        return self.rows.get((tenant_id, plugin))

    def with_row(self, tenant_id: int, plugin: str, setting: Setting) -> ActivationSnapshot:
        """A copy with one tenant's row replaced (a change not yet committed)."""
        return ActivationSnapshot({**self.rows, (tenant_id, plugin): setting})


def _resolve_one(tree: TenantTree, snapshot: ActivationSnapshot, tenant_id: int, plugin: str) -> Effective:
    lineage = tree.lineage(tenant_id)
    for node in lineage:
        own = snapshot.own(node.id, plugin)
        if own and own.policy == "mandate":
            return Effective(
                plugin,
                True,
                "mandated",
                node.code,
                f"由 {node.code}（{node.name}）要求开通",
                f"mandated by {node.code}",
            )
        if own and own.policy == "forbid":
            return Effective(
                plugin, False, "forbidden", node.code, f"被 {node.code}（{node.name}）禁止", f"forbidden by {node.code}"
            )
    for node in reversed(lineage):
        own = snapshot.own(node.id, plugin)
        if own and own.state in ("enabled", "disabled"):
            active = own.state == "enabled"
            word_zh = "开通" if active else "关闭"
            if node.id == tenant_id:
                return Effective(plugin, active, "set_here", node.code, f"本单位已{word_zh}", f"{own.state} here")
            return Effective(
                plugin,
                active,
                "inherited",
                node.code,
                f"沿用 {node.code}（{node.name}）的设置：{word_zh}",
                f"inherited from {node.code}",
            )
    return Effective(plugin, False, "default", None, "未开通", "not enabled")


def resolve(
    tree: TenantTree, snapshot: ActivationSnapshot, tenant_id: int, plugins: dict[str, tuple[str, ...]]
) -> dict[str, Effective]:
    """Effective state of every plugin (name → its dependencies) in one tenant."""
    base = {name: _resolve_one(tree, snapshot, tenant_id, name) for name in plugins}
    out: dict[str, Effective] = {}

    def settle(name: str, seen: frozenset[str]) -> Effective:
        if name in out:
            return out[name]
        result = base[name]
        if result.active:
            for dep in plugins[name]:
                if dep in seen or dep not in base or not settle(dep, seen | {name}).active:
                    result = Effective(name, False, "dependency", dep, f"需要先开通“{dep}”", f"requires {dep}")
                    break
        out[name] = result
        return result

    for name in plugins:
        settle(name, frozenset())
    return out


def effective_settings(
    tree: TenantTree, snapshot: ActivationSnapshot, tenant_id: int, plugin: str, defaults: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Defaults overridden from the province down to the tenant; also which tenant set each key."""
    values = dict(defaults)
    origin = dict.fromkeys(defaults, "default")
    for node in tree.lineage(tenant_id):
        own = snapshot.own(node.id, plugin)
        if own:
            for key, value in own.settings.items():
                values[key] = value
                origin[key] = node.code
    return values, origin


async def load_snapshot(session: AsyncSession) -> ActivationSnapshot:
    rows = (await session.execute(select(PluginActivation))).scalars().all()
    return ActivationSnapshot.of(rows)


class ActivationCache:
    """The snapshot of this process, reloaded when the shared version counter moves."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._version: bytes | None = None
        self._snapshot: ActivationSnapshot | None = None

    async def get(self, database: Any) -> ActivationSnapshot:
        try:
            version = await self.store.get(VERSION_KEY)
        except Exception:  # noqa: BLE001 - the shared store is down: read the database every time
            version = None
            self._snapshot = None
        if version is None and self._snapshot is None:
            version = await self._bump()
        if self._snapshot is None or version is None or version != self._version:
            async with database.session(TenantScope.system()) as session:
                self._snapshot = await load_snapshot(session)
            self._version = version
        return self._snapshot

    async def fresh(self, database: Any) -> ActivationSnapshot:
        """The committed state straight from the database (before a change, not from the cache)."""
        async with database.session(TenantScope.system()) as session:
            return await load_snapshot(session)

    async def invalidate(self) -> None:
        """Called after a change committed: every process reloads on its next request."""
        self._snapshot = None
        await self._bump()

    async def _bump(self) -> bytes | None:
        version = uuid.uuid4().hex.encode()
        try:
            await self.store.set(VERSION_KEY, version)
        except Exception:  # noqa: BLE001 - other processes see the change once the store is back
            return None
        return version
