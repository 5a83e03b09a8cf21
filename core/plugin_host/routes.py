"""``/api/v1/t/{tenant_code}/plugins``: programmes in a tenant (state and reason), switching them, their
settings; ``/navigation``; and the activation guard every plugin route sits behind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.roles import PLUGIN_MANAGE, TENANT_READ
from core.plugin_host import service
from core.plugin_host.activation import effective_settings
from core.plugin_host.navigation import navigation_for
from core.plugin_host.settings import plugin_defaults, schema_of

if TYPE_CHECKING:
    from core.platform import Platform
    from core.tenancy.tree import TenantNode, TenantTree


class PluginState(BaseModel):
    name: str
    title_zh: str
    title_en: str
    version: str
    active: bool
    source: str
    decided_by: str | None
    reason_zh: str
    reason_en: str
    own_state: str | None
    own_policy: str | None


class PluginList(BaseModel):
    items: list[PluginState]


class ActivationChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["enabled", "disabled", "inherit"] | None = None
    policy: Literal["mandate", "forbid", "none"] | None = None


class SubtreeEffect(BaseModel):
    tenant_code: str
    active: bool
    reason_zh: str


class ActivationResult(BaseModel):
    plugin: str
    subtree: list[SubtreeEffect]


class SettingsOut(BaseModel):
    plugin: str
    values: dict[str, Any]
    origin: dict[str, str]
    schema_: dict[str, Any] | None = None


class SettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any]


class NavOut(BaseModel):
    plugin: str | None
    label_zh: str
    label_en: str
    path: str
    order: int


def settings_provider(plugin: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The ``plugin_settings`` dependency of a plugin's routes: its effective settings in the acting tenant
    (schema defaults, overridden from the province down to the tenant)."""

    async def provide(request: Request[Any, Any, Any]) -> dict[str, Any]:
        platform = platform_of(request)
        acting = provide_acting(request)
        snapshot = await platform.activation.get(platform.database)
        values, _ = effective_settings(
            acting.tree, snapshot, acting.tenant.id, plugin, plugin_defaults(platform.plugins, plugin)
        )
        return values

    return provide


async def require_active(platform: Platform, tree: TenantTree, tenant: TenantNode, plugin: str) -> None:
    """The plugin must be active in the tenant, or 404 naming the programme and why it is off.

    Called by the permission guard for every route mounted from a plugin (their routers carry
    ``opt["plugin"]``), before the permission is checked.
    """
    snapshot = await platform.activation.get(platform.database)
    effective = service.effective_in(platform.plugins, tree, snapshot, tenant.id)[plugin]
    if not effective.active:
        title_zh, title_en = platform.plugins.title(plugin)
        raise service.PLUGIN_INACTIVE.error(
            field="plugin",
            tenant_code=tenant.code,
            tenant_name=tenant.name,
            title=title_zh,
            title_en=title_en,
            reason=effective.reason_zh,
            reason_en=effective.reason_en,
        )


class PluginController(Controller):
    path = "/api/v1/t/{tenant_code:str}"
    tags = ["plugins"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/plugins", opt={"permission": TENANT_READ}, summary="Programmes in this tenant, with state and reason")
    async def list_plugins(self, request: Request[Any, Any, Any], acting: NamedDependency[Acting]) -> PluginList:
        platform = platform_of(request)
        snapshot = await platform.activation.get(platform.database)
        effective = service.effective_in(platform.plugins, acting.tree, snapshot, acting.tenant.id)
        items = []
        for name, loaded in sorted(platform.plugins.plugins.items()):
            eff = effective[name]
            own = snapshot.own(acting.tenant.id, name)
            items.append(
                PluginState(
                    name=name,
                    title_zh=loaded.info.title_zh,
                    title_en=loaded.info.title_en,
                    version=loaded.info.version,
                    active=eff.active,
                    source=eff.source,
                    decided_by=eff.by,
                    reason_zh=eff.reason_zh,
                    reason_en=eff.reason_en,
                    own_state=own.state if own else None,
                    own_policy=own.policy if own else None,
                )
            )
        return PluginList(items=items)

    @put("/plugins/{plugin:str}", opt={"permission": PLUGIN_MANAGE}, summary="Enable, disable, mandate or forbid")
    async def change(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin: FromPath[str],
        data: JSONBody[ActivationChange],
    ) -> ActivationResult:
        platform = platform_of(request)
        principal = current_principal(request)
        after = await service.change_activation(
            db_session,
            platform.plugins,
            acting.tree,
            acting.tenant,
            plugin,
            state=data.state,
            policy=data.policy,
            actor=principal.username if principal else "system",
            snapshot=await platform.activation.fresh(platform.database),
        )
        from core.db.engine import after_commit

        after_commit(db_session, platform.activation.invalidate)
        subtree = [
            SubtreeEffect(tenant_code=acting.tree.nodes[tid].code, active=eff.active, reason_zh=eff.reason_zh)
            for tid, eff in sorted(after.items(), key=lambda kv: acting.tree.nodes[kv[0]].path)
        ]
        return ActivationResult(plugin=plugin, subtree=subtree)

    @get("/plugins/{plugin:str}/settings", opt={"permission": TENANT_READ}, summary="Effective settings and origin")
    async def get_settings(
        self, request: Request[Any, Any, Any], acting: NamedDependency[Acting], plugin: FromPath[str]
    ) -> SettingsOut:
        platform = platform_of(request)
        service.require_plugin(platform.plugins, plugin)
        snapshot = await platform.activation.get(platform.database)
        values, origin = effective_settings(
            acting.tree, snapshot, acting.tenant.id, plugin, plugin_defaults(platform.plugins, plugin)
        )
        schema = schema_of(platform.plugins, plugin)
        return SettingsOut(
            plugin=plugin, values=values, origin=origin, schema_=schema.model_json_schema() if schema else None
        )

    @put("/plugins/{plugin:str}/settings", opt={"permission": PLUGIN_MANAGE}, summary="Override settings here")
    async def put_settings(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin: FromPath[str],
        data: JSONBody[SettingsChange],
    ) -> SettingsOut:
        platform = platform_of(request)
        principal = current_principal(request)
        values, origin = await service.change_settings(
            db_session,
            platform.plugins,
            acting.tree,
            acting.tenant,
            plugin,
            data.values,
            actor=principal.username if principal else "system",
            snapshot=await platform.activation.fresh(platform.database),
        )
        from core.db.engine import after_commit

        after_commit(db_session, platform.activation.invalidate)
        return SettingsOut(plugin=plugin, values=values, origin=origin)

    @get("/navigation", opt={"permission": TENANT_READ}, summary="Navigation: the core's and active plugins'")
    async def navigation(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> list[NavOut]:
        entries = await navigation_for(platform_of(request), current_principal(request), acting, db_session)
        return [
            NavOut(plugin=e.plugin, label_zh=e.label_zh, label_en=e.label_en, path=e.path, order=e.order)
            for e in entries
        ]
