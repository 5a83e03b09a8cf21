"""Changing a plugin's activation or settings in a tenant, with the tree's rules and the enable/disable
callbacks for every tenant whose effective state flips."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import VALIDATION_FAILED, ErrorSpec
from core.plugin_host.activation import ActivationSnapshot, Effective, Setting, effective_settings, resolve
from core.plugin_host.declarations import PluginContext
from core.plugin_host.host import PluginHost
from core.plugin_host.models import PluginActivation
from core.plugin_host.settings import plugin_defaults, validate_settings
from core.tenancy.tree import TenantNode, TenantTree

PLUGIN_NOT_FOUND = ErrorSpec(
    "plugin.not_found", 404, "没有安装名为 {plugin} 的插件（工作项目）", "No plugin named {plugin} is installed"
)
PLUGIN_INACTIVE = ErrorSpec(
    "plugin.inactive",
    404,
    "本单位（{tenant_code} {tenant_name}）未开通“{title}”：{reason}",
    "“{title_en}” is not active in {tenant_code}: {reason_en}",
)
DECIDED_ABOVE = ErrorSpec(
    "plugin.decided_above",
    409,
    "“{title}”{reason}，本单位不能更改",
    "“{title_en}” is {reason_en}; it cannot be changed here",
)
DEPENDENCY_INACTIVE = ErrorSpec(
    "plugin.dependency_inactive",
    409,
    "开通“{title}”需要先开通“{dependency}”",
    "“{title_en}” needs “{dependency}” to be active first",
)

StateChange = Literal["enabled", "disabled", "inherit"]
PolicyChange = Literal["mandate", "forbid", "none"]


def dependencies(host: PluginHost) -> dict[str, tuple[str, ...]]:
    return {name: p.info.depends for name, p in host.plugins.items()}


def effective_in(
    host: PluginHost, tree: TenantTree, snapshot: ActivationSnapshot, tenant_id: int
) -> dict[str, Effective]:
    return resolve(tree, snapshot, tenant_id, dependencies(host))


def require_plugin(host: PluginHost, plugin: str) -> None:
    if plugin not in host.plugins:
        raise PLUGIN_NOT_FOUND.error(field="plugin", plugin=plugin)


def _decided_above(tree: TenantTree, snapshot: ActivationSnapshot, tenant: TenantNode, plugin: str) -> Effective | None:
    """An ancestor's mandate or forbid (strictly above ``tenant``) that settles the plugin here."""
    parent_id = tenant.parent_id
    if parent_id is None:
        return None
    upper = resolve(tree, snapshot, parent_id, {plugin: ()})[plugin]
    return upper if upper.source in ("mandated", "forbidden") else None


async def _row(session: AsyncSession, tenant_id: int, plugin: str) -> PluginActivation:
    row = (
        await session.execute(
            select(PluginActivation).where(PluginActivation.tenant_id == tenant_id, PluginActivation.plugin == plugin)
        )
    ).scalar_one_or_none()
    if row is None:
        row = PluginActivation(tenant_id=tenant_id, plugin=plugin, settings={})
        session.add(row)
    return row


async def change_activation(
    session: AsyncSession,
    host: PluginHost,
    tree: TenantTree,
    tenant: TenantNode,
    plugin: str,
    *,
    state: StateChange | None,
    policy: PolicyChange | None,
    actor: str,
    snapshot: ActivationSnapshot,
) -> dict[int, Effective]:
    """Apply the change, call on_tenant_enabled/disabled where the effective state flipped, and return the
    new effective state of this plugin across the tenant's subtree.

    ``snapshot`` is the committed activation of the whole tree (ancestors' rows are outside the acting
    tenant's scope, so the caller reads them with system scope); the change is applied to it in memory.
    """
    require_plugin(host, plugin)
    title_zh, title_en = host.title(plugin)
    before_snapshot = snapshot
    above = _decided_above(tree, before_snapshot, tenant, plugin)
    if above is not None:
        contradicts = (state == "disabled" and above.active) or (state == "enabled" and not above.active)
        if contradicts or policy in ("mandate", "forbid"):
            raise DECIDED_ABOVE.error(
                field="policy" if policy in ("mandate", "forbid") else "state",
                title=title_zh,
                title_en=title_en,
                reason=above.reason_zh,
                reason_en=above.reason_en,
            )
    deps = dependencies(host)
    subtree = tree.subtree_ids(tenant.id)
    before = {tid: resolve(tree, before_snapshot, tid, deps)[plugin] for tid in subtree}

    row = await _row(session, tenant.id, plugin)
    if state is not None:
        row.state = None if state == "inherit" else state
    if policy is not None:
        row.policy = None if policy == "none" else policy
    row.updated_by = actor
    await session.flush()

    after_snapshot = before_snapshot.with_row(
        tenant.id, plugin, Setting(row.state, row.policy, dict(row.settings or {}))
    )
    turning_on = state == "enabled" or policy == "mandate"
    if turning_on:
        for dep in deps[plugin]:
            if not resolve(tree, after_snapshot, tenant.id, deps)[dep].active:
                raise DEPENDENCY_INACTIVE.error(field="state", title=title_zh, title_en=title_en, dependency=dep)
    after = {tid: resolve(tree, after_snapshot, tid, deps)[plugin] for tid in subtree}
    for tid in sorted(subtree, key=lambda t: tree.nodes[t].path):
        if before[tid].active == after[tid].active:
            continue
        hook = "on_tenant_enabled" if after[tid].active else "on_tenant_disabled"
        values, _ = effective_settings(tree, after_snapshot, tid, plugin, plugin_defaults(host, plugin))
        context = PluginContext(plugin=plugin, tenant=tree.nodes[tid], tree=tree, session=session, settings=values)
        await host.call_one(plugin, hook, strict=True, context=context)
    return after


async def change_settings(
    session: AsyncSession,
    host: PluginHost,
    tree: TenantTree,
    tenant: TenantNode,
    plugin: str,
    overrides: dict[str, Any],
    actor: str,
    snapshot: ActivationSnapshot,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Set (value) or clear (None) the tenant's overrides; the merged result must validate.

    ``snapshot`` is the committed activation of the whole tree, read with system scope (see above).
    """
    require_plugin(host, plugin)
    row = await _row(session, tenant.id, plugin)
    own = dict(row.settings or {})
    for key, value in overrides.items():
        if value is None:
            own.pop(key, None)
        else:
            own[key] = value
    defaults = plugin_defaults(host, plugin)
    unknown = sorted(set(own) - set(defaults))
    if unknown:
        raise VALIDATION_FAILED.error(
            field=unknown[0],
            details=[{"field": k, "message": "不允许的字段"} for k in unknown],
            summary="；".join(f"{k}：不允许的字段" for k in unknown),
        )
    inherited, _ = (
        effective_settings(tree, snapshot, tenant.parent_id, plugin, defaults) if tenant.parent_id else (defaults, {})
    )
    validated = validate_settings(host, plugin, {**inherited, **own})
    row.settings = {k: validated[k] for k in own}
    row.updated_by = actor
    await session.flush()
    after = snapshot.with_row(tenant.id, plugin, Setting(row.state, row.policy, dict(row.settings)))
    return effective_settings(tree, after, tenant.id, plugin, defaults)
