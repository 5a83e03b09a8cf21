"""Fixtures for the identity tests against the real Keycloak; they fail (never skip) without it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakGetError
from litestar import Litestar

from core.platform import Platform
from core.web.app import create_app
from tests.conftest import require_env
from tests.identity.support import RUN, Browser, KeycloakEnv, TcpProxy, app_client, kc_settings_for
from tests.support import seed_world


@pytest.fixture(scope="session")
def kc_env() -> KeycloakEnv:
    return KeycloakEnv(
        url=require_env("YINLING_TEST_KEYCLOAK_URL").rstrip("/"),
        realm=require_env("YINLING_TEST_KEYCLOAK_REALM"),
        client_id=require_env("YINLING_TEST_KEYCLOAK_CLIENT_ID"),
        client_secret=require_env("YINLING_TEST_KEYCLOAK_CLIENT_SECRET"),
        admin_client_id=require_env("YINLING_TEST_KEYCLOAK_ADMIN_CLIENT_ID"),
        admin_client_secret=require_env("YINLING_TEST_KEYCLOAK_ADMIN_CLIENT_SECRET"),
        user=require_env("YINLING_TEST_KEYCLOAK_USER"),
        user_password=require_env("YINLING_TEST_KEYCLOAK_USER_PASSWORD"),
    )


@pytest.fixture(scope="session")
async def kc_admin(kc_env: KeycloakEnv) -> AsyncIterator[KeycloakAdmin]:
    """The admin API for setting up and cleaning up; at the end the run's group tree is deleted."""
    connection = KeycloakOpenIDConnection(
        server_url=kc_env.url,
        realm_name=kc_env.realm,
        client_id=kc_env.admin_client_id,
        client_secret_key=kc_env.admin_client_secret,
    )
    admin = KeycloakAdmin(connection=connection)
    yield admin
    try:
        root = await admin.a_get_group_by_path(f"/yinling-test-{RUN}")
        await admin.a_delete_group(root["id"])
    except KeycloakGetError:
        pass
    await connection.aclose()


@pytest.fixture
async def kc_users(kc_admin: KeycloakAdmin) -> AsyncIterator[list[str]]:
    """Usernames a test creates in Keycloak (append them): deleted when the test ends."""
    names: list[str] = []
    yield names
    for name in names:
        user_id = await kc_admin.a_get_user_id(name)
        if user_id:
            await kc_admin.a_delete_user(user_id)


@pytest.fixture
async def kc_platform(pg_platform: Platform, pg_urls: dict[str, str], kc_env: KeycloakEnv) -> AsyncIterator[Platform]:
    """A platform in Keycloak mode on the (emptied) test database."""
    platform = Platform.from_settings(kc_settings_for(pg_urls, kc_env))
    yield platform
    await platform.close()


@pytest.fixture
async def kc_app(kc_platform: Platform) -> Litestar:
    return create_app(kc_platform.settings, platform=kc_platform, deliver_events=False)


@pytest.fixture
async def kc_client(kc_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(kc_app) as client:
        yield client


@pytest.fixture
async def kc_world(kc_platform: Platform) -> dict[str, Any]:
    return await seed_world(kc_platform)


@pytest.fixture
async def browser_for() -> AsyncIterator[Callable[[httpx.AsyncClient], Browser]]:
    made: list[Browser] = []

    def make(app: httpx.AsyncClient) -> Browser:
        made.append(Browser(app))
        return made[-1]

    yield make
    for b in made:
        await b.close()


@pytest.fixture
async def keycloak_relay(kc_env: KeycloakEnv) -> AsyncIterator[TcpProxy]:
    target = urlsplit(kc_env.url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 80)
    await proxy.start()
    yield proxy
    await proxy.stop()
