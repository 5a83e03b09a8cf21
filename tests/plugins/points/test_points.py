"""The points plugin on the real platform: rules, ledger, events, maker-checker, the yearly cycle, publication
and objections, the time bank under concurrency, balances following a transfer, proxy entry, metrics."""

from __future__ import annotations

import asyncio
import datetime
import io
import re
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import openpyxl
from litestar import Litestar
from sqlalchemy import func, select

import plugins.points as points_plugin
from core.db.scope import TenantScope
from core.errors import AppError
from core.events.types import DomainEvent, EventContext
from core.platform import Platform
from core.plugin_host import PluginContext
from core.plugin_host.host import PluginHost
from core.reports.facts import Fact, period_keys
from core.reports.models import ReportDistinct, ReportSum
from core.tenancy.tree import load_tree
from plugins.points import ledger, timebank
from plugins.points.models import CatalogueItem, CoinAccount, CoinEntry, Entry, Redemption
from plugins.points.rules import PointsSettings
from tests.plugins.points.conftest import (
    QINHUAI,
    XUANWU,
    emit_event,
    enable,
    grant,
    last_year,
    make_branch,
    make_member,
    url,
)
from tests.support import token

TODAY = datetime.date.today()


def settled(member_id: str, ref: str, *, hours: float | None = None, day: datetime.date = TODAY) -> dict[str, Any]:
    return {
        "occurred_on": day.isoformat(),
        "ref": ref,
        "credits": [{"member_id": member_id, "hours": hours, "role": "mediator"}],
    }


async def summary(client: httpx.AsyncClient, headers: dict[str, str], member_id: str, code: str = XUANWU) -> Any:
    response = await client.get(url(code, f"/members/{member_id}"), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def give_hours(client: httpx.AsyncClient, xw: dict[str, Any], member_id: str, hours: float) -> None:
    """Volunteer hours by maker-checker: the secretary proposes, the administrator approves (coins follow)."""
    proposed = await client.post(
        url(XUANWU, "/proposals"),
        headers=xw["secretary"],
        json={"member_id": member_id, "rule_code": "volunteer_hour", "on_date": TODAY.isoformat(),
              "reason": "社区文明劝导志愿服务", "hours": hours},
    )  # fmt: skip
    assert proposed.status_code == 201, proposed.text
    approved = await client.post(
        url(XUANWU, f"/proposals/{proposed.json()['id']}/approve"), headers=xw["admin"], json={}
    )
    assert approved.status_code == 200, approved.text


# --- discovery and rules ---------------------------------------------------------------------------------------


def test_loaded_with_its_hooks_roles_metrics_and_default_rules() -> None:
    host = PluginHost.discover()
    assert [f for f in host.failures if "points" in f.source] == []
    loaded = host.plugins["points"]
    assert {"register_routes", "register_pages", "on_event", "metric_facts", "member_panel", "settings_schema",
            "on_tenant_enabled", "demo_data", "register_metrics", "translations_dir"} <= set(loaded.hooks)  # fmt: skip
    roles = {r.name: r for r in host.roles()}
    assert "points.approve" in roles["points_officer"].permissions
    assert "points.approve" not in roles["points_recorder"].permissions
    assert {m.id for _, m in host.metrics() if m.id.startswith("points.")} == {
        "points.points_issued", "points.members_with_points", "points.stars_awarded",
        "points.volunteer_hours", "points.coins_earned", "points.coins_redeemed",
    }  # fmt: skip
    defaults = host.settings_schemas()["points"]().model_dump(mode="json")
    assert defaults["base_score"] == "60" and len(defaults["categories"]) == 5
    rules = PointsSettings.model_validate(defaults)
    assert [rules.stars_for(Decimal(s)) for s in (59, 60, 69, 70, 95, 96, 100)] == [0, 1, 1, 2, 4, 5, 5]


async def test_rules_inherit_down_the_tree_and_are_validated(client: httpx.AsyncClient, xuanwu: dict[str, Any]) -> None:
    nanjing = await token(client, "nj-admin")
    bad = await client.put(
        "/api/v1/t/320100/plugins/points/settings",
        headers=nanjing,
        json={"values": {"star_thresholds": ["90", "60"]}},
    )
    assert bad.status_code == 422 and "从低到高" in bad.json()["error"]["message"]
    city = await client.put(
        "/api/v1/t/320100/plugins/points/settings",
        headers=nanjing,
        json={"values": {"base_score": "50", "coin_balance_cap": 300}},
    )
    assert city.status_code == 200, city.text
    rules = (await client.get(url(XUANWU, "/rules"), headers=xuanwu["admin"])).json()
    assert rules["base_score"] == "50" and rules["coin_balance_cap"] == 300
    own = await client.put(
        f"/api/v1/t/{XUANWU}/plugins/points/settings", headers=xuanwu["admin"], json={"values": {"base_score": "55"}}
    )
    assert own.status_code == 200, own.text
    rules = (await client.get(url(XUANWU, "/rules"), headers=xuanwu["admin"])).json()
    assert rules["base_score"] == "55" and rules["coin_balance_cap"] == 300


# --- events ----------------------------------------------------------------------------------------------------


async def test_the_same_event_delivered_twice_credits_once(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    member = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "王建国")
    tid = xuanwu["tenant_id"]
    event_id = await emit_event(pg_platform, tid, "mediation.case_settled", settled(member, "case-1"), "mediation")
    assert await pg_platform.dispatcher.run_once() > 0
    await pg_platform.dispatcher.run_once()
    assert (await summary(client, xuanwu["admin"], member))["points"] == "3.00"

    # The very same event handed to on_event again (a replay), and the same record under a new event id.
    async with pg_platform.database.session(TenantScope.of([tid], [tid])) as session:
        tree = await load_tree(session)
        replay = DomainEvent(
            id=uuid.UUID(event_id), tenant_id=tid, tenant_code=XUANWU, name="mediation.case_settled",
            payload=settled(member, "case-1"), source="mediation", occurred_at=datetime.datetime.now(datetime.UTC),
        )  # fmt: skip
        context = EventContext(
            plugin="points", tenant=tree.get(XUANWU), tree=tree, session=session, settings={}, attempt=2
        )
        await points_plugin.on_event(event=replay, context=context)
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(member, "case-1"), "mediation")
    await pg_platform.dispatcher.run_once()
    body = await summary(client, xuanwu["admin"], member)
    assert body["points"] == "3.00" and body["score"] == "63.00"

    # Attendance from the core credits by meeting kind; its revocation reverses with a new entry.
    meeting = str(uuid.uuid4())
    attendance = {"meeting_id": meeting, "org_id": xuanwu["branch"], "kind": "theme_day", "member_id": member,
                  "date": TODAY.isoformat(), "duration_minutes": 90}  # fmt: skip
    recorded = await emit_event(pg_platform, tid, "core.attendance_recorded", attendance, "core")
    await pg_platform.dispatcher.run_once()
    assert (await summary(client, xuanwu["admin"], member))["points"] == "5.00"
    await emit_event(
        pg_platform,
        tid,
        "core.attendance_revoked",
        {**attendance, "revokes_event_id": recorded, "reason": "误登"},
        "core",
    )
    # A second settled case, then that case is withdrawn.
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(member, "case-2"), "mediation")
    await pg_platform.dispatcher.run_once()
    assert (await summary(client, xuanwu["admin"], member))["points"] == "6.00"
    await emit_event(
        pg_platform,
        tid,
        "mediation.case_settled_revoked",
        {**settled(member, "case-2"), "revokes": "case-2"},
        "mediation",
    )
    await pg_platform.dispatcher.run_once()
    await pg_platform.dispatcher.run_once()
    body = await summary(client, xuanwu["admin"], member)
    assert body["points"] == "3.00"
    async with pg_platform.database.session(TenantScope.system()) as session:
        kinds = sorted((e.kind, str(e.points)) for e in (await session.execute(select(Entry))).scalars())
        assert kinds == [
            ("event", "2.00"),
            ("event", "3.00"),
            ("event", "3.00"),
            ("reversal", "-2.00"),
            ("reversal", "-3.00"),
        ]


