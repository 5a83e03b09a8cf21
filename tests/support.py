"""Helpers the tests share: a seeded tenant tree with accounts, and tokens for them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from core.db.scope import TenantScope
from core.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_manifest_path
from core.identity.accounts import create_user, grant_role
from core.platform import Platform
from core.tenancy.manifest import apply_manifest, load_manifest
from core.tenancy.tree import load_tree

PASSWORD = DEMO_PASSWORD


async def seed_world(platform: Platform) -> dict[str, Any]:
    """Apply ``tenants/demo.yaml`` and create the demo accounts; return codes → ids and usernames."""
    async with platform.database.session(TenantScope.system()) as session:
        await apply_manifest(session, load_manifest(demo_manifest_path()))
        tree = await load_tree(session)
        for login in DEMO_LOGINS:
            user = await create_user(
                session,
                username=login.username,
                password=login.password,
                is_platform_admin=login.platform_admin,
            )
            if login.tenant and login.role:
                await grant_role(
                    session,
                    platform.roles,
                    tree,
                    user=user,
                    tenant_code=login.tenant,
                    role=login.role,
                    by="test",
                )
    return {"ids": {code: node.id for code, node in tree.by_code.items()}, "tree": tree}


async def token(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """Drive the app's ASGI lifespan (start-up and shut-down) in this event loop."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task
