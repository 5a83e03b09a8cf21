"""Organisation-relation transfers (组织关系转接): within a county, across counties with the hand-over of the member
record, rejection, cancellation, deferral (原单位兜底管理), bad input and the transfer rate."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
from sqlalchemy import select

from core.db.scope import TenantScope, get_scope
from core.events.models import OutboxEvent
from core.orgs import idcard
from core.orgs.models import Member
from core.orgs.transfers import MEMBER_TRANSFERRED, REPORTING_TZ, _sides
from core.platform import Platform
from tests.support import token

ID_WANG = idcard.make("320102", datetime.date(1946, 4, 2), 17, "male")
ID_LI = idcard.make("320102", datetime.date(1950, 8, 9), 22, "female")


def today() -> datetime.date:
    return datetime.datetime.now(REPORTING_TZ).date()


async def make_branches(client: httpx.AsyncClient, headers: dict[str, str], code: str, *names: str) -> dict[str, str]:
    """A committee and the named branches under it, in tenant ``code``; returns name → id (and "committee")."""
    committee = await client.post(
        f"/api/v1/t/{code}/orgs", headers=headers, json={"name": f"{code}老干部党委", "level": "committee"}
    )
    assert committee.status_code == 201, committee.text
    out = {"committee": committee.json()["id"]}
    for name in names:
        branch = await client.post(
            f"/api/v1/t/{code}/orgs",
            headers=headers,
            json={"name": name, "level": "branch", "kind": "community", "parent_id": out["committee"]},
        )
        assert branch.status_code == 201, branch.text
        out[name] = branch.json()["id"]
    return out


async def make_member(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, branch: str, name: str, **fields: Any
) -> str:
    body = {"name": name, "birth_date": "1948-01-01", "formal_org_id": branch, **fields}
    if "id_number" in fields:
        body.pop("birth_date")
    response = await client.post(f"/api/v1/t/{code}/members", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def request(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, member_id: str, **fields: Any
) -> httpx.Response:
    body = {"member_id": member_id, "reason": "常住地变更，申请转接", **fields}
    return await client.post(f"/api/v1/t/{code}/transfers", headers=headers, json=body)


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, transfer_id: str, action: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/t/{code}/transfers/{transfer_id}/{action}", headers=headers, json=body)


async def stats(client: httpx.AsyncClient, headers: dict[str, str], code: str, **period: str) -> dict[str, Any]:
    query = {"from": period.get("start", today().isoformat()), "to": period.get("end", today().isoformat())}
    response = await client.get(f"/api/v1/t/{code}/transfers/stats", headers=headers, params=query)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def events(platform: Platform) -> list[OutboxEvent]:
    async with platform.database.session(TenantScope.system()) as session:
        rows = await session.execute(
            select(OutboxEvent).where(OutboxEvent.name == MEMBER_TRANSFERRED).order_by(OutboxEvent.tenant_id)
        )
        return list(rows.scalars().all())


async def test_a_transfer_within_a_county(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "xw-admin")
    secretary = await token(client, "xw-secretary")
    orgs = await make_branches(client, admin, "320102", "梅园社区支部", "老年大学支部")
    member_id = await make_member(client, admin, "320102", orgs["梅园社区支部"], "周德明")
    await client.put(
        f"/api/v1/t/320102/members/{member_id}/participations",
        headers=admin,
        json={"org_ids": [orgs["老年大学支部"]]},
    )

    created = await request(client, secretary, "320102", member_id, target_org_id=orgs["老年大学支部"])
    assert created.status_code == 201, created.text
    transfer = created.json()
    assert (transfer["status"], transfer["kind"], transfer["direction"]) == ("requested", "direct", "internal")
    assert (transfer["from_org_name"], transfer["to_org_name"]) == ("梅园社区支部", "老年大学支部")
    assert transfer["steps"][0]["by"] == "xw-secretary" and transfer["steps"][0]["step_zh"] == "提交申请"

    # A branch secretary requests but does not decide; the county admin does.
    assert (await act(client, secretary, "320102", transfer["id"], "approve")).status_code == 403
    incoming = (await client.get("/api/v1/t/320102/transfers?direction=incoming", headers=admin)).json()
    assert [t["id"] for t in incoming["items"]] == [transfer["id"]]
    approved = await act(client, admin, "320102", transfer["id"], "approve", note="同意接收")
    assert approved.json()["status"] == "approved", approved.text
    # No body at all is fine for the steps whose note is optional.
    done = await client.post(f"/api/v1/t/320102/transfers/{transfer['id']}/complete", headers=admin)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed" and body["closed_at"] is not None
    assert [s["step"] for s in body["steps"]] == ["requested", "approved", "completed"]
    assert body["steps"][1]["note"] == "同意接收" and body["steps"][1]["by"] == "xw-admin"

    member = (await client.get(f"/api/v1/t/320102/members/{member_id}", headers=admin)).json()
    assert member["formal_org_id"] == orgs["老年大学支部"] and member["participations"] == []
    sent = await events(pg_platform)
    assert [(e.tenant_id, e.payload["side"]) for e in sent] == [(world["ids"]["320102"], "internal")]

    # The county admin who requests cannot approve his own request.
    again = await request(client, admin, "320102", member_id, target_org_id=orgs["梅园社区支部"])
    own = await act(client, admin, "320102", again.json()["id"], "approve")
    assert own.status_code == 403 and own.json()["error"]["code"] == "transfer.self_decision"
    assert "不能审批自己提交的转接申请" in own.json()["error"]["message"]

    numbers = await stats(client, admin, "320102")
    assert (numbers["requested"], numbers["completed"], numbers["pending"], numbers["internal"]) == (2, 1, 1, 2)
    assert numbers["rate"] == 0.5 and (numbers["rate_numerator"], numbers["rate_denominator"]) == (1, 2)


async def test_across_counties_the_member_record_is_handed_over(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    nj = await token(client, "nj-admin")
    xw_orgs = await make_branches(client, xw, "320102", "梅园社区支部", "老年大学支部")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部")
    member_id = await make_member(
        client, xw, "320102", xw_orgs["梅园社区支部"], "王建国", id_number=ID_WANG, phone="13912345678"
    )
    bystander = await make_member(client, xw, "320102", xw_orgs["梅园社区支部"], "赵其他")
    await client.patch(f"/api/v1/t/320102/members/{member_id}", headers=xw, json={"health_class": "limited"})
    await client.put(
        f"/api/v1/t/320102/members/{member_id}/participations",
        headers=xw,
        json={"org_ids": [xw_orgs["老年大学支部"]]},
    )

    created = await request(
        client,
        xw,
        "320102",
        member_id,
        kind="negotiated",
        target_tenant_code="320104",
        target_org_id=qh_orgs["夫子庙社区支部"],
        reason="随子女在秦淮区居住",
    )
    assert created.status_code == 201, created.text
    transfer = created.json()
    assert transfer["direction"] == "outgoing" and transfer["to_tenant_name"] == "秦淮区"
    assert transfer["to_org_name"] == "夫子庙社区支部" and transfer["to_org_id"] is None  # not 玄武's row to hold

    # The receiving county sees the essentials of the incoming request, and nothing else of 玄武.
    listed = await client.get("/api/v1/t/320104/transfers?direction=incoming&status=requested", headers=qh)
    assert listed.json()["total"] == 1, listed.text
    incoming = listed.json()["items"][0]
    assert incoming["member"] == {
        "id": member_id,
        "name": "王建国",
        "gender": "male",
        "birth_year": 1946,
        "id_number": ID_WANG[:4] + "*" * 10 + ID_WANG[-4:],
    }
    assert (incoming["from_tenant_code"], incoming["from_tenant_name"]) == ("320102", "玄武区")
    assert incoming["from_org_id"] is None and incoming["from_org_name"] is None
    assert (incoming["reason"], incoming["direction"], incoming["kind_zh"]) == (
        "随子女在秦淮区居住",
        "incoming",
        "协商转接",
    )
    assert incoming["to_org_id"] == qh_orgs["夫子庙社区支部"]
    raw = listed.text
    assert ID_WANG not in raw and "13912345678" not in raw and "梅园社区支部" not in raw and "赵其他" not in raw
    assert (await client.get("/api/v1/t/320104/transfers?direction=outgoing", headers=qh)).json()["total"] == 0
    assert (await client.get("/api/v1/t/320102/members", headers=qh)).status_code == 403
    assert (await client.get(f"/api/v1/t/320104/members/{member_id}", headers=qh)).status_code == 404
    assert (await client.get(f"/api/v1/t/320104/members/{bystander}", headers=qh)).status_code == 404
    one = await client.get(f"/api/v1/t/320104/transfers/{transfer['id']}", headers=qh)
    assert one.status_code == 200 and one.json()["from_org_name"] is None

    # The sending county cannot decide for the receiving one.
    wrong_side = await act(client, xw, "320102", transfer["id"], "approve")
    assert wrong_side.status_code == 403 and wrong_side.json()["error"]["code"] == "transfer.not_receiving_side"
    assert "秦淮区" in wrong_side.json()["error"]["message"]
    early = await act(client, qh, "320104", transfer["id"], "complete")
    assert early.status_code == 409 and early.json()["error"]["code"] == "transfer.bad_state"

    assert (await act(client, qh, "320104", transfer["id"], "approve")).json()["status"] == "approved"
    # Approved but not yet reported: the member is still 玄武's.
    assert (await client.get(f"/api/v1/t/320102/members/{member_id}", headers=xw)).status_code == 200
    assert (await client.get(f"/api/v1/t/320102/transfers/{transfer['id']}", headers=xw)).json()["status"] == "approved"
    done = await act(client, qh, "320104", transfer["id"], "complete", note="已到夫子庙社区支部报到")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["direction"] == "incoming"

    # The record moved: 玄武 no longer lists him, 秦淮 does, in the new branch, without 玄武's participations.
    xw_names = [m["name"] for m in (await client.get("/api/v1/t/320102/members", headers=xw)).json()["items"]]
    assert xw_names == ["赵其他"]
    # 玄武 keeps a stub (status transferred_out, no ID number or phone) that anchors its own history.
    stub = (await client.get(f"/api/v1/t/320102/members/{member_id}", headers=xw)).json()
    assert (stub["status"], stub["id_number"], stub["phone"], stub["name"]) == ("transferred_out", None, None, "王建国")
    gone = (await client.get("/api/v1/t/320102/members?status=transferred_out", headers=xw)).json()["items"]
    assert [m["id"] for m in gone] == [member_id]
    qh_members = (await client.get("/api/v1/t/320104/members", headers=qh)).json()["items"]
    assert [(m["id"], m["tenant_code"], m["formal_org_name"]) for m in qh_members] == [
        (member_id, "320104", "夫子庙社区支部")
    ]
    assert qh_members[0]["participations"] == [] and qh_members[0]["health_class"] == "limited"
    revealed = await client.post(
        f"/api/v1/t/320104/members/{member_id}/reveal", headers=qh, json={"fields": ["id_number"], "reason": "核对"}
    )
    assert revealed.json()["id_number"] == ID_WANG
    # Both sides keep the transfer record; 玄武 sees where he went, 秦淮 where he came from.
    assert (await client.get(f"/api/v1/t/320102/transfers/{transfer['id']}", headers=xw)).json()[
        "status"
    ] == "completed"

    # His earlier history travelled with him (copies marked with the transfer), ending with the hand-over.
    history = (await client.get(f"/api/v1/t/320104/members/{member_id}/history", headers=qh)).json()
    assert [h["action"] for h in history] == ["create", "update", "transfer_in", "reveal"]
    assert history[1]["changes"]["health_class"] == {"before": "normal", "after": "limited"}
    assert history[2]["changes"]["tenant_id"] == {"before": world["ids"]["320102"], "after": world["ids"]["320104"]}
    qh_audit = (await client.get("/api/v1/t/320104/audit?entity_type=member&page_size=100", headers=qh)).json()
    assert {e["tenant_id"] for e in qh_audit["items"]} == {world["ids"]["320104"]}
    carried = [e for e in qh_audit["items"] if e["request_id"] == f"transfer:{transfer['id']}"]
    assert sorted(e["action"] for e in carried) == ["create", "update"]
    xw_audit = (await client.get("/api/v1/t/320102/audit?action=transfer_out", headers=xw)).json()["items"]
    assert len(xw_audit) == 1 and xw_audit[0]["after"]["tenant_id"] == world["ids"]["320104"]

    # One event per tenant involved, for the plugins active there (points balances follow the member).
    sent = await events(pg_platform)
    assert [(e.tenant_id, e.payload["side"]) for e in sent] == [
        (world["ids"]["320102"], "outgoing"),
        (world["ids"]["320104"], "incoming"),
    ]
    assert sent[0].payload | {"side": None} == sent[1].payload | {"side": None}
    assert {k: sent[1].payload[k] for k in ("member_id", "transfer_id", "from_tenant_code", "to_tenant_code")} == {
        "member_id": member_id,
        "transfer_id": transfer["id"],
        "from_tenant_code": "320102",
        "to_tenant_code": "320104",
    }
    assert (sent[1].payload["from_tenant_id"], sent[1].payload["to_tenant_id"]) == (
        world["ids"]["320102"],
        world["ids"]["320104"],
    )

    # Counts and rate: 玄武 sent one, 秦淮 received one, the city saw one transfer inside it (not two).
    xw_stats, qh_stats, nj_stats = (
        await stats(client, xw, "320102"),
        await stats(client, qh, "320104"),
        await stats(client, nj, "320100"),
    )
    assert (xw_stats["requested"], xw_stats["completed"], xw_stats["outgoing"], xw_stats["incoming"]) == (1, 1, 1, 0)
    assert (qh_stats["requested"], qh_stats["completed"], qh_stats["outgoing"], qh_stats["incoming"]) == (1, 1, 0, 1)
    assert (nj_stats["requested"], nj_stats["completed"], nj_stats["internal"], nj_stats["incoming"]) == (1, 1, 1, 0)
    assert xw_stats["rate"] == qh_stats["rate"] == nj_stats["rate"] == 1.0
    city_list = (await client.get("/api/v1/t/320100/transfers", headers=nj)).json()
    assert city_list["total"] == 1 and city_list["items"][0]["direction"] == "internal"
    assert city_list["items"][0]["from_org_name"] == "梅园社区支部"  # the city reads 玄武's copy

    # He can move on from 秦淮 later; the open-transfer rule now applies there.
    back = await request(
        client, qh, "320104", member_id, target_tenant_code="320102", target_org_id=xw_orgs["老年大学支部"]
    )
    assert back.status_code == 201, back.text
    assert back.json()["from_org_name"] == "夫子庙社区支部" and back.json()["direction"] == "outgoing"
    await act(client, xw, "320102", back.json()["id"], "approve")
    returned = await act(client, xw, "320102", back.json()["id"], "complete")
    assert returned.status_code == 200, returned.text
    # 玄武's stub comes back to life (same id, ID number restored); 秦淮 keeps the stub now.
    home = (await client.get(f"/api/v1/t/320102/members/{member_id}", headers=xw)).json()
    assert (home["status"], home["formal_org_name"], home["id_number"]) == (
        "active",
        "老年大学支部",
        ID_WANG[:4] + "*" * 10 + ID_WANG[-4:],
    )
    assert (await client.get("/api/v1/t/320104/members", headers=qh)).json()["total"] == 0
    history = (await client.get(f"/api/v1/t/320102/members/{member_id}/history", headers=xw)).json()
    assert [h["action"] for h in history] == [
        "create",
        "update",
        "transfer_in",
        "transfer_out",
        "reveal",
        "transfer_in",
    ]


async def test_rejection_cancellation_and_the_rate_from_two_sums(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    secretary = await token(client, "xw-secretary")
    qh = await token(client, "qh-admin")
    nj = await token(client, "nj-admin")
    xw_orgs = await make_branches(client, xw, "320102", "梅园社区支部")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部", "老年大学支部")
    target = {"target_tenant_code": "320104", "target_org_id": qh_orgs["夫子庙社区支部"]}
    a, b, c = [await make_member(client, xw, "320102", xw_orgs["梅园社区支部"], n) for n in ("甲", "乙", "丙")]

    # Rejected, with a reason; then requested again (pending).
    first = (await request(client, xw, "320102", a, **target)).json()
    no_reason = await act(client, qh, "320104", first["id"], "reject")
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    rejected = await act(client, qh, "320104", first["id"], "reject", reason="本人未到社区报到，请核实居住地")
    assert (
        rejected.json()["status"] == "rejected" and rejected.json()["decision_note"] == "本人未到社区报到，请核实居住地"
    )
    seen_by_sender = (await client.get(f"/api/v1/t/320102/transfers/{first['id']}", headers=xw)).json()
    assert seen_by_sender["status_zh"] == "已退回" and seen_by_sender["steps"][-1]["by"] == "qh-admin"
    assert (await act(client, qh, "320104", first["id"], "approve")).status_code == 409
    assert (await request(client, xw, "320102", a, **target)).status_code == 201

    # Cancelled by the requester only, and only while it awaits a decision.
    second = (await request(client, xw, "320102", b, **target)).json()
    by_receiver = await act(client, qh, "320104", second["id"], "cancel")
    assert by_receiver.status_code == 403 and by_receiver.json()["error"]["code"] == "transfer.not_sending_side"
    by_colleague = await act(client, secretary, "320102", second["id"], "cancel")
    assert by_colleague.status_code == 403 and "xw-admin" in by_colleague.json()["error"]["message"]
    cancelled = await act(client, xw, "320102", second["id"], "cancel", note="本人改变主意")
    assert cancelled.json()["status"] == "cancelled"
    incoming = (await client.get("/api/v1/t/320104/transfers/" + second["id"], headers=qh)).json()
    assert incoming["status"] == "cancelled" and incoming["steps"][-1]["note"] == "本人改变主意"
    twice = await act(client, xw, "320102", second["id"], "cancel")
    assert twice.status_code == 409 and "已撤回" in twice.json()["error"]["message"]

    # Completed.
    third = (await request(client, xw, "320102", c, **target)).json()
    await act(client, qh, "320104", third["id"], "approve")
    assert (await act(client, qh, "320104", third["id"], "complete")).json()["status"] == "completed"

    # 秦淮 also moves one of its own members between its branches.
    own = await make_member(client, qh, "320104", qh_orgs["夫子庙社区支部"], "丁")
    requested_by_city = await request(client, nj, "320100", own, target_org_id=qh_orgs["老年大学支部"])
    assert requested_by_city.status_code == 201, requested_by_city.text
    internal = requested_by_city.json()
    await act(client, qh, "320104", internal["id"], "approve")
    await act(client, qh, "320104", internal["id"], "complete")

    xw_stats = await stats(client, xw, "320102")
    assert {k: xw_stats[k] for k in ("requested", "completed", "rejected", "cancelled", "pending", "outgoing")} == {
        "requested": 4,
        "completed": 1,
        "rejected": 1,
        "cancelled": 1,
        "pending": 1,
        "outgoing": 4,
    }
    assert xw_stats["rate"] == 1 / 3
    qh_stats = await stats(client, qh, "320104")
    assert (qh_stats["requested"], qh_stats["incoming"], qh_stats["internal"], qh_stats["completed"]) == (5, 4, 1, 2)
    assert qh_stats["rate"] == 2 / 4
    # The city: 2 completed of 5 − 1 cancelled = 0.5 from the two sums (an average of the counties' rates is 0.4167).
    nj_stats = await stats(client, nj, "320100")
    assert (nj_stats["requested"], nj_stats["internal"], nj_stats["rate"]) == (5, 5, 0.5)
    province = await stats(client, await token(client, "js-admin"), "320000")
    assert (province["requested"], province["rate"]) == (5, 0.5)
    # Another city sees none of it; a period without requests has no rate.
    assert (await stats(client, await token(client, "zj-admin"), "321100"))["requested"] == 0
    empty = await stats(client, xw, "320102", start="2020-01-01", end="2020-12-31")
    assert (empty["requested"], empty["rate"]) == (0, None)
    reversed_period = await client.get("/api/v1/t/320102/transfers/stats?from=2026-02-01&to=2026-01-01", headers=xw)
    assert reversed_period.status_code == 422 and reversed_period.json()["error"]["field"] == "from"

    # Lists: 玄武 sees its four outgoing requests, never 秦淮's internal one; filters and pages work.
    xw_list = (await client.get("/api/v1/t/320102/transfers?page_size=3", headers=xw)).json()
    assert xw_list["total"] == 4 and len(xw_list["items"]) == 3
    assert internal["id"] not in {t["id"] for t in xw_list["items"]}
    assert (await client.get(f"/api/v1/t/320102/transfers/{internal['id']}", headers=xw)).status_code == 404
    only_rejected = (await client.get("/api/v1/t/320102/transfers?status=rejected", headers=xw)).json()
    assert [t["id"] for t in only_rejected["items"]] == [first["id"]]
    assert (await client.get("/api/v1/t/320104/transfers?direction=incoming", headers=qh)).json()["total"] == 5


async def test_a_deferral_keeps_the_relation_with_the_original_unit(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    secretary = await token(client, "xw-secretary")
    orgs = await make_branches(client, admin, "320102", "原单位支部", "社区支部")
    member_id = await make_member(
        client, admin, "320102", orgs["原单位支部"], "钱老", birth_date="1931-05-01", health_class="unable"
    )
    review = (today() + datetime.timedelta(days=365)).isoformat()

    missing_review = await request(client, secretary, "320102", member_id, kind="deferred", reason="年高体弱，本人申请")
    assert missing_review.status_code == 422 and missing_review.json()["error"]["field"] == "review_on"
    past_review = await request(
        client, secretary, "320102", member_id, kind="deferred", review_on="2020-01-01", reason="年高体弱，本人申请"
    )
    assert past_review.status_code == 422 and past_review.json()["error"]["code"] == "transfer.review_on_past"
    with_target = await request(
        client, secretary, "320102", member_id, kind="deferred", review_on=review, target_org_id=orgs["社区支部"]
    )
    assert with_target.status_code == 422 and with_target.json()["error"]["code"] == "transfer.deferred_target"

    created = await request(
        client, secretary, "320102", member_id, kind="deferred", review_on=review, reason="年高体弱，本人申请暂不转接"
    )
    assert created.status_code == 201, created.text
    deferral = created.json()
    assert (deferral["kind_zh"], deferral["review_on"], deferral["to_org_name"]) == (
        "原单位兜底管理",
        review,
        "原单位支部",
    )
    granted = await act(client, admin, "320102", deferral["id"], "approve")
    assert granted.json()["status"] == "deferred" and granted.json()["closed_at"] is not None
    assert granted.json()["steps"][-1]["step_zh"] == "同意原单位兜底管理"
    assert (await act(client, admin, "320102", deferral["id"], "complete")).status_code == 409

    member = (await client.get(f"/api/v1/t/320102/members/{member_id}", headers=admin)).json()
    assert member["formal_org_id"] == orgs["原单位支部"] and member["status"] == "active"
    numbers = await stats(client, admin, "320102")
    assert (numbers["deferred"], numbers["requested"], numbers["pending"], numbers["rate"]) == (1, 0, 0, None)
    # A deferral is not an open transfer: at review the member may still be transferred.
    later = await request(client, secretary, "320102", member_id, target_org_id=orgs["社区支部"])
    assert later.status_code == 201, later.text


async def test_bad_input_gets_a_clear_answer(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    xw_orgs = await make_branches(client, xw, "320102", "梅园社区支部", "老年大学支部")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部")
    member_id = await make_member(client, xw, "320102", xw_orgs["梅园社区支部"], "孙立")
    qh_member = await make_member(client, qh, "320104", qh_orgs["夫子庙社区支部"], "秦某")

    unknown = await request(
        client, xw, "320102", member_id, target_tenant_code="329999", target_org_id=qh_orgs["夫子庙社区支部"]
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "target_tenant_code" and "329999" in unknown.json()["error"]["message"]
    malformed = await request(
        client, xw, "320102", member_id, target_tenant_code="32", target_org_id=qh_orgs["夫子庙社区支部"]
    )
    assert malformed.status_code == 422 and malformed.json()["error"]["field"] == "target_tenant_code"

    # 玄武's own branch named as a branch of 秦淮; 秦淮's committee (not a branch); garbage.
    for org_id in (xw_orgs["老年大学支部"], qh_orgs["committee"], "not-an-id"):
        wrong = await request(client, xw, "320102", member_id, target_tenant_code="320104", target_org_id=org_id)
        assert wrong.status_code == 422, wrong.text
        assert (
            wrong.json()["error"]["field"] == "target_org_id" and "320104（秦淮区）" in wrong.json()["error"]["message"]
        )
    no_branch = await request(client, xw, "320102", member_id, target_tenant_code="320104")
    assert no_branch.status_code == 422 and no_branch.json()["error"]["field"] == "target_org_id"
    same = await request(client, xw, "320102", member_id, target_org_id=xw_orgs["梅园社区支部"])
    assert same.status_code == 422 and same.json()["error"]["code"] == "transfer.same_branch"

    # A member of another county does not exist for 玄武.
    foreign = await request(client, xw, "320102", qh_member, target_org_id=xw_orgs["老年大学支部"])
    assert foreign.status_code == 404 and foreign.json()["error"]["field"] == "member_id"

    # One open transfer per member.
    first = await request(client, xw, "320102", member_id, target_org_id=xw_orgs["老年大学支部"])
    assert first.status_code == 201
    second = await request(
        client, xw, "320102", member_id, target_tenant_code="320104", target_org_id=qh_orgs["夫子庙社区支部"]
    )
    assert second.status_code == 409 and second.json()["error"]["code"] == "transfer.already_open"
    assert "孙立 已有一项未办结的转接" in second.json()["error"]["message"]

    # Approving one's own request.
    own = await act(client, xw, "320102", first.json()["id"], "approve")
    assert own.status_code == 403 and own.json()["error"]["code"] == "transfer.self_decision"
    assert "请由接收单位的其他管理员审批" in own.json()["error"]["message"]
    assert own.json()["error"]["message"] != own.json()["error"]["code"]


async def test_a_duplicate_record_in_the_receiving_county_stops_the_hand_over(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    xw_orgs = await make_branches(client, xw, "320102", "梅园社区支部")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部")
    member_id = await make_member(client, xw, "320102", xw_orgs["梅园社区支部"], "李秀英", id_number=ID_LI)
    await make_member(client, qh, "320104", qh_orgs["夫子庙社区支部"], "李秀英", id_number=ID_LI)
    transfer = (
        await request(
            client, xw, "320102", member_id, target_tenant_code="320104", target_org_id=qh_orgs["夫子庙社区支部"]
        )
    ).json()
    await act(client, qh, "320104", transfer["id"], "approve")
    clash = await act(client, qh, "320104", transfer["id"], "complete")
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "transfer.id_number_clash"
    assert "合并重复档案" in clash.json()["error"]["message"]
    # Nothing half-written: the member is still 玄武's and the transfer still approved.
    assert (await client.get(f"/api/v1/t/320102/members/{member_id}", headers=xw)).status_code == 200
    assert (await client.get(f"/api/v1/t/320104/transfers/{transfer['id']}", headers=qh)).json()["status"] == "approved"


async def test_the_service_widens_the_scope_to_the_named_tenants_only_and_for_the_block_only(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    qh = await token(client, "qh-admin")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部")
    await make_member(client, qh, "320104", qh_orgs["夫子庙社区支部"], "秦某")
    dy = await token(client, "dy-admin")  # 丹阳 (another city): must stay invisible even inside the block
    dy_orgs = await make_branches(client, dy, "321181", "丹阳支部")
    await make_member(client, dy, "321181", dy_orgs["丹阳支部"], "丹某")
    ids = world["ids"]
    scope = TenantScope.of({ids["320102"]}, {ids["320102"]})
    # Without the ORM's criteria, so that row-level security (lock 2) alone is what is tested.
    names = select(Member.name).order_by(Member.name).execution_options(skip_tenant_scope=True)
    async with pg_platform.database.session(scope) as session:
        assert (await session.execute(names)).scalars().all() == []
        async with _sides(session, ids["320104"]):
            assert (await session.execute(names)).scalars().all() == ["秦某"]
        assert (await session.execute(names)).scalars().all() == []
        assert get_scope(session.sync_session) == scope
