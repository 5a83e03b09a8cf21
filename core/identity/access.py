"""Authentication middleware, the permission guard and the per-request database session.

Every route declares what it needs in its ``opt``: ``{"permission": "tenant.read"}`` or
``{"public": True}``; a test fails for a route that declares neither. Routes under
``/api/v1/t/{tenant_code}/...`` are checked in the acting tenant named by the URL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import AuditContext
from core.db.engine import run_after_commit
from core.db.scope import TenantScope
from core.errors import FORBIDDEN, UNAUTHENTICATED, ErrorSpec
from core.identity.oidc import InvalidToken, platform_user_for, provider_of
from core.identity.principal import Principal, load_principal
from core.identity.sessions import authenticate_session
from core.identity.tokens import decode_local_token
from core.logging import TENANT
from core.tenancy.tree import TenantNode, TenantTree, load_tree

if TYPE_CHECKING:
    from litestar import Request

    from core.platform import Platform

TOKEN_INVALID = ErrorSpec(
    "auth.token_invalid",
    401,
    "登录凭证无效或已过期，请重新登录",
    "The access token is invalid or expired; sign in again",
)
TENANT_FORBIDDEN = ErrorSpec(
    "auth.tenant_forbidden",
    403,
    "您在单位 {code}（{name}）没有“{permission}”权限",
    "You lack the '{permission}' permission in tenant {code} ({name})",
)

PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/schema", "/api/v1/auth/token", "/files/local", "/static", "/auth/")


def platform_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Platform:
    return connection.app.state.platform


class TokenAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Bearer token or, without one, the browser's session cookie → :class:`Principal`; neither is anonymous
    and the guard decides if that is enough. A request with an ``Authorization`` header is judged by that
    header alone (never by its cookies): the CSRF exemption of bearer calls relies on it.

    Bearer tokens are Keycloak access tokens when Keycloak is configured (local tokens are then refused) and
    the platform's own HS256 tokens otherwise.
    """

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        if not header:
            return await authenticate_session(connection)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TOKEN_INVALID.error()
        platform = platform_of(connection)
        if platform.settings.keycloak_enabled:
            try:
                claims = await provider_of(connection.app).verify(token.strip())
            except InvalidToken as exc:
                raise TOKEN_INVALID.error() from exc
            user_id = await platform_user_for(platform.database, claims)
        else:
            try:
                claims = decode_local_token(platform.settings.secret_key.get_secret_value(), token.strip())
                user_id = uuid.UUID(str(claims["sub"]))
            except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
                raise TOKEN_INVALID.error() from exc
        async with platform.database.session(TenantScope.system()) as session:
            principal = await load_principal(session, user_id)
        if principal is None:
            raise TOKEN_INVALID.error()
        return AuthenticationResult(user=principal, auth=claims)


def authentication_middleware() -> DefineMiddleware:
    return DefineMiddleware(TokenAuthenticationMiddleware, exclude=[f"^{p}" for p in PUBLIC_PATHS])


@dataclass(frozen=True)
class Acting:
    """The tenant named by the URL, the tree it was checked against, and the scope granted there."""

    tenant: TenantNode
    tree: TenantTree
    scope: TenantScope


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


async def tree_of(connection: ASGIConnection[Any, Any, Any, Any]) -> TenantTree:
    """The tenant tree, loaded at most once per request."""
    cached = connection.state.get("tenant_tree")
    if isinstance(cached, TenantTree):
        return cached
    async with platform_of(connection).database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
    connection.state["tenant_tree"] = tree
    return tree


async def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Applied to every route: public routes pass; others need a principal and the declared permission."""
    if handler.opt.get("public") or connection.url.path.startswith("/schema"):
        return
    principal = current_principal(connection)
    if principal is None:
        raise UNAUTHENTICATED.error()
    permission = handler.opt.get("permission")
    if not isinstance(permission, str):
        raise FORBIDDEN.error()
    platform = platform_of(connection)
    tenant_code = connection.path_params.get("tenant_code")
    tree = await tree_of(connection)
    if tenant_code is None:
        if not principal.can_anywhere(platform.roles, permission):
            raise FORBIDDEN.error()
        return
    node = tree.get(str(tenant_code))
    plugin = handler.opt.get("plugin")
    if isinstance(plugin, str):
        # A programme that is off here answers 404 naming it, before any question of permissions.
        from core.plugin_host.routes import require_active

        await require_active(platform, tree, node, plugin)
    if not principal.can(tree, platform.roles, node.id, permission):
        raise TENANT_FORBIDDEN.error(code=node.code, name=node.name, permission=permission)
    TENANT.set(node.code)
    connection.state["acting"] = Acting(tenant=node, tree=tree, scope=principal.scope_at(tree, node.id))


def provide_acting(request: Request[Any, Any, Any]) -> Acting:
    acting = request.state.get("acting")
    if not isinstance(acting, Acting):
        raise FORBIDDEN.error()
    return acting


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = current_principal(request)
    if principal is None:
        raise UNAUTHENTICATED.error()
    return principal


async def provide_db_session(request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """One transaction per request, scoped to the acting tenant (or everything the grants reach).

    Committed when the handler returns, rolled back when it raises: nothing half-written stays.
    """
    platform = platform_of(request)
    principal = current_principal(request)
    acting = request.state.get("acting")
    if isinstance(acting, Acting):
        scope = acting.scope
    elif principal is not None:
        scope = principal.overall_scope(await tree_of(request))
    else:
        scope = TenantScope()
    audit = AuditContext(
        actor_id=principal.user_id if principal else None,
        actor_name=principal.username if principal else "anonymous",
        request_id=request.state.get("request_id"),
        acting_tenant_id=acting.tenant.id if isinstance(acting, Acting) else None,
    )
    session = platform.database.open(scope, audit)
    try:
        async with session.begin():
            yield session
        await run_after_commit(session)
    finally:
        await session.close()
