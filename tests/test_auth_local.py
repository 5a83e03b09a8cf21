"""Local accounts (embedded mode's sign-in, also used by these tests on PostgreSQL)."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import jwt
from sqlalchemy import select, update

from core.db.scope import TenantScope
from core.identity.models import User
from core.identity.tokens import LOCAL_ISSUER, issue_local_token
from core.platform import Platform
from tests.support import PASSWORD, token


async def test_wrong_password_then_lockout_after_five(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    for _ in range(4):
        wrong = await client.post("/api/v1/auth/token", json={"username": "xw-admin", "password": "nope-1234"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "auth.invalid_credentials"
    fifth = await client.post("/api/v1/auth/token", json={"username": "xw-admin", "password": "nope-1234"})
    assert fifth.status_code == 403 and fifth.json()["error"]["code"] == "auth.account_locked"
    # Locked: even the right password is refused, and the message says how long to wait.
    locked = await client.post("/api/v1/auth/token", json={"username": "xw-admin", "password": PASSWORD})
    assert locked.status_code == 403 and "15 分钟" in locked.json()["error"]["message"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
        await session.execute(update(User).where(User.username == "xw-admin").values(locked_until=past))
    assert (
        await client.post("/api/v1/auth/token", json={"username": "xw-admin", "password": PASSWORD})
    ).status_code == 200


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/auth/token", json={"username": "nobody", "password": "whatever1"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth.invalid_credentials"


async def test_expired_forged_and_foreign_audience_tokens_are_refused(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    async with pg_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == "js-admin"))).scalar_one()
    secret = pg_platform.settings.secret_key.get_secret_value()
    good = issue_local_token(secret, user.id, user.username, 60).access_token
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {good}"})).status_code == 200
    expired = issue_local_token(secret, user.id, user.username, -5).access_token
    forged = issue_local_token("another-secret-of-sufficient-length-000", user.id, user.username, 60).access_token
    now = datetime.datetime.now(datetime.UTC)
    foreign = jwt.encode(
        {
            "iss": LOCAL_ISSUER,
            "aud": "someone-else",
            "sub": str(user.id),
            "exp": now + datetime.timedelta(minutes=5),
        },
        secret,
        algorithm="HS256",
    )
    for bad in (expired, forged, foreign):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "auth.token_invalid"


async def test_a_disabled_account_loses_access_at_once(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    headers = await token(client, "xw-admin")
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    async with pg_platform.database.session(TenantScope.system()) as session:
        await session.execute(update(User).where(User.username == "xw-admin").values(is_active=False))
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_me_lists_grants(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    me = (await client.get("/api/v1/auth/me", headers=await token(client, "nj-admin"))).json()
    assert me["grants"] == [{"tenant_code": "320100", "tenant_name": "南京市", "role": "tenant_admin"}]
