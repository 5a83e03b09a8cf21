"""The education plugin (关心下一代) through the platform: stations, counsellors, activities with their facts and
events, edits and withdrawals, photos, pairings behind the tenant's setting, personal data, and isolation."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

import plugins.education as education
from core.audit.models import AuditEntry
from core.db.scope import TenantScope
from core.events.models import OutboxEvent
from core.platform import Platform
from core.plugin_host.host import PluginHost
from core.storage.models import StoredFile
from tests.plugins.education.helpers import (
    NANJING,
    PNG,
    QINHUAI,
    TODAY,
    XUANWU,
    activity_body,
    assert_aggregates_match_recount,
    counsellor,
    days_ago,
    grant,
    make_member,
    put_settings,
    set_state,
    station,
    uid,
    url,
)
from tests.support import token


@pytest.fixture
async def xuanwu(client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]) -> dict[str, str]:
    """玄武区 has the programme on; its administrator also holds the ``education_officer`` role."""
    headers = await token(client, "xw-admin")
    await set_state(client, headers, XUANWU, "enabled")
    await grant(pg_platform, "xw-admin", XUANWU)
    return headers


async def events(platform: Platform) -> list[OutboxEvent]:
    async with platform.database.session(TenantScope.system()) as session:
        rows = (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.source == "education").order_by(OutboxEvent.occurred_at)
            )
        ).scalars()
        return list(rows)


# --- declaration ---------------------------------------------------------------------------------------------


def test_loaded_with_its_hooks_roles_metrics_and_settings() -> None:
    host = PluginHost.discover()
    assert [f for f in host.failures if "education" in f.source] == []
    loaded = host.plugins["education"]
    assert loaded.module is education
    assert {"register_routes", "register_models", "migrations_dir", "register_roles", "settings_schema"} <= set(
        loaded.hooks
    )
    assert {"register_metrics", "metric_facts", "member_panel"} <= set(loaded.hooks)
    roles = {r.name: r for r in host.roles()}
    assert "education.pairing_reveal" in roles["education_officer"].permissions
    assert "education.pairing" not in roles["counsellor"].permissions
    metrics = {m.id: m for _, m in host.metrics() if m.id.startswith("education.")}
    assert metrics["education.stations"].aggregation == "level"
    assert metrics["education.pairings"].aggregation == "level"
    for category in ("old_cadre", "old_soldier", "old_expert", "old_teacher", "old_model"):
        assert metrics[f"education.active_counsellors.{category}"].aggregation == "distinct_count"
    assert metrics["education.students_reached"].unit_zh == "人次"
    assert {f"education.activities.{k}" for k in ("red_history", "tutoring", "internet_cafe")} <= set(metrics)
    assert host.settings_schemas()["education"]().model_dump() == {
        "allow_volunteers": True,
        "pairing_enabled": False,
        "max_pairing_months": 24,
    }


# --- stations, counsellors, activities, events ---------------------------------------------------------------


async def test_stations_counsellors_and_activities_with_events_and_facts(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    tenant_id = world["ids"][XUANWU]
    s = await station(client, xuanwu)
    assert s["contact_phone"] == "138****5678" and s["status"] == "open" and s["place_kind_zh"] == "社区"
    listed = (await client.get(url(XUANWU, "/stations"), headers=xuanwu)).json()
    assert listed["total"] == 1 and listed["items"][0]["contact_phone"] == "138****5678"

    member_id = await make_member(pg_platform, tenant_id, "王建国")
    cadre = await counsellor(
        client, xuanwu, member_id=member_id, category="old_cadre", subjects=["党史"], station_ids=[s["id"]]
    )
    assert cadre["name"] == "王建国" and cadre["is_member"] and cadre["station_ids"] == [s["id"]]
    teacher = await counsellor(
        client, xuanwu, volunteer_name="李桂芳", volunteer_phone="13900001111", category="old_teacher",
        subjects=["数学", "语文"], station_ids=[s["id"]],
    )  # fmt: skip
    assert teacher["name"] == "李*芳" and teacher["phone"] == "139****1111" and not teacher["is_member"]
    by_station = (await client.get(url(XUANWU, f"/counsellors?station_id={s['id']}"), headers=xuanwu)).json()
    assert by_station["total"] == 2
    teachers = (await client.get(url(XUANWU, "/counsellors?category=old_teacher"), headers=xuanwu)).json()
    assert [c["id"] for c in teachers["items"]] == [teacher["id"]]
    again = await client.post(
        url(XUANWU, "/counsellors"), headers=xuanwu, json={"member_id": member_id, "category": "old_model"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "education.already_counsellor"

    recorded = await client.post(
        url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(s["id"], [cadre["id"], teacher["id"]])
    )
    assert recorded.status_code == 201, recorded.text
    activity = recorded.json()
    assert activity["revision"] == 1 and activity["kind_zh"] == "红色教育课" and activity["station_name"] == s["name"]

    # Facts: one activity, 45 students (人次), two active counsellors (one per category), 3 hours of service.
    sums, distinct = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    month = datetime.date.fromisoformat(activity["held_on"]).replace(day=1)
    assert sums[("education.activities", month)] == 1
    assert sums[("education.activities.red_history", month)] == 1
    assert sums[("education.students_reached", month)] == 45
    assert sums[("education.counsellor_hours", month)] == 3
    held = datetime.date.fromisoformat(activity["held_on"])
    period = f"M{held.year}-{held.month:02d}"
    assert distinct[("education.active_counsellors", period)] == 2
    assert distinct[("education.active_counsellors.old_cadre", period)] == 1
    assert distinct[("education.active_counsellors.old_teacher", period)] == 1

    # Correct it: fewer students, tutoring now, only the member. The old facts go, the new ones count.
    edited = await client.put(
        url(XUANWU, f"/activities/{activity['id']}"),
        headers=xuanwu,
        json=activity_body(s["id"], [cadre["id"]], kind="tutoring", students=30, duration_minutes=120),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["revision"] == 2 and edited.json()["counsellor_ids"] == [cadre["id"]]
    sums, distinct = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    assert ("education.activities.red_history", month) not in sums
    assert sums[("education.activities.tutoring", month)] == 1 and sums[("education.students_reached", month)] == 30
    assert sums[("education.counsellor_hours", month)] == 2
    assert ("education.active_counsellors.old_teacher", period) not in distinct

    withdrawn = await client.post(
        url(XUANWU, f"/activities/{activity['id']}/withdraw"), headers=xuanwu, json={"reason": "重复登记"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    sums, distinct = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    assert ("education.activities", month) not in sums and not distinct
    twice = await client.post(
        url(XUANWU, f"/activities/{activity['id']}/withdraw"), headers=xuanwu, json={"reason": "重复登记"}
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "education.activity_withdrawn"
    locked = await client.put(
        url(XUANWU, f"/activities/{activity['id']}"), headers=xuanwu, json=activity_body(s["id"], [cadre["id"]])
    )
    assert locked.status_code == 409 and "重复登记" in locked.json()["error"]["message"]

    # Events: recorded r1 → revoked r1 + recorded r2 → revoked r2; only members are credited, with hours.
    emitted = [(e.name, e.payload) for e in await events(pg_platform)]
    assert [name for name, _ in emitted] == [
        "education.activity_recorded",
        "education.activity_revoked",
        "education.activity_recorded",
        "education.activity_revoked",
    ]
    first, revoked1, second, revoked2 = (payload for _, payload in emitted)
    assert first["ref"] == f"{activity['id']}:1" and first["occurred_on"] == activity["held_on"]
    assert first["credits"] == [{"member_id": member_id, "hours": 1.5, "role": "counsellor"}]
    assert first["volunteers"] == 1
    assert revoked1 == {**first, "revokes": first["ref"]}
    assert second["ref"] == f"{activity['id']}:2" and second["credits"][0]["hours"] == 2.0
    assert revoked2["revokes"] == second["ref"] and revoked2["credits"] == second["credits"]

    # The member's page shows the counsellor panel.
    async with pg_platform.database.session(TenantScope.system()) as session:
        from core.plugin_host import PluginContext

        tree = world["tree"]
        context = PluginContext(plugin="education", tenant=tree.get(XUANWU), tree=tree, session=session, settings={})
        panel = await education.member_panel(context=context, member_id=member_id)
        assert panel is not None and panel.items[0]["value"] == "老干部"
        assert panel.items[1]["value"] == "0"  # the only activity was withdrawn


async def test_station_level_and_late_entries(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    tenant_id = world["ids"][XUANWU]
    a = await station(client, xuanwu, opened_on=days_ago(200))
    b = await station(client, xuanwu, name="孝陵卫小学辅导站", place_kind="school", opened_on=days_ago(100))
    c = await station(client, xuanwu, name="紫金村辅导站", place_kind="village", opened_on=days_ago(40))
    member_id = await make_member(pg_platform, tenant_id, "赵永福")
    soldier = await counsellor(client, xuanwu, member_id=member_id, category="old_soldier")

    suspended = await client.post(
        url(XUANWU, f"/stations/{b['id']}/status"),
        headers=xuanwu,
        json={"status": "suspended", "effective_on": days_ago(30)},
    )
    assert suspended.status_code == 200 and suspended.json()["status_zh"] == "暂停"
    closed = await client.post(
        url(XUANWU, f"/stations/{b['id']}/status"),
        headers=xuanwu,
        json={"status": "closed", "effective_on": days_ago(20)},
    )
    assert closed.status_code == 200
    before = await client.post(
        url(XUANWU, f"/stations/{c['id']}/status"),
        headers=xuanwu,
        json={"status": "closed", "effective_on": days_ago(50)},
    )
    assert before.status_code == 422 and before.json()["error"]["code"] == "education.status_date"
    same = await client.post(url(XUANWU, f"/stations/{a['id']}/status"), headers=xuanwu, json={"status": "open"})
    assert same.status_code == 409
    open_now = (await client.get(url(XUANWU, "/stations?status=open"), headers=xuanwu)).json()
    assert open_now["total"] == 2

    # A late entry at the suspended station, before it was suspended, is accepted; after, refused.
    late = await client.post(
        url(XUANWU, "/activities"),
        headers=xuanwu,
        json=activity_body(b["id"], [soldier["id"]], held_on=days_ago(60), kind="safety", students=120),
    )
    assert late.status_code == 201, late.text
    refused = await client.post(
        url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(b["id"], [soldier["id"]], held_on=days_ago(10))
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "education.station_not_open"
    assert "已关闭" in refused.json()["error"]["message"]

    # Reopen; move the late activity to another month and station by an edit.
    reopened = await client.post(
        url(XUANWU, f"/stations/{b['id']}/status"), headers=xuanwu, json={"status": "open", "effective_on": days_ago(5)}
    )
    assert reopened.status_code == 200
    moved = await client.put(
        url(XUANWU, f"/activities/{late.json()['id']}"),
        headers=xuanwu,
        json=activity_body(a["id"], [soldier["id"]], held_on=days_ago(150), kind="internet_cafe", students=0),
    )
    assert moved.status_code == 200, moved.text

    sums, _ = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    # LEVEL: the stock up to today is the sum of every station fact: 3 opened, 1 closed (suspend -1,
    # close 0), reopened +1 → 3 open stations.
    level = sum(v for (metric, _month), v in sums.items() if metric == "education.stations")
    assert level == 3
    assert sum(v for (metric, _m), v in sums.items() if metric == "education.students_reached") == 0
    assert sum(v for (metric, _m), v in sums.items() if metric == "education.activities.internet_cafe") == 1


async def test_pairing_only_where_switched_on_minimal_encrypted_and_audited(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    tenant_id = world["ids"][XUANWU]
    s = await station(client, xuanwu)
    teacher = await counsellor(client, xuanwu, volunteer_name="陈淑华", category="old_teacher")
    body = {
        "counsellor_id": teacher["id"],
        "station_id": s["id"],
        "student_alias": "小明",
        "student_school": "南京市梅园中学",
        "student_grade": "初二",
        "guardian_name": "张丽",
        "guardian_relation": "母亲",
        "consent_on": days_ago(3),
        "consent_record": "书面同意书已存档，编号 2026-017",
        "started_on": days_ago(2),
        "ends_on": (TODAY + datetime.timedelta(days=300)).isoformat(),
        "goal": "数学补差",
    }
    off = await client.post(url(XUANWU, "/pairings"), headers=xuanwu, json=body)
    assert off.status_code == 403 and off.json()["error"]["code"] == "education.pairing_disabled"
    assert "未开启结对帮扶" in off.json()["error"]["message"]

    await put_settings(client, xuanwu, XUANWU, pairing_enabled=True)
    id_number = await client.post(
        url(XUANWU, "/pairings"), headers=xuanwu, json={**body, "id_number": "320102201001011234"}
    )
    assert id_number.status_code == 422
    assert {d["field"] for d in id_number.json()["error"]["details"]} == {"id_number"}
    too_long = await client.post(
        url(XUANWU, "/pairings"),
        headers=xuanwu,
        json={**body, "ends_on": (TODAY + datetime.timedelta(days=900)).isoformat()},
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "education.pairing_too_long"
    no_consent_first = await client.post(
        url(XUANWU, "/pairings"),
        headers=xuanwu,
        json={**body, "consent_on": TODAY.isoformat(), "started_on": days_ago(2)},
    )
    assert no_consent_first.status_code == 422

    created = await client.post(url(XUANWU, "/pairings"), headers=xuanwu, json=body)
    assert created.status_code == 201, created.text
    pairing = created.json()
    assert pairing["student_alias"] == "小*" and pairing["student_school"] == "南京**"
    assert "guardian_name" not in pairing and "consent_record" not in pairing

    # At rest the student's data is ciphertext.
    async with pg_platform.database.session(TenantScope.system()) as session:
        raw = (
            await session.execute(text("SELECT student_alias, student_school, guardian_name FROM education_pairing"))
        ).one()
        assert all(value.startswith("gAAAA") for value in raw) and "小明" not in "".join(raw)

    # A counsellor (no pairing permission) sees no pairings; the officer reveals, and it is audited.
    member = await token(client, "xw-member")
    await grant(pg_platform, "xw-member", XUANWU, role="counsellor")
    assert (await client.get(url(XUANWU, "/pairings"), headers=member)).status_code == 403
    assert (
        await client.post(url(XUANWU, f"/pairings/{pairing['id']}/reveal"), headers=member, json={"reason": "联系家长"})
    ).status_code == 403
    revealed = await client.post(
        url(XUANWU, f"/pairings/{pairing['id']}/reveal"), headers=xuanwu, json={"reason": "联系家长"}
    )
    assert revealed.status_code == 200 and revealed.json()["student_alias"] == "小明"
    assert revealed.json()["guardian_name"] == "张丽"
    async with pg_platform.database.session(TenantScope.system()) as session:
        reveals = (
            (
                await session.execute(
                    select(AuditEntry).where(
                        AuditEntry.action == "reveal", AuditEntry.entity_type == "education_pairing"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(reveals) == 1 and reveals[0].after["reason"] == "联系家长"
        assert reveals[0].actor_name == "xw-admin"

    # Facts: in force from its start until its end date (a fact dated ahead); ended early, it moves.
    sums, _ = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    assert sum(v for (m, month), v in sums.items() if m == "education.pairings" and month <= TODAY) == 1
    ended = await client.post(url(XUANWU, f"/pairings/{pairing['id']}/end"), headers=xuanwu, json={"note": "学生转学"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    sums, _ = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    assert sum(v for (m, _month), v in sums.items() if m == "education.pairings") == 0
    assert sum(v for (m, _month), v in sums.items() if m == "education.pairings_started") == 1
    again = await client.post(url(XUANWU, f"/pairings/{pairing['id']}/end"), headers=xuanwu, json={})
    assert again.status_code == 409

    # Switched off again: existing pairings stay readable, new ones are refused.
    await put_settings(client, xuanwu, XUANWU, pairing_enabled=False)
    assert (await client.get(url(XUANWU, "/pairings"), headers=xuanwu)).json()["total"] == 1
    assert (await client.post(url(XUANWU, "/pairings"), headers=xuanwu, json=body)).status_code == 403


async def test_personal_data_of_stations_and_volunteers_masked_and_reveals_audited(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    s = await station(client, xuanwu)
    volunteer = await counsellor(
        client, xuanwu, volunteer_name="周德明", volunteer_phone="13700002222", category="old_model"
    )
    got = (await client.get(url(XUANWU, f"/counsellors/{volunteer['id']}"), headers=xuanwu)).json()
    assert got["name"] == "周*明" and got["phone"] == "137****2222"

    member = await token(client, "xw-member")
    await grant(pg_platform, "xw-member", XUANWU, role="counsellor")
    assert (await client.get(url(XUANWU, "/stations"), headers=member)).status_code == 200
    denied = await client.post(url(XUANWU, f"/stations/{s['id']}/reveal"), headers=member, json={"reason": "联系"})
    assert denied.status_code == 403

    phone = await client.post(url(XUANWU, f"/stations/{s['id']}/reveal"), headers=xuanwu, json={"reason": "安排活动"})
    assert phone.status_code == 200 and phone.json() == {"contact_phone": "13812345678"}
    person = await client.post(
        url(XUANWU, f"/counsellors/{volunteer['id']}/reveal"), headers=xuanwu, json={"reason": "发放证书"}
    )
    assert person.json() == {"name": "周德明", "phone": "13700002222"}
    async with pg_platform.database.session(TenantScope.system()) as session:
        reveals = (
            await session.execute(
                select(AuditEntry.entity_type, AuditEntry.entity_id).where(AuditEntry.action == "reveal")
            )
        ).all()
        assert sorted(t for t, _ in reveals) == ["education_counsellor", "education_station"]
        # The ordinary audit trail of the writes never holds the phone or the volunteer's name.
        images = (
            await session.execute(
                select(AuditEntry.after).where(
                    AuditEntry.entity_type.in_(["education_station", "education_counsellor"])
                )
            )
        ).scalars()
        dumped = " ".join(str(i) for i in images)
        assert "13812345678" not in dumped and "周德明" not in dumped and "13700002222" not in dumped
        raw = (await session.execute(text("SELECT contact_phone FROM education_station"))).scalar_one()
        assert raw.startswith("gAAAA")

    # Volunteers switched off: members only.
    await put_settings(client, xuanwu, XUANWU, allow_volunteers=False)
    refused = await client.post(
        url(XUANWU, "/counsellors"), headers=xuanwu, json={"volunteer_name": "吴玉梅", "category": "old_teacher"}
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "education.volunteers_not_allowed"


async def test_photos_use_the_storage_service(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    s = await station(client, xuanwu)
    member_id = await make_member(pg_platform, world["ids"][XUANWU], "孙志强")
    c = await counsellor(client, xuanwu, member_id=member_id, category="old_expert")
    a = (await client.post(url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(s["id"], [c["id"]]))).json()

    up = await client.post(
        url(XUANWU, f"/activities/{a['id']}/photos"),
        headers=xuanwu,
        files={"file": ("活动.png", PNG, "image/png")},
        data={"caption": "同学们认真听讲"},
    )
    assert up.status_code == 201, up.text
    photo = up.json()
    assert photo["content_type"] == "image/png" and photo["url"] and photo["caption"] == "同学们认真听讲"
    bad = await client.post(
        url(XUANWU, f"/activities/{a['id']}/photos"),
        headers=xuanwu,
        files={"file": ("a.png", b"%PDF-1.4\n...", "image/png")},
    )
    assert bad.status_code == 415
    missing = await client.post(url(XUANWU, f"/activities/{a['id']}/photos"), headers=xuanwu, data={"caption": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "education.photo_missing"

    detail = (await client.get(url(XUANWU, f"/activities/{a['id']}"), headers=xuanwu)).json()
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]
    link = (await client.get(url(XUANWU, f"/activities/{a['id']}/photos/{photo['id']}"), headers=xuanwu)).json()
    assert link["url"] and link["file_id"] == photo["file_id"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        file_row = await session.get(StoredFile, (world["ids"][XUANWU], uuid.UUID(photo["file_id"])))
        assert file_row is not None and file_row.folder == "education/activities"
        assert file_row.key.startswith(f"t/{XUANWU}/education/activities/")
    stored = await pg_platform.storage.get(file_row.key)
    assert stored == PNG
    gone = await client.delete(url(XUANWU, f"/activities/{a['id']}/photos/{photo['id']}"), headers=xuanwu)
    assert gone.status_code == 204
    assert (
        await client.get(url(XUANWU, f"/activities/{a['id']}/photos/{photo['id']}"), headers=xuanwu)
    ).status_code == 404


async def test_bad_input_gets_chinese_messages_and_nothing_half_written(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    s = await station(client, xuanwu)
    c = await counsellor(client, xuanwu, volunteer_name="钱学文", category="old_expert")
    future = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = await client.post(
        url(XUANWU, "/activities"),
        headers=xuanwu,
        json=activity_body(s["id"], [c["id"], c["id"]], held_on=future, duration_minutes=0, students=-1, kind="讲座"),
    )
    assert response.status_code == 422
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert details["held_on"] == "活动日期不能晚于今天"
    assert details["counsellor_ids"] == "同一位辅导员不能重复填写"
    assert details["duration_minutes"] == "不能小于 1" and details["students"] == "不能小于 0"
    assert details["kind"].startswith("取值只能是")

    both = await client.post(
        url(XUANWU, "/counsellors"),
        headers=xuanwu,
        json={"category": "old_cadre", "volunteer_name": "x", "member_id": uid()},
    )
    assert both.status_code == 422 and "二选一" in both.text
    unknown_member = await client.post(
        url(XUANWU, "/counsellors"), headers=xuanwu, json={"category": "old_cadre", "member_id": uid()}
    )
    assert unknown_member.status_code == 404 and unknown_member.json()["error"]["code"] == "education.member_not_found"
    unknown = await client.post(
        url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(s["id"], [c["id"], uid()])
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "找不到该辅导员"

    early = await client.post(
        url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(s["id"], [c["id"]], held_on=days_ago(400))
    )
    assert early.status_code == 422 and early.json()["error"]["code"] == "education.before_opening"
    member_c = await counsellor(
        client, xuanwu, member_id=await make_member(pg_platform, world["ids"][XUANWU], "冯德"), category="old_cadre"
    )
    phone = await client.patch(
        url(XUANWU, f"/counsellors/{member_c['id']}"), headers=xuanwu, json={"volunteer_phone": "13800000000"}
    )
    assert phone.status_code == 422 and phone.json()["error"]["code"] == "education.member_phone"

    # A counsellor who stopped serving cannot be put on a new activity.
    stopped = await client.patch(url(XUANWU, f"/counsellors/{c['id']}"), headers=xuanwu, json={"status": "inactive"})
    assert stopped.status_code == 200
    inactive = await client.post(url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(s["id"], [c["id"]]))
    assert inactive.status_code == 409 and "钱*文" in inactive.json()["error"]["message"]

    assert (await client.get(url(XUANWU, "/activities"), headers=xuanwu)).json()["total"] == 0
    assert await events(pg_platform) == []
    sums, distinct = await assert_aggregates_match_recount(pg_platform, XUANWU, world["ids"][XUANWU])
    assert {metric for metric, _month in sums} == {"education.stations"} and distinct == {}


async def test_concurrent_edits_and_withdrawals_keep_the_aggregates_right(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    tenant_id = world["ids"][XUANWU]
    s = await station(client, xuanwu)
    ids = []
    for name, category in (("甲老", "old_cadre"), ("乙老", "old_soldier"), ("丙老", "old_teacher")):
        ids.append(
            (
                await counsellor(
                    client, xuanwu, member_id=await make_member(pg_platform, tenant_id, name), category=category
                )
            )["id"]
        )
    a = (await client.post(url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(s["id"], ids))).json()

    edits = [
        client.put(
            url(XUANWU, f"/activities/{a['id']}"),
            headers=xuanwu,
            json=activity_body(s["id"], ids[: 1 + i % 3], students=10 * (i + 1), held_on=days_ago(i * 20)),
        )
        for i in range(4)
    ]
    answers = await asyncio.gather(*edits)
    assert sorted(r.status_code for r in answers) == [200] * 4
    await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)

    withdrawals = await asyncio.gather(
        *(
            client.post(url(XUANWU, f"/activities/{a['id']}/withdraw"), headers=xuanwu, json={"reason": "误录"})
            for _ in range(3)
        )
    )
    assert sorted(r.status_code for r in withdrawals) == [200, 409, 409]
    sums, distinct = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    assert [k for k in sums if k[0] != "education.stations"] == [] and distinct == {}
    names = [e.name for e in await events(pg_platform)]
    assert names.count("education.activity_recorded") == 5 and names.count("education.activity_revoked") == 5


# --- where it is not, and between counties -------------------------------------------------------------------


async def test_absent_where_not_enabled_and_counties_apart(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    qinhuai = await token(client, "qh-admin")
    await grant(pg_platform, "qh-admin", QINHUAI)
    inactive = await client.get(url(QINHUAI, "/stations"), headers=qinhuai)
    assert inactive.status_code == 404 and inactive.json()["error"]["code"] == "plugin.inactive"
    assert "关心下一代" in inactive.json()["error"]["message"]

    await set_state(client, qinhuai, QINHUAI, "enabled")
    theirs = await station(client, qinhuai, QINHUAI, name="夫子庙小学辅导站", place_kind="school")
    their_c = await counsellor(client, qinhuai, QINHUAI, volunteer_name="郑老师", category="old_teacher")
    ours = await station(client, xuanwu)

    assert (await client.get(url(XUANWU, f"/stations/{theirs['id']}"), headers=xuanwu)).status_code == 404
    assert [x["id"] for x in (await client.get(url(XUANWU, "/stations"), headers=xuanwu)).json()["items"]] == [
        ours["id"]
    ]
    borrowed = await client.post(
        url(XUANWU, "/activities"), headers=xuanwu, json=activity_body(ours["id"], [their_c["id"]])
    )
    assert borrowed.status_code == 404
    at_theirs = await client.post(
        url(XUANWU, "/counsellors"),
        headers=xuanwu,
        json={"volunteer_name": "冯老", "category": "old_cadre", "station_ids": [theirs["id"]]},
    )
    assert at_theirs.status_code == 404

    # The city reads both counties.
    nanjing = await token(client, "nj-admin")
    await grant(pg_platform, "nj-admin", NANJING)
    await set_state(client, nanjing, NANJING, "enabled")
    assert (await client.get(url(NANJING, "/stations"), headers=nanjing)).json()["total"] == 2


async def test_activity_ledger_exports_to_excel(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], xuanwu: dict[str, str]
) -> None:
    import io

    from openpyxl import load_workbook

    s = await station(client, xuanwu)
    member_id = await make_member(pg_platform, world["ids"][XUANWU], "王建国")
    cadre = await counsellor(client, xuanwu, member_id=member_id, category="old_cadre")
    helper = await counsellor(client, xuanwu, volunteer_name="李桂芳", category="old_teacher")
    for kind, students in (("red_history", 45), ("tutoring", 12), ("red_history", 30)):
        body = activity_body(s["id"], [cadre["id"], helper["id"]], kind=kind, students=students)
        assert (await client.post(url(XUANWU, "/activities"), headers=xuanwu, json=body)).status_code == 201

    since = days_ago(30)
    response = await client.get(url(XUANWU, f"/activities/export?since={since}"), headers=xuanwu)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    ledger = book["活动台账"]
    assert "共 3 场" in ledger["A1"].value
    assert [c.value for c in ledger[2]][:5] == ["序号", "所属单位", "活动日期", "活动名称", "活动类型"]
    counsellors = {ledger.cell(row=r, column=8).value for r in range(3, 6)}
    assert counsellors == {"王建国、李*芳"} or counsellors == {"李*芳、王建国"}
    summary = {row[0].value: [c.value for c in row[1:]] for row in book["按类型汇总"].iter_rows(min_row=2)}
    assert summary["红色教育课"][0] == 2 and summary["红色教育课"][2] == 75
    assert summary["合计"][2] == 87
    assert "李桂芳" not in str([[c.value for c in row] for row in ledger.iter_rows()])
