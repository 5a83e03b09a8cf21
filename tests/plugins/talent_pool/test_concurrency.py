"""Decisions that change figures are safe when two people make them at once (separate requests, separate
PostgreSQL connections): the rows are locked, the second request sees the first one's result."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from core.platform import Platform
from tests.plugins.talent_pool.helpers import DEMAND, TODAY, XUANWU, add_member, admitted_expert, url
from tests.plugins.talent_pool.test_metrics import aggregates, recount


async def test_concurrent_admissions_completions_and_revocations_count_once(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    member = await add_member(pg_platform, world, XUANWU, "并发甲")
    profile = (
        await client.post(
            url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(member), "fields": ["农业"], "skills": []}
        )
    ).json()
    review = url(XUANWU, f"/profiles/{profile['id']}/review")
    answers = await asyncio.gather(*(client.post(review, headers=xw, json={"decision": "admit"}) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409]

    one = await admitted_expert(client, pg_platform, world, xw, XUANWU, "并发乙", ["农业"], ["果树修剪"])
    demand = (await client.post(url(XUANWU, "/demands"), headers=xw, json=DEMAND)).json()
    assignments = []
    services = []
    for expert in (profile, one):
        made = await client.post(
            url(XUANWU, f"/demands/{demand['id']}/assignments"), headers=xw, json={"expert_id": expert["id"]}
        )
        assert made.status_code == 201, made.text
        aid = made.json()["id"]
        await client.post(url(XUANWU, f"/assignments/{aid}/respond"), headers=xw, json={"accept": True})
        served = await client.post(
            url(XUANWU, f"/assignments/{aid}/services"), headers=xw, json={"served_on": TODAY.isoformat()}
        )
        assignments.append(aid)
        services.append(served.json()["id"])
    done = await asyncio.gather(
        *(client.post(url(XUANWU, f"/assignments/{aid}/complete"), headers=xw) for aid in assignments)
    )
    assert [r.status_code for r in done] == [200, 200]
    revoke = url(XUANWU, f"/services/{services[0]}/revoke")
    revoked = await asyncio.gather(*(client.post(revoke, headers=xw, json={"reason": "重复"}) for _ in range(2)))
    assert sorted(r.status_code for r in revoked) == [200, 409]

    kept = await aggregates(pg_platform, world["ids"][XUANWU])
    assert kept == await recount(pg_platform, world, XUANWU)
    totals: dict[str, float] = {}
    for (metric, _), value in kept.items():
        totals[metric] = totals.get(metric, 0) + value
    assert totals["talent_pool.experts"] == 2
    assert totals["talent_pool.demands_met"] == 1
    assert totals["talent_pool.services"] == 1
