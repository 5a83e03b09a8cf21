"""Browser login against the real Keycloak: authorization code + PKCE, a server-side session, logout from both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
from keycloak import KeycloakAdmin
from litestar import Litestar

from core.db.scope import TenantScope
from core.identity.provisioning import NewPerson, provision_user
from core.identity.sessions import ACCESS_EXPIRES, STORE, session_cookie_name
from core.platform import Platform
from core.tenancy.tree import load_tree
from tests.identity.support import RUN, Browser, KeycloakEnv, link_keycloak_user


async def test_browser_code_flow_makes_a_cookie_session_and_logout_ends_keycloaks_too(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    browser_for: Callable[[httpx.AsyncClient], Browser],
) -> None:
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320102", "tenant_admin")
    browser = browser_for(kc_client)
    cookie = session_cookie_name(kc_platform.settings)

    started = await kc_client.get("/auth/login", params={"next": "/api/v1/auth/me"})
    assert started.status_code == 302
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/auth/callback"] and query["state"] and query["nonce"]
    pre_login_id = kc_client.cookies[cookie]
    set_cookie = started.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "path=/" in set_cookie

    done = await browser.login(kc_env.user, kc_env.user_password, "/api/v1/auth/me")
    assert done.status_code == 302 and done.headers["location"] == "/api/v1/auth/me", done.text
    assert "KEYCLOAK_IDENTITY" in browser.jar  # Keycloak's single sign-on session, in the browser
    # A new session id at login; the one from before login is gone from the store.
    assert kc_client.cookies[cookie] != pre_login_id
    assert await kc_platform.stores.get(STORE).get(pre_login_id) is None

    me = await kc_client.get("/api/v1/auth/me")  # the cookie alone
    assert me.status_code == 200 and me.json()["username"] == kc_env.user
    assert (await kc_client.get("/api/v1/t/320104/audit")).status_code == 403

    # Unsafe requests on the cookie need the CSRF token; logout is one.
    refused = await kc_client.post("/auth/logout")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.csrf_failed"
    out = await kc_client.post("/auth/logout", headers={"x-csrftoken": kc_client.cookies["csrftoken"]})
    assert out.status_code == 303
    assert (await kc_client.get("/api/v1/auth/me")).status_code == 401
    # Keycloak's session ended too: the same browser is asked for its password again.
    again = await browser.start()
    assert again.status_code == 200 and 'id="kc-form-login"' in again.text


async def test_callback_refuses_a_foreign_or_replayed_state(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
) -> None:
    forged = await kc_client.get("/auth/callback", params={"state": "x", "code": "y"})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "auth.login_expired"
    await kc_client.get("/auth/login")
    denied = await kc_client.get("/auth/callback", params={"state": "wrong", "error": "access_denied"})
    assert denied.status_code == 400 and denied.json()["error"]["code"] == "auth.login_expired"
    # The attempt was used up by the failed callback: even its real state no longer works.
    started = await kc_client.get("/auth/login", params={"next": "//evil.example/"})
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    cancelled = await kc_client.get("/auth/callback", params={"state": state, "error": "access_denied"})
    assert cancelled.status_code == 400 and cancelled.json()["error"]["code"] == "auth.login_refused"
    replay = await kc_client.get("/auth/callback", params={"state": state, "code": "whatever"})
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "auth.login_expired"


async def test_open_redirects_are_cut_to_a_local_path(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    browser_for: Callable[[httpx.AsyncClient], Browser],
) -> None:
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320102", "member")
    done = await browser_for(kc_client).login(kc_env.user, kc_env.user_password, "https://evil.example/x")
    assert done.status_code == 302 and done.headers["location"] == "/"


async def test_disabling_someone_in_keycloak_ends_their_session_at_the_next_renewal(
    kc_client: httpx.AsyncClient,
    kc_app: Litestar,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    kc_users: list[str],
    browser_for: Callable[[httpx.AsyncClient], Browser],
) -> None:
    username = f"t{RUN}-renew"
    kc_users.append(username)
    async with kc_platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        person = NewPerson(
            username, "续期测试", "320102", "member", email=f"{username}@yinling.test", password="Renew-pass-1"
        )
        await provision_user(session, kc_platform.settings, kc_platform.roles, tree, person, by="test")
    await browser_for(kc_client).login(username, "Renew-pass-1")
    assert (await kc_client.get("/api/v1/auth/me")).status_code == 200

    external_id = await kc_admin.a_get_user_id(username)

    assert external_id
    representation = await kc_admin.a_get_user(external_id)
    await kc_admin.a_update_user(external_id, {**representation, "enabled": False})
    # Until the access token behind the session expires, nothing asks Keycloak.
    assert (await kc_client.get("/api/v1/auth/me")).status_code == 200
    # Make it due for renewal now (as if five minutes had passed): Keycloak refuses, the session ends.
    store = kc_platform.stores.get(STORE)
    session_id = kc_client.cookies[session_cookie_name(kc_platform.settings)]
    raw = await store.get(session_id)
    assert raw is not None
    data = msgspec.json.decode(raw)
    data[ACCESS_EXPIRES] = 0
    await store.set(session_id, msgspec.json.encode(data))
    assert (await kc_client.get("/api/v1/auth/me")).status_code == 401
    assert await store.get(session_id) is None
