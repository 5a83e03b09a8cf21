"""Who is acting, and what that allows in a given tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.scope import TenantScope
from core.identity.models import RoleGrant, User
from core.identity.roles import RoleRegistry
from core.orgs.models import MemberAccount
from core.tenancy.tree import TenantTree


@dataclass(frozen=True)
class Grant:
    tenant_id: int
    role: str


@dataclass(frozen=True)
class MemberLink:
    """The member record a user's account is linked to (账号关联): where it lives and which record it is."""

    tenant_id: int
    member_id: uuid.UUID


@dataclass(frozen=True)
class Principal:
    """An authenticated user with the grants loaded for this request."""

    user_id: uuid.UUID
    username: str
    display_name: str
    is_platform_admin: bool
    grants: tuple[Grant, ...]
    member: MemberLink | None = None  # a retired cadre's own record, when the account is linked to one

    def covering_roles(self, tree: TenantTree, tenant_id: int) -> set[str]:
        """Roles granted at ``tenant_id`` or any ancestor: a grant covers the subtree."""
        return {g.role for g in self.grants if tree.is_within(tenant_id, g.tenant_id)}

    def permissions_at(self, tree: TenantTree, roles: RoleRegistry, tenant_id: int) -> frozenset[str]:
        perms: set[str] = set()
        for role in self.covering_roles(tree, tenant_id):
            perms |= roles.permissions_of(role)
        return frozenset(perms)

    def can(self, tree: TenantTree, roles: RoleRegistry, tenant_id: int, permission: str) -> bool:
        if self.is_platform_admin:
            return tenant_id in tree.nodes
        return permission in self.permissions_at(tree, roles, tenant_id)

    def can_anywhere(self, roles: RoleRegistry, permission: str) -> bool:
        return self.is_platform_admin or any(permission in roles.permissions_of(g.role) for g in self.grants)

    def acts_in(self, tree: TenantTree, tenant_id: int) -> bool:
        return self.is_platform_admin or bool(self.covering_roles(tree, tenant_id))

    def scope_at(self, tree: TenantTree, tenant_id: int) -> TenantScope:
        """Acting in ``tenant_id``: read and write its subtree (permissions decide which actions)."""
        if not self.acts_in(tree, tenant_id):
            return TenantScope()
        ids = tree.subtree_ids(tenant_id)
        return TenantScope.of(ids, ids)

    def visible_ids(self, tree: TenantTree) -> frozenset[int]:
        if self.is_platform_admin:
            return tree.all_ids()
        out: set[int] = set()
        for grant in self.grants:
            if grant.tenant_id in tree.nodes:
                out |= tree.subtree_ids(grant.tenant_id)
        return frozenset(out)

    def overall_scope(self, tree: TenantTree) -> TenantScope:
        """Outside any one tenant (e.g. ``/api/v1/tenants``): everything the grants reach."""
        if self.is_platform_admin:
            return TenantScope.system()
        ids = self.visible_ids(tree)
        return TenantScope.of(ids, ids)


async def load_principal(session: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    """Load an active user with grants; the session must have system scope (this runs before any scope)."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    rows = (await session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id))).scalars().all()
    link = (
        await session.execute(
            select(MemberAccount.tenant_id, MemberAccount.member_id).where(MemberAccount.user_id == user.id)
        )
    ).first()
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        is_platform_admin=user.is_platform_admin,
        grants=tuple(Grant(r.tenant_id, r.role) for r in rows),
        member=MemberLink(link[0], link[1]) if link else None,
    )
