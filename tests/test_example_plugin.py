"""The third-party example plugin ``examples/yinling-visits`` (走访慰问), installed like any plugin (``uv sync``
installs it, editable, from the dev group) and tested through the platform: discovery by entry point, activation
in one county only, its API, its events, its settings down the tree, bad input, and isolation between counties.
"""

from __future__ import annotations

import datetime
import re
import uuid
from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest
import yinling_visits
from litestar import Litestar
from sqlalchemy import func, select
from yinling_visits import service
from yinling_visits.models import ConsumedEvent, VisitPlan, VisitRecord, VisitTally

from core.db.scope import TenantScope
from core.events.models import EventDelivery, OutboxEvent
from core.events.types import DomainEvent, EventContext
from core.identity.accounts import grant_role
from core.identity.models import User
from core.platform import Platform
from core.plugin_host import PluginContext
from core.plugin_host.host import PluginHost
from core.tenancy.tree import load_tree
from tests.support import token

XUANWU, QINHUAI, NANJING = "320102", "320104", "320100"
BASE = "/api/v1/t/{code}/visits"
TODAY = datetime.date.today()


def url(code: str, path: str) -> str:
    return BASE.format(code=code) + path


async def grant(platform: Platform, username: str, code: str, role: str = "visitor") -> None:
    async with platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        tree = await load_tree(session)
        await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")


async def set_state(client: httpx.AsyncClient, headers: dict[str, str], code: str, state: str) -> None:
    response = await client.put(f"/api/v1/t/{code}/plugins/visits", headers=headers, json={"state": state})
    assert response.status_code == 200, response.text


async def nav_plugins(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> list[str]:
    response = await client.get(f"/api/v1/t/{code}/navigation", headers=headers)
    assert response.status_code == 200, response.text
    return [item["path"] for item in response.json() if item["plugin"] == "visits"]


PLAN = {
    "person_name": "张秀英",
    "community": "梅园新村社区",
    "planned_date": (TODAY + datetime.timedelta(days=3)).isoformat(),
    "visitor": "王建国",
    "kind": "生日慰问",
}


def record_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visited_on": TODAY.isoformat(),
        "visitor": "王建国",
        "duration_minutes": 40,
        "findings": "精神很好，腿脚不便，独居。",
        "needs": ["希望社区定期上门量血压", "家中扶手松动需要维修"],
        "follow_up_required": True,
    }
    body.update(overrides)
    return body


@pytest.fixture
async def xuanwu(client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]) -> dict[str, str]:
    """玄武区 has the plugin switched on; its administrator also holds the plugin's ``visitor`` role."""
    headers = await token(client, "xw-admin")
    await set_state(client, headers, XUANWU, "enabled")
    await grant(pg_platform, "xw-admin", XUANWU)
    return headers


# --- discovery -------------------------------------------------------------------------------------


def test_discovered_through_its_entry_point() -> None:
    points = {ep.name: ep.value for ep in entry_points(group="yinling.plugins")}
    assert points.get("visits") == "yinling_visits"

    host = PluginHost.discover()
    assert [f for f in host.failures if "visits" in f.source] == []
    loaded = host.plugins["visits"]
    assert loaded.module is yinling_visits and loaded.source == "entry point visits = yinling_visits"
    assert (loaded.info.title_zh, loaded.info.title_en) == ("走访慰问", "Visits and care")
    assert set(loaded.hooks) == {
        "register_routes",
        "register_models",
        "migrations_dir",
        "register_roles",
        "settings_schema",
        "navigation",
        "register_metrics",
        "on_event",
        "on_tenant_enabled",
        "demo_data",
    }
    visitor = next(r for r in host.roles() if r.name == "visitor")
    assert {"visits.read", "visits.write"} <= visitor.permissions
    assert {m.id for _, m in host.metrics() if m.id.startswith("visits.")} == {
        "visits.visits_made",
        "visits.people_visited",
        "visits.needs_found",
        "visits.follow_ups_done",
    }
    assert host.settings_schemas()["visits"]().model_dump() == {"follow_up_days": 7, "require_photo": False}
    first = next(d for d in host.migration_dirs() if d.parent.name == "yinling_visits") / "0001_visits.py"
    text = first.read_text()
    assert 'branch_labels: str | Sequence[str] | None = ("visits",)' in text
    assert 'depends_on: str | Sequence[str] | None = "0002_plugins_events"' in text