async def test_caps_scaling_and_exemption_by_health_class(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    tid = xuanwu["tenant_id"]
    limited = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "李德明", health_class="limited")
    unable = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "陈桂兰", health_class="unable")
    for n in range(7):  # mediation: 3 points each, 15 a year at most
        await emit_event(pg_platform, tid, "mediation.case_settled", settled(limited, f"c{n}"), "mediation")
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(unable, "u1"), "mediation")
    await pg_platform.dispatcher.run_once()
    first = await summary(client, xuanwu["admin"], limited)
    # 4.5 per case (×1.5 for 适当参加活动) capped at 15.
    assert first["points"] == "15.00" and first["score"] == "75.00" and first["stars"] == 2
    exempt = await summary(client, xuanwu["admin"], unable)
    assert exempt["points"] == "6.00" and exempt["rating"] == "exempt" and exempt["rating_zh"] == "免于评定"


# --- maker-checker and proxy entry ------------------------------------------------------------------------------


async def test_a_secretary_cannot_approve_his_own_proposal(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    member = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "周淑珍")
    body = {
        "member_id": member, "rule_code": "volunteer_hour", "on_date": TODAY.isoformat(),
        "reason": "高铁站义务讲解", "hours": 4,
        "proxy": {"reason": "本人不使用智能手机", "consent": "本人当面口头同意，支委见证"},
    }  # fmt: skip
    proposed = await client.post(url(XUANWU, "/proposals"), headers=xuanwu["secretary"], json=body)
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    assert proposal["status"] == "proposed" and proposal["proxy_by"] == "xw-secretary"

    # Without the approving role the guard refuses; with it, the proposer still may not approve his own.
    refused = await client.post(
        url(XUANWU, f"/proposals/{proposal['id']}/approve"), headers=xuanwu["secretary"], json={}
    )
    assert refused.status_code == 403 and "points.approve" in refused.json()["error"]["message"]
    await grant(pg_platform, "xw-secretary", XUANWU, "points_officer")
    own = await client.post(url(XUANWU, f"/proposals/{proposal['id']}/approve"), headers=xuanwu["secretary"], json={})
    assert own.status_code == 403 and own.json()["error"]["code"] == "points.own_proposal"
    assert "不能审核自己" in own.json()["error"]["message"]
    own_reject = await client.post(
        url(XUANWU, f"/proposals/{proposal['id']}/reject"), headers=xuanwu["secretary"], json={}
    )
    assert own_reject.status_code == 403
    assert (await summary(client, xuanwu["admin"], member))["points"] == "0.00"

    approved = await client.post(
        url(XUANWU, f"/proposals/{proposal['id']}/approve"), headers=xuanwu["admin"], json={"note": "情况属实"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == "xw-admin"
    again = await client.post(url(XUANWU, f"/proposals/{proposal['id']}/approve"), headers=xuanwu["admin"], json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "points.proposal_decided"

    body_after = await summary(client, xuanwu["admin"], member)
    assert body_after["points"] == "2.00" and body_after["coins"]["balance"] == 40  # 4 h × 0.5 points, × 10 coins
    # 代录 shows as such in the member's history: who, why, the consent.
    proxied = [h for h in body_after["history"] if h["proxy"]]
    assert len(proxied) == 2 and all("xw-secretary 代录" in h["text"] for h in proxied)
    assert all("本人当面口头同意" in h["text"] for h in proxied)
    entries = (await client.get(url(XUANWU, f"/entries?member_id={member}"), headers=xuanwu["admin"])).json()
    entry = entries["items"][0]
    assert (entry["entered_by"], entry["approved_by"], entry["proxy_reason"]) == (
        "xw-secretary", "xw-admin", "本人不使用智能手机",
    )  # fmt: skip

    incomplete = await client.post(
        url(XUANWU, "/proposals"), headers=xuanwu["secretary"], json={**body, "proxy": {"reason": "不用手机"}}
    )
    assert incomplete.status_code == 422

    # A reversal is a new entry; the original stays, and it cannot be reversed twice.
    reversed_ = await client.post(
        url(XUANWU, f"/entries/{entry['id']}/reverse"), headers=xuanwu["admin"], json={"reason": "时长登记有误"}
    )
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["points"] == "-2.00" and reversed_.json()["reverses_id"] == entry["id"]
    twice = await client.post(
        url(XUANWU, f"/entries/{entry['id']}/reverse"), headers=xuanwu["admin"], json={"reason": "再冲一次"}
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "points.already_reversed"
    assert (await summary(client, xuanwu["admin"], member))["points"] == "0.00"


# --- the yearly cycle -------------------------------------------------------------------------------------------


async def test_a_closed_year_refuses_new_entries(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    tid, year = xuanwu["tenant_id"], last_year()
    star = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "赵永福")
    plain = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "孙志强")
    dec = datetime.date(year, 12, 20)
    for n in range(5):
        await emit_event(pg_platform, tid, "mediation.case_settled", settled(star, f"y{n}", day=dec), "mediation")
    await pg_platform.dispatcher.run_once()
    late = await client.post(
        url(XUANWU, "/proposals"),
        headers=xuanwu["secretary"],
        json={"member_id": plain, "rule_code": "absence", "on_date": dec.isoformat(), "reason": "无故缺席主题党日"},
    )
    assert late.status_code == 201
    assert (
        await client.post(url(XUANWU, f"/proposals/{late.json()['id']}/approve"), headers=xuanwu["admin"], json={})
    ).status_code == 200

    this_year = await client.post(
        url(XUANWU, f"/cycles/{TODAY.year}/close"), headers=xuanwu["admin"], json={"confirm": True}
    )
    assert this_year.status_code == 409 and this_year.json()["error"]["code"] == "points.year_not_over"
    refused = await client.post(
        url(XUANWU, f"/cycles/{year}/close"), headers=xuanwu["secretary"], json={"confirm": True}
    )
    assert refused.status_code == 403
    closed = await client.post(url(XUANWU, f"/cycles/{year}/close"), headers=xuanwu["admin"], json={"confirm": True})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["year_end"] == "reset"
    again = await client.post(url(XUANWU, f"/cycles/{year}/close"), headers=xuanwu["admin"], json={"confirm": True})
    assert again.status_code == 409

    # Nothing more goes into the closed year: not a proposal, not an approval, not an event, not a reversal.
    proposal = await client.post(
        url(XUANWU, "/proposals"),
        headers=xuanwu["secretary"],
        json={"member_id": plain, "rule_code": "study", "on_date": dec.isoformat(), "reason": "补记集中学习"},
    )
    assert proposal.status_code == 409 and proposal.json()["error"]["code"] == "points.year_closed"
    assert f"{year} 年度积分已结算封存" in proposal.json()["error"]["message"]
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(plain, "late", day=dec), "mediation")
    await pg_platform.dispatcher.run_once()
    entries = (await client.get(url(XUANWU, f"/entries?year={year}&member_id={plain}"), headers=xuanwu["admin"])).json()
    assert [e["points"] for e in entries["items"]] == ["-2.00"]
    reverse = await client.post(
        url(XUANWU, f"/entries/{entries['items'][0]['id']}/reverse"), headers=xuanwu["admin"], json={"reason": "更正"}
    )
    assert reverse.status_code == 409 and reverse.json()["error"]["code"] == "points.year_closed"

    # The year's results are frozen with stars; the new year starts from the base score (reset).
    last = (await client.get(url(XUANWU, f"/members/{star}?year={year}"), headers=xuanwu["admin"])).json()
    assert last["score"] == "75.00" and last["stars"] == 2
    assert (await summary(client, xuanwu["admin"], star))["score"] == "60.00"
    cycles = (await client.get(url(XUANWU, "/cycles"), headers=xuanwu["admin"])).json()
    assert {c["year"]: c["status"] for c in cycles}[year] == "closed"
    async with pg_platform.database.session(TenantScope.system()) as session:
        stars = (
            await session.execute(
                select(func.sum(ReportSum.value)).where(
                    ReportSum.metric == "points.stars_awarded", ReportSum.tenant_id == tid
                )
            )
        ).scalar_one()
        assert int(stars) == 1  # 赵永福 75 (two stars); 孙志强 58 is 不合格


# --- publication and objections --------------------------------------------------------------------------------


async def test_quarterly_publication_is_frozen_and_objections_follow_their_steps(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    tid = xuanwu["tenant_id"]
    year = last_year()
    first = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "吴玉梅")
    await emit_event(
        pg_platform, tid, "talent_pool.service_completed",
        {"occurred_on": f"{year}-11-02", "ref": "svc-1",
         "credits": [{"member_id": first, "hours": 3, "role": "expert"}]},
        "talent_pool",
    )  # fmt: skip
    await pg_platform.dispatcher.run_once()
    published = await client.post(
        url(XUANWU, "/publications"), headers=xuanwu["admin"], json={"year": year, "quarter": 4}
    )
    assert published.status_code == 201, published.text
    pub = published.json()
    assert [(r["member_name"], r["score"], r["rank"]) for r in pub["rows"]] == [("吴玉梅", "63.00", 1)]
    branch_pub = await client.post(
        url(XUANWU, "/publications"), headers=xuanwu["admin"],
        json={"year": year, "quarter": 4, "org_id": xuanwu["branch"]},
    )  # fmt: skip
    assert branch_pub.status_code == 201 and branch_pub.json()["scope_name"] == "梅园社区离退休干部党支部"
    twice = await client.post(url(XUANWU, "/publications"), headers=xuanwu["admin"], json={"year": year, "quarter": 4})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "points.already_published"
    not_over = await client.post(
        url(XUANWU, "/publications"), headers=xuanwu["admin"], json={"year": TODAY.year + 1, "quarter": 1}
    )
    assert not_over.status_code == 409

    # A later entry for that quarter does not change what was published.
    await emit_event(
        pg_platform, tid, "talent_pool.service_completed",
        {"occurred_on": f"{year}-12-01", "ref": "svc-2", "credits": [{"member_id": first, "role": "expert"}]},
        "talent_pool",
    )  # fmt: skip
    await pg_platform.dispatcher.run_once()
    frozen = (await client.get(url(XUANWU, f"/publications/{pub['id']}"), headers=xuanwu["admin"])).json()
    assert frozen["rows"][0]["score"] == "63.00"

    raised = await client.post(
        url(XUANWU, f"/publications/{pub['id']}/objections"),
        headers=xuanwu["secretary"],
        json={"member_id": first, "text": "12 月的人才服务没有计入"},
    )
    assert raised.status_code == 201, raised.text
    objection = raised.json()
    skip = await client.post(
        url(XUANWU, f"/objections/{objection['id']}/steps"),
        headers=xuanwu["admin"],
        json={"to": "answered", "note": "x"},
    )
    assert skip.status_code == 409 and skip.json()["error"]["code"] == "points.objection_step"
    for step, note in (("investigating", "核对人才库服务记录"), ("answered", "12 月服务在公示截止后完成，计入下一次"),
                       ("filed", "本人无异议，归档")):  # fmt: skip
        done = await client.post(
            url(XUANWU, f"/objections/{objection['id']}/steps"),
            headers=xuanwu["admin"],
            json={"to": step, "note": note},
        )
        assert done.status_code == 200, done.text
    final = done.json()
    assert final["status"] == "filed"
    assert [(s["status"], s["by"]) for s in final["steps"]] == [
        ("raised", "xw-secretary"), ("investigating", "xw-admin"), ("answered", "xw-admin"), ("filed", "xw-admin"),
    ]  # fmt: skip


# --- the time bank under concurrency ------------------------------------------------------------------------


async def test_fifty_concurrent_redemptions_of_the_last_three_items(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    tid = xuanwu["tenant_id"]
    members = [
        await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], f"志愿者{n:02d}") for n in range(10)
    ]
    for member in members:
        await give_hours(client, xuanwu, member, 10)  # 100 coins each: enough for two items
    item = await client.post(
        url(XUANWU, "/timebank/items"),
        headers=xuanwu["admin"],
        json={"name": "米面油礼包", "kind": "goods", "price": 50, "stock": 3, "place": "老干部局服务窗口",
              "times": "每月 10 日上午"},
    )  # fmt: skip
    assert item.status_code == 201, item.text
    item_id = uuid.UUID(item.json()["id"])
    scope = TenantScope.of([tid], [tid])

    async def attempt(n: int) -> str:
        member = uuid.UUID(members[n % len(members)])
        try:
            async with pg_platform.database.session(scope) as session:
                _, created = await timebank.redeem(
                    session, item_id=item_id, member_id=member, quantity=1, idempotency_key=f"redeem-{n:04d}",
                    actor="test",
                )  # fmt: skip
            return "sold" if created else "repeat"
        except AppError as exc:  # the losers: out of stock (or not enough coins)
            return exc.code

    outcomes = await asyncio.gather(*(attempt(n) for n in range(50)))
    assert outcomes.count("sold") == 3, outcomes
    assert set(outcomes) == {"sold", "points.out_of_stock"}

    async with pg_platform.database.session(TenantScope.system()) as session:
        stock = (await session.execute(select(CatalogueItem.stock).where(CatalogueItem.id == item_id))).scalar_one()
        sold = (await session.execute(select(func.count()).select_from(Redemption))).scalar_one()
        balances = dict((await session.execute(select(CoinAccount.member_id, CoinAccount.balance))).tuples().all())
        ledger_sums = dict(
            (
                await session.execute(
                    select(CoinEntry.member_id, func.sum(CoinEntry.amount)).group_by(CoinEntry.member_id)
                )
            )
            .tuples()
            .all()
        )
    assert (stock, sold) == (0, 3)
    assert min(balances.values()) >= 0 and sum(balances.values()) == 10 * 100 - 3 * 50
    assert balances == {k: int(v) for k, v in ledger_sums.items()}  # every balance is its ledger's sum

    # The same idempotency key from ten concurrent requests redeems once.
    second = await client.post(
        url(XUANWU, "/timebank/items"), headers=xuanwu["admin"],
        json={"name": "上门理发", "kind": "service", "price": 30, "stock": 10},
    )  # fmt: skip
    second_id = uuid.UUID(second.json()["id"])
    buyer = uuid.UUID(members[0])

    async def same_key() -> bool:
        async with pg_platform.database.session(scope) as session:
            _, created = await timebank.redeem(
                session, item_id=second_id, member_id=buyer, quantity=1, idempotency_key="one-key-0001", actor="test"
            )
            return created

    made = await asyncio.gather(*(same_key() for _ in range(10)))
    assert made.count(True) == 1
    async with pg_platform.database.session(TenantScope.system()) as session:
        left = (await session.execute(select(CatalogueItem.stock).where(CatalogueItem.id == second_id))).scalar_one()
    assert left == 9
    # Close the pool's connections now, before the next test's TRUNCATE (nothing of ours may linger on them).
    await pg_platform.database.engine.dispose()


async def test_redemption_cancellation_balance_cap_donation_and_no_negative_balance(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    admin = xuanwu["admin"]
    giver = await make_member(client, admin, XUANWU, xuanwu["branch"], "刘芳")
    taker = await make_member(client, admin, XUANWU, xuanwu["branch"], "王秀兰")
    await give_hours(client, xuanwu, giver, 8)  # 80 coins
    item = (await client.post(
        url(XUANWU, "/timebank/items"), headers=admin,
        json={"name": "家电小修", "kind": "service", "price": 60, "stock": 2, "place": "红齐修吧",
              "times": "每周五下午"},
    )).json()  # fmt: skip
    body = {"item_id": item["id"], "member_id": giver, "idempotency_key": "web-0000-0001"}
    first = await client.post(url(XUANWU, "/timebank/redemptions"), headers=xuanwu["secretary"], json=body)
    assert first.status_code == 201, first.text
    repeat = await client.post(url(XUANWU, "/timebank/redemptions"), headers=xuanwu["secretary"], json=body)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    poor = await client.post(
        url(XUANWU, "/timebank/redemptions"),
        headers=xuanwu["secretary"],
        json={**body, "idempotency_key": "web-0000-0002"},
    )
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "points.insufficient_balance"
    assert "需要 60 币，现有 20 币" in poor.json()["error"]["message"]
    reused = await client.post(
        url(XUANWU, "/timebank/redemptions"), headers=xuanwu["secretary"], json={**body, "member_id": taker}
    )
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "points.idempotency_key_reused"

    cancelled = await client.post(
        url(XUANWU, f"/timebank/redemptions/{first.json()['id']}/cancel"),
        headers=xuanwu["secretary"],
        json={"reason": "本人改期"},
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await client.post(
        url(XUANWU, f"/timebank/redemptions/{first.json()['id']}/cancel"), headers=xuanwu["secretary"], json={}
    )
    assert again.status_code == 409
    items = (await client.get(url(XUANWU, "/timebank/items"), headers=admin)).json()
    assert next(i for i in items if i["id"] == item["id"])["stock"] == 2
    assert (await summary(client, admin, giver))["coins"]["balance"] == 80

    donation = {
        "from_member_id": giver,
        "to_member_id": taker,
        "coins": 30,
        "note": "结对帮扶",
        "idempotency_key": "gift-0001",
    }
    gave = await client.post(url(XUANWU, "/timebank/donations"), headers=xuanwu["secretary"], json=donation)
    assert gave.status_code == 201, gave.text
    assert (
        await client.post(url(XUANWU, "/timebank/donations"), headers=xuanwu["secretary"], json=donation)
    ).status_code == 201
    assert (await summary(client, admin, giver))["coins"]["balance"] == 50
    assert (await summary(client, admin, taker))["coins"]["balance"] == 30
    too_much = await client.post(
        url(XUANWU, "/timebank/donations"), headers=xuanwu["secretary"],
        json={**donation, "coins": 51, "idempotency_key": "gift-0002"},
    )  # fmt: skip
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "points.insufficient_balance"

    # The balance cap: earning stops at it (the hours still count); a donation past it is refused.
    await client.put(
        f"/api/v1/t/{XUANWU}/plugins/points/settings", headers=admin, json={"values": {"coin_balance_cap": 100}}
    )
    await give_hours(client, xuanwu, taker, 10)  # would be 100 coins; 70 fit under the cap
    assert (await summary(client, admin, taker))["coins"]["balance"] == 100
    over = await client.post(
        url(XUANWU, "/timebank/donations"), headers=xuanwu["secretary"],
        json={**donation, "coins": 5, "idempotency_key": "gift-0003"},
    )  # fmt: skip
    assert over.status_code == 409 and over.json()["error"]["code"] == "points.balance_cap"
    stats = (await client.get(url(XUANWU, "/stats"), headers=admin)).json()
    assert stats["volunteer_hours"] == "18.00" and stats["coins_earned"] == 150 and stats["coins_redeemed"] == 0


# --- across counties ----------------------------------------------------------------------------------------


async def test_balances_follow_a_member_who_transfers_and_coins_move_across_counties(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any], world: dict[str, Any]
) -> None:
    qh = await token(client, "qh-admin")
    await enable(client, qh, QINHUAI)
    await grant(pg_platform, "qh-admin", QINHUAI, "points_officer")
    qh_branch = await make_branch(client, qh, QINHUAI, "夫子庙社区支部")
    member = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "王建国")
    tid = xuanwu["tenant_id"]
    await give_hours(client, xuanwu, member, 6)  # 3 points, 60 coins
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(member, "m-1"), "mediation")
    await pg_platform.dispatcher.run_once()
    before = await summary(client, xuanwu["admin"], member)
    assert (before["points"], before["coins"]["balance"]) == ("6.00", 60)

    # 通存通兑: 20 coins to his account in 秦淮区 (he stays with his relation in 玄武区).
    sent = await client.post(
        url(XUANWU, "/timebank/exchanges"), headers=xuanwu["admin"],
        json={"member_id": member, "to_tenant_code": QINHUAI, "coins": 20, "idempotency_key": "exch-0001"},
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    outside = await client.post(
        url(XUANWU, "/timebank/exchanges"), headers=xuanwu["admin"],
        json={"member_id": member, "to_tenant_code": "110000", "coins": 5, "idempotency_key": "exch-0002"},
    )  # fmt: skip
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "points.other_province"
    incoming = (await client.get(url(QINHUAI, "/timebank/incoming"), headers=qh)).json()
    assert [(c["coins"], c["member_name"]) for c in incoming] == [(20, "王建国")]
    assert (await client.get(url(XUANWU, "/timebank/incoming"), headers=xuanwu["admin"])).json() == []
    wrong = await client.post(url(XUANWU, f"/timebank/incoming/{incoming[0]['id']}/receive"), headers=xuanwu["admin"])
    assert wrong.status_code == 404
    got = await client.post(url(QINHUAI, f"/timebank/incoming/{incoming[0]['id']}/receive"), headers=qh)
    assert got.status_code == 200 and got.json()["status"] == "settled"
    twice = await client.post(url(QINHUAI, f"/timebank/incoming/{incoming[0]['id']}/receive"), headers=qh)
    assert twice.status_code == 404

    # The transfer of his organisation relation: the rest of his coins and this year's points go with him.
    transfer = await client.post(
        f"/api/v1/t/{XUANWU}/transfers", headers=xuanwu["admin"],
        json={"member_id": member, "reason": "随子女在秦淮区居住", "kind": "negotiated",
              "target_tenant_code": QINHUAI, "target_org_id": qh_branch},
    )  # fmt: skip
    assert transfer.status_code == 201, transfer.text
    tr = transfer.json()["id"]
    assert (await client.post(f"/api/v1/t/{QINHUAI}/transfers/{tr}/approve", headers=qh, json={})).status_code == 200
    assert (await client.post(f"/api/v1/t/{QINHUAI}/transfers/{tr}/complete", headers=qh, json={})).status_code == 200
    for _ in range(3):
        await pg_platform.dispatcher.run_once()
    after = await summary(client, qh, member, QINHUAI)
    assert (after["points"], after["coins"]["balance"]) == ("6.00", 60)
    assert any("随组织关系转入" in h["text"] for h in after["history"])
    async with pg_platform.database.session(TenantScope.system()) as session:
        left = (await session.execute(select(CoinAccount.balance).where(CoinAccount.tenant_id == tid))).scalar_one()
        points_left = await ledger.member_year(session, tid, uuid.UUID(member), TODAY.year)
    assert (left, points_left) == (0, Decimal("0.00"))
    # Delivered again, nothing moves twice.
    for _ in range(2):
        await pg_platform.dispatcher.run_once()
    assert (await summary(client, qh, member, QINHUAI))["coins"]["balance"] == 60


# --- metrics ---------------------------------------------------------------------------------------------------


async def test_maintained_metrics_equal_the_recount(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    tid = xuanwu["tenant_id"]
    a = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "甲")
    b = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "乙")
    await give_hours(client, xuanwu, a, 5)
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(a, "r1", hours=2), "mediation")
    await emit_event(pg_platform, tid, "mediation.case_settled", settled(b, "r2"), "mediation")
    late = TODAY.replace(day=1) - datetime.timedelta(days=40)  # a late event dated in an earlier month
    await emit_event(pg_platform, tid, "education.activity_recorded", settled(b, "e1", day=late), "education")
    await pg_platform.dispatcher.run_once()
    await emit_event(
        pg_platform, tid, "mediation.case_settled_revoked", {**settled(b, "r2"), "revokes": "r2"}, "mediation"
    )
    await pg_platform.dispatcher.run_once()
    item = (await client.post(url(XUANWU, "/timebank/items"), headers=xuanwu["admin"],
                              json={"name": "老花镜", "kind": "goods", "price": 20, "stock": 5})).json()  # fmt: skip
    buy = {"item_id": item["id"], "member_id": a, "idempotency_key": "metric-0001"}
    bought = await client.post(url(XUANWU, "/timebank/redemptions"), headers=xuanwu["admin"], json=buy)
    await client.post(
        url(XUANWU, "/timebank/redemptions"), headers=xuanwu["admin"], json={**buy, "idempotency_key": "metric-0002"}
    )
    await client.post(
        url(XUANWU, f"/timebank/redemptions/{bought.json()['id']}/cancel"), headers=xuanwu["admin"], json={}
    )

    async with pg_platform.database.session(TenantScope.of([tid], [tid])) as session:
        tree = await load_tree(session)
        context = PluginContext(plugin="points", tenant=tree.get(XUANWU), tree=tree, session=session, settings={})
        facts: list[Fact] = [f async for f in points_plugin.metric_facts(context=context)]
    sums: dict[tuple[str, datetime.date], float] = defaultdict(float)
    subjects: dict[tuple[str, str, str], int] = defaultdict(int)
    for fact in facts:
        if fact.subject is None:
            sums[(fact.metric, fact.on.replace(day=1))] += fact.value
        else:
            for period in period_keys(fact.on):
                subjects[(fact.metric, period, fact.subject)] += 1 if fact.value > 0 else -1
    distinct: dict[tuple[str, str], int] = defaultdict(int)
    for (metric, period, _), n in subjects.items():
        if n > 0:
            distinct[(metric, period)] += 1
    async with pg_platform.database.session(TenantScope.system()) as session:
        stored = {
            (m, month): float(v)
            for m, month, v in (
                await session.execute(
                    select(ReportSum.metric, ReportSum.month, ReportSum.value).where(
                        ReportSum.tenant_id == tid, ReportSum.metric.like("points.%")
                    )
                )
            ).tuples()
        }
        stored_distinct = {
            (m, p): v
            for m, p, v in (
                await session.execute(
                    select(ReportDistinct.metric, ReportDistinct.period, ReportDistinct.value).where(
                        ReportDistinct.tenant_id == tid, ReportDistinct.metric.like("points.%")
                    )
                )
            ).tuples()
        }
    assert {k: v for k, v in stored.items() if v} == {k: v for k, v in sums.items() if v}
    assert {k: v for k, v in stored_distinct.items() if v} == dict(distinct)
    month = TODAY.replace(day=1)
    # 2.5 (hours) + 3 (a) + 3 − 3 (b, revoked) this month; 2 (education) in the late month.
    assert stored[("points.points_issued", month)] == 5.5
    assert stored[("points.points_issued", late.replace(day=1))] == 2.0
    assert stored[("points.coins_earned", month)] == 50 and stored[("points.coins_redeemed", month)] == 20
    assert stored[("points.volunteer_hours", month)] == 5
    assert stored_distinct[("points.members_with_points", f"Y{TODAY.year}")] == (2 if late.year == TODAY.year else 1)


