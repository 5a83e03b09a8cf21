"""``/api/v1/tenants``: create, read, rename, list a subtree, deactivate/reactivate, delete if empty.

Reading a tenant needs a grant covering it. Creating one needs ``tenant.manage`` at its parent (a
province needs a platform admin); changing one needs ``tenant.manage`` at a strict ancestor, so a county
cannot deactivate itself.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import after_commit
from core.errors import FORBIDDEN
from core.identity.access import TENANT_FORBIDDEN, platform_of, provide_principal, tree_of
from core.identity.principal import Principal
from core.identity.roles import TENANT_MANAGE, TENANT_READ
from core.platform import Platform
from core.tenancy import service
from core.tenancy.schemas import TenantCreate, TenantList, TenantOut, TenantUpdate
from core.tenancy.tree import TenantNode, TenantTree, load_tree

logger = logging.getLogger(__name__)

READ = {"permission": TENANT_READ}
MANAGE = {"permission": TENANT_MANAGE}


def _visible(principal: Principal, tree: TenantTree, code: str) -> TenantNode:
    node = tree.get(code)
    if node.id not in principal.visible_ids(tree):
        # The same answer the permission guard gives for a tenant outside one's grants.
        raise TENANT_FORBIDDEN.error(code=node.code, name=node.name, permission=TENANT_READ)
    return node


def _require_manage(
    principal: NamedDependency[Principal], platform: Platform, tree: TenantTree, node: TenantNode | None
) -> None:
    """``tenant.manage`` at ``node`` (the parent of what is changed); only a platform admin manages roots."""
    if principal.is_platform_admin:
        return
    if node is None:
        raise FORBIDDEN.error()
    if not principal.can(tree, platform.roles, node.id, TENANT_MANAGE):
        raise TENANT_FORBIDDEN.error(code=node.code, name=node.name, permission=TENANT_MANAGE)


def mirror_in_keycloak(session: AsyncSession, platform: Platform, tree: TenantTree, code: str) -> None:
    """Once the tenant is committed, mirror it (and its ancestors) as Keycloak groups.

    Best effort: if Keycloak is down the tenant still exists here, the failure is logged, and
    ``yinling identity sync-groups`` repairs the mirror later (it is idempotent).
    """
    if not platform.settings.keycloak_enabled:
        return

    async def mirror() -> None:
        from core.identity.provisioning import sync_groups

        try:
            await sync_groups(platform.settings, tree, only=code)
        except Exception as exc:  # noqa: BLE001 - the tenant stands; the mirror is repaired by sync-groups
            logger.warning("tenant %s not mirrored in Keycloak (run `yinling identity sync-groups`): %s", code, exc)

    after_commit(session, mirror)


class TenantController(Controller):
    path = "/api/v1/tenants"
    tags = ["tenants"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=READ, summary="List the tenants you may see (optionally one subtree)")
    async def list_tenants(
        self,
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        root: Annotated[str | None, QueryParameter(pattern=r"^\d{6}$", description="only this subtree")] = None,
        include_inactive: FromQuery[bool] = True,
    ) -> TenantList:
        tree = await tree_of(request)  # loaded once per request, by the permission guard
        visible = principal.visible_ids(tree)
        if root is not None:
            visible = visible & tree.subtree_ids(_visible(principal, tree, root).id)
        nodes = [n for n in tree.walk() if n.id in visible]
        if not include_inactive:
            nodes = [n for n in nodes if n.is_active]
        items = [TenantOut.of_node(n, tree) for n in nodes]
        return TenantList(items=items, total=len(items))

    @post("/", opt=MANAGE, summary="Create a tenant under a parent", status_code=201)
    async def create_tenant(
        self,
        data: JSONBody[TenantCreate],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> TenantOut:
        platform = platform_of(request)
        tree = await tree_of(request)
        parent = _visible(principal, tree, data.parent_code) if data.parent_code else None
        _require_manage(principal, platform, tree, parent)
        row = await service.create_tenant(
            db_session, tree, service.NewTenant(data.code, data.name, data.parent_code, data.level)
        )
        new_tree = await load_tree(db_session)
        mirror_in_keycloak(db_session, platform, new_tree, row.code)
        return TenantOut.of_row(row, new_tree)

    @get("/{tenant_code:str}", opt=READ, summary="Read one tenant")
    async def get_tenant(
        self,
        tenant_code: FromPath[str],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> TenantOut:
        tree = await tree_of(request)
        _visible(principal, tree, tenant_code)
        return TenantOut.of_row(await service.get_row(db_session, tenant_code), tree)

    @get("/{tenant_code:str}/subtree", opt=READ, summary="A tenant and everything below it, parents first")
    async def subtree(
        self,
        tenant_code: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> TenantList:
        tree = await tree_of(request)
        node = _visible(principal, tree, tenant_code)
        items = [TenantOut.of_node(n, tree) for n in tree.subtree(node.id)]
        return TenantList(items=items, total=len(items))

    @patch("/{tenant_code:str}", opt=MANAGE, summary="Rename a tenant")
    async def update_tenant(
        self,
        tenant_code: FromPath[str],
        data: JSONBody[TenantUpdate],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> TenantOut:
        tree = await self._managed(request, principal, db_session, tenant_code)
        row = await service.get_row(db_session, tenant_code)
        row.name = data.name
        await db_session.flush()
        mirror_in_keycloak(db_session, platform_of(request), await load_tree(db_session), row.code)
        return TenantOut.of_row(row, tree)

    @post("/{tenant_code:str}/deactivate", opt=MANAGE, summary="Deactivate a tenant and its subtree (data kept)")
    async def deactivate(
        self,
        tenant_code: FromPath[str],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> TenantList:
        await self._managed(request, principal, db_session, tenant_code)
        rows = await service.set_active(db_session, tenant_code, False)
        tree = await load_tree(db_session)
        items = [TenantOut.of_row(r, tree) for r in rows]
        return TenantList(items=items, total=len(items))

    @post("/{tenant_code:str}/activate", opt=MANAGE, summary="Reactivate a tenant")
    async def activate(
        self,
        tenant_code: FromPath[str],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> TenantOut:
        await self._managed(request, principal, db_session, tenant_code)
        rows = await service.set_active(db_session, tenant_code, True)
        return TenantOut.of_row(rows[0], await load_tree(db_session))

    @delete("/{tenant_code:str}", opt=MANAGE, summary="Delete a tenant that holds no data", status_code=204)
    async def delete_tenant(
        self,
        tenant_code: FromPath[str],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> None:
        await self._managed(request, principal, db_session, tenant_code)
        await service.delete_tenant(db_session, tenant_code)

    async def _managed(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal], session: AsyncSession, code: str
    ) -> TenantTree:
        tree = await tree_of(request)
        node = _visible(principal, tree, code)
        parent = tree.nodes.get(node.parent_id) if node.parent_id is not None else None
        _require_manage(principal, platform_of(request), tree, parent)
        return tree
