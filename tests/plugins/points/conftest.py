"""Helpers for the points plugin's tests: enable it in a county, grant its roles, make branches and members."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db.scope import TenantScope
from core.events.outbox import emit
from core.identity.accounts import grant_role
from core.identity.models import User
from core.platform import Platform
from core.tenancy.tree import load_tree
from tests.support import token

XUANWU, QINHUAI, NANJING = "320102", "320104", "320100"


def url(code: str, path: str) -> str:
    return f"/api/v1/t/{code}/points{path}"


async def grant(platform: Platform, username: str, code: str, role: str) -> None:
    async with platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        tree = await load_tree(session)
        await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")


async def enable(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> None:
    response = await client.put(f"/api/v1/t/{code}/plugins/points", headers=headers, json={"state": "enabled"})
    assert response.status_code == 200, response.text


async def make_branch(client: httpx.AsyncClient, headers: dict[str, str], code: str, name: str) -> str:
    committee = await client.post(
        f"/api/v1/t/{code}/orgs", headers=headers, json={"name": f"{code}老干部党委", "level": "committee"}
    )
    if committee.status_code == 201:
        parent = committee.json()["id"]
    else:
        listed = await client.get(f"/api/v1/t/{code}/orgs", headers=headers)
        parent = next(o["id"] for o in _items(listed.json()) if o["level"] == "committee")
    branch = await client.post(
        f"/api/v1/t/{code}/orgs",
        headers=headers,
        json={"name": name, "level": "branch", "kind": "community", "parent_id": parent},
    )
    assert branch.status_code == 201, branch.text
    return str(branch.json()["id"])


def _items(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) else body)


async def make_member(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, branch: str, name: str, **fields: Any
) -> str:
    body = {"name": name, "birth_date": "1948-01-01", "formal_org_id": branch, **fields}
    response = await client.post(f"/api/v1/t/{code}/members", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def emit_event(platform: Platform, tenant_id: int, name: str, payload: dict[str, Any], source: str) -> str:
    async with platform.database.session(TenantScope.system()) as session:
        event = await emit(session, tenant_id=tenant_id, name=name, payload=payload, source=source)
        return str(event.id)


def last_year() -> int:
    return datetime.date.today().year - 1


@pytest.fixture
async def xuanwu(client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]) -> dict[str, Any]:
    """玄武区 with the programme on: xw-admin is points officer, xw-secretary points recorder; one branch."""
    admin = await token(client, "xw-admin")
    await enable(client, admin, XUANWU)
    await grant(pg_platform, "xw-admin", XUANWU, "points_officer")
    await grant(pg_platform, "xw-secretary", XUANWU, "points_recorder")
    secretary = await token(client, "xw-secretary")
    branch = await make_branch(client, admin, XUANWU, "梅园社区离退休干部党支部")
    return {"admin": admin, "secretary": secretary, "branch": branch, "tenant_id": world["ids"][XUANWU]}