def test_uses_only_the_documented_plugin_api() -> None:
    allowed = (
        "core.plugin_host",
        "core.events.outbox",
        "core.events.types",
        "core.db.base",
        "core.db.rls",
        "core.errors",
        "core.identity.access",
        "core.identity.roles",
    )
    package = next(iter(yinling_visits.__path__))
    imports = set()
    for path in sorted(__import__("pathlib").Path(package).rglob("*.py")):
        imports |= set(re.findall(r"^\s*(?:from|import) (core[\w.]*)", path.read_text(), re.MULTILINE))
    assert imports and all(name.startswith(allowed) for name in imports), imports


# --- one county ------------------------------------------------------------------------------------


async def test_plan_record_follow_up_and_events_in_one_county(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]
) -> None:
    headers = await token(client, "xw-admin")
    await set_state(client, headers, XUANWU, "enabled")

    # A tenant administrator's permissions belong to the core: using visits needs the visitor grant too.
    refused = await client.get(url(XUANWU, "/plans"), headers=headers)
    assert refused.status_code == 403 and "visits.read" in refused.json()["error"]["message"]
    await grant(pg_platform, "xw-admin", XUANWU)

    created = await client.post(url(XUANWU, "/plans"), headers=headers, json=PLAN)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["status"] == "planned" and plan["created_by"] == "xw-admin"
    assert plan["tenant_id"] == world["ids"][XUANWU]

    later = (TODAY + datetime.timedelta(days=5)).isoformat()
    moved = await client.patch(url(XUANWU, f"/plans/{plan['id']}"), headers=headers, json={"planned_date": later})
    assert moved.status_code == 200 and moved.json()["planned_date"] == later
    listed = (await client.get(url(XUANWU, "/plans?status=planned"), headers=headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == plan["id"]

    recorded = await client.post(
        url(XUANWU, "/records"), headers=headers, json=record_body(plan_id=plan["id"], duration_minutes=40)
    )
    assert recorded.status_code == 201, recorded.text
    record = recorded.json()
    # Whom and what kind come from the plan; the follow-up is due after the tenant's follow_up_days (7).
    assert (record["person_name"], record["community"], record["kind"]) == ("张秀英", "梅园新村社区", "生日慰问")
    due = (TODAY + datetime.timedelta(days=7)).isoformat()
    assert record["follow_up_due"] == due
    assert [(f["due_on"], f["done"]) for f in record["follow_ups"]] == [(due, False)]
    plan_now = (await client.get(url(XUANWU, f"/plans/{plan['id']}"), headers=headers)).json()
    assert plan_now["status"] == "done"
    again = await client.post(url(XUANWU, "/records"), headers=headers, json=record_body(plan_id=plan["id"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "visits.plan_closed"
    assert "已走访" in again.json()["error"]["message"]

    # A visit without a plan names whom it was.
    walk_in = await client.post(
        url(XUANWU, "/records"),
        headers=headers,
        json=record_body(
            person_name="李德明", community="玄武门社区", kind="日常走访", needs=["换季衣物"], follow_up_required=False
        ),
    )
    assert walk_in.status_code == 201, walk_in.text
    assert walk_in.json()["follow_ups"] == [] and walk_in.json()["follow_up_due"] is None

    fetched = (await client.get(url(XUANWU, f"/records/{record['id']}"), headers=headers)).json()
    assert fetched["needs"] == ["希望社区定期上门量血压", "家中扶手松动需要维修"]
    assert len(fetched["follow_ups"]) == 1

    # Events: delivered after commit to the consumer; running the dispatcher again changes nothing.
    assert await pg_platform.dispatcher.run_once() > 0
    await pg_platform.dispatcher.run_once()
    stats = (await client.get(url(XUANWU, "/stats"), headers=headers)).json()
    assert (stats["counted_by_events"], stats["minutes_by_events"]) == (2, 80)

    follow_up = record["follow_ups"][0]
    done = await client.patch(
        url(XUANWU, f"/follow-ups/{follow_up['id']}"), headers=headers, json={"done": True, "note": "扶手已修好"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["done"] is True and done.json()["done_by"] == "xw-admin"
    assert done.json()["done_on"] == TODAY.isoformat()
    reopen = await client.patch(url(XUANWU, f"/follow-ups/{follow_up['id']}"), headers=headers, json={"done": False})
    assert reopen.status_code == 409 and reopen.json()["error"]["code"] == "visits.follow_up_done_already"
    assert (await client.get(url(XUANWU, "/follow-ups?done=false"), headers=headers)).json()["total"] == 0

    await pg_platform.dispatcher.run_once()
    assert await pg_platform.dispatcher.run_once() == 0
    stats = (await client.get(url(XUANWU, "/stats"), headers=headers)).json()
    assert stats == {
        "visits_made": 2,
        "people_visited": 2,
        "needs_found": 3,
        "follow_ups_done": 1,
        "follow_ups_open": 0,
        "counted_by_events": 2,
        "minutes_by_events": 80,
    }

    async with pg_platform.database.session(TenantScope.system()) as session:
        events = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.occurred_at))).scalars().all()
        assert [e.name for e in events] == ["visits.visit_recorded", "visits.visit_recorded", "visits.follow_up_done"]
        first = events[0]
        assert first.payload["visit_id"] == record["id"] and first.payload["visitor_username"] == "xw-admin"
        assert first.payload["duration_minutes"] == 40 and first.source == "visits"
        deliveries = (await session.execute(select(EventDelivery))).scalars().all()
        assert {(d.consumer, d.status, d.attempts) for d in deliveries} == {("visits", "delivered", 1)}
        assert len(deliveries) == 3
        assert (await session.execute(select(func.count()).select_from(ConsumedEvent))).scalar_one() == 2

        # Delivered a second time (a replay, a duplicate), the event does not count again.
        tree = await load_tree(session)
        node = tree.nodes[first.tenant_id]
        replay = DomainEvent(
            id=first.id,
            tenant_id=first.tenant_id,
            tenant_code=node.code,
            name=first.name,
            payload=dict(first.payload),
            source=first.source,
            occurred_at=first.occurred_at,
        )
        context = EventContext(plugin="visits", tenant=node, tree=tree, session=session, settings={}, attempt=2)
        await yinling_visits.on_event(event=replay, context=context)
        assert await service.count_visit(session, replay) is False
        tally = await session.get(VisitTally, first.tenant_id)
        assert tally is not None and (tally.visits, tally.minutes) == (2, 80)

    # The events admin view shows the deliveries.
    deliveries_view = (await client.get(f"/api/v1/t/{XUANWU}/events/deliveries", headers=headers)).json()
    assert deliveries_view["total"] == 3 and {d["consumer"] for d in deliveries_view["items"]} == {"visits"}


async def test_absent_where_not_enabled(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, str]
) -> None:
    qinhuai = await token(client, "qh-admin")
    await grant(pg_platform, "qh-admin", QINHUAI)  # the permission is there; the programme is not

    response = await client.get(url(QINHUAI, "/plans"), headers=qinhuai)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "plugin.inactive" and "走访慰问" in error["message"] and "320104" in error["message"]
    english = await client.get(url(QINHUAI, "/plans?lang=en"), headers=qinhuai)
    assert "Visits and care" in english.json()["error"]["message"]
    created = await client.post(url(QINHUAI, "/plans"), headers=qinhuai, json=PLAN)
    assert created.status_code == 404 and created.json()["error"]["code"] == "plugin.inactive"

    assert await nav_plugins(client, qinhuai, QINHUAI) == []
    assert await nav_plugins(client, xuanwu, XUANWU) == [
        "visits/plans",
        "visits/records",
        "visits/follow-ups",
        "visits/stats",
    ]
    # The plugin's navigation follows the permission too: a member of 玄武区 without the role sees none of it.
    member = await token(client, "xw-member")
    assert await nav_plugins(client, member, XUANWU) == []

    states = (await client.get(f"/api/v1/t/{QINHUAI}/plugins", headers=qinhuai)).json()["items"]
    visits = next(s for s in states if s["name"] == "visits")
    assert visits["active"] is False and visits["reason_zh"] == "未开通"


async def test_disabled_answers_404_and_data_returns_when_enabled_again(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, str]
) -> None:
    plan = (await client.post(url(XUANWU, "/plans"), headers=xuanwu, json=PLAN)).json()

    await set_state(client, xuanwu, XUANWU, "disabled")
    gone = await client.get(url(XUANWU, f"/plans/{plan['id']}"), headers=xuanwu)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "plugin.inactive"
    assert "已关闭" in gone.json()["error"]["message"]
    assert await nav_plugins(client, xuanwu, XUANWU) == []
    async with pg_platform.database.session(TenantScope.system()) as session:
        assert (await session.execute(select(func.count()).select_from(VisitPlan))).scalar_one() == 1

    await set_state(client, xuanwu, XUANWU, "enabled")
    back = await client.get(url(XUANWU, f"/plans/{plan['id']}"), headers=xuanwu)
    assert back.status_code == 200 and back.json() == plan
    async with pg_platform.database.session(TenantScope.system()) as session:
        # on_tenant_enabled ran twice; the tenant still has one tally row.
        assert (await session.execute(select(func.count()).select_from(VisitTally))).scalar_one() == 1


async def test_settings_inherit_down_the_tree(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, str]
) -> None:
    nanjing = await token(client, "nj-admin")
    bad = await client.put(
        f"/api/v1/t/{NANJING}/plugins/visits/settings", headers=nanjing, json={"values": {"follow_up_days": 0}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "follow_up_days"
    assert "不能小于 1" in bad.json()["error"]["message"]

    city = await client.put(
        f"/api/v1/t/{NANJING}/plugins/visits/settings", headers=nanjing, json={"values": {"follow_up_days": 3}}
    )
    assert city.status_code == 200, city.text
    effective = (await client.get(f"/api/v1/t/{XUANWU}/plugins/visits/settings", headers=xuanwu)).json()
    assert effective["values"] == {"follow_up_days": 3, "require_photo": False}
    assert effective["origin"] == {"follow_up_days": NANJING, "require_photo": "default"}

    record = (await client.post(url(XUANWU, "/records"), headers=xuanwu, json=record_body(**_walk_in()))).json()
    assert record["follow_up_due"] == (TODAY + datetime.timedelta(days=3)).isoformat()

    own = await client.put(
        f"/api/v1/t/{XUANWU}/plugins/visits/settings", headers=xuanwu, json={"values": {"require_photo": True}}
    )
    assert own.status_code == 200, own.text
    no_photo = await client.post(url(XUANWU, "/records"), headers=xuanwu, json=record_body(**_walk_in()))
    assert no_photo.status_code == 422
    assert no_photo.json()["error"]["code"] == "visits.photo_required"
    assert no_photo.json()["error"]["field"] == "photo_file_id" and "照片" in no_photo.json()["error"]["message"]
    with_photo = await client.post(
        url(XUANWU, "/records"), headers=xuanwu, json=record_body(**_walk_in(), photo_file_id=str(uuid.uuid4()))
    )
    assert with_photo.status_code == 201, with_photo.text


def _walk_in() -> dict[str, str]:
    return {"person_name": "周淑珍", "community": "兰园社区", "kind": "日常走访"}


async def test_bad_input_is_refused_with_chinese_field_messages(
    client: httpx.AsyncClient, xuanwu: dict[str, str]
) -> None:
    def problems(response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation.failed" and error["message"].startswith("提交的内容有误")
        return {d["field"]: d["message"] for d in error["details"]}

    plan = problems(
        await client.post(
            url(XUANWU, "/plans"),
            headers=xuanwu,
            json={"community": " ", "planned_date": "明天", "visitor": "王建国", "kind": "看望", "extra": 1},
        )
    )
    assert plan["person_name"] == "必填"
    assert plan["community"] == "至少需要 1 个字符"
    assert plan["planned_date"].startswith("日期格式不正确")
    assert plan["kind"].startswith("取值只能是") and "节日慰问" in plan["kind"]
    assert plan["extra"] == "不允许的字段"

    future = (TODAY + datetime.timedelta(days=1)).isoformat()
    record = problems(
        await client.post(
            url(XUANWU, "/records"),
            headers=xuanwu,
            json=record_body(
                visited_on=future, duration_minutes=0, follow_up_due=TODAY.isoformat(), needs=["", "买药"]
            ),
        )
    )
    assert record["visited_on"] == "走访日期不能晚于今天"
    assert record["duration_minutes"] == "不能小于 1"
    assert record["needs.0"] == "至少需要 1 个字符"

    early = problems(
        await client.post(
            url(XUANWU, "/records"),
            headers=xuanwu,
            json=record_body(**_walk_in(), follow_up_due=(TODAY - datetime.timedelta(days=1)).isoformat()),
        )
    )
    assert early == {"follow_up_due": "回访期限不能早于走访日期"}

    nobody = await client.post(url(XUANWU, "/records"), headers=xuanwu, json=record_body())
    assert nobody.status_code == 422
    assert nobody.json()["error"]["field"] == "person_name"
    assert nobody.json()["error"]["details"] == [{"field": "person_name", "message": "未关联走访计划时必填"}]

    unknown_plan = await client.post(
        url(XUANWU, "/records"), headers=xuanwu, json=record_body(plan_id=str(uuid.uuid4()))
    )
    assert unknown_plan.status_code == 404 and unknown_plan.json()["error"]["message"] == "找不到该走访计划"
    bad_id = await client.get(url(XUANWU, "/plans/not-a-uuid"), headers=xuanwu)
    assert bad_id.status_code in (400, 404)

    # Nothing half-written stayed behind.
    assert (await client.get(url(XUANWU, "/records"), headers=xuanwu)).json()["total"] == 0


async def test_demo_data_seeds_once(pg_platform: Platform, world: dict[str, Any]) -> None:
    async with pg_platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        context = PluginContext(
            plugin="visits", tenant=tree.get(XUANWU), tree=tree, session=session, settings={"follow_up_days": 5}
        )
        await yinling_visits.demo_data(context=context)
        await yinling_visits.demo_data(context=context)  # `yinling demo` may run again
        plans = (await session.execute(select(VisitPlan))).scalars().all()
        records = (await session.execute(select(VisitRecord))).scalars().all()
        assert len(plans) == 4 and len(records) == 3
        assert {p.tenant_id for p in plans} == {world["ids"][XUANWU]}
        assert "张秀英" in {p.person_name for p in plans}
        due = {r.person_name: r.follow_up_due for r in records}
        assert due["孙志强"] == TODAY - datetime.timedelta(days=2) + datetime.timedelta(days=5)
        events = (await session.execute(select(func.count()).select_from(OutboxEvent))).scalar_one()
        assert events == 3


# --- isolation -------------------------------------------------------------------------------------

VALID_BODIES = {
    "/plans": PLAN,
    "/plans/{plan_id:uuid}": {"note": "改期"},
    "/records": record_body(**_walk_in()),
    "/follow-ups/{follow_up_id:uuid}": {"done": True},
}


async def test_county_b_never_sees_or_changes_county_a(
    pg_app: Litestar, client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, str]
) -> None:
    """The leakage suite's two passes over every route of the plugin, with the plugin enabled and the role
    granted in both counties, so each request reaches the handler instead of stopping at a guard."""
    qinhuai = await token(client, "qh-admin")
    await set_state(client, qinhuai, QINHUAI, "enabled")
    await grant(pg_platform, "qh-admin", QINHUAI)

    plan = (await client.post(url(XUANWU, "/plans"), headers=xuanwu, json=PLAN)).json()
    record = (await client.post(url(XUANWU, "/records"), headers=xuanwu, json=record_body(plan_id=plan["id"]))).json()
    a_ids = {"plan_id": plan["id"], "record_id": record["id"], "follow_up_id": record["follow_ups"][0]["id"]}

    prefix = "/api/v1/t/{tenant_code:str}/visits"
    handlers = [
        (method, route.path.removeprefix(prefix) or "/")
        for route in pg_app.routes
        if route.path.startswith(prefix)
        for handler in getattr(route, "route_handlers", [])
        for method in sorted(handler.http_methods)
        if method not in {"HEAD", "OPTIONS"}
    ]
    assert len(handlers) == 10
    for method, path in handlers:
        body = VALID_BODIES.get(path) if method in {"POST", "PATCH"} else None
        # B names A's county: refused by the permission guard (no grant there).
        response = await client.request(method, url(XUANWU, _fill(path, a_ids)), headers=qinhuai, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text}"
        # B in its own county names A's objects: they do not exist for B.
        if ":uuid}" in path:
            response = await client.request(method, url(QINHUAI, _fill(path, a_ids)), headers=qinhuai, json=body)
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
            assert response.json()["error"]["code"].startswith("visits.")

    # Nor can B record a visit against A's plan, and B's lists and figures are empty.
    against = await client.post(url(QINHUAI, "/records"), headers=qinhuai, json=record_body(plan_id=plan["id"]))
    assert against.status_code == 404 and against.json()["error"]["code"] == "visits.plan_not_found"
    for path in ("/plans", "/records", "/follow-ups"):
        assert (await client.get(url(QINHUAI, path), headers=qinhuai)).json() == {"items": [], "total": 0}
    assert set((await client.get(url(QINHUAI, "/stats"), headers=qinhuai)).json().values()) == {0}

    # A's objects are untouched.
    a_plan = (await client.get(url(XUANWU, f"/plans/{plan['id']}"), headers=xuanwu)).json()
    assert a_plan["status"] == "done" and a_plan["note"] == ""
    a_follow_ups = (await client.get(url(XUANWU, "/follow-ups"), headers=xuanwu)).json()["items"]
    assert [f["done"] for f in a_follow_ups] == [False]

    # The city reads both counties when the programme is on there and the role covers its subtree.
    nanjing = await token(client, "nj-admin")
    await set_state(client, nanjing, NANJING, "enabled")
    await grant(pg_platform, "nj-admin", NANJING)
    await client.post(url(QINHUAI, "/plans"), headers=qinhuai, json={**PLAN, "person_name": "陈桂兰"})
    city = (await client.get(url(NANJING, "/plans"), headers=nanjing)).json()
    assert sorted(p["person_name"] for p in city["items"]) == ["张秀英", "陈桂兰"]


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):uuid\}", lambda m: ids[m.group(1)], path)
