"""``/api/v1/auth``: local sign-in for API use (embedded mode) and "who am I"."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from pydantic import BaseModel, ConfigDict, Field

from core.db.scope import TenantScope
from core.errors import ErrorSpec
from core.identity.access import platform_of, provide_principal, tree_of
from core.identity.accounts import LoginFailed, authenticate
from core.identity.principal import Principal
from core.identity.tokens import issue_local_token

LOCAL_LOGIN_DISABLED = ErrorSpec(
    "auth.local_login_disabled",
    400,
    "本平台使用统一身份认证（Keycloak）登录，请使用 Keycloak 签发的令牌",
    "This deployment signs in through Keycloak; use a Keycloak access token",
)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class GrantOut(BaseModel):
    tenant_code: str
    tenant_name: str
    role: str


class MeOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    is_platform_admin: bool
    grants: list[GrantOut]
    member_tenant_code: str | None = None  # 账号关联: where the person's own record is kept
    member_id: str | None = None


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/token",
        opt={"public": True},
        status_code=200,
        summary="Exchange a local username and password for a bearer token",
    )
    async def token(self, data: JSONBody[TokenRequest], request: Request[Any, Any, Any]) -> TokenResponse:
        platform = platform_of(request)
        settings = platform.settings
        if settings.keycloak_enabled:
            raise LOCAL_LOGIN_DISABLED.error()
        failure: LoginFailed | None = None
        async with platform.database.session(TenantScope.system()) as session:
            try:
                user = await authenticate(session, data.username, data.password)
            except LoginFailed as exc:
                failure = exc  # the failure counter is committed when this block ends
        if failure is not None:
            raise failure.error
        issued = issue_local_token(
            settings.secret_key.get_secret_value(), user.id, user.username, settings.token_ttl_seconds
        )
        return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)

    @get("/me", opt={"permission": "tenant.read"}, summary="The signed-in user and the grants they hold")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        principal: Principal = provide_principal(request)
        tree = await tree_of(request)
        grants = [
            GrantOut(
                tenant_code=tree.nodes[g.tenant_id].code,
                tenant_name=tree.nodes[g.tenant_id].name,
                role=g.role,
            )
            for g in principal.grants
            if g.tenant_id in tree.nodes
        ]
        link = principal.member
        return MeOut(
            user_id=str(principal.user_id),
            username=principal.username,
            display_name=principal.display_name,
            is_platform_admin=principal.is_platform_admin,
            grants=grants,
            member_tenant_code=tree.nodes[link.tenant_id].code if link and link.tenant_id in tree.nodes else None,
            member_id=str(link.member_id) if link else None,
        )
