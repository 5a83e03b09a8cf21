"""Helpers for the mediation plugin's tests: 玄武区 with the plugin on, members in its ledger, mediator accounts."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db.scope import TenantScope
from core.identity.accounts import create_user, grant_role
from core.identity.models import User
from core.orgs.models import Member
from core.platform import Platform
from core.tenancy.tree import load_tree
from tests.support import PASSWORD, token

XUANWU, QINHUAI, NANJING = "320102", "320104", "320100"
BASE = "/api/v1/t/{code}/mediation"
TODAY = datetime.date.today()


def url(code: str, path: str) -> str:
    return BASE.format(code=code) + path


async def grant(platform: Platform, username: str, code: str, role: str) -> None:
    async with platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        tree = await load_tree(session)
        await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")


async def new_user(platform: Platform, username: str, code: str, role: str) -> None:
    async with platform.database.session(TenantScope.system()) as session:
        user = await create_user(session, username=username, password=PASSWORD, display_name=username)
        tree = await load_tree(session)
        await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")


async def new_member(platform: Platform, tenant_id: int, name: str, gender: str = "male") -> uuid.UUID:
    async with platform.database.session(TenantScope.system()) as session:
        member = Member(tenant_id=tenant_id, name=name, gender=gender, birth_date=datetime.date(1950, 3, 1))
        session.add(member)
        await session.flush()
        return member.id


async def set_state(client: httpx.AsyncClient, headers: dict[str, str], code: str, state: str) -> None:
    response = await client.put(f"/api/v1/t/{code}/plugins/mediation", headers=headers, json={"state": state})
    assert response.status_code == 200, response.text


@pytest.fixture
async def xuanwu(client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]) -> dict[str, Any]:
    """玄武区: mediation on; xw-admin (tenant admin) also holds mediation_manager; two rooms, each with a
    mediator who has an account (``tiao-a`` in room A, ``tiao-b`` in room B)."""
    admin = await token(client, "xw-admin")
    await set_state(client, admin, XUANWU, "enabled")
    await grant(pg_platform, "xw-admin", XUANWU, "mediation_manager")
    await new_user(pg_platform, "tiao-a", XUANWU, "mediator")
    await new_user(pg_platform, "tiao-b", XUANWU, "mediator")
    tenant_id = world["ids"][XUANWU]
    members = {
        name: await new_member(pg_platform, tenant_id, name, gender)
        for name, gender in (("王建国", "male"), ("李秀兰", "female"), ("赵德明", "male"))
    }
    room_a = await client.post(
        url(XUANWU, "/rooms"),
        headers=admin,
        json={
            "name": "梅园新村银龄调解室",
            "kind": "mediation_room",
            "place": "梅园新村社区党群服务中心二楼",
            "opening_hours": "周一至周五 9:00-11:30",
            "opened_on": (TODAY - datetime.timedelta(days=400)).isoformat(),
        },
    )
    assert room_a.status_code == 201, room_a.text
    room_b = await client.post(
        url(XUANWU, "/rooms"),
        headers=admin,
        json={"name": "玄武区民生信访室", "kind": "petition_room", "place": "玄武区信访局一楼"},
    )
    assert room_b.status_code == 201, room_b.text
    a_id, b_id = room_a.json()["id"], room_b.json()["id"]
    since = (TODAY - datetime.timedelta(days=300)).isoformat()
    med_a = await client.post(
        url(XUANWU, f"/rooms/{a_id}/mediators"),
        headers=admin,
        json={"member_id": str(members["王建国"]), "username": "tiao-a", "specialties": ["邻里纠纷", "婚姻家庭"],
              "availability": "周二、周四上午", "since": since},
    )  # fmt: skip
    assert med_a.status_code == 201, med_a.text
    med_a2 = await client.post(
        url(XUANWU, f"/rooms/{a_id}/mediators"),
        headers=admin,
        json={"member_id": str(members["李秀兰"]), "specialties": ["家庭纠纷"], "since": since},
    )
    assert med_a2.status_code == 201, med_a2.text
    med_b = await client.post(
        url(XUANWU, f"/rooms/{b_id}/mediators"),
        headers=admin,
        json={"member_id": str(members["赵德明"]), "username": "tiao-b", "since": since},
    )
    assert med_b.status_code == 201, med_b.text
    return {
        "admin": admin,
        "tenant_id": tenant_id,
        "room_a": a_id,
        "room_b": b_id,
        "mediator_a": med_a.json()["id"],
        "mediator_a2": med_a2.json()["id"],
        "mediator_b": med_b.json()["id"],
        "members": members,
    }


def case_body(room_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "room_id": room_id,
        "case_type": "neighbour",
        "source": "walk_in",
        "title": "楼上漏水纠纷",
        "description": "楼上住户卫生间漏水，致楼下天花板受损，双方就维修和赔偿发生争执。",
        "received_on": TODAY.isoformat(),
        "rights_notified": True,
        "intake_note": "已口头和书面告知当事人权利义务",
        "parties": [
            {"kind": "person", "side": "applicant", "name": "张桂英", "gender": "female",
             "id_number": "320102195503151229", "phone": "13812345678", "address": "梅园新村12幢302室"},
            {"kind": "person", "side": "respondent", "name": "刘志刚", "gender": "male",
             "phone": "13900001111", "address": "梅园新村12幢402室"},
        ],
    }  # fmt: skip
    body.update(overrides)
    return body


AGREEMENT = {
    "dispute": "漏水系楼上卫生间防水层老化所致，楼上住户应承担维修责任。",
    "terms": ["刘志刚于十日内请人修复卫生间防水层", "刘志刚一次性赔偿张桂英天花板修复费用人民币800元"],
    "performance_method": "现金当面支付，修复由社区物业见证",
    "performance_deadline": (TODAY + datetime.timedelta(days=10)).isoformat(),
}
