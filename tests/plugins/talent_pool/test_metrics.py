"""The maintained report aggregates equal the facts the rows imply (``metric_facts``), after writes, reversals
(a revoked service, an un-adopted suggestion, a retired expert, a closed station) and late entries (last month)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

import httpx
from sqlalchemy import select

from core.db.scope import TenantScope
from core.platform import Platform
from core.plugin_host import PluginContext
from core.reports.facts import month_of
from core.reports.models import ReportSum
from plugins.talent_pool import metric_facts, register_metrics
from tests.plugins.talent_pool.helpers import (
    DEMAND,
    NANJING,
    QINHUAI,
    TODAY,
    XUANWU,
    admitted_expert,
    set_settings,
    url,
)

LAST_MONTH = TODAY - datetime.timedelta(days=40)


async def aggregates(platform: Platform, tenant_id: int) -> dict[tuple[str, datetime.date], float]:
    async with platform.database.session(TenantScope.system()) as session:
        rows = (
            await session.execute(
                select(ReportSum).where(ReportSum.tenant_id == tenant_id, ReportSum.metric.like("talent_pool.%"))
            )
        ).scalars()
        return {(r.metric, r.month): float(r.value) for r in rows if float(r.value) != 0}


async def recount(platform: Platform, world: dict[str, Any], code: str) -> dict[tuple[str, datetime.date], float]:
    tenant_id = world["ids"][code]
    out: dict[tuple[str, datetime.date], float] = defaultdict(float)
    async with platform.database.session(TenantScope.of(read=[tenant_id])) as session:
        context = PluginContext("talent_pool", world["tree"].get(code), world["tree"], session, {})
        async for fact in metric_facts(context=context):
            out[(fact.metric, month_of(fact.on))] += fact.value
    return {k: v for k, v in out.items() if v != 0}


async def test_aggregates_equal_the_facts_after_writes_reversals_and_late_entries(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw, qh = officers["xw"], officers["qh"]
    await set_settings(client, officers["nj"], NANJING, share_within="city")
    a = await admitted_expert(client, pg_platform, world, xw, XUANWU, "甲", ["农业"], ["果树修剪"])
    b = await admitted_expert(client, pg_platform, world, xw, XUANWU, "乙", ["教育"], ["课外辅导"])
    c = await admitted_expert(client, pg_platform, world, xw, XUANWU, "丙", ["法律"], ["法律咨询"])
    sibling = await admitted_expert(client, pg_platform, world, qh, QINHUAI, "丁", ["农业"], ["病虫害防治"])
    retired = await client.post(url(XUANWU, f"/profiles/{c['id']}/review"), headers=xw, json={"decision": "retire"})
    assert retired.status_code == 200

    s1 = await client.post(
        url(XUANWU, "/stations"), headers=xw, json={"name": "一站", "opened_on": LAST_MONTH.isoformat()}
    )
    s2 = await client.post(url(XUANWU, "/stations"), headers=xw, json={"name": "二站", "opened_on": TODAY.isoformat()})
    assert s1.status_code == s2.status_code == 201
    await client.post(
        url(XUANWU, f"/stations/{s2.json()['id']}/close"), headers=xw, json={"closed_on": TODAY.isoformat()}
    )

    d1 = (await client.post(url(XUANWU, "/demands"), headers=xw, json=DEMAND)).json()
    d2 = (await client.post(url(XUANWU, "/demands"), headers=xw, json={**DEMAND, "title": "另一需求"})).json()
    await client.post(url(XUANWU, f"/demands/{d2['id']}/cancel"), headers=xw)

    async def serve(expert: dict[str, Any], code: str | None, on: datetime.date, solved: int) -> tuple[str, str]:
        body: dict[str, Any] = {"expert_id": expert["id"]}
        if code:
            body["expert_tenant_code"] = code
        assignment = await client.post(url(XUANWU, f"/demands/{d1['id']}/assignments"), headers=xw, json=body)
        assert assignment.status_code == 201, assignment.text
        aid = assignment.json()["id"]
        await client.post(url(XUANWU, f"/assignments/{aid}/respond"), headers=xw, json={"accept": True})
        served = await client.post(
            url(XUANWU, f"/assignments/{aid}/services"),
            headers=xw,
            json={"served_on": on.isoformat(), "problems_solved": solved, "trainees": 10, "value_yuan": 1234.5},
        )
        assert served.status_code == 201, served.text
        return aid, served.json()["id"]

    a_assignment, _ = await serve(a, None, LAST_MONTH, 2)  # a late entry: last month
    _, shared_service = await serve(sibling, QINHUAI, TODAY, 3)  # a sibling county's expert
    extra = await client.post(
        url(XUANWU, f"/assignments/{a_assignment}/services"),
        headers=xw,
        json={"served_on": TODAY.isoformat(), "problems_solved": 5},
    )
    await client.post(url(XUANWU, f"/services/{extra.json()['id']}/revoke"), headers=xw, json={"reason": "登记错误"})
    await client.post(url(XUANWU, f"/assignments/{a_assignment}/complete"), headers=xw)

    study = (
        await client.post(
            url(XUANWU, "/studies"), headers=xw, json={"title": "调研", "started_on": LAST_MONTH.isoformat()}
        )
    ).json()
    suggestions = []
    for made_on in (LAST_MONTH, TODAY, TODAY):
        response = await client.post(
            url(XUANWU, f"/studies/{study['id']}/suggestions"),
            headers=xw,
            json={"content": f"建议{made_on}", "made_on": made_on.isoformat()},
        )
        suggestions.append(response.json()["id"])
    adopt = url(XUANWU, "/suggestions/{}/adoption")
    await client.post(adopt.format(suggestions[0]), headers=xw, json={"adopted": True})
    await client.post(adopt.format(suggestions[1]), headers=xw, json={"adopted": True})
    await client.post(adopt.format(suggestions[1]), headers=xw, json={"adopted": False})
    late = await client.post(
        adopt.format(suggestions[2]), headers=xw, json={"adopted": True, "adopted_on": LAST_MONTH.isoformat()}
    )
    assert late.status_code == 200 and late.json()["adopted_on"] == LAST_MONTH.isoformat()
    uploaded = await client.post(
        url(XUANWU, f"/studies/{study['id']}/reports"),
        headers=xw,
        files={"file": ("报告.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")},
        data={"title": "调研报告"},
    )
    assert uploaded.status_code == 201, uploaded.text

    xw_id, qh_id = world["ids"][XUANWU], world["ids"][QINHUAI]
    kept = await aggregates(pg_platform, xw_id)
    assert kept == await recount(pg_platform, world, XUANWU)
    assert await aggregates(pg_platform, qh_id) == await recount(pg_platform, world, QINHUAI)

    def total(metric: str) -> float:
        return sum(v for (m, _), v in kept.items() if m == f"talent_pool.{metric}")

    assert total("experts") == 2  # three admitted, one retired
    assert total("stations") == 1
    assert (total("demands_posted"), total("demands_met")) == (2, 1)
    assert (total("services"), total("problems_solved"), total("trainees")) == (2, 5, 20)
    assert total("value_yuan") == 2469.0
    assert (total("suggestions_made"), total("suggestions_adopted"), total("reports")) == (3, 2, 1)
    # Late entries land in last month's row (when last month is another month).
    if month_of(LAST_MONTH) != month_of(TODAY):
        assert kept[("talent_pool.services", month_of(LAST_MONTH))] == 1
        assert kept[("talent_pool.suggestions_adopted", month_of(LAST_MONTH))] == 1  # adopted late, dated then
        assert kept[("talent_pool.suggestions_adopted", month_of(TODAY))] == 1
    # The sibling's expert served 玄武's demand: the figures are 玄武's, 秦淮 counts its expert only.
    assert {m for m, _ in await aggregates(pg_platform, qh_id)} == {
        "talent_pool.experts",
        "talent_pool.experts.agriculture",
    }
    assert shared_service and b["status"] == "admitted"
    # Every metric the plugin declares is one it can produce, and the rate is built from two sums.
    declared = {m.id: m for m in register_metrics()}
    assert {m for m, _ in kept} <= set(declared)
    rate = declared["talent_pool.demand_met_rate"]
    assert (rate.numerator, rate.denominator) == ("talent_pool.demands_met", "talent_pool.demands_posted")
