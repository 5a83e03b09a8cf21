"""Branch standards: the "六有" checklist with evidence photos in object storage (MinIO here), completion rates
rolled up the tree, "六好" scoring with inherited lists, rankings and the freeze on publication, and the core
metrics for reports checked against a recount."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
from sqlalchemy import text

from core.db.scope import TenantScope
from core.orglife import core_metrics
from core.orglife.metrics import compute_core_metrics, rate, total
from core.orglife.periods import Period
from core.platform import Platform
from tests.support import token
from tests.test_leakage import PNG
from tests.test_org_life import HELD, make_county, make_meeting, make_member, make_org

YEAR = datetime.date.today().year - 1
ITEMS = ("place", "sign", "facilities", "rules", "funds", "activities")


async def set_items(client: httpx.AsyncClient, headers: dict[str, str], code: str, org: str, met: int) -> None:
    for index, item in enumerate(ITEMS):
        response = await client.put(
            f"/api/v1/t/{code}/branches/{org}/six-haves/{item}",
            headers=headers,
            json={"met": index < met, "note": "已核实" if index < met else "尚未落实"},
        )
        assert response.status_code == 200, response.text


async def test_an_evidence_photo_goes_to_storage_and_comes_back_by_signed_link(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    secretary = await token(client, "xw-secretary")
    ids = await make_county(client, admin)
    base = f"/api/v1/t/320102/branches/{ids['a']}/six-haves"

    uploaded = await client.post(
        f"{base}/place/evidence",
        headers=secretary,
        files={"file": ("活动室.png", PNG, "image/png")},
        data={"caption": "党员活动室门牌"},
    )
    assert uploaded.status_code == 201, uploaded.text
    evidence = uploaded.json()
    assert (evidence["item"], evidence["name"], evidence["caption"]) == ("place", "活动室.png", "党员活动室门牌")

    checklist = (await client.get(base, headers=secretary)).json()
    place = next(i for i in checklist["items"] if i["item"] == "place")
    assert (place["item_zh"], place["met"], checklist["met"], checklist["total"]) == ("有场所", False, 0, 6)
    assert [e["id"] for e in place["evidence"]] == [evidence["id"]] and place["evidence"][0]["download_url"] is None

    link = await client.get(f"{base}/place/evidence/{evidence['id']}", headers=secretary)
    assert link.status_code == 200
    url = link.json()["download_url"]
    assert "X-Amz-Signature" in url and "/t/320102/orglife/evidence/" in url
    async with httpx.AsyncClient(timeout=10) as outside:
        fetched = await outside.get(url)
        assert fetched.status_code == 200 and fetched.content == PNG
        unsigned = await outside.get(url.split("?", 1)[0])
        assert unsigned.status_code == 403
    # The file is a file of the tenant like any other.
    files = (await client.get("/api/v1/t/320102/files", headers=admin)).json()["items"]
    assert [(f["folder"], f["name"]) for f in files] == [("orglife/evidence", "活动室.png")]

    refused = await client.post(
        f"{base}/rules/evidence", headers=secretary, files={"file": ("制度.txt", b"just some text\n", "text/plain")}
    )
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "six_haves.evidence_type"
    no_file = await client.post(f"{base}/rules/evidence", headers=secretary, data={"caption": "x"})
    assert no_file.status_code == 422 and no_file.json()["error"]["field"] == "file"
    unknown = await client.put(f"{base}/canteen", headers=secretary, json={"met": True})
    assert unknown.status_code == 404 and "有场所" in unknown.json()["error"]["message"]
    not_branch = await client.get(f"/api/v1/t/320102/branches/{ids['group']}/six-haves", headers=secretary)
    assert not_branch.status_code == 422 and not_branch.json()["error"]["code"] == "six_haves.not_a_branch"

    # Another county neither sees the branch nor its evidence.
    qinhuai = await token(client, "qh-admin")
    assert (await client.get(base.replace("320102", "320104"), headers=qinhuai)).status_code == 404
    other = await client.get(f"{base}/place/evidence/{evidence['id']}".replace("320102", "320104"), headers=qinhuai)
    assert other.status_code == 404

    deleted = await client.delete(f"{base}/place/evidence/{evidence['id']}", headers=secretary)
    assert deleted.status_code == 204
    assert (await client.get(f"{base}/place/evidence/{evidence['id']}", headers=secretary)).status_code == 404
    assert (await client.get("/api/v1/t/320102/files", headers=admin)).json()["total"] == 0
    async with httpx.AsyncClient(timeout=10) as outside:
        assert (await outside.get(url)).status_code == 404


async def test_six_haves_completion_for_a_county_and_the_city(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    xuanwu = await token(client, "xw-admin")
    qinhuai = await token(client, "qh-admin")
    ids = await make_county(client, xuanwu)
    await set_items(client, xuanwu, "320102", ids["a"], 6)
    await set_items(client, xuanwu, "320102", ids["b"], 3)
    qh_branch = await make_org(client, qinhuai, "320104", "秦淮社区支部", "branch")
    await set_items(client, qinhuai, "320104", qh_branch, 1)
    await make_org(client, qinhuai, "320104", "秦淮新支部", "branch")  # nothing recorded yet: nothing met

    county = (await client.get("/api/v1/t/320102/six-haves/completion", headers=xuanwu)).json()
    assert (county["branches"], county["branches_complete"], county["items_met"], county["items_total"]) == (
        2,
        1,
        9,
        12,
    )
    assert county["rate"] == 0.75 and county["children"] == []
    by_item = {r["item"]: r["met"] for r in county["by_item"]}
    assert by_item == {"place": 2, "sign": 2, "facilities": 2, "rules": 1, "funds": 1, "activities": 1}

    city = (await client.get("/api/v1/t/320100/six-haves/completion", headers=await token(client, "nj-admin"))).json()
    assert (city["branches"], city["items_met"], city["items_total"], city["branches_complete"]) == (4, 10, 24, 1)
    assert city["rate"] == round(10 / 24, 4)
    children = {c["tenant_code"]: (c["items_met"], c["items_total"], c["rate"]) for c in city["children"]}
    assert children == {"320102": (9, 12, 0.75), "320104": (1, 12, round(1 / 12, 4)), "320105": (0, 0, None)}
    # A county reads only its own subtree.
    assert (await client.get("/api/v1/t/320100/six-haves/completion", headers=xuanwu)).status_code == 403


def lines_for(items: list[dict[str, Any]], bonus_share: float, deduction_counts: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item["kind"] == "bonus":
            out.append({"item_id": item["id"], "points": round(item["max_points"] * bonus_share, 1)})
        elif deduction_counts:
            out.append({"item_id": item["id"], "count": deduction_counts})
    return out


async def test_six_goods_scoring_ranking_and_the_freeze_on_publication(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xuanwu = await token(client, "xw-admin")
    nanjing = await token(client, "nj-admin")
    ids = await make_county(client, xuanwu)
    c = await make_org(client, xuanwu, "320102", "老年大学支部", "branch", ids["committee"])

    default = (await client.get("/api/v1/t/320102/model-branch/items", headers=xuanwu)).json()
    assert (default["source"], default["max_total"]) == ("default", 100.0)
    assert {i["aspect"] for i in default["items"]} == {
        "组织设置好",
        "班子建设好",
        "制度坚持好",
        "作用发挥好",
        "阵地建设好",
        "群众评价好",
    }
    assert any(i["kind"] == "deduction" and i["unit_points"] for i in default["items"])

    # The city adopts the list and adds an item; the county inherits the city's list from then on.
    adopted = await client.post("/api/v1/t/320100/model-branch/items/adopt", headers=nanjing)
    assert adopted.status_code == 201 and adopted.json()["source"] == "own"
    added = await client.post(
        "/api/v1/t/320100/model-branch/items",
        headers=nanjing,
        json={"aspect": "作用发挥好", "name": "参与银龄调解室化解矛盾纠纷", "kind": "bonus", "max_points": 5},
    )
    assert added.status_code == 201, added.text
    again = await client.post("/api/v1/t/320100/model-branch/items/adopt", headers=nanjing)
    assert again.status_code == 409
    inherited = (await client.get("/api/v1/t/320102/model-branch/items", headers=xuanwu)).json()
    assert (inherited["source"], inherited["source_tenant_code"], inherited["max_total"]) == (
        "inherited",
        "320100",
        105.0,
    )
    must_adopt = await client.post(
        "/api/v1/t/320102/model-branch/items",
        headers=xuanwu,
        json={"aspect": "群众评价好", "name": "x", "kind": "bonus", "max_points": 1},
    )
    assert must_adopt.status_code == 409 and "南京市" in must_adopt.json()["error"]["message"]
    items = inherited["items"]
    deduction = next(i for i in items if i["kind"] == "deduction" and i["unit_points"] == 2 and i["max_points"] == 10)

    # Scores: bonuses − deductions; a count-based deduction is capped at its max; over-max points are refused.
    score_url = f"/api/v1/t/320102/model-branch/scores/{YEAR}"
    a = await client.put(
        f"{score_url}/{ids['a']}",
        headers=xuanwu,
        json={"lines": [*lines_for(items, 1.0), {"item_id": deduction["id"], "count": 7}], "comment": "优秀"},
    )
    assert a.status_code == 200, a.text
    scored = a.json()
    capped = next(ln for ln in scored["lines"] if ln["item_id"] == deduction["id"])
    assert (capped["points"], capped["capped"], capped["count"]) == (10.0, True, 7)
    assert (scored["bonus"], scored["deduction"], scored["total"]) == (105.0, 10.0, 95.0)
    assert "南京市" in scored["list_source"] and scored["frozen"] is False
    b = await client.put(f"{score_url}/{ids['b']}", headers=xuanwu, json={"lines": lines_for(items, 0.8)})
    assert b.json()["total"] == 84.0
    await client.put(f"{score_url}/{c}", headers=xuanwu, json={"lines": lines_for(items, 0.8)})
    bonus_item = next(i for i in items if i["kind"] == "bonus")
    over = await client.put(
        f"{score_url}/{ids['b']}",
        headers=xuanwu,
        json={"lines": [{"item_id": bonus_item["id"], "points": bonus_item["max_points"] + 1}]},
    )
    assert over.status_code == 422 and over.json()["error"]["field"] == "lines[0].points"
    assert f"最多得 {bonus_item['max_points']:g} 分，填写的是 {bonus_item['max_points'] + 1:g} 分" in over.text
    unknown = await client.put(
        f"{score_url}/{ids['b']}", headers=xuanwu, json={"lines": [{"item_id": default["items"][0]["id"], "points": 1}]}
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "standards.score_item_unknown"
    future = await client.put(
        f"/api/v1/t/320102/model-branch/scores/{YEAR + 2}/{ids['b']}", headers=xuanwu, json={"lines": []}
    )
    assert future.status_code == 422 and future.json()["error"]["field"] == "year"
    secretary = await token(client, "xw-secretary")
    assert (await client.put(f"{score_url}/{ids['b']}", headers=secretary, json={"lines": []})).status_code == 403

    qinhuai = await token(client, "qh-admin")
    qh_branch = await make_org(client, qinhuai, "320104", "秦淮社区支部", "branch")
    qh = await client.put(
        f"/api/v1/t/320104/model-branch/scores/{YEAR}/{qh_branch}",
        headers=qinhuai,
        json={"lines": lines_for(items, 0.9)},
    )
    assert qh.json()["total"] == 94.5

    # The county's ranking: ties share a rank; provisional until published.
    ranking_url = f"/api/v1/t/320102/model-branch/rankings/{YEAR}"
    provisional = (await client.get(ranking_url, headers=xuanwu)).json()
    assert provisional["published"] is False and provisional["threshold"] == 90.0
    assert [(r["rank"], r["org_name"], r["total"], r["is_model"]) for r in provisional["rows"]] == [
        (1, "梅园社区支部", 95.0, True),
        (2, "机关第一支部", 84.0, False),
        (2, "老年大学支部", 84.0, False),
    ]
    lower = (await client.get(f"{ranking_url}?threshold=80", headers=xuanwu)).json()
    assert lower["model_branches"] == 3

    published = await client.post(f"{ranking_url}/publish", headers=xuanwu, json={"threshold": 90})
    assert published.status_code == 201, published.text
    assert (published.json()["published"], published.json()["model_branches"]) == (True, 1)
    frozen = await client.put(f"{score_url}/{ids['b']}", headers=xuanwu, json={"lines": lines_for(items, 1.0)})
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "standards.score_frozen"
    assert "玄武区" in frozen.json()["error"]["message"] and "已锁定" in frozen.json()["error"]["message"]
    # Frozen for the city acting above too, and for branches not yet scored.
    city_edit = await client.put(
        f"/api/v1/t/320100/model-branch/scores/{YEAR}/{ids['b']}", headers=nanjing, json={"lines": []}
    )
    assert city_edit.status_code == 409
    d = await make_org(client, xuanwu, "320102", "新成立支部", "branch", ids["committee"])
    assert (await client.put(f"{score_url}/{d}", headers=xuanwu, json={"lines": []})).status_code == 409
    republish = await client.post(f"{ranking_url}/publish", headers=xuanwu, json={})
    assert republish.status_code == 409 and republish.json()["error"]["code"] == "standards.already_published"
    assert (await client.get(f"{score_url}/{ids['a']}", headers=xuanwu)).json()["frozen"] is True
    after = (await client.get(ranking_url, headers=xuanwu)).json()
    assert (after["published"], after["published_by"], after["branches_unscored"]) == (True, "xw-admin", 1)
    assert [r["total"] for r in after["rows"]] == [95.0, 84.0, 84.0]

    # Qinhuai was not frozen by Xuanwu; the city ranks its whole subtree and publishes with its own threshold.
    assert (
        await client.put(
            f"/api/v1/t/320104/model-branch/scores/{YEAR}/{qh_branch}",
            headers=qinhuai,
            json={"lines": lines_for(items, 0.9)},
        )
    ).status_code == 200
    city = await client.post(
        f"/api/v1/t/320100/model-branch/rankings/{YEAR}/publish", headers=nanjing, json={"threshold": 94}
    )
    assert city.status_code == 201
    assert [(r["rank"], r["tenant_code"], r["is_model"]) for r in city.json()["rows"]] == [
        (1, "320102", True),
        (2, "320104", True),
        (3, "320102", False),
        (3, "320102", False),
    ]
    qh_frozen = await client.put(
        f"/api/v1/t/320104/model-branch/scores/{YEAR}/{qh_branch}", headers=qinhuai, json={"lines": []}
    )
    assert qh_frozen.status_code == 409 and "南京市" in qh_frozen.json()["error"]["message"]
    # Xuanwu cannot see Qinhuai's branch or score.
    assert (
        await client.get(f"/api/v1/t/320102/model-branch/scores/{YEAR}/{qh_branch}", headers=xuanwu)
    ).status_code == 404


async def test_core_metrics_agree_with_a_recount(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xuanwu = await token(client, "xw-admin")
    qinhuai = await token(client, "qh-admin")
    ids = await make_county(client, xuanwu)
    qh_branch = await make_org(client, qinhuai, "320104", "秦淮社区支部", "branch")
    qh_members = [await make_member(client, qinhuai, "320104", f"秦{i}", qh_branch) for i in range(3)]

    async def meeting(headers: dict[str, str], code: str, org: str, marks: dict[str, str], **fields: Any) -> str:
        created = await make_meeting(client, headers, org, code=code, **fields)
        assert created.status_code == 201, created.text
        meeting_id = str(created.json()["id"])
        items = [{"member_id": m, "status": s, "reason": "有事" if s == "absent" else ""} for m, s in marks.items()]
        if items:
            response = await client.post(
                f"/api/v1/t/{code}/meetings/{meeting_id}/attendance", headers=headers, json={"items": items}
            )
            assert response.status_code == 200, response.text
        return meeting_id

    await meeting(xuanwu, "320102", ids["a"], {ids["王"]: "present", ids["李"]: "absent", ids["赵"]: "present"})
    await meeting(xuanwu, "320102", ids["a"], {ids["王"]: "present"}, kind="lecture", lecturer="老书记")
    cancelled = await meeting(xuanwu, "320102", ids["b"], {ids["钱"]: "present"})
    await client.post(f"/api/v1/t/320102/meetings/{cancelled}/cancel", headers=xuanwu, json={"reason": "改期"})
    await meeting(xuanwu, "320102", ids["b"], {}, held_on=(HELD - datetime.timedelta(days=400)).isoformat())
    await meeting(qinhuai, "320104", qh_branch, dict.fromkeys(qh_members, "present"), kind="lecture", lecturer="宣讲团")
    await set_items(client, xuanwu, "320102", ids["a"], 6)
    await set_items(client, qinhuai, "320104", qh_branch, 2)
    # A member without a branch and one who left are not covered.
    await client.post("/api/v1/t/320102/members", headers=xuanwu, json={"name": "无支部", "birth_date": "1950-01-01"})
    left = await make_member(client, xuanwu, "320102", "已转出", ids["a"])
    async with pg_platform.database.session(TenantScope.system()) as session:
        await session.execute(text("UPDATE member SET status = 'transferred_out' WHERE id = :i"), {"i": left})
    items = (await client.get("/api/v1/t/320102/model-branch/items", headers=xuanwu)).json()["items"]
    await client.put(
        f"/api/v1/t/320102/model-branch/scores/{YEAR}/{ids['a']}", headers=xuanwu, json={"lines": lines_for(items, 1.0)}
    )
    await client.post(f"/api/v1/t/320102/model-branch/rankings/{YEAR}/publish", headers=xuanwu, json={})
    await client.post(
        f"/api/v1/t/320100/model-branch/rankings/{YEAR}/publish", headers=await token(client, "nj-admin"), json={}
    )

    tenants = [world["ids"]["320102"], world["ids"]["320104"], world["ids"]["320105"]]
    period = Period(HELD - datetime.timedelta(days=500), datetime.date.today())
    async with pg_platform.database.session(TenantScope.of(tenants)) as session:
        values = await compute_core_metrics(session, tenants, period)

    recount: dict[str, dict[int, int]] = {}
    async with pg_platform.database.session(TenantScope.system()) as session:

        async def per_tenant(sql: str, **params: Any) -> dict[int, int]:
            rows = await session.execute(text(sql), {"t": tenants, "start": period.start, "end": period.end, **params})
            counted = dict.fromkeys(tenants, 0)
            counted.update({tenant: count for tenant, count in rows.tuples()})  # noqa: C416
            return counted

        held = (
            "FROM meeting m WHERE m.tenant_id = ANY(:t) AND m.cancelled_at IS NULL "
            "AND m.held_on BETWEEN :start AND :end"
        )
        recount["core.branches"] = await per_tenant(
            "SELECT tenant_id, count(*) FROM organization WHERE tenant_id = ANY(:t) AND level = 'branch' "
            "AND is_active GROUP BY tenant_id"
        )
        recount["core.members"] = await per_tenant(
            "SELECT m.tenant_id, count(*) FROM member m JOIN organization o ON o.tenant_id = m.tenant_id "
            "AND o.id = m.formal_org_id WHERE m.tenant_id = ANY(:t) AND m.status = 'active' AND o.level = 'branch' "
            "GROUP BY m.tenant_id"
        )
        recount["core.activities"] = await per_tenant(f"SELECT m.tenant_id, count(*) {held} GROUP BY m.tenant_id")
        recount["core.attendance"] = await per_tenant(
            "SELECT m.tenant_id, count(*) FROM meeting m JOIN meeting_attendance a ON a.tenant_id = m.tenant_id "
            "AND a.meeting_id = m.id WHERE m.tenant_id = ANY(:t) AND m.cancelled_at IS NULL "
            "AND m.held_on BETWEEN :start AND :end AND a.status = 'present' GROUP BY m.tenant_id"
        )
        recount["core.lectures"] = await per_tenant(
            f"SELECT m.tenant_id, count(*) {held} AND m.kind = 'lecture' GROUP BY m.tenant_id"
        )
        recount["core.six_haves_met"] = await per_tenant(
            "SELECT tenant_id, count(*) FROM branch_six_have WHERE tenant_id = ANY(:t) AND met GROUP BY tenant_id"
        )
        recount["core.model_branches"] = await per_tenant(
            "SELECT tenant_id, count(DISTINCT org_id) FROM ranking_entry WHERE tenant_id = ANY(:t) AND is_model "
            "GROUP BY tenant_id"
        )
    for metric_id, expected in recount.items():
        assert values[metric_id] == expected, metric_id
    # And the numbers themselves, as a person would count them.
    xw, qh, jy = tenants
    assert values["core.branches"] == {xw: 2, qh: 1, jy: 0}
    assert values["core.branches.community"] == {xw: 2, qh: 1, jy: 0}
    assert values["core.members"] == {xw: 5, qh: 3, jy: 0}
    assert values["core.activities"] == {xw: 3, qh: 1, jy: 0}
    assert values["core.attendance"] == {xw: 3, qh: 3, jy: 0}
    assert values["core.attendance_expected"] == {xw: 4, qh: 3, jy: 0}
    assert values["core.lecture_audience"] == {xw: 1, qh: 3, jy: 0}
    assert values["core.six_haves_total"] == {xw: 12, qh: 6, jy: 0}
    assert values["core.model_branches"] == {xw: 1, qh: 0, jy: 0}

    specs = {spec.id: spec for spec in core_metrics()}
    assert {
        "core.branches",
        "core.members",
        "core.activities",
        "core.attendance",
        "core.six_haves_met",
        "core.model_branches",
    } <= set(specs)
    assert len(specs) == len(core_metrics())
    assert rate(values, specs["core.six_haves_rate"], tenants) == 8 / 18
    assert rate(values, specs["core.attendance_rate"], [xw]) == 3 / 4
    assert total(values, "core.activities", tenants) == 4
    # A narrower period counts fewer flows; stocks stay.
    recent = Period(HELD, HELD)
    async with pg_platform.database.session(TenantScope.of(tenants)) as session:
        narrow = await compute_core_metrics(session, tenants, recent)
    assert narrow["core.activities"] == {xw: 2, qh: 1, jy: 0} and narrow["core.members"] == values["core.members"]
    assert narrow["core.model_branches"][xw] == (1 if HELD.year == YEAR else 0)
