"""银龄人才援基层: a city opens its counties' pools to each other, and nothing more than that is opened.

(a) with the city's sharing on, a demand of 玄武区 is matched with (and served by) an expert of 秦淮区, seen only
    through the shareable projection; the service event lands in 秦淮区 for its points plugin;
(b) with sharing off — or closed by the sibling county itself — the sibling's expert is not a candidate;
(c) nothing else of 秦淮区 is readable through the plugin's routes, and a county of another city (丹阳市, 镇江市)
    is never reachable, even when that county opens its own pool province-wide.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db.scope import TenantScope
from core.events.models import OutboxEvent
from core.platform import Platform
from tests.plugins.talent_pool.helpers import (
    DANYANG,
    DEMAND,
    JIANGSU,
    NANJING,
    QINHUAI,
    TODAY,
    XUANWU,
    ZHENJIANG,
    admitted_expert,
    set_settings,
    url,
    years_ago,
)

QH_PHONE = "13951234567"
QH_ID = "320104195801012345"
PROJECTION = {
    "expert_id",
    "tenant_code",
    "tenant_name",
    "shared",
    "name",
    "fields",
    "skills",
    "availability",
    "load",
    "score",
    "explanation",
}


async def _setup(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> dict[str, Any]:
    """玄武 has only a doctor; 秦淮 has the fruit-tree expert; 丹阳 (another city) has an even better one."""
    xw, qh, dy = officers["xw"], officers["qh"], officers["dy"]
    doctor = await admitted_expert(client, pg_platform, world, xw, XUANWU, "吴大夫", ["医疗卫生"], ["慢性病管理"])
    sibling = await admitted_expert(
        client,
        pg_platform,
        world,
        qh,
        QINHUAI,
        "秦果农",
        ["农业"],
        ["果树修剪", "病虫害防治"],
        phone=QH_PHONE,
        id_number=QH_ID,
        birth=years_ago(64),
    )
    far = await admitted_expert(
        client, pg_platform, world, dy, DANYANG, "丹阳果王", ["农业"], ["果树修剪", "病虫害防治", "桃树"]
    )
    qh_demand = await client.post(url(QINHUAI, "/demands"), headers=qh, json={**DEMAND, "title": "秦淮社区需求"})
    assert qh_demand.status_code == 201
    demand = await client.post(url(XUANWU, "/demands"), headers=xw, json=DEMAND)
    assert demand.status_code == 201, demand.text
    return {"doctor": doctor, "sibling": sibling, "far": far, "demand": demand.json(), "qh_demand": qh_demand.json()}


async def _candidates(client: httpx.AsyncClient, headers: dict[str, str], demand_id: str) -> dict[str, Any]:
    response = await client.get(url(XUANWU, f"/demands/{demand_id}/matches"), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_sibling_expert_matched_only_when_the_city_shares(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    made = await _setup(client, pg_platform, world, officers)
    demand_id = made["demand"]["id"]

    # (b) sharing off (the default): only 玄武's own doctor.
    off = await _candidates(client, xw, demand_id)
    assert off["sharing"] == "none" and off["shared_tenants"] == []
    assert [c["name"] for c in off["candidates"]] == ["吴大夫"]
    refused = await client.post(
        url(XUANWU, f"/demands/{demand_id}/assignments"),
        headers=xw,
        json={"expert_id": made["sibling"]["id"], "expert_tenant_code": QINHUAI},
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "talent_pool.expert_not_available"

    # (a) 南京 opens its counties' pools to each other.
    await set_settings(client, officers["nj"], NANJING, share_within="city")
    on = await _candidates(client, xw, demand_id)
    assert on["sharing"] == "city" and set(on["shared_tenants"]) == {QINHUAI, "320105"}
    top = on["candidates"][0]
    assert top["name"] == "秦果农" and top["shared"] is True and top["tenant_code"] == QINHUAI
    assert set(top) == PROJECTION
    distance = next(p for p in top["explanation"] if p["factor"] == "distance")
    assert distance["points"] == 8 and "同一市" in distance["reason"]
    # The projection carries nothing else of 秦淮区: no phone, ID number, birth date, member id, title.
    raw = json.dumps(on, ensure_ascii=False)
    for secret in (QH_PHONE, QH_ID, made["sibling"]["member_id"], "高级农艺师", years_ago(64).isoformat()):
        assert secret not in raw
    # (c) another city's county is never a candidate.
    assert "丹阳果王" not in raw and DANYANG not in on["shared_tenants"]

    assigned = await client.post(
        url(XUANWU, f"/demands/{demand_id}/assignments"),
        headers=xw,
        json={"expert_id": made["sibling"]["id"], "expert_tenant_code": QINHUAI},
    )
    assert assigned.status_code == 201, assigned.text
    assignment = assigned.json()
    assert assignment["shared"] is True and assignment["tenant_id"] == world["ids"][XUANWU]
    assert assignment["expert_tenant_id"] == world["ids"][QINHUAI] and assignment["expert_name"] == "秦果农"
    await client.post(url(XUANWU, f"/assignments/{assignment['id']}/respond"), headers=xw, json={"accept": True})
    served = await client.post(
        url(XUANWU, f"/assignments/{assignment['id']}/services"),
        headers=xw,
        json={"served_on": TODAY.isoformat(), "hours": 3, "problems_solved": 2, "trainees": 12},
    )
    assert served.status_code == 201, served.text

    # The event lands in the expert's county (its points plugin credits its own member); nothing else was written
    # there: 秦淮's own rows are unchanged and the service record stays with 玄武's demand.
    async with pg_platform.database.session(TenantScope.system()) as session:
        events = (await session.execute(select(OutboxEvent).where(OutboxEvent.source == "talent_pool"))).scalars().all()
    assert [(e.name, e.tenant_id) for e in events] == [("talent_pool.service_completed", world["ids"][QINHUAI])]
    assert events[0].payload["credits"][0]["member_id"] == made["sibling"]["member_id"]

    # 秦淮's load now counts the assignment made by 玄武 when 秦淮 itself matches.
    qh_ranked = await client.get(url(QINHUAI, f"/demands/{made['qh_demand']['id']}/matches"), headers=officers["qh"])
    sibling_row = next(c for c in qh_ranked.json()["candidates"] if c["name"] == "秦果农")
    assert sibling_row["load"] == 1 and sibling_row["shared"] is False
    # 秦淮 shares back: it sees 玄武's doctor as a shared candidate.
    assert any(c["name"] == "吴大夫" and c["shared"] for c in qh_ranked.json()["candidates"])

    # A sibling county that closes its own pool is no longer read, whatever the city says (mutual consent).
    await set_settings(client, officers["qh"], QINHUAI, share_within="none")
    closed = await _candidates(client, xw, demand_id)
    assert QINHUAI not in closed["shared_tenants"]
    assert all(c["tenant_code"] != QINHUAI for c in closed["candidates"])


async def test_nothing_else_of_the_sibling_county_is_readable(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    made = await _setup(client, pg_platform, world, officers)
    # Sharing as wide as it goes elsewhere: the province opens everything, 镇江 and 丹阳 too — but 南京 keeps its
    # counties to the city, so 玄武 still reaches 秦淮 and 建邺 only.
    await set_settings(client, officers["js"], JIANGSU, share_within="province")
    await set_settings(client, officers["zj"], ZHENJIANG, share_within="province")
    await set_settings(client, officers["nj"], NANJING, share_within="city")
    ranked = await _candidates(client, xw, made["demand"]["id"])
    assert set(ranked["shared_tenants"]) == {QINHUAI, "320105"}
    assert all(c["tenant_code"] in {XUANWU, QINHUAI} for c in ranked["candidates"])
    assert "丹阳果王" not in json.dumps(ranked, ensure_ascii=False)
    assignment = await client.post(
        url(XUANWU, f"/demands/{made['demand']['id']}/assignments"),
        headers=xw,
        json={"expert_id": made["far"]["id"], "expert_tenant_code": DANYANG},
    )
    assert assignment.status_code == 422

    sibling_id, qh_demand = made["sibling"]["id"], made["qh_demand"]["id"]
    for path in (
        f"/profiles/{sibling_id}",
        f"/demands/{qh_demand}",
        f"/demands/{qh_demand}/matches",
    ):
        response = await client.get(url(XUANWU, path), headers=xw)
        assert response.status_code == 404, (path, response.text)
    for method, path, body in (
        ("PATCH", f"/profiles/{sibling_id}", {"availability": "unavailable"}),
        ("POST", f"/profiles/{sibling_id}/review", {"decision": "retire"}),
        ("POST", f"/demands/{qh_demand}/cancel", None),
        ("POST", f"/demands/{qh_demand}/assignments", {"expert_id": made["doctor"]["id"]}),
    ):
        response = await client.request(method, url(XUANWU, path), headers=xw, json=body)
        assert response.status_code == 404, (method, path, response.text)
    # The sibling's figures and lists are not 玄武's.
    profiles = (await client.get(url(XUANWU, "/profiles"), headers=xw)).json()
    assert [p["name"] for p in profiles["items"]] == ["吴大夫"]
    demands = (await client.get(url(XUANWU, "/demands"), headers=xw)).json()
    assert [d["id"] for d in demands["items"]] == [made["demand"]["id"]]
    stats = (await client.get(url(XUANWU, "/stats"), headers=xw)).json()
    assert stats["experts"] == 1 and stats["demands_posted"] == 1
    # Naming the sibling's tenant in the URL is refused outright.
    assert (await client.get(url(QINHUAI, "/profiles"), headers=xw)).status_code == 403
    # 秦淮's profile is untouched.
    mine = (await client.get(url(QINHUAI, f"/profiles/{sibling_id}"), headers=officers["qh"])).json()
    assert mine["status"] == "admitted" and mine["availability"] == "available"


async def test_the_shared_read_session_is_read_only_and_exactly_scoped(
    pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any], client: httpx.AsyncClient
) -> None:
    """The widened session reads only the shared tenants (RLS too) and can write nothing."""
    from core.db.scope import WRITE_OUTSIDE_SCOPE
    from core.errors import AppError
    from plugins.talent_pool import sharing
    from plugins.talent_pool.models import Profile
    from plugins.talent_pool.schemas import TalentPoolSettings

    await _setup(client, pg_platform, world, officers)
    qh = world["ids"][QINHUAI]
    pools = sharing.SharedPools("city", world["tree"].get(NANJING), (qh,), {qh: TalentPoolSettings()})
    experts, _ = await sharing.read_shared_experts(pg_platform, pools, TODAY)
    assert [(e.name, e.tenant_id) for e in experts] == [("秦果农", qh)]
    # The same scope as the path uses: PostgreSQL itself returns no row of 丹阳 or 玄武 (raw SQL, no ORM criteria).
    from sqlalchemy import text

    async with pg_platform.database.session(TenantScope.of(read=[qh])) as session:
        tenants = set((await session.execute(text("SELECT DISTINCT tenant_id FROM talent_pool_profile"))).scalars())
    assert tenants == {qh}
    with pytest.raises(AppError) as refused:
        async with pg_platform.database.session(TenantScope.of(read=[qh])) as session:
            profile = (await session.execute(select(Profile))).scalars().one()
            profile.availability = "unavailable"
            await session.flush()
    assert refused.value.spec is WRITE_OUTSIDE_SCOPE
