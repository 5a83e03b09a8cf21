"""Fixtures of the talent pool's tests: the plugin on province-wide, talent officers in three counties, members."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db.scope import TenantScope
from core.identity.accounts import grant_role
from core.identity.models import User
from core.orgs.models import Member
from core.platform import Platform
from core.tenancy.tree import load_tree
from tests.support import token

XUANWU, QINHUAI, NANJING, DANYANG, ZHENJIANG, JIANGSU = "320102", "320104", "320100", "321181", "321100", "320000"
TODAY = datetime.date.today()


def url(code: str, path: str) -> str:
    return f"/api/v1/t/{code}/talent_pool{path}"


def years_ago(years: int, days: int = 0) -> datetime.date:
    day = TODAY - datetime.timedelta(days=days)
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


async def grant(platform: Platform, username: str, code: str, role: str = "talent_officer") -> None:
    async with platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        tree = await load_tree(session)
        await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")


async def add_member(
    platform: Platform,
    world: dict[str, Any],
    code: str,
    name: str,
    *,
    birth: datetime.date | None = None,
    health: str = "normal",
    phone: str | None = None,
    id_number: str | None = None,
) -> uuid.UUID:
    tenant_id = world["ids"][code]
    async with platform.database.session(TenantScope.of(read=[tenant_id], write=[tenant_id])) as session:
        member = Member(
            tenant_id=tenant_id,
            name=name,
            gender="male",
            birth_date=birth or years_ago(66),
            health_class=health,
            phone=phone,
            id_number=id_number,
            former_unit="县农业农村局",
            residence_community="梅园新村社区",
        )
        session.add(member)
        await session.flush()
        return member.id


async def set_settings(client: httpx.AsyncClient, headers: dict[str, str], code: str, **values: Any) -> None:
    response = await client.put(
        f"/api/v1/t/{code}/plugins/talent_pool/settings", headers=headers, json={"values": values}
    )
    assert response.status_code == 200, response.text


@pytest.fixture
async def officers(client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]) -> dict[str, Any]:
    """The plugin enabled for the whole province; talent officers in 玄武、秦淮 (南京) and 丹阳 (镇江)."""
    province = await token(client, "js-admin")
    response = await client.put(f"/api/v1/t/{JIANGSU}/plugins/talent_pool", headers=province, json={"state": "enabled"})
    assert response.status_code == 200, response.text
    for username, code in (
        ("xw-admin", XUANWU),
        ("qh-admin", QINHUAI),
        ("dy-admin", DANYANG),
        ("nj-admin", NANJING),
    ):
        await grant(pg_platform, username, code)
    return {
        "js": province,
        "nj": await token(client, "nj-admin"),
        "zj": await token(client, "zj-admin"),
        "xw": await token(client, "xw-admin"),
        "qh": await token(client, "qh-admin"),
        "dy": await token(client, "dy-admin"),
    }


async def admitted_expert(
    client: httpx.AsyncClient,
    platform: Platform,
    world: dict[str, Any],
    headers: dict[str, str],
    code: str,
    name: str,
    fields: list[str],
    skills: list[str],
    **member: Any,
) -> dict[str, Any]:
    member_id = await add_member(platform, world, code, name, **member)
    created = await client.post(
        url(code, "/profiles"),
        headers=headers,
        json={"member_id": str(member_id), "fields": fields, "skills": skills, "title": "高级农艺师"},
    )
    assert created.status_code == 201, created.text
    admitted = await client.post(
        url(code, f"/profiles/{created.json()['id']}/review"), headers=headers, json={"decision": "admit"}
    )
    assert admitted.status_code == 200, admitted.text
    return admitted.json()


DEMAND = {
    "title": "桃园果树修剪与病虫害防治",
    "field": "农业",
    "requester_kind": "village",
    "requester_name": "东山村",
    "place": "东山村桃园",
    "starts_on": TODAY.isoformat(),
    "ends_on": (TODAY + datetime.timedelta(days=60)).isoformat(),
    "description": "村里桃树今年病虫害严重，需要专家到现场指导果树修剪和病虫害防治。",
}
