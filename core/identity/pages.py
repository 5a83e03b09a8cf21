"""Console page of users and roles (用户与角色): the people holding a role in the tenant's subtree, each grant
with a button to take it away, and a form to grant a role in a tenant of the subtree. Tenant administrators
only (``user.manage``), as in the API."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, request_language
from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.accounts import grant_role, revoke_role
from core.identity.models import RoleGrant, User
from core.identity.roles import USER_MANAGE
from core.identity.user_routes import USER_NOT_FOUND
from core.web.console import page_of, shell

PAGE = {"permission": USER_MANAGE, "page": True}
PAGE_SIZE = 30


class UserPages(Controller):
    path = "/t/{tenant_code:str}/users"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt=PAGE)
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        done: FromQuery[str | None] = None,
        problem: FromQuery[str | None] = None,
    ) -> Template:
        in_scope = select(RoleGrant.user_id).where(RoleGrant.tenant_id.in_(acting.scope.read))
        query = select(User).where(User.id.in_(in_scope))
        if q:
            query = query.where(User.username.contains(q.strip()[:64], autoescape=True))
        listing = await page_of(db_session, query.order_by(User.username), page, PAGE_SIZE)
        ids = [u.id for u in listing.rows]
        grants = (
            (
                await db_session.execute(
                    select(RoleGrant).where(RoleGrant.tenant_id.in_(acting.scope.read), RoleGrant.user_id.in_(ids))
                )
            )
            .scalars()
            .all()
        )
        roles = platform_of(request).roles
        context = await shell(request, acting, db_session)
        lang = context["lang"]

        def role_title(name: str) -> str:
            role = roles.get(name)
            return (role.title_zh if lang == "zh" else role.title_en) if role else name

        by_user: dict[uuid.UUID, list[dict[str, str]]] = defaultdict(list)
        for g in sorted(grants, key=lambda g: (acting.tree.nodes[g.tenant_id].path, g.role)):
            node = acting.tree.nodes[g.tenant_id]
            by_user[g.user_id].append(
                {"id": str(g.id), "tenant": f"{node.name}（{node.code}）", "role": role_title(g.role)}
            )
        principal = current_principal(request)
        users = [
            {
                "id": str(u.id),
                "username": u.username,
                "display_name": u.display_name,
                "is_active": u.is_active,
                "grants": by_user.get(u.id, []),
                "is_me": principal is not None and principal.user_id == u.id,
            }
            for u in listing.rows
        ]
        subtree = acting.tree.subtree_ids(acting.tenant.id)
        notice = None
        if done:
            notice = {"granted": "已授予角色", "revoked": "已撤销角色"}.get(done) if lang == "zh" else f"Done: {done}"
        return Template(
            template_name="console/users.html",
            context={
                **context,
                "users": users,
                "total": listing.total,
                "page": listing.page,
                "pages": listing.pages,
                "q": q or "",
                "roles": [(name, role_title(name)) for name in roles.names()],
                "targets": [
                    (n.code, f"{'　' * (n.path.count('/') - 2)}{n.name}（{n.code}）")
                    for n in acting.tree.walk()
                    if n.id in subtree
                ],
                "notice": notice,
                "problem": problem,
            },
        )

    @post("/{user_id:uuid}/grants", opt=PAGE, status_code=303)
    async def grant(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        user_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect:
        held = (
            await db_session.execute(
                select(RoleGrant.id).where(RoleGrant.tenant_id.in_(acting.scope.read), RoleGrant.user_id == user_id)
            )
        ).first()
        user = await db_session.get(User, user_id) if held is not None else None
        if user is None:  # a person outside the subtree does not exist here (as in the API)
            raise USER_NOT_FOUND.error(field="user_id", code=acting.tenant.code, name=acting.tenant.name)
        back = f"/t/{acting.tenant.code}/users/"
        lang = request_language(request)
        code = (data.get("tenant_code") or acting.tenant.code).strip()
        node = acting.tree.get(code)
        if node is None or node.id not in acting.tree.subtree_ids(acting.tenant.id):
            message = "只能在本单位及下级单位授予角色" if lang == "zh" else "Grant roles in this tenant or below"
            return Redirect(f"{back}?problem={quote(message)}", status_code=303)
        principal = current_principal(request)
        try:
            async with db_session.begin_nested():
                await grant_role(
                    db_session,
                    platform_of(request).roles,
                    acting.tree,
                    user=user,
                    tenant_code=node.code,
                    role=(data.get("role") or "").strip(),
                    by=principal.username if principal else "system",
                )
        except AppError as exc:
            return Redirect(f"{back}?problem={quote(exc.message(lang))}", status_code=303)
        return Redirect(f"{back}?done=granted&q={quote(user.username)}", status_code=303)

    @post("/grants/{grant_id:uuid}/revoke", opt=PAGE, status_code=303)
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        grant_id: FromPath[uuid.UUID],
    ) -> Redirect:
        principal = current_principal(request)
        back = f"/t/{acting.tenant.code}/users/"
        try:
            async with db_session.begin_nested():
                await revoke_role(db_session, grant_id=grant_id, by_user_id=principal.user_id if principal else None)
        except AppError as exc:
            if exc.status == 404:
                raise
            return Redirect(f"{back}?problem={quote(exc.message(request_language(request)))}", status_code=303)
        return Redirect(f"{back}?done=revoked", status_code=303)
