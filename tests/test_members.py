"""The organisation tree and the member ledger (一人一档): rules, personal data, history, search."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
from sqlalchemy import text

from core.db.scope import TenantScope
from core.orgs import idcard
from core.platform import Platform
from tests.support import token

BIRTH = datetime.date(1948, 3, 15)
ID_A = idcard.make("320102", BIRTH, 31, "male")
ID_B = idcard.make("320102", datetime.date(1952, 10, 1), 12, "female")


async def make_branch(
    client: httpx.AsyncClient, headers: dict[str, str], code: str = "320102", name: str = "老干部党委"
) -> dict[str, str]:
    committee = (
        await client.post(f"/api/v1/t/{code}/orgs", headers=headers, json={"name": name, "level": "committee"})
    ).json()
    branch = await client.post(
        f"/api/v1/t/{code}/orgs",
        headers=headers,
        json={"name": "梅园社区支部", "level": "branch", "kind": "community", "parent_id": committee["id"]},
    )
    assert branch.status_code == 201, branch.text
    group = await client.post(
        f"/api/v1/t/{code}/orgs",
        headers=headers,
        json={"name": "第一党小组", "level": "group", "parent_id": branch.json()["id"]},
    )
    assert group.status_code == 201
    return {"committee": committee["id"], "branch": branch.json()["id"], "group": group.json()["id"]}


async def test_the_organisation_tree_keeps_its_levels(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    headers = await token(client, "xw-admin")
    orgs = await make_branch(client, headers)
    branch_under_group = await client.post(
        "/api/v1/t/320102/orgs",
        headers=headers,
        json={"name": "错误支部", "level": "branch", "parent_id": orgs["group"]},
    )
    assert branch_under_group.status_code == 422
    assert (
        branch_under_group.json()["error"]["message"] == "党小组下面不能设党支部；党小组下只能设：（不能再设下级组织）"
    )
    root_group = await client.post("/api/v1/t/320102/orgs", headers=headers, json={"name": "小组", "level": "group"})
    assert root_group.json()["error"]["code"] == "org.root_level"
    kind_on_committee = await client.post(
        "/api/v1/t/320102/orgs", headers=headers, json={"name": "党委二", "level": "committee", "kind": "community"}
    )
    assert kind_on_committee.json()["error"]["field"] == "kind"
    listed = (await client.get("/api/v1/t/320102/orgs", headers=headers)).json()
    assert [(o["level_zh"], o["kind_zh"]) for o in listed] == [("党支部", "社区支部"), ("党委", None), ("党小组", None)]


async def test_a_member_record_checks_id_dates_and_branch(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    headers = await token(client, "xw-admin")
    orgs = await make_branch(client, headers)
    other_county = await make_branch(client, await token(client, "qh-admin"), code="320104", name="秦淮老干部党委")

    async def create(**fields: Any) -> httpx.Response:
        body = {"name": "王建国", "id_number": ID_A, "formal_org_id": orgs["branch"], **fields}
        return await client.post("/api/v1/t/320102/members", headers=headers, json=body)

    bad_check = await create(id_number=ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"))
    assert bad_check.status_code == 422 and bad_check.json()["error"]["field"] == "id_number"
    assert "校验位" in bad_check.json()["error"]["message"]
    mismatch = await create(birth_date="1950-01-01")
    assert (
        mismatch.json()["error"]["code"] == "member.birth_mismatch"
        and "1948-03-15" in mismatch.json()["error"]["message"]
    )
    before_birth = await create(party_joined_on="1940-07-01")
    assert before_birth.status_code == 422 and before_birth.json()["error"]["field"] == "party_joined_on"
    assert "入党日期" in before_birth.json()["error"]["message"]
    foreign = await create(formal_org_id=other_county["branch"])
    assert foreign.status_code == 422 and foreign.json()["error"]["field"] == "formal_org_id"
    not_a_branch = await create(formal_org_id=orgs["committee"])
    assert not_a_branch.json()["error"]["code"] == "member.org_invalid"

    created = await create(
        phone="13812345678", party_joined_on="1972-07-01", health_class="limited", specialties=["书法", "法律"]
    )
    assert created.status_code == 201, created.text
    member = created.json()
    assert (member["birth_date"], member["gender"], member["age"] >= 78) == ("1948-03-15", "male", True)
    assert member["id_number"] == ID_A[:4] + "*" * 10 + ID_A[-4:] and member["phone"] == "138****5678"
    assert member["formal_org_name"] == "梅园社区支部" and member["health_class_zh"] == "适当参加活动"
    duplicate = await create(name="王建国二")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "member.duplicate_id_number"


async def test_personal_data_is_encrypted_masked_and_every_reveal_audited(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "xw-admin")
    secretary = await token(client, "xw-secretary")
    orgs = await make_branch(client, admin)
    created = await client.post(
        "/api/v1/t/320102/members",
        headers=admin,
        json={"name": "李秀英", "id_number": ID_B, "phone": "13900001111", "formal_org_id": orgs["branch"]},
    )
    member_id = created.json()["id"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        raw = (await session.execute(text("SELECT id_number, phone, id_number_index FROM member"))).one()
    assert ID_B not in raw[0] and "13900001111" not in raw[1] and len(raw[2]) == 64

    listed = (await client.get("/api/v1/t/320102/members", headers=secretary)).json()["items"]
    assert listed[0]["phone"] == "139****1111"
    denied = await client.post(
        f"/api/v1/t/320102/members/{member_id}/reveal", headers=secretary, json={"fields": ["phone"], "reason": "联系"}
    )
    assert denied.status_code == 403
    no_reason = await client.post(
        f"/api/v1/t/320102/members/{member_id}/reveal", headers=admin, json={"fields": ["phone"], "reason": ""}
    )
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    shown = await client.post(
        f"/api/v1/t/320102/members/{member_id}/reveal",
        headers=admin,
        json={"fields": ["id_number", "phone"], "reason": "办理慰问金"},
    )
    assert shown.json() == {"id_number": ID_B, "phone": "13900001111"}
    reveals = (await client.get("/api/v1/t/320102/audit?action=reveal", headers=admin)).json()["items"]
    assert len(reveals) == 1 and reveals[0]["actor_name"] == "xw-admin"
    assert reveals[0]["after"] == {"fields": ["id_number", "phone"], "reason": "办理慰问金"}
    # The audit trail never holds the plain values (nor the ciphertext).
    everything = (await client.get("/api/v1/t/320102/audit?page_size=500", headers=admin)).text
    assert ID_B not in everything and "13900001111" not in everything


async def test_history_keeps_every_change(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    orgs = await make_branch(client, admin)
    member = (
        await client.post(
            "/api/v1/t/320102/members",
            headers=admin,
            json={"name": "张文", "birth_date": "1950-05-05", "formal_org_id": orgs["branch"]},
        )
    ).json()
    await client.patch(
        f"/api/v1/t/320102/members/{member['id']}",
        headers=admin,
        json={"health_class": "unable", "phone": "13700000000"},
    )
    await client.patch(
        f"/api/v1/t/320102/members/{member['id']}", headers=admin, json={"residence_community": "梅园新村"}
    )
    history = (await client.get(f"/api/v1/t/320102/members/{member['id']}/history", headers=admin)).json()
    assert [h["action"] for h in history] == ["create", "update", "update"]
    assert history[1]["changes"]["health_class"] == {"before": "normal", "after": "unable"}
    assert history[1]["changes"]["phone"] == {"before": None, "after": "***"}
    assert history[2]["changes"]["residence_community"]["after"] == "梅园新村"


async def test_search_by_name_branch_class_specialty_and_age(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    orgs = await make_branch(client, admin)
    other = (
        await client.post(
            "/api/v1/t/320102/orgs",
            headers=admin,
            json={"name": "老年大学支部", "level": "branch", "kind": "society", "parent_id": orgs["committee"]},
        )
    ).json()
    people = [
        ("王建国", "1940-01-01", "normal", ["书法"]),
        ("王秀兰", "1955-06-01", "limited", ["法律", "调解"]),
        ("陈明", "1962-02-02", "unable", ["医学"]),
    ]
    ids = {}
    for name, birth, health, specialties in people:
        response = await client.post(
            "/api/v1/t/320102/members",
            headers=admin,
            json={
                "name": name,
                "birth_date": birth,
                "health_class": health,
                "specialties": specialties,
                "formal_org_id": orgs["branch"],
            },
        )
        ids[name] = response.json()["id"]
    await client.put(
        f"/api/v1/t/320102/members/{ids['陈明']}/participations", headers=admin, json={"org_ids": [other["id"]]}
    )

    async def names(query: str) -> list[str]:
        body = (await client.get(f"/api/v1/t/320102/members?{query}", headers=admin)).json()
        return [m["name"] for m in body["items"]]

    assert await names("q=王") == ["王建国", "王秀兰"]
    assert await names("health_class=limited") == ["王秀兰"]
    assert await names("specialty=调解") == ["王秀兰"]
    assert await names(f"org_id={other['id']}") == ["陈明"]
    assert await names("age_min=80") == ["王建国"]
    assert await names("age_min=60&age_max=75") == ["王秀兰", "陈明"]
    page = (await client.get("/api/v1/t/320102/members?page_size=2&page=2", headers=admin)).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    # The city reads its counties' ledgers; another county does not.
    assert (await client.get("/api/v1/t/320100/members", headers=await token(client, "nj-admin"))).json()["total"] == 3
    assert (await client.get("/api/v1/t/320104/members", headers=await token(client, "qh-admin"))).json()["total"] == 0
    bad = await client.put(
        f"/api/v1/t/320102/members/{ids['陈明']}/participations", headers=admin, json={"org_ids": ["nope"]}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "org_ids"
    busy = await client.post(f"/api/v1/t/320102/orgs/{orgs['branch']}/deactivate", headers=admin)
    assert busy.status_code == 409 and "3 名" in busy.json()["error"]["message"]


async def test_a_branch_committee_has_one_secretary_and_keeps_its_history(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    orgs = await make_branch(client, admin)
    other = await make_branch(client, await token(client, "qh-admin"), code="320104", name="秦淮老干部党委")
    ids = []
    for name, birth in (("赵立", "1944-02-02"), ("钱敏", "1949-09-09"), ("孙强", "1951-01-01")):
        created = await client.post(
            "/api/v1/t/320102/members",
            headers=admin,
            json={"name": name, "birth_date": birth, "formal_org_id": orgs["branch"]},
        )
        ids.append(created.json()["id"])
    outsider = (
        await client.post(
            "/api/v1/t/320104/members",
            headers=await token(client, "qh-admin"),
            json={"name": "李外", "birth_date": "1950-01-01", "formal_org_id": other["branch"]},
        )
    ).json()["id"]
    url = f"/api/v1/t/320102/orgs/{orgs['branch']}/committee"
    seats = [{"member_id": ids[0], "position": "secretary"}, {"member_id": ids[1], "position": "organization"}]
    first = await client.put(url, headers=admin, json={"seats": seats})
    assert first.status_code == 200, first.text
    assert [(s["member_name"], s["position_zh"]) for s in first.json()] == [("赵立", "书记"), ("钱敏", "组织委员")]

    two_secretaries = await client.put(
        url, headers=admin, json={"seats": [*seats, {"member_id": ids[2], "position": "secretary"}]}
    )
    assert two_secretaries.status_code == 422 and two_secretaries.json()["error"]["code"] == "org.one_secretary"
    foreign = await client.put(url, headers=admin, json={"seats": [{"member_id": outsider, "position": "member"}]})
    assert foreign.status_code == 422 and foreign.json()["error"]["field"] == "seats.0.member_id"

    # A new secretary: the old seat ends, the history keeps it.
    changed = await client.put(
        url,
        headers=admin,
        json={
            "seats": [{"member_id": ids[2], "position": "secretary"}, {"member_id": ids[1], "position": "organization"}]
        },
    )
    assert [s["member_name"] for s in changed.json()] == ["孙强", "钱敏"]
    assert [s["member_name"] for s in (await client.get(url, headers=admin)).json()] == ["孙强", "钱敏"]
    audit = (await client.get("/api/v1/t/320102/audit?entity_type=committee_seat", headers=admin)).json()["items"]
    ended = [e for e in audit if e["action"] == "update" and e["after"].get("until")]
    assert len(ended) == 1
