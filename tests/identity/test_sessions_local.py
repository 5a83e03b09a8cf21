"""Embedded mode (no Keycloak): the same cookie session through a local username/password form; CSRF; headers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from core.db.scope import TenantScope
from core.identity.accounts import grant_role
from core.identity.login_routes import safe_next
from core.identity.models import User
from core.identity.sessions import STORE
from core.platform import Platform
from core.web.app import create_app
from tests.conftest import http_client, service_settings
from tests.support import PASSWORD, token
from tests.test_leakage import PNG

COOKIE = "yinling_session"


async def form_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_path: str = "/api/v1/auth/me"
) -> httpx.Response:
    page = await client.get("/auth/login", params={"next": next_path})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf and csrf.group(1) == client.cookies["csrftoken"]
    form = {"username": username, "password": password, "next": next_path, "_csrf_token": csrf.group(1)}
    return await client.post("/auth/login", data=form)


async def test_form_login_gives_a_cookie_session_that_the_api_accepts(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    planted = "0" * 64
    client.cookies.set(
        COOKIE, planted, domain="testserver.local"
    )  # an id fixed by someone else before login is not kept
    done = await form_login(client, "xw-admin")
    assert done.status_code == 303 and done.headers["location"] == "/api/v1/auth/me"
    set_cookie = next(h for h in done.headers.get_list("set-cookie") if h.startswith(COOKIE)).lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "secure" not in set_cookie
    session_id = client.cookies[COOKIE]
    assert session_id != planted and await pg_platform.stores.get(STORE).get(session_id) is not None

    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "xw-admin"
    assert (await client.get("/api/v1/t/320104/audit")).status_code == 403

    # Writes on the cookie need the CSRF token (header or form field); reads do not.
    upload = {"file": ("照片.png", PNG, "image/png")}
    refused = await client.post("/api/v1/t/320102/files", files=upload)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.csrf_failed"
    csrf = {"x-csrftoken": client.cookies["csrftoken"]}
    assert (await client.post("/api/v1/t/320102/files", files=upload, headers=csrf)).status_code == 201

    # Logging out ends the session in the store, not just in the browser.
    out = await client.post("/auth/logout", headers=csrf)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert await pg_platform.stores.get(STORE).get(session_id) is None
    client.cookies.set(COOKIE, session_id, domain="testserver.local")  # replaying the old cookie
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_bearer_calls_need_no_csrf_token_even_with_a_session_cookie(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    assert (await form_login(client, "xw-admin")).status_code == 303
    headers = await token(client, "qh-admin")  # anonymous API call: no CSRF token either
    # With an Authorization header only the header counts: qh-admin's grants, not the cookie's xw-admin.
    upload = await client.post("/api/v1/t/320104/files", files={"file": ("a.png", PNG, "image/png")}, headers=headers)
    assert upload.status_code == 201
    broken = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"})
    assert broken.status_code == 401  # never falls back to the cookie


async def test_form_login_counts_wrong_passwords_and_locks(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    wrong = await form_login(client, "xw-admin", "nope-1234")
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text and COOKIE not in client.cookies
    assert 'value="xw-admin"' in wrong.text  # the form comes back filled in
    for _ in range(3):
        await form_login(client, "xw-admin", "nope-1234")
    locked = await form_login(client, "xw-admin", "nope-1234")
    assert locked.status_code == 403 and "15 分钟" in locked.text
    assert (await form_login(client, "xw-admin")).status_code == 403  # even the right password, for now
    english = await client.post(
        "/auth/login?lang=en",
        data={"username": "nobody", "password": "x", "_csrf_token": client.cookies["csrftoken"]},
    )
    assert english.status_code == 401 and "Wrong username or password" in english.text


async def test_form_post_without_the_csrf_token_is_refused(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    await client.get("/auth/login")
    response = await client.post("/auth/login", data={"username": "xw-admin", "password": PASSWORD})
    assert response.status_code == 403 and response.json()["error"]["code"] == "auth.csrf_failed"


async def test_a_disabled_account_loses_its_session(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    assert (await form_login(client, "xw-member")).status_code == 303
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    async with pg_platform.database.session(TenantScope.system()) as session:
        await session.execute(update(User).where(User.username == "xw-member").values(is_active=False))
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert COOKIE not in client.cookies  # the dead session's cookie is expired


async def test_local_users_are_created_and_disabled_by_a_tenant_admin(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "nj-admin")
    new = {"username": "xw-new", "display_name": "新同志", "role": "member", "password": "Local-pass-1"}
    assert (
        await client.post("/api/v1/t/320102/users", headers=admin, json={**new, "password": None})
    ).status_code == 422
    created = await client.post("/api/v1/t/320102/users", headers=admin, json=new)
    assert created.status_code == 201 and created.json()["invitation_sent"] is None
    assert created.json()["single_sign_on"] is False
    own = await token(client, "xw-new", "Local-pass-1")
    assert (await client.get("/api/v1/auth/me", headers=own)).status_code == 200
    county = (await client.get("/api/v1/t/320102/users", headers=await token(client, "xw-admin"))).json()
    assert {u["username"] for u in county["items"]} == {"xw-admin", "xw-secretary", "xw-member", "xw-new"}
    # A county admin cannot disable the city admin's account (its grant is above the county)...
    xw = await token(client, "xw-admin")
    async with pg_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == "xw-new"))).scalar_one()
        await grant_role(
            session, pg_platform.roles, world["tree"], user=user, tenant_code="320104", role="member", by="t"
        )
    outside = await client.post(f"/api/v1/t/320102/users/{created.json()['id']}/disable", headers=xw)
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "user.outside_scope"
    nj_id = next(
        u["id"]
        for u in (await client.get("/api/v1/t/320100/users", headers=admin)).json()["items"]
        if u["username"] == "nj-admin"
    )
    assert (await client.post(f"/api/v1/t/320102/users/{nj_id}/disable", headers=xw)).status_code == 404
    # ...the city admin can disable a county's user; the account stops working at once.
    disabled = await client.post(f"/api/v1/t/320100/users/{created.json()['id']}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=own)).status_code == 401


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/api/v1/auth/me", "/api/v1/auth/me"),
        ("/t/320102?tab=1", "/t/320102?tab=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_stays_on_this_site(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept


async def test_security_headers_on_every_response(client: httpx.AsyncClient, pg_platform: Platform) -> None:
    for response in (
        await client.get("/health"),
        await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"}),  # raised in middleware
        await client.get("/no/such/page"),
        await client.get("/auth/login"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers
    docs = await client.get("/schema")
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_https_deployments_get_hsts_and_secure_host_only_cookies(
    world: dict[str, Any], pg_urls: dict[str, str]
) -> None:
    platform = Platform.from_settings(service_settings(pg_urls, public_url="https://yinling.example.gov.cn"))
    try:
        async with http_client(create_app(platform.settings, platform=platform, deliver_events=False)) as client:
            page = await client.get("/auth/login")
            assert page.headers["strict-transport-security"].startswith("max-age=")
            csrf_cookie = page.headers["set-cookie"]
            assert "secure" in csrf_cookie.lower()
            csrf = csrf_cookie.split(";", 1)[0].split("=", 1)[1]
            # The test client speaks http, so it would not send Secure cookies back: send it by hand.
            done = await client.post(
                "/auth/login",
                data={"username": "xw-admin", "password": PASSWORD, "_csrf_token": csrf},
                headers={"cookie": f"csrftoken={csrf}"},
            )
        assert done.status_code == 303, done.text
        session_cookie = done.headers["set-cookie"]
        assert session_cookie.startswith("__Host-yinling_session=")
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= {
            p.strip().lower() for p in session_cookie.split(";")
        }
    finally:
        await platform.close()
