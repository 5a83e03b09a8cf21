"""``/auth/*``: browser sign-in and sign-out, ending in a server-side session (see :mod:`core.identity.sessions`).

With Keycloak: ``GET /auth/login`` redirects to Keycloak (authorization code + PKCE S256; ``state``, ``nonce`` and
the verifier stay in the session), ``GET /auth/callback`` redeems the code and signs the browser in.
Embedded mode: ``GET /auth/login`` shows a username/password form and ``POST /auth/login`` checks it with the
local lockout rules. ``POST /auth/logout`` ends the platform session and, with Keycloak, the single sign-on
session too. The form is plain HTML for now; the web console restyles it.
"""

from __future__ import annotations

import html
import logging
import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from keycloak.exceptions import KeycloakError
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from pydantic import BaseModel, ConfigDict

from core.db.scope import TenantScope
from core.errors import AppError, ErrorSpec, request_language
from core.identity.access import platform_of
from core.identity.accounts import ACCOUNT_DISABLED, LoginFailed, authenticate
from core.identity.keycloak import require_keycloak
from core.identity.oidc import InvalidToken, LoginAttempt, platform_user_for, provider_of
from core.identity.principal import load_principal
from core.identity.routes import LOCAL_LOGIN_DISABLED
from core.identity.sessions import LOGIN, REFRESH_TOKEN, current_session, end_session, start_session
from core.settings import Settings

logger = logging.getLogger(__name__)

LOGIN_EXPIRED = ErrorSpec(
    "auth.login_expired",
    400,
    "登录流程已过期或不是从本站发起的，请重新登录",
    "This sign-in was not started here or has expired; start again",
)
LOGIN_REFUSED = ErrorSpec(
    "auth.login_refused",
    400,
    "统一身份认证未完成登录（{reason}），请重新登录",
    "Keycloak did not complete the sign-in ({reason}); start again",
)
PUBLIC = {"public": True}


def safe_next(value: str | None) -> str:
    """A path on this site to return to; anything that could leave it (``//host``, ``https://…``, ``/\\host``)
    becomes ``/``, so the login cannot be used as an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def callback_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/auth/callback"


class LoginForm(BaseModel):
    model_config = ConfigDict(extra="ignore")  # _csrf_token is checked by the CSRF middleware

    username: str = ""
    password: str = ""
    next: str = "/"


_FORM = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 银龄</title></head>
<body><main>
<h1>银龄 · 登录</h1>
{error}<form method="post" action="/auth/login">
<input type="hidden" name="_csrf_token" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<p><label>用户名 <input name="username" autocomplete="username" required value="{username}"></label></p>
<p><label>密码 <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">登录</button></p>
</form></main></body></html>
"""


def _form(
    request: Request[Any, Any, Any], next_path: str, *, error: str = "", username: str = "", status: int = 200
) -> Response[str]:
    csrf = ScopeState.from_scope(request.scope).csrf_token
    page = _FORM.format(
        error=f'<p role="alert">{html.escape(error)}</p>\n' if error else "",
        csrf=html.escape(csrf if isinstance(csrf, str) else ""),
        next=html.escape(next_path),
        username=html.escape(username),
    )
    return Response(page, media_type=MediaType.HTML, status_code=status, headers={"cache-control": "no-store"})


class LoginController(Controller):
    path = "/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads controller settings from class attributes

    @get("/login", opt=PUBLIC, summary="Sign in (redirect to Keycloak, or the local form)")
    async def login_page(
        self, request: Request[Any, Any, Any], next_path: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Response[Any]:
        settings = platform_of(request).settings
        target = safe_next(next_path)
        if not settings.keycloak_enabled:
            return _form(request, target)
        attempt = LoginAttempt.new(target)
        url = await provider_of(request.app).authorization_url(attempt, callback_url(settings))
        request.scope["session"] = {**current_session(request), LOGIN: attempt.as_dict()}
        return Redirect(url, status_code=302, headers={"cache-control": "no-store"})

    @post("/login", opt=PUBLIC, summary="Sign in with a local username and password (embedded mode)")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[LoginForm],
    ) -> Response[Any]:
        platform = platform_of(request)
        if platform.settings.keycloak_enabled:
            raise LOCAL_LOGIN_DISABLED.error()
        target = safe_next(data.next)
        failure: LoginFailed | None = None
        async with platform.database.session(TenantScope.system()) as session:
            try:
                user = await authenticate(session, data.username, data.password)
            except LoginFailed as exc:
                failure = exc  # the failure counter is committed when this block ends
        if failure is not None:
            error = failure.error
            if not isinstance(error, AppError):
                raise error
            message = error.message(request_language(request))
            return _form(request, target, error=message, username=data.username, status=error.status)
        start_session(request, user.id, "local")
        return Redirect(target, status_code=303)

    @get("/callback", opt=PUBLIC, summary="Keycloak sends the browser back here with the authorization code")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        code: FromQuery[str | None] = None,
        state_param: Annotated[str | None, QueryParameter(name="state")] = None,
        error: FromQuery[str | None] = None,
    ) -> Response[Any]:
        platform = platform_of(request)
        require_keycloak(platform.settings)
        session = current_session(request)
        attempt = LoginAttempt.from_dict(session.pop(LOGIN, None))  # one use only
        if attempt is None or not state_param or not secrets.compare_digest(state_param, attempt.state):
            raise LOGIN_EXPIRED.error()
        if error or not code:
            raise LOGIN_REFUSED.error(reason=(error or "no code")[:64])
        try:
            tokens = await provider_of(request.app).exchange_code(attempt, code, callback_url(platform.settings))
        except InvalidToken as exc:
            logger.warning("Keycloak login refused: %s", exc)
            raise LOGIN_EXPIRED.error() from exc
        user_id = await platform_user_for(platform.database, tokens.claims)
        async with platform.database.session(TenantScope.system()) as db:
            principal = await load_principal(db, user_id)
        if principal is None:
            raise ACCOUNT_DISABLED.error()
        start_session(request, user_id, "keycloak", tokens)
        return Redirect(attempt.next, status_code=302, headers={"cache-control": "no-store"})

    @post("/logout", opt=PUBLIC, summary="Sign out here and from Keycloak")
    async def logout(
        self, request: Request[Any, Any, Any], next_path: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Response[Any]:
        platform = platform_of(request)
        refresh_token = current_session(request).get(REFRESH_TOKEN)
        if platform.settings.keycloak_enabled and isinstance(refresh_token, str) and refresh_token:
            try:
                await provider_of(request.app).logout(refresh_token)
            except (AppError, KeycloakError) as exc:  # the platform session ends anyway; Keycloak's times out
                logger.warning("Keycloak session not ended at logout: %s", exc)
        end_session(request)
        return Redirect(safe_next(next_path), status_code=303)