# --- the member panel, pages and exports ------------------------------------------------------------------------


async def test_member_panel_pages_exports_and_demo(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    tid = xuanwu["tenant_id"]
    member = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "张秀英")
    await give_hours(client, xuanwu, member, 2)
    async with pg_platform.database.session(TenantScope.of([tid], [tid])) as session:
        tree = await load_tree(session)
        context = PluginContext(plugin="points", tenant=tree.get(XUANWU), tree=tree, session=session, settings={})
        panel = await points_plugin.member_panel(context=context, member_id=member)
        assert panel is not None and panel.title_zh == "积分与时间银行"
        figures = {i["label"]: i["value"] for i in panel.items if "label" in i}
        assert figures["本年积分"] == "61" and figures["时间币"] == "20" and figures["星级"].startswith("★")
        assert any("志愿服务" in i.get("text", "") for i in panel.items)
        await points_plugin.demo_data(context=context)
        await points_plugin.demo_data(context=context)
        items = (await session.execute(select(func.count()).select_from(CatalogueItem))).scalar_one()
        assert items == 6  # the default catalogue, stocked once

    ranking = await client.get(url(XUANWU, "/exports/ranking.xlsx"), headers=xuanwu["admin"])
    assert ranking.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(ranking.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "姓名", "所在支部") and rows[1][1] == "张秀英"
    ledger_x = await client.get(url(XUANWU, "/exports/ledger.xlsx"), headers=xuanwu["admin"])
    assert ledger_x.status_code == 200
    ledger_sheet = openpyxl.load_workbook(io.BytesIO(ledger_x.content)).active
    assert ledger_sheet is not None
    assert "张秀英" in [r[1] for r in ledger_sheet.iter_rows(values_only=True)]

    for page in ("ledger", "proposals", "ranking", "timebank"):
        response = await client.get(f"/t/{XUANWU}/points/{page}", headers=xuanwu["admin"])
        assert response.status_code == 200, (page, response.text[:500])
    assert "张秀英" in (await client.get(f"/t/{XUANWU}/points/ranking", headers=xuanwu["admin"])).text
    english = await client.get(f"/t/{XUANWU}/points/timebank?lang=en", headers=xuanwu["admin"])
    assert "Time bank" in english.text
    nav = (await client.get(f"/api/v1/t/{XUANWU}/navigation", headers=xuanwu["admin"])).json()
    assert [i["path"] for i in nav if i["plugin"] == "points"] == [
        "points/ledger", "points/proposals", "points/ranking", "points/timebank",
    ]  # fmt: skip


