"""Profiles (admission by review, re-review, age limit, reminders), demands, explained matching, assignments,
service records with their events, feedback, the think tank with reports in object storage, and stations."""

from __future__ import annotations

import datetime
import io
from typing import Any

import httpx
from sqlalchemy import select, update

from core.db.scope import TenantScope
from core.events.models import OutboxEvent
from core.platform import Platform
from plugins.talent_pool import matching
from plugins.talent_pool.models import Profile
from tests.plugins.talent_pool.helpers import (
    DEMAND,
    QINHUAI,
    TODAY,
    XUANWU,
    add_member,
    admitted_expert,
    set_settings,
    url,
    years_ago,
)
from tests.support import token


def test_jieba_tokenises_chinese_and_is_loaded_lazily() -> None:
    words = matching.tokens(["村里桃树今年病虫害严重，需要专家指导果树修剪"])
    assert {"果树修剪", "病虫害"} & words
    assert "的" not in words and "需要" not in words
    assert all(len(w) >= 2 for w in words)
    assert matching.tree_distance("/1/2/3/", "/1/2/3/") == 0
    assert matching.tree_distance("/1/2/3/", "/1/2/4/") == 2
    assert matching.tree_distance("/1/2/3/", "/1/5/6/") == 4


def test_no_jieba_at_import() -> None:
    import subprocess
    import sys

    code = "import sys, plugins.talent_pool; print('jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_admission_review_age_limit_and_reminders(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    fields = (await client.get(url(XUANWU, "/fields"), headers=xw)).json()
    assert len(fields) == 12 and fields[:3] == ["教育", "医疗卫生", "农业"]

    member = await add_member(pg_platform, world, XUANWU, "王德厚", birth=years_ago(68))
    unknown = await client.post(
        url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(member), "fields": ["天文"], "skills": []}
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "talent_pool.field_unknown"
    assert "天文" in unknown.json()["error"]["message"]

    old = await add_member(pg_platform, world, XUANWU, "赵老", birth=years_ago(80))
    too_old = await client.post(
        url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(old), "fields": ["农业"], "skills": []}
    )
    assert too_old.status_code == 422 and too_old.json()["error"]["code"] == "talent_pool.over_age_limit"
    assert "75" in too_old.json()["error"]["message"]
    # The tenant sets the age limit.
    await set_settings(client, officers["nj"], XUANWU, age_limit=80)
    now_ok = await client.post(
        url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(old), "fields": ["农业"], "skills": []}
    )
    assert now_ok.status_code == 201, now_ok.text
    await set_settings(client, officers["nj"], XUANWU, age_limit=None)

    ill = await add_member(pg_platform, world, XUANWU, "钱病", health="unable")
    refused = await client.post(
        url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(ill), "fields": ["农业"], "skills": []}
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "talent_pool.health_unable"

    created = await client.post(
        url(XUANWU, "/profiles"),
        headers=xw,
        json={"member_id": str(member), "fields": ["农业"], "skills": ["果树修剪"], "title": "高级农艺师"},
    )
    assert created.status_code == 201, created.text
    profile = created.json()
    assert profile["status"] == "pending" and profile["name"] == "王德厚" and profile["age"] == 68
    assert profile["health_class"] == "normal"
    twice = await client.post(
        url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(member), "fields": ["农业"], "skills": []}
    )
    assert twice.status_code == 409

    renew_first = await client.post(
        url(XUANWU, f"/profiles/{profile['id']}/review"), headers=xw, json={"decision": "renew"}
    )
    assert renew_first.status_code == 409 and "待审核" in renew_first.json()["error"]["message"]
    admitted = await client.post(
        url(XUANWU, f"/profiles/{profile['id']}/review"), headers=xw, json={"decision": "admit", "note": "材料齐全"}
    )
    assert admitted.status_code == 200, admitted.text
    body = admitted.json()
    assert body["status"] == "admitted" and body["admitted_on"] == TODAY.isoformat()
    assert body["next_review_on"] == TODAY.replace(year=TODAY.year + 2).isoformat()
    assert [r["decision"] for r in body["reviews"]] == ["admit"]

    # Reminders: a review that fell due, and an expert who passes the limit within the reminder window.
    async with pg_platform.database.session(TenantScope.system()) as session:
        await session.execute(
            update(Profile).where(Profile.id == body["id"]).values(next_review_on=TODAY - datetime.timedelta(days=3))
        )
    near = await add_member(pg_platform, world, XUANWU, "孙将满", birth=years_ago(76, days=-20))
    near_profile = await client.post(
        url(XUANWU, "/profiles"), headers=xw, json={"member_id": str(near), "fields": ["教育"], "skills": []}
    )
    assert near_profile.status_code == 201, near_profile.text
    await client.post(
        url(XUANWU, f"/profiles/{near_profile.json()['id']}/review"), headers=xw, json={"decision": "admit"}
    )
    reminders = (await client.get(url(XUANWU, "/reminders"), headers=xw)).json()
    kinds = {(r["name"], r["kind"]) for r in reminders}
    assert ("王德厚", "review_overdue") in kinds
    assert ("孙将满", "age_limit_near") in kinds

    renewed = await client.post(url(XUANWU, f"/profiles/{body['id']}/review"), headers=xw, json={"decision": "renew"})
    assert renewed.status_code == 200 and renewed.json()["next_review_on"] > TODAY.isoformat()
    retired = await client.post(url(XUANWU, f"/profiles/{body['id']}/review"), headers=xw, json={"decision": "retire"})
    assert retired.json()["status"] == "retired" and retired.json()["retired_on"] == TODAY.isoformat()
    assert [r["decision"] for r in retired.json()["reviews"]] == ["admit", "renew", "retire"]

    # A reader cannot review; a county outside never sees the profile.
    qh_view = await client.get(url(QINHUAI, f"/profiles/{body['id']}"), headers=officers["qh"])
    assert qh_view.status_code == 404
    listed = (await client.get(url(XUANWU, "/profiles?field=农业"), headers=xw)).json()
    assert {p["name"] for p in listed["items"]} == {"王德厚", "赵老"}

    # The expert list as Excel, with Chinese headers.
    from openpyxl import load_workbook

    exported = await client.get(url(XUANWU, "/profiles/export.xlsx"), headers=xw)
    assert exported.status_code == 200 and "filename*=UTF-8''" in exported.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("姓名", "年龄", "专业领域")
    assert {r[0] for r in rows[2:]} == {"王德厚", "赵老", "孙将满"}


