"""The navigation of a tenant for a principal: the core's entries and those of the plugins active there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.identity.roles import AUDIT_READ, MEMBER_READ, TENANT_READ, USER_MANAGE
from core.plugin_host import service
from core.plugin_host.activation import effective_settings
from core.plugin_host.declarations import NavItem, PluginContext
from core.plugin_host.settings import plugin_defaults

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.identity.access import Acting
    from core.identity.principal import Principal
    from core.platform import Platform

# Only pages that exist are offered.
CORE_NAVIGATION = (
    NavItem("首页", "Home", "", TENANT_READ, order=0),
    NavItem("工作项目", "Programmes", "programmes", TENANT_READ, order=10),
    NavItem("下级单位", "Units below", "tenants", TENANT_READ, order=12),
    NavItem("组织架构", "Organisations", "branches", TENANT_READ, order=15),
    NavItem("党员档案", "Member ledger", "members", MEMBER_READ, order=20),
    NavItem("组织关系转接", "Transfers", "transfers", MEMBER_READ, order=30),
    NavItem("组织生活", "Organisation life", "orglife", TENANT_READ, order=40),
    NavItem("用户与角色", "Users and roles", "users", USER_MANAGE, order=80),
    NavItem("操作日志", "Audit log", "audit", AUDIT_READ, order=90),
)

#: 我的主页: offered only to a person whose account is linked to a record kept in the acting tenant.
OWN_PAGE = NavItem("我的主页", "My page", "me", TENANT_READ, order=1)


@dataclass(frozen=True)
class NavEntry:
    plugin: str | None
    label_zh: str
    label_en: str
    path: str
    order: int


async def navigation_for(
    platform: Platform, principal: Principal | None, acting: Acting, session: AsyncSession
) -> list[NavEntry]:
    def allowed(item: NavItem) -> bool:
        return principal is not None and principal.can(acting.tree, platform.roles, acting.tenant.id, item.permission)

    out = [NavEntry(None, i.label_zh, i.label_en, i.path, i.order) for i in CORE_NAVIGATION if allowed(i)]
    if principal is not None and principal.member is not None and principal.member.tenant_id == acting.tenant.id:
        out.append(NavEntry(None, OWN_PAGE.label_zh, OWN_PAGE.label_en, OWN_PAGE.path, OWN_PAGE.order))
    snapshot = await platform.activation.get(platform.database)
    effective = service.effective_in(platform.plugins, acting.tree, snapshot, acting.tenant.id)
    for name, eff in effective.items():
        if not eff.active:
            continue
        values, _ = effective_settings(
            acting.tree, snapshot, acting.tenant.id, name, plugin_defaults(platform.plugins, name)
        )
        context = PluginContext(
            plugin=name,
            tenant=acting.tenant,
            tree=acting.tree,
            session=session,
            settings=values,
            principal=principal,
            roles=platform.roles,
        )
        for plugin_name, items in await platform.plugins.acall_each("navigation", only=[name], context=context):
            for item in items or []:
                if isinstance(item, NavItem) and allowed(item):
                    path = f"{plugin_name}/{item.path}".rstrip("/")
                    out.append(NavEntry(plugin_name, item.label_zh, item.label_en, path, item.order))
    return sorted(out, key=lambda n: (n.order, n.path))