# --- isolation ---------------------------------------------------------------------------------------------------


async def test_county_b_never_sees_or_changes_county_a(
    pg_app: Litestar, client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    """Every route of the plugin with county A's real objects: B is refused in A, and A's ids are unknown in B."""
    qh = await token(client, "qh-admin")
    await enable(client, qh, QINHUAI)
    await grant(pg_platform, "qh-admin", QINHUAI, "points_officer")
    admin = xuanwu["admin"]
    member = await make_member(client, admin, XUANWU, xuanwu["branch"], "王建国")
    await give_hours(client, xuanwu, member, 10)
    entry = (await client.get(url(XUANWU, "/entries"), headers=admin)).json()["items"][0]
    proposal = (await client.get(url(XUANWU, "/proposals"), headers=admin)).json()["items"][0]
    item = (await client.post(url(XUANWU, "/timebank/items"), headers=admin,
                              json={"name": "老花镜", "kind": "goods", "price": 20, "stock": 5})).json()  # fmt: skip
    redemption = (await client.post(url(XUANWU, "/timebank/redemptions"), headers=admin,
                                    json={"item_id": item["id"], "member_id": member,
                                          "idempotency_key": "iso-0001"})).json()  # fmt: skip
    clearing = (await client.post(url(XUANWU, "/timebank/exchanges"), headers=admin,
                                  json={"member_id": member, "to_tenant_code": "321181", "coins": 10,
                                        "idempotency_key": "iso-0002"})).json()  # fmt: skip
    publication_ = (await client.post(url(XUANWU, "/publications"), headers=admin,
                                      json={"year": last_year(), "quarter": 4})).json()  # fmt: skip
    objection = (await client.post(url(XUANWU, f"/publications/{publication_['id']}/objections"), headers=admin,
                                   json={"member_id": member, "text": "分数有误"})).json()  # fmt: skip
    ids = {
        "entry_id": entry["id"], "proposal_id": proposal["id"], "item_id": item["id"],
        "redemption_id": redemption["id"], "clearing_id": clearing["id"], "publication_id": publication_["id"],
        "objection_id": objection["id"], "member_id": member,
    }  # fmt: skip
    bodies: dict[str, Any] = {
        "/entries/{entry_id:uuid}/reverse": {"reason": "试探"},
        "/proposals/{proposal_id:uuid}/approve": {},
        "/proposals/{proposal_id:uuid}/reject": {},
        "/publications/{publication_id:uuid}/objections": {"member_id": member, "text": "试探"},
        "/objections/{objection_id:uuid}/steps": {"to": "investigating", "note": "试探"},
        "/timebank/items/{item_id:uuid}": {"price": 1},
        "/timebank/redemptions/{redemption_id:uuid}/cancel": {},
    }
    prefix = "/api/v1/t/{tenant_code:str}/points"
    handlers = [
        (method, route.path.removeprefix(prefix))
        for route in pg_app.routes
        if route.path.startswith(prefix)
        for handler in getattr(route, "route_handlers", [])
        for method in sorted(handler.http_methods)
        if method not in {"HEAD", "OPTIONS"}
    ]
    assert len(handlers) >= 30
    probed = 0
    for method, path in handlers:
        body = bodies.get(path, {}) if method in {"POST", "PATCH"} else None
        filled = re.sub(r"\{(\w+):uuid\}", lambda m: ids[m.group(1)], path).replace("{year:int}", str(last_year()))
        response = await client.request(method, url(XUANWU, filled), headers=qh, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text}"
        if ":uuid}" in path:
            response = await client.request(method, url(QINHUAI, filled), headers=qh, json=body)
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
            assert response.json()["error"]["code"].startswith("points."), response.text
            probed += 1
    assert probed >= 10
    # B's lists are empty of A, and A's objects are untouched.
    for path in ("/entries", "/proposals", "/timebank/redemptions", "/timebank/coins"):
        assert (await client.get(url(QINHUAI, path), headers=qh)).json()["total"] == 0
    assert (await client.get(url(QINHUAI, "/timebank/incoming"), headers=qh)).json() == []
    b_items = (await client.get(url(QINHUAI, "/timebank/items"), headers=qh)).json()
    assert item["id"] not in {i["id"] for i in b_items}
    mine = (await client.get(url(XUANWU, f"/members/{member}"), headers=admin)).json()
    assert mine["points"] == "5.00" and mine["coins"]["balance"] == 100 - 20 - 10
    assert (await client.get(url(XUANWU, "/proposals?status=approved"), headers=admin)).json()["total"] == 1


async def test_console_forms_for_secretaries_and_admins(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    member = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "陈桂兰")
    page = f"/t/{XUANWU}/points"
    form = {"member_id": member, "rule_code": "volunteer_hour", "on_date": TODAY.isoformat(), "hours": "6",
            "reason": "社区助老志愿服务", "proxy": "1", "proxy_reason": "本人不使用智能手机"}  # fmt: skip
    missing_consent = await client.post(f"{page}/proposals", headers=xuanwu["secretary"], data=form)
    assert missing_consent.status_code == 409 and "本人同意的方式" in missing_consent.text
    assert "社区助老志愿服务" in missing_consent.text  # what was typed is kept
    done = await client.post(f"{page}/proposals", headers=xuanwu["secretary"], data={**form, "consent": "本人签字同意"})
    assert done.status_code == 200 and "等待单位管理员审核" in done.text
    proposal = (await client.get(url(XUANWU, "/proposals"), headers=xuanwu["admin"])).json()["items"][0]
    listing = await client.get(f"{page}/proposals", headers=xuanwu["admin"])
    assert f"/proposals/{proposal['id']}/approve" in listing.text
    approved = await client.post(f"{page}/proposals/{proposal['id']}/approve", headers=xuanwu["admin"], data={})
    assert approved.status_code == 200 and "积分已记入台账" in approved.text

    item = (await client.get(url(XUANWU, "/timebank/items"), headers=xuanwu["admin"])).json()
    haircut = next(i for i in item if i["name"] == "上门理发")
    bank = await client.get(f"{page}/timebank", headers=xuanwu["secretary"])
    key = re.search(r'name="key" value="([^"]+)"', bank.text)
    assert key is not None
    sale = {"member_id": member, "item_id": haircut["id"], "key": key.group(1), "quantity": "1"}
    first = await client.post(f"{page}/timebank/redeem", headers=xuanwu["secretary"], data=sale)
    assert first.status_code == 200 and "兑换成功，扣除 30 币" in first.text
    double = await client.post(f"{page}/timebank/redeem", headers=xuanwu["secretary"], data=sale)
    assert double.status_code == 200 and "没有重复扣币" in double.text
    too_many = await client.post(
        f"{page}/timebank/redeem", headers=xuanwu["secretary"], data={**sale, "key": str(uuid.uuid4()), "quantity": "5"}
    )
    assert too_many.status_code == 409 and "时间币余额不足" in too_many.text

    mine = await client.get(f"{page}/members/{member}", headers=xuanwu["secretary"])
    assert mine.status_code == 200
    assert "【代录】" in mine.text and "本人签字同意" in mine.text and "30" in mine.text
    bad_item = await client.post(
        f"{page}/timebank/items",
        headers=xuanwu["admin"],
        data={"name": "老年大学课程", "kind": "service", "price": "0"},
    )
    assert bad_item.status_code == 409
    assert (await client.get(f"{page}/members/{uuid.uuid4()}", headers=xuanwu["admin"])).status_code == 404


# --- 我的积分: the person's own page and objections (账号关联) ------------------------------------------------


async def test_a_linked_member_sees_only_their_own_points_and_raises_an_objection(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    from tests.identity.test_sessions_local import form_login
    from tests.test_console_pages import HTML, csrf_of

    tid = xuanwu["tenant_id"]
    year = last_year()
    wu = await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "吴玉梅")
    await make_member(client, xuanwu["admin"], XUANWU, xuanwu["branch"], "钱其他")
    await emit_event(
        pg_platform, tid, "talent_pool.service_completed",
        {"occurred_on": f"{year}-11-02", "ref": "svc-own",
         "credits": [{"member_id": wu, "hours": 3, "role": "expert"}]},
        "talent_pool",
    )  # fmt: skip
    await pg_platform.dispatcher.run_once()
    pub = await client.post(url(XUANWU, "/publications"), headers=xuanwu["admin"], json={"year": year, "quarter": 4})
    assert pub.status_code == 201, pub.text

    # Not linked yet: the page says whom to ask.
    await form_login(client, "xw-member")
    assert (await client.get(f"/t/{XUANWU}/points/mine", headers=HTML)).status_code == 404
    linked = await client.put(
        f"/api/v1/t/{XUANWU}/members/{wu}/account", headers=xuanwu["admin"], json={"username": "xw-member"}
    )
    assert linked.status_code == 200, linked.text

    page = await client.get(f"/t/{XUANWU}/points/mine", headers=HTML)
    assert page.status_code == 200, page.text
    assert "我的积分" in page.text and f"{year} 年第 4 季度 · 全单位" in page.text
    assert "钱其他" not in page.text  # the publication lists others; this page shows the person's own row only
    assert f'href="/t/{XUANWU}/points/mine/"' in page.text  # offered in the menu
    assert (await client.get(f"/t/{XUANWU}/points/ledger", headers=HTML)).status_code == 403
    csrf = csrf_of(page.text)

    short = await client.post(
        f"/t/{XUANWU}/points/mine/objections",
        headers=HTML,
        data={"_csrf_token": csrf, "publication_id": pub.json()["id"], "text": "不对"},
    )
    assert short.status_code == 422 and "至少 5 个字" in short.text and ">不对</textarea>" in short.text
    done = await client.post(
        f"/t/{XUANWU}/points/mine/objections",
        headers=HTML,
        data={"_csrf_token": csrf, "publication_id": pub.json()["id"], "text": "12 月参加社区义诊的服务没有计入"},
    )
    assert done.status_code == 200 and "异议已提交" in done.text and "已提出" in done.text

    # Staff see it, raised by the person, and answer it; the person sees each step.
    listed = await client.get(url(XUANWU, "/objections"), headers=xuanwu["admin"])
    assert listed.status_code == 200, listed.text
    rows = listed.json()["items"] if isinstance(listed.json(), dict) else listed.json()
    assert [(o["member_id"], o["raised_by"]) for o in rows] == [(wu, "xw-member")]
    step = await client.post(
        url(XUANWU, f"/objections/{rows[0]['id']}/steps"),
        headers=xuanwu["admin"],
        json={"to": "investigating", "note": "核对义诊签到表"},
    )
    assert step.status_code == 200, step.text
    again = await client.get(f"/t/{XUANWU}/points/mine", headers=HTML)
    assert "调查核实中" in again.text and "核对义诊签到表" in again.text
