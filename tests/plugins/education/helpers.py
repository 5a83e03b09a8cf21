"""Shared helpers of the education plugin's tests: enabling, grants, members, and the aggregate/recount check."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from typing import Any

import httpx
from sqlalchemy import select

import plugins.education as education
from core.db.scope import TenantScope
from core.identity.accounts import grant_role
from core.identity.models import User
from core.orgs.models import Member
from core.platform import Platform
from core.plugin_host import PluginContext
from core.reports.facts import Fact, month_of, period_keys
from core.reports.models import ReportDistinct, ReportSum
from core.tenancy.tree import load_tree

XUANWU, QINHUAI, NANJING = "320102", "320104", "320100"
BASE = "/api/v1/t/{code}/education"
TODAY = datetime.date.today()
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def url(code: str, path: str) -> str:
    return BASE.format(code=code) + path


def days_ago(n: int) -> str:
    return (TODAY - datetime.timedelta(days=n)).isoformat()


async def grant(platform: Platform, username: str, code: str, role: str = "education_officer") -> None:
    async with platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        tree = await load_tree(session)
        await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")


async def set_state(client: httpx.AsyncClient, headers: dict[str, str], code: str, state: str) -> None:
    response = await client.put(f"/api/v1/t/{code}/plugins/education", headers=headers, json={"state": state})
    assert response.status_code == 200, response.text


async def put_settings(client: httpx.AsyncClient, headers: dict[str, str], code: str, **values: Any) -> None:
    response = await client.put(
        f"/api/v1/t/{code}/plugins/education/settings", headers=headers, json={"values": values}
    )
    assert response.status_code == 200, response.text


async def make_member(platform: Platform, tenant_id: int, name: str, status: str = "active") -> str:
    async with platform.database.session(TenantScope.system()) as session:
        member = Member(
            tenant_id=tenant_id, name=name, gender="male", birth_date=datetime.date(1950, 3, 1), status=status
        )
        session.add(member)
        await session.flush()
        return str(member.id)


async def station(client: httpx.AsyncClient, headers: dict[str, str], code: str = XUANWU, **over: Any) -> dict:
    body = {
        "name": "梅园新村社区校外教育辅导站",
        "place_kind": "community",
        "address": "梅园新村 18 号",
        "partner_school": "南京市梅园中学",
        "contact_name": "王老师",
        "contact_phone": "13812345678",
        "schedule": "每周六上午 9:00-11:00",
        "opened_on": days_ago(120),
    }
    body.update(over)
    response = await client.post(url(code, "/stations"), headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def counsellor(client: httpx.AsyncClient, headers: dict[str, str], code: str = XUANWU, **body: Any) -> dict:
    response = await client.post(url(code, "/counsellors"), headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def activity_body(station_id: str, counsellor_ids: list[str], **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "station_id": station_id,
        "kind": "red_history",
        "title": "讲述雨花台烈士的故事",
        "held_on": days_ago(1),
        "duration_minutes": 90,
        "counsellor_ids": counsellor_ids,
        "students": 45,
        "parents": 6,
        "teachers": 2,
    }
    body.update(over)
    return body


async def recount(platform: Platform, code: str) -> list[Fact]:
    async with platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        context = PluginContext(plugin="education", tenant=tree.get(code), tree=tree, session=session, settings={})
        return [fact async for fact in education.metric_facts(context=context)]


async def aggregates(platform: Platform, tenant_id: int) -> tuple[dict, dict]:
    """The maintained aggregates of the education metrics in one tenant: sums by (metric, month) and distinct
    counts by (metric, period), leaving out rows that net to zero."""
    async with platform.database.session(TenantScope.system()) as session:
        sums = {
            (row.metric, row.month): float(row.value)
            for row in (
                await session.execute(
                    select(ReportSum).where(ReportSum.tenant_id == tenant_id, ReportSum.metric.like("education.%"))
                )
            ).scalars()
            if float(row.value) != 0
        }
        distinct = {
            (row.metric, row.period): row.value
            for row in (
                await session.execute(
                    select(ReportDistinct).where(
                        ReportDistinct.tenant_id == tenant_id, ReportDistinct.metric.like("education.%")
                    )
                )
            ).scalars()
            if row.value != 0
        }
    return sums, distinct


def expected_from(facts: list[Fact]) -> tuple[dict, dict]:
    sums: dict[tuple[str, datetime.date], float] = defaultdict(float)
    subjects: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fact in facts:
        if fact.subject is None:
            sums[(fact.metric, month_of(fact.on))] += fact.value
        else:
            for period in period_keys(fact.on):
                subjects[(fact.metric, period)][fact.subject] += 1 if fact.value > 0 else -1
    distinct = {key: sum(1 for n in counts.values() if n > 0) for key, counts in subjects.items()}
    return (
        {k: round(v, 4) for k, v in sums.items() if round(v, 4) != 0},
        {k: v for k, v in distinct.items() if v},
    )


async def assert_aggregates_match_recount(platform: Platform, code: str, tenant_id: int) -> tuple[dict, dict]:
    sums, distinct = await aggregates(platform, tenant_id)
    want_sums, want_distinct = expected_from(await recount(platform, code))
    assert {k: round(v, 4) for k, v in sums.items()} == want_sums
    assert distinct == want_distinct
    return sums, distinct


def uid() -> str:
    return str(uuid.uuid4())
