"""Browser sessions: server-side (the platform's ``sessions`` store, Redis when configured), cookie = random id.

The session holds the user id, how they signed in, and for Keycloak logins the refresh token and the access
token's expiry: a Keycloak session is renewed through Keycloak whenever that expiry passes (every few minutes),
so a person disabled or logged out in Keycloak loses the web session at the next renewal. The cookie itself
carries nothing but the id (HttpOnly, SameSite=Lax, Secure and ``__Host-`` prefixed when the public URL is
https). Unlike Litestar's stock backend, this one writes only when the session changed (an anonymous API call
costs no store write) and gives a new id at login, so an id planted before login is worthless after it.
"""

from __future__ import annotations

import copy
import logging
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty

from core.db.scope import TenantScope
from core.identity.oidc import TokenSet, provider_of
from core.identity.principal import load_principal
from core.settings import Settings

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

    from core.platform import Platform

logger = logging.getLogger(__name__)

STORE = "sessions"
USER = "uid"
VIA = "via"  # "local" or "keycloak"
SUBJECT = "sub"
REFRESH_TOKEN = "rt"  # noqa: S105 - the session key, not a token
ACCESS_EXPIRES = "exp"
LOGIN = "login"  # the pending OIDC login (state, nonce, PKCE verifier, next)
#: Renew a Keycloak session this many seconds before its access token expires.
RENEW_MARGIN_SECONDS = 30

_LOADED = "identity_session_loaded"
_NEW_ID = "identity_session_new_id"


def is_https(settings: Settings) -> bool:
    return settings.public_url.lower().startswith("https://")


def session_cookie_name(settings: Settings) -> str:
    return "__Host-yinling_session" if is_https(settings) else "yinling_session"


class IdentitySessionBackend(ServerSideSessionBackend):
    """Server-side sessions that are written only when changed and get a fresh id at login."""

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.state[_LOADED] = copy.deepcopy(data)
        return data

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        fresh = connection.state.get(_NEW_ID)
        return fresh if isinstance(fresh, str) else super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        cookie_id = connection.cookies.get(self.config.key)
        has_cookie = bool(cookie_id) and cookie_id != "null"
        rotated = isinstance(connection.state.get(_NEW_ID), str)
        if rotated and has_cookie and cookie_id:
            await self.delete(cookie_id, store=self.config.get_store_from_app(connection.scope["app"]))
        if scope_session is Empty or not scope_session:
            if has_cookie and cookie_id:
                await self.delete(cookie_id, store=self.config.get_store_from_app(connection.scope["app"]))
                # Litestar's own "null" cookie keeps the config's Max-Age, so browsers keep it: expire it here.
                gone = Cookie(
                    key=self.config.key,
                    value="",
                    max_age=0,
                    path=self.config.path,
                    secure=self.config.secure,
                    httponly=self.config.httponly,
                    samesite=self.config.samesite,
                )
                MutableScopeHeaders.from_message(message).add("set-cookie", gone.to_header(header=""))
            return
        if not rotated and scope_session == connection.state.get(_LOADED):
            return
        await super().store_in_message(scope_session, message, connection)


def session_middleware(settings: Settings) -> DefineMiddleware:
    config = ServerSideSessionConfig(
        key=session_cookie_name(settings),
        store=STORE,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        secure=is_https(settings),
        samesite="lax",
        exclude=["^/health", "^/ready", "^/metrics", "^/schema"],
    )
    return DefineMiddleware(SessionMiddleware, backend=IdentitySessionBackend(config=config))


def start_session(
    connection: ASGIConnection[Any, Any, Any, Any], user_id: uuid.UUID, via: str, tokens: TokenSet | None = None
) -> None:
    """Sign the browser in under a new session id (whatever it carried before is dropped)."""
    data: dict[str, Any] = {USER: str(user_id), VIA: via}
    if tokens is not None:
        data.update(
            {SUBJECT: tokens.claims["sub"], REFRESH_TOKEN: tokens.refresh_token, ACCESS_EXPIRES: tokens.expires_at}
        )
    connection.state[_NEW_ID] = secrets.token_hex(32)
    connection.scope["session"] = data


def end_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.scope["session"] = Empty


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """The session's data, or an empty dict when there is none (or no session middleware)."""
    data = connection.scope.get("session")
    return data if isinstance(data, dict) else {}


async def authenticate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
    """The principal of a signed-in browser, or anonymous. A session that can no longer be honoured (user
    disabled here or in Keycloak, Keycloak ended it, sign-in method changed) is ended, and the guard answers
    401 where a principal is needed."""
    anonymous = AuthenticationResult(user=None, auth=None)
    data = current_session(connection)
    if USER not in data:
        return anonymous
    platform: Platform = connection.app.state.platform
    if not await _renew(connection, platform.settings, data):
        end_session(connection)
        return anonymous
    try:
        user_id = uuid.UUID(str(data[USER]))
    except ValueError:
        end_session(connection)
        return anonymous
    async with platform.database.session(TenantScope.system()) as session:
        principal = await load_principal(session, user_id)
    if principal is None:
        end_session(connection)
        return anonymous
    return AuthenticationResult(user=principal, auth={"via": "session"})


async def _renew(connection: ASGIConnection[Any, Any, Any, Any], settings: Settings, data: dict[str, Any]) -> bool:
    """Whether the session is still good, renewing a Keycloak session whose access token has expired."""
    via = data.get(VIA)
    if not settings.keycloak_enabled:
        return via == "local"
    if via != "keycloak":
        return False
    if int(data.get(ACCESS_EXPIRES, 0)) - RENEW_MARGIN_SECONDS > time.time():
        return True
    tokens = await provider_of(connection.app).refresh(str(data.get(REFRESH_TOKEN, "")))
    if tokens is None or tokens.claims.get("sub") != data.get(SUBJECT):
        logger.info("Keycloak ended the session of user %s", data.get(USER))
        return False
    data[REFRESH_TOKEN] = tokens.refresh_token
    data[ACCESS_EXPIRES] = tokens.expires_at
    return True
