"""Helpers for the identity tests that run against the real Keycloak (``scripts/services.sh up``).

Everything a test creates in Keycloak carries this run's id (usernames ``t<run>-…``, tenant groups under the
group root ``/yinling-test-<run>``) and is deleted afterwards, so runs on a shared Keycloak do not collide.
"""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from keycloak import KeycloakAdmin
from litestar import Litestar
from sqlalchemy import select

from core.db.scope import TenantScope
from core.identity.accounts import create_user, grant_role
from core.identity.models import User
from core.platform import Platform
from core.settings import Settings
from core.tenancy.tree import load_tree
from tests.conftest import service_settings

RUN = uuid.uuid4().hex[:8]
PUBLIC_URL = "http://127.0.0.1:8000"  # a redirect URI the test realm's web client allows


@dataclass(frozen=True)
class KeycloakEnv:
    url: str
    realm: str
    client_id: str
    client_secret: str
    admin_client_id: str
    admin_client_secret: str
    user: str
    user_password: str

    @property
    def token_url(self) -> str:
        return f"{self.url}/realms/{self.realm}/protocol/openid-connect/token"


def keycloak_overrides(env: KeycloakEnv, url: str | None = None) -> dict[str, Any]:
    return {
        "keycloak_url": url or env.url,
        "keycloak_realm": env.realm,
        "keycloak_client_id": env.client_id,
        "keycloak_client_secret": env.client_secret,
        "keycloak_admin_client_id": env.admin_client_id,
        "keycloak_admin_client_secret": env.admin_client_secret,
        "keycloak_group_root": f"yinling-test-{RUN}",
        "public_url": PUBLIC_URL,
    }


def kc_settings_for(pg_urls: dict[str, str], env: KeycloakEnv, url: str | None = None) -> Settings:
    return service_settings(pg_urls, **keycloak_overrides(env, url))


def app_client(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)


async def password_grant(env: KeycloakEnv, username: str, password: str, url: str | None = None) -> dict[str, Any]:
    """Tokens straight from Keycloak (the test realm's web client allows direct grants)."""
    token_url = f"{url}/realms/{env.realm}/protocol/openid-connect/token" if url else env.token_url
    async with httpx.AsyncClient() as http:
        response = await http.post(
            token_url,
            data={
                "grant_type": "password",
                "client_id": env.client_id,
                "client_secret": env.client_secret,
                "username": username,
                "password": password,
                "scope": "openid",
            },
        )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def link_keycloak_user(
    platform: Platform, admin: KeycloakAdmin, username: str, tenant: str | None = None, role: str | None = None
) -> uuid.UUID:
    """The platform row for an existing Keycloak user (external_id = its Keycloak id), with a grant."""
    external_id = await admin.a_get_user_id(username)
    assert external_id, f"Keycloak has no user {username}"
    async with platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.external_id == external_id))).scalar_one_or_none()
        if user is None:
            user = await create_user(session, username=username, password=None, external_id=external_id)
        if tenant and role:
            tree = await load_tree(session)
            await grant_role(session, platform.roles, tree, user=user, tenant_code=tenant, role=role, by="test")
        return user.id


_FORM_ACTION = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', re.S)


class Browser:
    """A browser as far as the login is concerned: Keycloak over HTTP with its cookies, the app over ASGI.

    Keycloak marks its cookies ``Secure`` even on http://127.0.0.1 (browsers treat loopback as a secure
    context; httpx's cookie jar does not), so this browser keeps Keycloak's cookies itself.
    """

    def __init__(self, app: httpx.AsyncClient) -> None:
        self.app = app
        self.keycloak = httpx.AsyncClient(follow_redirects=False)
        self.jar: dict[str, str] = {}

    async def close(self) -> None:
        await self.keycloak.aclose()

    async def to_keycloak(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        response = await self.keycloak.request(method, url, headers={"cookie": cookie} if cookie else None, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or not value:
                self.jar.pop(name.strip(), None)
            else:
                self.jar[name.strip()] = value
        return response

    async def start(self, next_path: str = "/api/v1/auth/me") -> httpx.Response:
        """``GET /auth/login``; Keycloak's answer to the redirect it gives."""
        started = await self.app.get("/auth/login", params={"next": next_path})
        assert started.status_code == 302, started.text
        return await self.to_keycloak("GET", started.headers["location"])

    async def login(self, username: str, password: str, next_path: str = "/api/v1/auth/me") -> httpx.Response:
        """The whole code flow; returns the app's final answer from ``/auth/callback``."""
        page = await self.start(next_path)
        assert page.status_code == 200, page.text
        match = _FORM_ACTION.search(page.text)
        assert match, "no Keycloak login form"
        posted = await self.to_keycloak(
            "POST", html.unescape(match.group(1)), data={"username": username, "password": password, "credentialId": ""}
        )
        assert posted.status_code == 302, posted.text
        return await self.follow_to_app(posted.headers["location"])

    async def follow_to_app(self, location: str) -> httpx.Response:
        target = urlsplit(location)
        assert f"{target.scheme}://{target.netloc}" == PUBLIC_URL and target.path == "/auth/callback", location
        return await self.app.get(f"{target.path}?{target.query}")


class TcpProxy:
    """A TCP relay to Keycloak that a test can cut, to see the platform behave while Keycloak is unreachable.

    In dev mode Keycloak names its issuer after the address it was reached at, so tokens fetched through the
    relay are tokens of the relay's URL, as the platform (configured with that URL) expects.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server: asyncio.Server | None = None
        self.listen_port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.listen_port)
        self.listen_port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self._writers):
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()
                self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
