"""Organisation life (组织生活): meetings of a branch, attendance marks, health-class excuses, and the
``core.attendance_recorded`` / ``core.attendance_revoked`` events a points plugin credits from."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from core.db.scope import TenantScope
from core.events.models import OutboxEvent
from core.platform import Platform
from tests.support import token

TODAY = datetime.date.today()
HELD = TODAY - datetime.timedelta(days=20)


async def make_org(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, name: str, level: str, parent: str | None = None
) -> str:
    body: dict[str, Any] = {"name": name, "level": level, "parent_id": parent}
    if level == "branch":
        body["kind"] = "community"
    response = await client.post(f"/api/v1/t/{code}/orgs", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def make_member(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    code: str,
    name: str,
    branch: str,
    health: str = "normal",
    participates: list[str] | None = None,
) -> str:
    response = await client.post(
        f"/api/v1/t/{code}/members",
        headers=headers,
        json={"name": name, "birth_date": "1950-05-01", "formal_org_id": branch, "health_class": health},
    )
    assert response.status_code == 201, response.text
    member_id = str(response.json()["id"])
    if participates:
        changed = await client.put(
            f"/api/v1/t/{code}/members/{member_id}/participations", headers=headers, json={"org_ids": participates}
        )
        assert changed.status_code == 200, changed.text
    return member_id


async def make_county(client: httpx.AsyncClient, headers: dict[str, str], code: str = "320102") -> dict[str, str]:
    """A committee with branches A and B, a party group under A, and five members.

    王 李 (normal) and 张 (不能参加活动) belong to A; 赵 belongs to B and takes part in A; 钱 belongs to B only.
    """
    committee = await make_org(client, headers, code, f"{code}老干部党委", "committee")
    a = await make_org(client, headers, code, "梅园社区支部", "branch", committee)
    b = await make_org(client, headers, code, "机关第一支部", "branch", committee)
    group = await make_org(client, headers, code, "第一党小组", "group", a)
    ids = {"committee": committee, "a": a, "b": b, "group": group}
    ids["王"] = await make_member(client, headers, code, "王建国", a)
    ids["李"] = await make_member(client, headers, code, "李秀英", a)
    ids["张"] = await make_member(client, headers, code, "张卧床", a, health="unable")
    ids["赵"] = await make_member(client, headers, code, "赵参加", b, participates=[a])
    ids["钱"] = await make_member(client, headers, code, "钱外支", b)
    return ids


async def make_meeting(
    client: httpx.AsyncClient, headers: dict[str, str], org_id: str, code: str = "320102", **fields: Any
) -> httpx.Response:
    body = {
        "org_id": org_id,
        "kind": "theme_day",
        "title": "主题党日：重温入党誓词",
        "held_on": HELD.isoformat(),
        "start_time": "09:30",
        "duration_minutes": 90,
        "place": "社区党群服务中心",
        "mode": "offline",
        **fields,
    }
    return await client.post(f"/api/v1/t/{code}/meetings", headers=headers, json=body)


async def events(platform: Platform) -> list[OutboxEvent]:
    async with platform.database.session(TenantScope.system()) as session:
        rows = await session.execute(
            select(OutboxEvent).where(OutboxEvent.name.like("core.attendance_%")).order_by(OutboxEvent.occurred_at)
        )
        return list(rows.scalars().all())


def net_credits(rows: list[OutboxEvent]) -> Counter[str]:
    """Per member: credits recorded minus credits revoked."""
    net: Counter[str] = Counter()
    for row in rows:
        net[row.payload["member_id"]] += 1 if row.name == "core.attendance_recorded" else -1
    return net


async def test_attendance_raises_one_credit_per_present_member_and_corrections_revoke(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "xw-admin")
    secretary = await token(client, "xw-secretary")
    ids = await make_county(client, admin)
    created = await make_meeting(client, secretary, ids["a"])
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert (meeting["kind_zh"], meeting["state"], meeting["mode_zh"]) == ("主题党日", "held", "线下")
    url = f"/api/v1/t/320102/meetings/{meeting['id']}/attendance"

    # The roster: A's own members and 赵, who takes part in A; 张 cannot take part and is excused by default.
    sheet = {r["name"]: r for r in meeting["attendance"]}
    assert set(sheet) == {"王建国", "李秀英", "张卧床", "赵参加"}
    assert (sheet["赵参加"]["relation"], sheet["张卧床"]["status"], sheet["王建国"]["status"]) == (
        "participant",
        "excused",
        "unmarked",
    )

    recorded = await client.post(
        url,
        headers=secretary,
        json={
            "items": [
                {"member_id": ids["王"], "status": "present"},
                {"member_id": ids["李"], "status": "absent", "reason": "外出就医"},
                {"member_id": ids["赵"], "status": "present"},
            ]
        },
    )
    assert recorded.status_code == 200, recorded.text
    summary = recorded.json()["summary"]
    assert summary == {
        "roster": 4,
        "expected": 3,
        "present": 2,
        "absent": 1,
        "excused": 1,
        "unmarked": 0,
        "rate": 0.6667,
    }
    rows = await events(pg_platform)
    assert [(e.name, e.payload["member_id"]) for e in rows] == [
        ("core.attendance_recorded", ids["王"]),
        ("core.attendance_recorded", ids["赵"]),
    ]
    first = rows[0]
    assert first.source == "core" and first.tenant_id == world["ids"]["320102"]
    assert first.payload == {
        "meeting_id": meeting["id"],
        "org_id": ids["a"],
        "kind": "theme_day",
        "member_id": ids["王"],
        "date": HELD.isoformat(),
        "duration_minutes": 90,
    }

    # The same marks again change nothing and credit nothing twice.
    again = await client.post(url, headers=secretary, json={"items": [{"member_id": ids["王"], "status": "present"}]})
    assert again.status_code == 200 and len(await events(pg_platform)) == 2

    # A correction withdraws 赵's credit, exactly the one recorded; marking him present again credits anew.
    corrected = await client.post(
        url, headers=secretary, json={"items": [{"member_id": ids["赵"], "status": "absent", "reason": "记错了"}]}
    )
    assert corrected.json()["summary"]["absent"] == 2
    rows = await events(pg_platform)
    assert rows[-1].name == "core.attendance_revoked"
    assert rows[-1].payload["revokes_event_id"] == str(rows[1].id)
    assert rows[-1].payload["reason"] == "corrected" and rows[-1].payload["member_id"] == ids["赵"]
    await client.post(url, headers=secretary, json={"items": [{"member_id": ids["赵"], "status": "present"}]})
    assert net_credits(await events(pg_platform)) == Counter({ids["王"]: 1, ids["赵"]: 1})

    # Changing the meeting's length re-credits every standing credit with the new length.
    changed = await client.patch(
        f"/api/v1/t/320102/meetings/{meeting['id']}", headers=secretary, json={"duration_minutes": 120}
    )
    assert changed.status_code == 200, changed.text
    rows = await events(pg_platform)
    assert net_credits(rows) == Counter({ids["王"]: 1, ids["赵"]: 1})
    latest = {e.payload["member_id"]: e.payload for e in rows if e.name == "core.attendance_recorded"}
    assert {p["duration_minutes"] for p in latest.values()} == {120}

    # Removing a mark revokes it; cancelling the meeting revokes the rest and freezes it.
    removed = await client.delete(
        f"/api/v1/t/320102/meetings/{meeting['id']}/attendance/{ids['王']}", headers=secretary
    )
    assert removed.status_code == 204
    assert net_credits(await events(pg_platform))[ids["王"]] == 0
    cancelled = await client.post(
        f"/api/v1/t/320102/meetings/{meeting['id']}/cancel", headers=secretary, json={"reason": "天气原因改期"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["state_zh"] == "已取消"
    rows = await events(pg_platform)
    assert all(v == 0 for v in net_credits(rows).values())
    assert rows[-1].payload["reason"] == "cancelled"
    late = await client.post(url, headers=secretary, json={"items": [{"member_id": ids["王"], "status": "present"}]})
    assert late.status_code == 409 and "已于" in late.json()["error"]["message"]


async def test_members_who_cannot_take_part_are_excused_not_absent(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    ids = await make_county(client, admin)
    meeting = (await make_meeting(client, admin, ids["a"], kind="lecture", lecturer="刘教授")).json()
    url = f"/api/v1/t/320102/meetings/{meeting['id']}/attendance"
    done = await client.post(
        url,
        headers=admin,
        json={
            "items": [
                {"member_id": ids["王"], "status": "present"},
                {"member_id": ids["李"], "status": "present"},
                {"member_id": ids["赵"], "status": "excused", "reason": "住院"},
            ]
        },
    )
    body = done.json()
    assert body["summary"] == {
        "roster": 4,
        "expected": 2,
        "present": 2,
        "absent": 0,
        "excused": 2,
        "unmarked": 0,
        "rate": 1.0,
    }
    zhang = next(r for r in body["attendance"] if r["name"] == "张卧床")
    assert (zhang["status_zh"], zhang["by_default"]) == ("请假", True) and "不能参加活动" in zhang["reason"]
    listed = (await client.get("/api/v1/t/320102/meetings", headers=admin)).json()["items"]
    assert [(m["present"], m["absent"], m["excused"]) for m in listed] == [(2, 0, 2)]

    # Explicitly marked, a member who cannot usually take part is recorded as marked.
    came = await client.post(url, headers=admin, json={"items": [{"member_id": ids["张"], "status": "present"}]})
    zhang = next(r for r in came.json()["attendance"] if r["name"] == "张卧床")
    assert (zhang["status"], zhang["by_default"]) == ("present", False)
    assert came.json()["summary"]["expected"] == 3


async def test_meetings_are_refused_with_a_reason(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    ids = await make_county(client, admin)
    qinhuai = await make_org(client, await token(client, "qh-admin"), "320104", "秦淮社区支部", "branch")

    foreign = await make_meeting(client, admin, qinhuai)
    assert foreign.status_code == 422
    assert foreign.json()["error"]["field"] == "org_id" and foreign.json()["error"]["code"] == "meeting.org_invalid"
    assert "不属于本单位" in foreign.json()["error"]["message"]
    # A city acting for itself cannot hold a county's meeting either: the branch must be the acting tenant's.
    city = await make_meeting(client, await token(client, "nj-admin"), ids["a"], code="320100")
    assert city.status_code == 422 and city.json()["error"]["field"] == "org_id"
    committee = await make_meeting(client, admin, ids["committee"])
    assert committee.json()["error"]["code"] == "meeting.org_invalid"
    group_at_branch = await make_meeting(client, admin, ids["a"], kind="group")
    assert group_at_branch.json()["error"]["code"] == "meeting.group_meeting_needs_group"
    assert (await make_meeting(client, admin, ids["group"], kind="group")).status_code == 201
    no_lecturer = await make_meeting(client, admin, ids["a"], kind="lecture")
    assert no_lecturer.status_code == 422 and no_lecturer.json()["error"]["field"] == "lecturer"
    bad_kind = await make_meeting(client, admin, ids["a"], kind="party")
    assert bad_kind.status_code == 422 and bad_kind.json()["error"]["field"] == "kind"

    planned = (
        await make_meeting(client, admin, ids["a"], held_on=(TODAY + datetime.timedelta(days=5)).isoformat())
    ).json()
    assert planned["state"] == "planned"
    early = await client.post(
        f"/api/v1/t/320102/meetings/{planned['id']}/attendance",
        headers=admin,
        json={"items": [{"member_id": ids["王"], "status": "present"}]},
    )
    assert early.status_code == 422 and early.json()["error"]["code"] == "meeting.not_yet_held"

    held = (await make_meeting(client, admin, ids["a"])).json()
    url = f"/api/v1/t/320102/meetings/{held['id']}/attendance"
    outsider = await client.post(url, headers=admin, json={"items": [{"member_id": ids["钱"], "status": "present"}]})
    assert outsider.status_code == 422
    assert outsider.json()["error"]["field"] == "items[0].member_id" and "钱外支" in outsider.json()["error"]["message"]
    no_reason = await client.post(
        url,
        headers=admin,
        json={"items": [{"member_id": ids["王"], "status": "present"}, {"member_id": ids["李"], "status": "absent"}]},
    )
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "items[1].reason"
    twice = await client.post(
        url,
        headers=admin,
        json={"items": [{"member_id": ids["王"], "status": "present"}, {"member_id": ids["王"], "status": "absent"}]},
    )
    assert twice.json()["error"]["code"] == "attendance.duplicate"
    # Nothing of a refused batch stays behind.
    assert (await client.get(f"/api/v1/t/320102/meetings/{held['id']}", headers=admin)).json()["present"] == 0

    # Members may read; they may not record.
    member = await token(client, "xw-member")
    assert (await client.get(f"/api/v1/t/320102/meetings/{held['id']}", headers=member)).status_code == 200
    denied = await client.post(url, headers=member, json={"items": [{"member_id": ids["王"], "status": "present"}]})
    assert denied.status_code == 403 and "orglife.write" in denied.json()["error"]["message"]
    # With marks, the meeting stays with its branch and in the past.
    await client.post(url, headers=admin, json={"items": [{"member_id": ids["王"], "status": "present"}]})
    moved = await client.patch(f"/api/v1/t/320102/meetings/{held['id']}", headers=admin, json={"org_id": ids["b"]})
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "meeting.org_locked"
    future = await client.patch(
        f"/api/v1/t/320102/meetings/{held['id']}",
        headers=admin,
        json={"held_on": (TODAY + datetime.timedelta(days=3)).isoformat()},
    )
    assert future.status_code == 422 and future.json()["error"]["field"] == "held_on"


async def test_meetings_are_listed_by_branch_kind_and_period(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    ids = await make_county(client, admin)
    last_year = datetime.date(TODAY.year - 1, 6, 15)
    await make_meeting(
        client, admin, ids["a"], title="支部党员大会", kind="branch_congress", held_on=last_year.isoformat()
    )
    await make_meeting(client, admin, ids["a"], title="党课", kind="lecture", lecturer="老书记")
    await make_meeting(client, admin, ids["group"], title="小组学习", kind="group")
    await make_meeting(client, admin, ids["b"], title="B支部主题党日")
    cancelled = (await make_meeting(client, admin, ids["b"], title="取消的会")).json()
    await client.post(f"/api/v1/t/320102/meetings/{cancelled['id']}/cancel", headers=admin, json={"reason": "改期"})
    await make_meeting(
        client,
        await token(client, "qh-admin"),
        await make_org(client, await token(client, "qh-admin"), "320104", "秦淮支部", "branch"),
        code="320104",
        title="秦淮的会",
    )

    async def titles(query: str = "", code: str = "320102", user: str = "xw-admin") -> list[str]:
        response = await client.get(f"/api/v1/t/{code}/meetings?{query}", headers=await token(client, user))
        assert response.status_code == 200, response.text
        return sorted(m["title"] for m in response.json()["items"])

    assert await titles() == sorted(["支部党员大会", "党课", "小组学习", "B支部主题党日"])
    assert await titles(f"org_id={ids['a']}") == sorted(["支部党员大会", "党课", "小组学习"])
    assert await titles("kind=lecture") == ["党课"]
    assert await titles(f"period={last_year.year}") == ["支部党员大会"]
    assert await titles(f"period={HELD.year}-{HELD.month:02d}&org_id={ids['b']}") == ["B支部主题党日"]
    assert await titles(f"date_from={HELD.isoformat()}&include_cancelled=true&kind=theme_day") == sorted(
        ["B支部主题党日", "取消的会"]
    )
    assert await titles(code="320100", user="nj-admin") == sorted(
        ["支部党员大会", "党课", "小组学习", "B支部主题党日", "秦淮的会"]
    )
    bad = await client.get("/api/v1/t/320102/meetings?period=2025-13", headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "period"


async def test_a_county_cannot_reach_another_countys_meetings(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xuanwu = await token(client, "xw-admin")
    qinhuai = await token(client, "qh-admin")
    xw = await make_county(client, xuanwu)
    qh = await make_county(client, qinhuai, "320104")
    theirs = (await make_meeting(client, qinhuai, qh["a"], code="320104", title="秦淮主题党日")).json()
    base = f"/api/v1/t/320102/meetings/{theirs['id']}"

    assert (await client.get(base, headers=xuanwu)).status_code == 404
    assert (await client.patch(base, headers=xuanwu, json={"title": "改掉"})).status_code == 404
    marked = await client.post(
        f"{base}/attendance", headers=xuanwu, json={"items": [{"member_id": xw["王"], "status": "present"}]}
    )
    assert marked.status_code == 404
    assert (await client.post(f"{base}/cancel", headers=xuanwu, json={"reason": "越权取消"})).status_code == 404
    assert (await client.delete(f"{base}/attendance/{qh['王']}", headers=xuanwu)).status_code == 404
    # Nor can Xuanwu mark Qinhuai's members at its own meeting.
    ours = (await make_meeting(client, xuanwu, xw["a"])).json()
    foreign_member = await client.post(
        f"/api/v1/t/320102/meetings/{ours['id']}/attendance",
        headers=xuanwu,
        json={"items": [{"member_id": qh["王"], "status": "present"}]},
    )
    assert foreign_member.status_code == 422 and foreign_member.json()["error"]["code"] == "attendance.member_unknown"

    again = (await client.get(f"/api/v1/t/320104/meetings/{theirs['id']}", headers=qinhuai)).json()
    assert (again["title"], again["state"], again["present"]) == ("秦淮主题党日", "held", 0)
    assert await events(pg_platform) == []
