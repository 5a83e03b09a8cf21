"""Keycloak bearer tokens on the API: checked against the realm's published keys, issuer, audience, expiry, type.

How the bad tokens are made: a token signed by a key the realm never published comes from a fresh RSA key
(``cryptography``). For "valid signature but wrong claims" (expired, another audience, an ID token, another
issuer) the test registers its own RSA key *in the realm* as an extra, low-priority key provider through the
admin API: Keycloak then publishes it in the JWKS (and keeps signing with its own key), so the platform trusts
the signature exactly as it trusts Keycloak's, and each refusal below is due to the one claim that is wrong. A
control token made the same way is accepted, which proves it. A real Keycloak token for another client (the
admin client's service account, audience ``realm-management``) is refused too.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from keycloak import KeycloakAdmin
from litestar import Litestar
from sqlalchemy import select

from core.db.scope import TenantScope
from core.errors import AppError
from core.identity.keycloak import IDENTITY_UNAVAILABLE
from core.identity.models import User
from core.identity.oidc import JwksCache, provider_of
from core.identity.tokens import issue_local_token
from core.platform import Platform
from tests.identity.support import RUN, KeycloakEnv, bearer, link_keycloak_user, password_grant


async def test_a_keycloak_token_maps_to_the_platform_user_and_grants_decide(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
) -> None:
    tokens = await password_grant(kc_env, kc_env.user, kc_env.user_password)
    headers = bearer(tokens)
    # First sight: the platform user is created (no password, no grants), so nothing is allowed yet.
    first = await kc_client.get("/api/v1/auth/me", headers=headers)
    assert first.status_code == 403
    subject = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"]
    async with kc_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.external_id == subject))).scalar_one()
    assert user.username == kc_env.user and user.password_hash is None
    # A grant in the platform database (county admin of 玄武区) is what opens routes.
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320102", "tenant_admin")
    me = await kc_client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["user_id"] == str(user.id)
    assert (await kc_client.get("/api/v1/t/320102/audit", headers=headers)).status_code == 200
    other = await kc_client.get("/api/v1/t/320104/audit", headers=headers)
    assert other.status_code == 403 and other.json()["error"]["code"] == "auth.tenant_forbidden"


async def test_local_tokens_are_refused_when_keycloak_is_configured(
    kc_client: httpx.AsyncClient, kc_world: dict[str, Any], kc_platform: Platform
) -> None:
    login = await kc_client.post("/api/v1/auth/token", json={"username": "js-admin", "password": "yinling2026"})
    assert login.status_code == 400 and login.json()["error"]["code"] == "auth.local_login_disabled"
    async with kc_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == "js-admin"))).scalar_one()
    secret = kc_platform.settings.secret_key.get_secret_value()
    local = issue_local_token(secret, user.id, user.username, 60).access_token
    response = await kc_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {local}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth.token_invalid"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def realm_test_key(
    kc_admin: KeycloakAdmin, kc_env: KeycloakEnv
) -> AsyncIterator[Callable[[], Awaitable[tuple[rsa.RSAPrivateKey, str]]]]:
    """Registers an RSA key of the test's own with the realm when called (low priority: Keycloak keeps signing
    with its own key but publishes this one); removed at the end."""
    components: list[str] = []

    async def register() -> tuple[rsa.RSAPrivateKey, str]:
        key = _rsa_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()
        realm = await kc_admin.a_get_realm(kc_env.realm)
        component = await kc_admin.a_create_component(
            {
                "name": f"yinling-test-{RUN}",
                "providerId": "rsa",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm["id"],
                "config": {"privateKey": [pem], "active": ["true"], "enabled": ["true"], "priority": ["-100"]},
            }
        )
        components.append(component)
        published = (await kc_admin.a_get_keys())["keys"]
        return key, next(k["kid"] for k in published if k.get("providerId") == component)

    yield register
    for component in components:
        await kc_admin.a_delete_component(component)


async def test_tokens_with_a_foreign_key_or_wrong_claims_are_refused(
    kc_client: httpx.AsyncClient,
    kc_app: Litestar,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    realm_test_key: Callable[[], Awaitable[tuple[rsa.RSAPrivateKey, str]]],
) -> None:
    real = await password_grant(kc_env, kc_env.user, kc_env.user_password)
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320102", "tenant_admin")
    assert (await kc_client.get("/api/v1/auth/me", headers=bearer(real))).status_code == 200
    keys = provider_of(kc_app).keys
    fetched = keys.fetches
    claims = jwt.decode(real["access_token"], options={"verify_signature": False})
    real_kid = jwt.get_unverified_header(real["access_token"])["kid"]
    now = int(time.time())

    def token(key: rsa.RSAPrivateKey, kid: str, **changes: Any) -> dict[str, str]:
        body = {**claims, "iat": now, "exp": now + 300, **changes}
        return {"Authorization": f"Bearer {jwt.encode(body, key, algorithm='RS256', headers={'kid': kid})}"}

    async def refused(headers: dict[str, str]) -> None:
        response = await kc_client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "auth.token_invalid"

    # Signed by a key the realm never published, whether it names the realm's key id or a made-up one.
    foreign = _rsa_key()
    await refused(token(foreign, real_kid))
    await refused(token(foreign, "made-up-key-id"))

    # The realm's JWKS gained the test key after the platform cached it: an unknown key id fetches again.
    keys.refetch_interval = 0  # this test's tokens come seconds apart; production waits 10 s between fetches
    realm_key, kid = await realm_test_key()
    assert (await kc_client.get("/api/v1/auth/me", headers=token(realm_key, kid))).status_code == 200
    assert keys.fetches > fetched
    await refused(token(realm_key, kid, iat=now - 600, exp=now - 300))  # expired
    await refused(token(realm_key, kid, aud="someone-else"))  # another audience
    await refused(token(realm_key, kid, aud=["account", "someone-else"]))
    await refused(token(realm_key, kid, typ="ID"))  # an ID token is not an access token
    await refused(token(realm_key, kid, iss=f"{kc_env.url}/realms/master"))  # another realm
    await refused(token(realm_key, kid, exp=None))  # no expiry at all

    # A real Keycloak token, but for the admin client (audience realm-management).
    async with httpx.AsyncClient() as http:
        service = await http.post(
            kc_env.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": kc_env.admin_client_id,
                "client_secret": kc_env.admin_client_secret,
            },
        )
    await refused(bearer(service.json()))
    # And the real ID token of the real user.
    await refused({"Authorization": f"Bearer {real['id_token']}"})


async def test_the_key_cache_refetches_on_ttl_and_unknown_key_ids_but_not_more_often() -> None:
    key = _rsa_key()
    jwk = {
        **jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True),
        "kid": "k1",
        "alg": "RS256",
        "use": "sig",
    }
    clock = [1000.0]
    calls: list[float] = []
    down = [False]

    async def fetch() -> dict[str, Any]:
        if down[0]:
            raise IDENTITY_UNAVAILABLE.error()
        calls.append(clock[0])
        return {"keys": [jwk, {"kid": "enc", "kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "n": "x", "e": "AQAB"}]}

    cache = JwksCache(fetch, ttl=3600, refetch_interval=10, clock=lambda: clock[0])
    assert await cache.key("k1") is not None and len(calls) == 1
    assert await cache.key("enc") is None  # encryption keys never verify signatures
    assert len(calls) == 1  # within 10 s of the last fetch an unknown id does not fetch again
    clock[0] += 11
    assert await cache.key("unknown") is None and len(calls) == 2
    assert await cache.key("k1") is not None and len(calls) == 2
    clock[0] += 3600
    down[0] = True
    # Keycloak down after the TTL: the cached keys keep working, and it is asked again soon, not in an hour.
    assert await cache.key("k1") is not None
    down[0] = False
    clock[0] += 11
    assert await cache.key("k1") is not None and len(calls) == 3
    down[0] = True
    empty = JwksCache(fetch)
    with pytest.raises(AppError) as raised:
        await empty.key("k1")
    assert raised.value.code == "identity.unavailable"