async def test_demand_matching_assignment_services_and_events(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    fruit = await admitted_expert(
        client, pg_platform, world, xw, XUANWU, "李果农", ["农业"], ["果树修剪", "病虫害防治", "土壤改良"]
    )
    grain = await admitted_expert(client, pg_platform, world, xw, XUANWU, "周稻香", ["农业"], ["水稻种植"])
    doctor = await admitted_expert(client, pg_platform, world, xw, XUANWU, "吴大夫", ["医疗卫生"], ["慢性病管理"])
    busy = await client.patch(url(XUANWU, f"/profiles/{grain['id']}"), headers=xw, json={"availability": "busy"})
    assert busy.status_code == 200 and busy.json()["availability"] == "busy"

    bad = await client.post(url(XUANWU, "/demands"), headers=xw, json={**DEMAND, "ends_on": "2000-01-01"})
    assert bad.status_code == 422
    posted = await client.post(url(XUANWU, "/demands"), headers=xw, json=DEMAND)
    assert posted.status_code == 201, posted.text
    demand = posted.json()
    assert demand["status"] == "open"

    ranked = (await client.get(url(XUANWU, f"/demands/{demand['id']}/matches"), headers=xw)).json()
    assert ranked["sharing"] == "none" and ranked["shared_tenants"] == []
    names = [c["name"] for c in ranked["candidates"]]
    assert names == ["李果农", "周稻香", "吴大夫"]
    top = ranked["candidates"][0]
    parts = {p["factor"]: p for p in top["explanation"]}
    assert set(parts) == {"field", "skills", "distance", "availability", "load"}
    assert parts["field"]["points"] == 40 and "农业" in parts["field"]["reason"]
    assert parts["skills"]["points"] > 0 and "果树修剪" in parts["skills"]["reason"]
    assert parts["distance"]["points"] == 15 and parts["load"]["points"] == 5
    assert top["score"] == sum(p["points"] for p in top["explanation"])
    second = {p["factor"]: p for p in ranked["candidates"][1]["explanation"]}
    assert second["skills"]["points"] == 0 and second["availability"]["points"] < 10
    assert {p["factor"]: p["points"] for p in ranked["candidates"][2]["explanation"]}["field"] == 0

    assigned = await client.post(
        url(XUANWU, f"/demands/{demand['id']}/assignments"), headers=xw, json={"expert_id": fruit["id"]}
    )
    assert assigned.status_code == 201, assigned.text
    assignment = assigned.json()
    assert assignment["status"] == "proposed" and assignment["shared"] is False
    assert assignment["score"] == top["score"] and assignment["expert_name"] == "李果农"
    again = await client.post(
        url(XUANWU, f"/demands/{demand['id']}/assignments"), headers=xw, json={"expert_id": fruit["id"]}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "talent_pool.already_assigned"
    # Load now counts against the expert in a fresh ranking.
    reranked = (await client.get(url(XUANWU, f"/demands/{demand['id']}/matches"), headers=xw)).json()
    assert reranked["candidates"][0]["load"] == 1
    assert {p["factor"]: p["points"] for p in reranked["candidates"][0]["explanation"]}["load"] < 5

    early = await client.post(
        url(XUANWU, f"/assignments/{assignment['id']}/services"), headers=xw, json={"served_on": TODAY.isoformat()}
    )
    assert early.status_code == 409 and "待专家确认" in early.json()["error"]["message"]
    accepted = await client.post(
        url(XUANWU, f"/assignments/{assignment['id']}/respond"), headers=xw, json={"accept": True}
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    no_service = await client.post(url(XUANWU, f"/assignments/{assignment['id']}/complete"), headers=xw)
    assert no_service.status_code == 409 and no_service.json()["error"]["code"] == "talent_pool.no_service_yet"

    served = await client.post(
        url(XUANWU, f"/assignments/{assignment['id']}/services"),
        headers=xw,
        json={
            "served_on": TODAY.isoformat(),
            "hours": 4,
            "visits": 1,
            "problems_solved": 3,
            "trainees": 25,
            "value_yuan": 50000,
            "summary": "现场示范修剪，讲解病虫害防治",
        },
    )
    assert served.status_code == 201, served.text
    service = served.json()
    future = await client.post(
        url(XUANWU, f"/assignments/{assignment['id']}/services"),
        headers=xw,
        json={"served_on": (TODAY + datetime.timedelta(days=2)).isoformat()},
    )
    assert future.status_code == 422 and "晚于今天" in future.text
    rated = await client.post(
        url(XUANWU, f"/services/{service['id']}/feedback"), headers=xw, json={"rating": 5, "feedback": "很实用"}
    )
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    assert (
        await client.post(url(XUANWU, f"/services/{service['id']}/feedback"), headers=xw, json={"rating": 9})
    ).status_code == 422

    done = await client.post(url(XUANWU, f"/assignments/{assignment['id']}/complete"), headers=xw)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    met = (await client.get(url(XUANWU, f"/demands/{demand['id']}"), headers=xw)).json()
    assert met["status"] == "met" and met["met_on"] == TODAY.isoformat()

    revoked = await client.post(
        url(XUANWU, f"/services/{service['id']}/revoke"), headers=xw, json={"reason": "重复登记"}
    )
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    twice = await client.post(url(XUANWU, f"/services/{service['id']}/revoke"), headers=xw, json={"reason": "再次"})
    assert twice.status_code == 409

    async with pg_platform.database.session(TenantScope.system()) as session:
        events = (
            (
                await session.execute(
                    select(OutboxEvent).where(OutboxEvent.source == "talent_pool").order_by(OutboxEvent.occurred_at)
                )
            )
            .scalars()
            .all()
        )
    assert [e.name for e in events] == ["talent_pool.service_completed", "talent_pool.service_revoked"]
    completed, revoke = events
    assert completed.tenant_id == world["ids"][XUANWU]
    assert completed.payload["ref"] == service["id"] and completed.payload["occurred_on"] == TODAY.isoformat()
    assert completed.payload["credits"] == [{"member_id": fruit["member_id"], "hours": 4.0, "role": "expert"}]
    assert revoke.payload["revokes"] == service["id"] and revoke.payload["credits"] == completed.payload["credits"]
    # Delivering them (no consumer here) leaves nothing pending and does not fail.
    await pg_platform.dispatcher.run_once()

    stats = (await client.get(url(XUANWU, "/stats"), headers=xw)).json()
    assert stats["experts"] == 3 and stats["experts_by_field"] == {"农业": 2, "医疗卫生": 1}
    assert (stats["demands_posted"], stats["demands_met"], stats["services"]) == (1, 1, 0)
    assert doctor["status"] == "admitted"

    # The member's page shows the expert's standing.
    from core.plugin_host import PluginContext
    from plugins.talent_pool import member_panel

    async with pg_platform.database.session(TenantScope.of(read=[world["ids"][XUANWU]])) as session:
        context = PluginContext("talent_pool", world["tree"].get(XUANWU), world["tree"], session, {})
        panel = await member_panel(context=context, member_id=fruit["member_id"])
    assert panel is not None and panel.items[0]["value"] == "已入库"


async def test_think_tank_reports_in_object_storage_and_adoption(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    import docx

    xw = officers["xw"]
    adviser = await admitted_expert(client, pg_platform, world, xw, XUANWU, "郑智", ["经济管理"], ["产业规划"])
    study = await client.post(
        url(XUANWU, "/studies"),
        headers=xw,
        json={"title": "乡村振兴产业发展调研", "topic": "特色农业", "adviser_ids": [adviser["id"]],
              "started_on": TODAY.isoformat()},
    )  # fmt: skip
    assert study.status_code == 201, study.text
    study_id = study.json()["id"]

    document = docx.Document()
    document.add_heading("乡村振兴产业发展调研报告", 0)
    document.add_paragraph("建议建立农技专家包村联系制度。")
    buffer = io.BytesIO()
    document.save(buffer)
    uploaded = await client.post(
        url(XUANWU, f"/studies/{study_id}/reports"),
        headers=xw,
        files={"file": ("调研报告.docx", buffer.getvalue(), "application/octet-stream")},
        data={"title": "乡村振兴产业发展调研报告"},
    )
    assert uploaded.status_code == 201, uploaded.text
    report = uploaded.json()
    assert report["file_name"] == "调研报告.docx" and report["download_url"]
    fetched = await client.get(url(XUANWU, f"/studies/{study_id}/reports/{report['id']}"), headers=xw)
    assert fetched.status_code == 200 and fetched.json()["download_url"]
    # The bytes are in object storage under the county's prefix.
    async with pg_platform.database.session(TenantScope.system()) as session:
        from core.storage.models import StoredFile

        stored = (await session.execute(select(StoredFile))).scalars().one()
    assert stored.key.startswith(f"t/{XUANWU}/talent-pool/reports/")
    assert await pg_platform.storage.get(stored.key) == buffer.getvalue()

    text_file = await client.post(
        url(XUANWU, f"/studies/{study_id}/reports"),
        headers=xw,
        files={"file": ("note.txt", "纯文本".encode(), "text/plain")},
        data={"title": "x"},
    )
    assert text_file.status_code == 415

    made = []
    for content in ("建立农技专家包村联系制度", "扶持合作社发展电子商务", "设立专项经费"):
        response = await client.post(
            url(XUANWU, f"/studies/{study_id}/suggestions"),
            headers=xw,
            json={"content": content, "made_on": TODAY.isoformat()},
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    adopted = await client.post(
        url(XUANWU, f"/suggestions/{made[0]['id']}/adoption"),
        headers=xw,
        json={"adopted": True, "adopted_by": "县农业农村局"},
    )
    assert adopted.status_code == 200 and adopted.json()["adopted"] is True
    detail = (await client.get(url(XUANWU, f"/studies/{study_id}"), headers=xw)).json()
    assert detail["status"] == "concluded" and len(detail["reports"]) == 1
    assert [s["adopted"] for s in detail["suggestions"]] == [True, False, False]
    stats = (await client.get(url(XUANWU, "/stats"), headers=xw)).json()
    assert (stats["reports"], stats["suggestions_made"], stats["suggestions_adopted"]) == (1, 3, 1)


async def test_stations_group_experts_and_their_services(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw = officers["xw"]
    station = await client.post(
        url(XUANWU, "/stations"),
        headers=xw,
        json={"name": "紫金银辉工作站", "focus": "科技园区服务", "opened_on": TODAY.isoformat()},
    )
    assert station.status_code == 201, station.text
    station_id = station.json()["id"]
    same = await client.post(
        url(XUANWU, "/stations"), headers=xw, json={"name": "紫金银辉工作站", "opened_on": TODAY.isoformat()}
    )
    assert same.status_code == 409
    expert = await admitted_expert(client, pg_platform, world, xw, XUANWU, "冯工", ["科技"], ["机械维修"])
    joined = await client.patch(url(XUANWU, f"/profiles/{expert['id']}"), headers=xw, json={"station_id": station_id})
    assert joined.status_code == 200 and joined.json()["station_id"] == station_id

    demand = (
        await client.post(url(XUANWU, "/demands"), headers=xw, json={**DEMAND, "field": "科技", "title": "机械维修"})
    ).json()
    assignment = (
        await client.post(
            url(XUANWU, f"/demands/{demand['id']}/assignments"), headers=xw, json={"expert_id": expert["id"]}
        )
    ).json()
    await client.post(url(XUANWU, f"/assignments/{assignment['id']}/respond"), headers=xw, json={"accept": True})
    await client.post(
        url(XUANWU, f"/assignments/{assignment['id']}/services"),
        headers=xw,
        json={"served_on": TODAY.isoformat(), "problems_solved": 2},
    )
    detail = (await client.get(url(XUANWU, f"/stations/{station_id}"), headers=xw)).json()
    assert (detail["experts"], detail["services"], detail["problems_solved"]) == (1, 1, 2)
    assert [e["name"] for e in detail["expert_list"]] == ["冯工"]
    assert len(detail["service_list"]) == 1
    closed = await client.post(
        url(XUANWU, f"/stations/{station_id}/close"), headers=xw, json={"closed_on": TODAY.isoformat()}
    )
    assert closed.status_code == 200 and closed.json()["closed_on"] == TODAY.isoformat()
    assert (await client.get(url(XUANWU, "/stats"), headers=xw)).json()["stations"] == 0


async def test_inactive_county_answers_404_naming_the_programme(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]
) -> None:
    headers = await token(client, "xw-admin")
    response = await client.get(url(XUANWU, "/demands"), headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "plugin.inactive" and "银发人才库" in response.json()["error"]["message"]
