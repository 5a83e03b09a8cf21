"""Connections to Keycloak: the web client (OIDC) and the admin client (provisioning), and their errors.

Every client here is short-lived (opened for one operation and closed): python-keycloak's clients hold an
``httpx.AsyncClient`` bound to the event loop that first used it, and the platform calls Keycloak rarely
(key fetches, logins, refreshes, provisioning); bearer tokens are checked against cached keys without a call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakConnectionError, KeycloakError

from core.errors import ErrorSpec
from core.settings import Settings

#: Seconds before a call to Keycloak gives up; a person waiting on a login page should not wait longer.
TIMEOUT_SECONDS = 10

IDENTITY_UNAVAILABLE = ErrorSpec(
    "identity.unavailable",
    503,
    "统一身份认证服务（Keycloak）暂时无法连接，本次操作未做任何修改；请稍后重试，如持续出现请联系系统管理员",
    "The identity service (Keycloak) cannot be reached; nothing was changed. Try again later",
)
KEYCLOAK_NOT_CONFIGURED = ErrorSpec(
    "identity.keycloak_not_configured",
    409,
    "本平台未配置统一身份认证（Keycloak），无法执行此操作；请设置 YINLING_KEYCLOAK_URL 等配置项",
    "Keycloak is not configured (set YINLING_KEYCLOAK_URL and related settings)",
)


def issuer_of(settings: Settings) -> str:
    """The ``iss`` of the realm's tokens. Keycloak derives it from its host name, so the platform must use the
    same URL as browsers do (``YINLING_KEYCLOAK_URL``)."""
    return f"{settings.keycloak_url.rstrip('/')}/realms/{settings.keycloak_realm}"


@contextmanager
def unavailable_on_connection_error() -> Iterator[None]:
    """Turn "cannot reach Keycloak" (or a proxy's 5xx in front of it) into the 503 a person can act on;
    other Keycloak answers (409, 404, ...) pass through for the caller to interpret."""
    try:
        yield
    except (KeycloakConnectionError, httpx.TransportError) as exc:
        raise IDENTITY_UNAVAILABLE.error() from exc
    except KeycloakError as exc:
        if (exc.response_code or 0) >= 500:
            raise IDENTITY_UNAVAILABLE.error() from exc
        raise


def require_keycloak(settings: Settings) -> None:
    if not settings.keycloak_enabled:
        raise KEYCLOAK_NOT_CONFIGURED.error()


@asynccontextmanager
async def openid_client(settings: Settings) -> AsyncIterator[KeycloakOpenID]:
    """The web client (``YINLING_KEYCLOAK_CLIENT_ID``): keys, code exchange, refresh, logout."""
    require_keycloak(settings)
    client = KeycloakOpenID(
        server_url=settings.keycloak_url,
        realm_name=settings.keycloak_realm,
        client_id=settings.keycloak_client_id,
        client_secret_key=settings.keycloak_client_secret.get_secret_value() or None,
        timeout=TIMEOUT_SECONDS,
    )
    try:
        with unavailable_on_connection_error():
            yield client
    finally:
        await client.connection.aclose()


@asynccontextmanager
async def admin_client(settings: Settings) -> AsyncIterator[KeycloakAdmin]:
    """The admin API as the provisioning client's service account (client credentials, no person's password)."""
    require_keycloak(settings)
    connection = KeycloakOpenIDConnection(
        server_url=settings.keycloak_url,
        realm_name=settings.keycloak_realm,
        client_id=settings.keycloak_admin_client_id,
        client_secret_key=settings.keycloak_admin_client_secret.get_secret_value(),
        timeout=TIMEOUT_SECONDS,
    )
    try:
        with unavailable_on_connection_error():
            yield KeycloakAdmin(connection=connection)
    finally:
        await connection.aclose()
        # The connection fetches its own token through a second client it creates on first use.
        token_client = getattr(connection, "_keycloak_openid", None)
        if isinstance(token_client, KeycloakOpenID):
            await token_client.connection.aclose()
