"""Console pages (overview, demands, one demand with explained candidates and the assign button, experts),
navigation, the demo data (idempotent, its figures equal to its facts), and discovery of the plugin."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from core.db.scope import TenantScope
from core.orgs.demo import seed_ledger_demo
from core.platform import Platform
from core.plugin_host import PluginContext
from core.plugin_host.host import PluginHost
from plugins.talent_pool import demo_data
from plugins.talent_pool.models import Assignment, Profile
from tests.plugins.talent_pool.helpers import DEMAND, NANJING, QINHUAI, XUANWU, admitted_expert, set_settings, url
from tests.plugins.talent_pool.test_metrics import aggregates, recount


def test_discovered_with_every_hook_it_declares() -> None:
    host = PluginHost.discover()
    assert [f for f in host.failures if "talent_pool" in f.source] == []
    loaded = host.plugins["talent_pool"]
    assert {
        "register_routes",
        "register_pages",
        "register_models",
        "migrations_dir",
        "templates_dir",
        "translations_dir",
        "register_roles",
        "settings_schema",
        "navigation",
        "register_metrics",
        "metric_facts",
        "member_panel",
        "demo_data",
    } <= set(loaded.hooks)
    assert host.settings_schemas()["talent_pool"]().model_dump()["age_limit"] == 75
    officer = next(r for r in host.roles() if r.name == "talent_officer")
    assert {"talent_pool.read", "talent_pool.write", "talent_pool.review"} <= officer.permissions


async def test_pages_show_ranked_and_explained_candidates_and_assign(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    await set_settings(client, officers["nj"], NANJING, share_within="city")
    await admitted_expert(client, pg_platform, world, xw, XUANWU, "李果农", ["农业"], ["果树修剪"])
    sibling = await admitted_expert(client, pg_platform, world, officers["qh"], QINHUAI, "秦果农", ["农业"], ["桃树"])
    demand = (await client.post(url(XUANWU, "/demands"), headers=xw, json=DEMAND)).json()

    nav = (await client.get(f"/api/v1/t/{XUANWU}/navigation", headers=xw)).json()
    assert [i["path"] for i in nav if i["plugin"] == "talent_pool"] == [
        "talent_pool",
        "talent_pool/demands",
        "talent_pool/experts",
    ]
    overview = await client.get(f"/t/{XUANWU}/talent_pool/", headers=xw)
    assert overview.status_code == 200 and "在库专家" in overview.text
    listing = await client.get(f"/t/{XUANWU}/talent_pool/demands", headers=xw)
    assert listing.status_code == 200 and DEMAND["title"] in listing.text
    page = await client.get(f"/t/{XUANWU}/talent_pool/demands/{demand['id']}", headers=xw)
    assert page.status_code == 200
    assert page.text.index("李果农") < page.text.index("秦果农")  # ranked
    assert "领域相符：农业" in page.text and "外县专家" in page.text and "派单给这位专家" in page.text
    english = await client.get(f"/t/{XUANWU}/talent_pool/demands/{demand['id']}?lang=en", headers=xw)
    assert "Assign this expert" in english.text and "field matches" in english.text

    assigned = await client.post(
        f"/t/{XUANWU}/talent_pool/demands/{demand['id']}/assign",
        headers=xw,
        data={"expert_id": sibling["id"], "expert_tenant_code": QINHUAI},
    )
    assert assigned.status_code == 303, assigned.text
    after = await client.get(assigned.headers["location"], headers=xw)
    assert "已派单，请等待专家确认" in after.text
    experts = await client.get(f"/t/{XUANWU}/talent_pool/experts?q=果树", headers=xw)
    assert "李果农" in experts.text and "秦果农" not in experts.text
    # Another county's demand is not a page here.
    qh_demand = (await client.post(url(QINHUAI, "/demands"), headers=officers["qh"], json=DEMAND)).json()
    assert (await client.get(f"/t/{XUANWU}/talent_pool/demands/{qh_demand['id']}", headers=xw)).status_code == 404


async def test_demo_data_is_idempotent_and_its_figures_are_its_facts(
    pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    tree = world["tree"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        await seed_ledger_demo(session, tree)
    xw_id = world["ids"][XUANWU]
    for _ in range(2):
        async with pg_platform.database.session(TenantScope.of(read=[xw_id], write=[xw_id])) as session:
            await demo_data(context=PluginContext("talent_pool", tree.get(XUANWU), tree, session, {}))
    async with pg_platform.database.session(TenantScope.of(read=[xw_id])) as session:
        profiles = (await session.execute(select(func.count()).select_from(Profile))).scalar_one()
        assignments = (await session.execute(select(func.count()).select_from(Assignment))).scalar_one()
    assert profiles == 6 and assignments == 1
    assert await aggregates(pg_platform, xw_id) == await recount(pg_platform, world, XUANWU)
