"""银龄调解室 through the platform: rooms and mediators, a case from 受理 to 回访 and 司法确认, the events the
points plugin credits from, who may see a case, the time limit, bad input, and absence where not enabled."""

from __future__ import annotations

import datetime
import io
from typing import Any

import httpx
from docx import Document
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.db.scope import TenantScope
from core.events.models import OutboxEvent
from core.platform import Platform
from core.plugin_host.host import PluginHost
from plugins.mediation.models import Party
from tests.support import token

from .conftest import AGREEMENT, NANJING, QINHUAI, TODAY, XUANWU, case_body, grant, new_user, url


def test_plugin_is_discovered_with_roles_metrics_and_settings() -> None:
    host = PluginHost.discover()
    assert [f for f in host.failures if "mediation" in f.source] == []
    roles = {r.name: r for r in host.roles()}
    assert {"mediation.case.read", "mediation.case.write", "mediation.case.reveal"} <= roles["mediator"].permissions
    assert "mediation.manage" not in roles["mediator"].permissions
    assert "mediation.manage" in roles["mediation_manager"].permissions
    ids = {m.id for _, m in host.metrics() if m.id.startswith("mediation.")}
    assert {
        "mediation.cases_received",
        "mediation.cases_settled",
        "mediation.settlement_rate",
        "mediation.cases_received.neighbour",
        "mediation.settlement_rate.petition",
        "mediation.cases_received.room_petition_room",
        "mediation.petitions_received",
        "mediation.petitions_resolved",
        "mediation.people_served",
        "mediation.average_days_to_settle",
    } <= ids
    specs = {m.id: m for _, m in host.metrics()}
    rate = specs["mediation.average_days_to_settle"]
    assert (rate.aggregation, rate.numerator, rate.denominator) == (
        "rate",
        "mediation.settle_days_total",
        "mediation.cases_settled",
    )
    assert all(len(i) <= 64 for i in ids)
    assert host.settings_schemas()["mediation"]().model_dump() == {
        "time_limit_months": 1,
        "warn_days": 5,
        "max_extension_days": 30,
        "case_number_word": "调",
    }


async def _step(client: httpx.AsyncClient, headers: dict[str, str], case_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(url(XUANWU, f"/cases/{case_id}/steps"), headers=headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_case_from_intake_to_follow_up(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    admin = xuanwu["admin"]
    rooms = (await client.get(url(XUANWU, "/rooms"), headers=admin)).json()
    assert rooms["total"] == 2
    room_a = next(r for r in rooms["items"] if r["id"] == xuanwu["room_a"])
    assert {m["member_name"] for m in room_a["mediators"]} == {"王建国", "李秀兰"}
    assert room_a["opening_hours"] == "周一至周五 9:00-11:30"

    # 受理: parties' personal data is masked in every answer; the case is numbered; one month to mediate.
    mediator = await token(client, "tiao-a")
    created = await client.post(
        url(XUANWU, "/cases"),
        headers=mediator,
        json=case_body(xuanwu["room_a"], mediator_ids=[xuanwu["mediator_a"], xuanwu["mediator_a2"]]),
    )
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["number"] == f"（{TODAY.year}）调字第1号" and case["status"] == "intake"
    assert case["tenant_id"] == xuanwu["tenant_id"] and case["created_by"] == "tiao-a"
    applicant = next(p for p in case["parties"] if p["side"] == "applicant")
    assert applicant["id_number"] == "3201**********1229" and applicant["phone"] == "138****5678"
    assert case["time_limit"]["state"] == "ok" and case["time_limit"]["days_left"] >= 28
    assert case["lead_mediator_id"] == xuanwu["mediator_a"]
    assert [(s["action"], s["to_status"]) for s in case["steps"]] == [("intake", "intake")]
    assert case["steps"][0]["details"]["rights_notified"] is True
    case_id = case["id"]

    # Encrypted at rest: the stored column is not the ID number.
    async with pg_platform.database.session(TenantScope.system()) as session:
        raw = (
            await session.execute(
                select(Party.__table__.c.id_number).where(Party.__table__.c.case_id == case["id"]).limit(1)
            )
        ).scalar_one_or_none()
    assert raw is not None

    # Steps out of order are refused with a message that says what to do.
    early = await client.post(
        url(XUANWU, f"/cases/{case_id}/steps"), headers=mediator, json={"action": "settle", "agreement": AGREEMENT}
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "mediation.step_not_allowed"
    assert "受理" in early.json()["error"]["message"] and "开始调解" in early.json()["error"]["message"]

    await _step(client, mediator, case_id, action="investigate", note="现场查看漏水情况")
    await _step(client, mediator, case_id, action="record", record_kind="investigation", note="拍照取证，询问物业")
    await _step(client, mediator, case_id, action="mediate")
    await _step(client, mediator, case_id, action="record", record_kind="mediation", note="背对背调解两次")
    settled = await _step(client, mediator, case_id, action="settle", agreement=AGREEMENT, note="双方自愿达成协议")
    assert (settled["from_status"], settled["to_status"]) == ("mediating", "settled")
    assert "previous" not in settled["details"]

    # Reveal: only with a reason, and audited.
    party_id = applicant["id"]
    revealed = await client.post(
        url(XUANWU, f"/cases/{case_id}/parties/{party_id}/reveal"),
        headers=mediator,
        json={"fields": ["id_number", "phone"], "reason": "制作调解协议书"},
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {"id_number": "320102195503151229", "phone": "13812345678", "address": None}

    # The agreement: generated from the shipped template, filed with the case, handed out by signed link.
    made = await client.post(url(XUANWU, f"/cases/{case_id}/agreement"), headers=mediator)
    assert made.status_code == 201, made.text
    agreement = made.json()
    assert agreement["kind"] == "agreement" and agreement["download_url"]
    assert "X-Amz-Signature=" in agreement["download_url"] or "signature=" in agreement["download_url"].lower()
    content = await pg_platform.storage.get(await _key(pg_platform, agreement["id"]))
    text = _docx_text(content)
    for expected in (
        "人民调解协议书",
        case["number"],
        "申请人：张桂英，女，身份证号码 320102195503151229",
        "被申请人：刘志刚",
        "1. 刘志刚于十日内请人修复卫生间防水层",
        "现金当面支付",
        "梅园新村银龄调解室",
        "王建国、李秀兰",
    ):
        assert expected in text, expected
    assert "{{" not in text

    # Performance, follow-up, judicial confirmation.
    await _step(client, mediator, case_id, action="perform", note="已赔偿800元")
    await _step(client, mediator, case_id, action="follow_up", satisfied=True, note="回访：双方满意")
    confirm = await _step(client, mediator, case_id, action="confirm", court="玄武区人民法院")
    assert confirm["to_status"] == "followed_up"
    again = await client.post(url(XUANWU, f"/cases/{case_id}/steps"), headers=mediator, json={"action": "confirm"})
    assert again.status_code == 409

    # A photo filed with the case, then the case file in the prescribed order.
    photo = await client.post(
        url(XUANWU, f"/cases/{case_id}/attachments"),
        headers=mediator,
        files={"file": ("现场.png", PNG, "image/png")},
        data={"kind": "investigation", "caption": "天花板受损照片"},
    )
    assert photo.status_code == 201, photo.text
    fetched = await client.get(url(XUANWU, f"/cases/{case_id}/attachments/{photo.json()['id']}"), headers=mediator)
    assert fetched.status_code == 200 and fetched.json()["download_url"]
    listed = (await client.get(url(XUANWU, f"/cases/{case_id}/attachments"), headers=mediator)).json()
    assert {a["kind"] for a in listed} == {"agreement", "investigation"}
    assert all(a["download_url"] is None for a in listed)  # links only when one is opened
    dossier = await client.post(url(XUANWU, f"/cases/{case_id}/dossier"), headers=mediator)
    assert dossier.status_code == 201, dossier.text
    dossier_text = _docx_text(await pg_platform.storage.get(await _key(pg_platform, dossier.json()["id"])))
    order = ["人民调解卷宗", "卷内目录", "人民调解申请书", "人民调解调查记录", "人民调解记录", "人民调解协议书",
             "履行情况及回访记录", "备考表"]  # fmt: skip
    positions = [dossier_text.index(f"\n{title}") if title != order[0] else 0 for title in order[:2]]
    headings = [dossier_text.index(f". {title}") for title in order[2:-1]]
    assert positions == sorted(positions) and headings == sorted(headings)
    assert dossier_text.rindex("备考表") > headings[-1]
    assert "天花板受损照片" in dossier_text

    # Events for the points plugin: settled and followed up, with the mediators as credits.
    async with pg_platform.database.session(TenantScope.system()) as session:
        events = (await session.execute(select(OutboxEvent).where(OutboxEvent.source == "mediation"))).scalars().all()
        assert sorted(e.name for e in events) == ["mediation.case_followed_up", "mediation.case_settled"]
        settled_event = next(e for e in events if e.name == "mediation.case_settled")
        assert settled_event.payload["ref"] == case_id
        assert settled_event.payload["occurred_on"] == TODAY.isoformat()
        assert settled_event.payload["credits"][0] == {
            "member_id": str(xuanwu["members"]["王建国"]),
            "hours": None,
            "role": "mediator",
        }
        assert {c["member_id"] for c in settled_event.payload["credits"]} == {
            str(xuanwu["members"]["王建国"]),
            str(xuanwu["members"]["李秀兰"]),
        }
        # The audit log shows the reveal and the documents (which carry personal data).
        entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "reveal").order_by(AuditEntry.at)))
            .scalars()
            .all()
        )
        assert [(e.entity_type, e.actor_name) for e in entries] == [
            ("mediation_party", "tiao-a"),
            ("mediation_case", "tiao-a"),
            ("mediation_case", "tiao-a"),
        ]
        # Each step is timed and in the audit trail (who, when, what).
        audited = (
            (
                await session.execute(
                    select(AuditEntry.actor_name).where(
                        AuditEntry.entity_type == "mediation_step", AuditEntry.action == "create"
                    )
                )
            )
            .scalars()
            .all()
        )
    detail = (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=mediator)).json()
    assert len(audited) == len(detail["steps"]) == 9 and set(audited) == {"tiao-a"}
    assert all(s["recorded_at"] and s["occurred_on"] for s in detail["steps"])
    assert await pg_platform.dispatcher.run_once() >= 0

    stats = (await client.get(url(XUANWU, "/stats"), headers=mediator)).json()
    assert (stats["cases_received"], stats["cases_settled"], stats["settlement_rate"]) == (1, 1, 100.0)
    assert stats["people_served"] == 2 and stats["cases_followed_up"] == 1
    assert stats["average_days_to_settle"] == 0.0
    neighbour = next(r for r in stats["by_type"] if r["key"] == "neighbour")
    assert (neighbour["received"], neighbour["settled"], neighbour["label"]) == (1, 1, "邻里纠纷")
    room_row = next(r for r in stats["by_room"] if r["key"] == xuanwu["room_a"])
    assert (room_row["received"], room_row["settled"]) == (1, 1)


async def test_visible_only_to_the_rooms_mediators_and_tenant_admins(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    admin = xuanwu["admin"]
    created = await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"]))
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]

    mediator_a = await token(client, "tiao-a")
    mediator_b = await token(client, "tiao-b")
    # Room A's mediator sees it; room B's mediator (same county, same role) does not even learn it exists.
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=mediator_a)).status_code == 200
    hidden = await client.get(url(XUANWU, f"/cases/{case_id}"), headers=mediator_b)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "mediation.case_not_found"
    assert (await client.get(url(XUANWU, "/cases"), headers=mediator_b)).json()["total"] == 0
    assert (await client.get(url(XUANWU, "/cases"), headers=mediator_a)).json()["total"] == 1
    step = await client.post(url(XUANWU, f"/cases/{case_id}/steps"), headers=mediator_b, json={"action": "mediate"})
    assert step.status_code == 404
    # Nor may B receive a case into room A.
    into_a = await client.post(url(XUANWU, "/cases"), headers=mediator_b, json=case_body(xuanwu["room_a"]))
    assert into_a.status_code == 404

    # The Excel register follows the same rule, and carries names but no ID numbers or phones.
    from openpyxl import load_workbook

    sheet_a = load_workbook(
        io.BytesIO((await client.get(url(XUANWU, "/cases/export"), headers=mediator_a)).content)
    ).active
    sheet_b = load_workbook(
        io.BytesIO((await client.get(url(XUANWU, "/cases/export"), headers=mediator_b)).content)
    ).active
    assert sheet_a is not None and sheet_b is not None
    rows_a = [[c.value for c in row] for row in sheet_a.iter_rows()]
    assert rows_a[0][:3] == ["案号", "调解室", "纠纷类型"] and len(rows_a) == 2 and sheet_b.max_row == 1
    assert rows_a[1][0] == created.json()["number"] and rows_a[1][5] == "张桂英、刘志刚"
    flat = " ".join(str(v) for v in rows_a[1])
    assert "320102195503151229" not in flat and "13812345678" not in flat

    # A mediation manager who is not a tenant administrator and mediates in no room sees no case.
    await new_user(pg_platform, "xw-manager", XUANWU, "mediation_manager")
    manager = await token(client, "xw-manager")
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=manager)).status_code == 404
    assert (await client.get(url(XUANWU, "/cases"), headers=manager)).json()["total"] == 0
    # A member of the county (no mediation role) cannot use the routes at all.
    member = await token(client, "xw-member")
    assert (await client.get(url(XUANWU, "/cases"), headers=member)).status_code == 403

    # The city's tenant administrator (the level above) sees it in the county (the city has not switched the
    # programme on for itself, so its own URL answers 404 plugin.inactive).
    await grant(pg_platform, "nj-admin", NANJING, "mediation_manager")
    city = await token(client, "nj-admin")
    assert (await client.get(url(NANJING, "/cases"), headers=city)).status_code == 404
    assert (await client.get(url(XUANWU, "/cases"), headers=city)).json()["total"] == 1
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=city)).status_code == 200

    # Room B's mediator leaves room B and joins room A: the case becomes visible; ending service hides it again.
    ended = await client.patch(
        url(XUANWU, f"/rooms/{xuanwu['room_a']}/mediators/{xuanwu['mediator_a2']}"),
        headers=admin,
        json={"username": "tiao-b"},
    )
    assert ended.status_code == 200, ended.text
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=mediator_b)).status_code == 200
    gone = await client.patch(
        url(XUANWU, f"/rooms/{xuanwu['room_a']}/mediators/{xuanwu['mediator_a2']}"),
        headers=admin,
        json={"until": (TODAY - datetime.timedelta(days=1)).isoformat()},
    )
    assert gone.status_code == 200, gone.text
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=mediator_b)).status_code == 404

    # The audit log shows who opened the case (and only those who could).
    async with pg_platform.database.session(TenantScope.system()) as session:
        opened = (
            (
                await session.execute(
                    select(AuditEntry.actor_name)
                    .where(AuditEntry.action == "open", AuditEntry.entity_type == "mediation_case")
                    .order_by(AuditEntry.at)
                )
            )
            .scalars()
            .all()
        )
    assert opened == ["tiao-a", "nj-admin", "tiao-b"]


async def test_time_limit_warnings_and_extension(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    admin = xuanwu["admin"]
    old = await client.post(
        url(XUANWU, "/cases"),
        headers=admin,
        json=case_body(xuanwu["room_a"], received_on=(TODAY - datetime.timedelta(days=40)).isoformat()),
    )
    assert old.status_code == 201, old.text
    late = old.json()
    assert late["time_limit"]["state"] == "overdue" and late["time_limit"]["days_left"] < 0
    soon = await client.post(
        url(XUANWU, "/cases"),
        headers=admin,
        json=case_body(xuanwu["room_a"], received_on=(TODAY - datetime.timedelta(days=27)).isoformat()),
    )
    assert soon.json()["time_limit"]["state"] == "due_soon"
    fresh = await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_b"]))
    assert fresh.json()["number"] == f"（{TODAY.year}）调字第3号"

    overdue = (await client.get(url(XUANWU, "/cases?overdue=true"), headers=admin)).json()
    assert [c["id"] for c in overdue["items"]] == [late["id"]]

    # Extend by 20 days (a reason is required); over the 30-day limit is refused.
    no_reason = await client.post(
        url(XUANWU, f"/cases/{late['id']}/steps"), headers=admin, json={"action": "extend", "extension_days": 20}
    )
    assert no_reason.status_code == 422
    await _step(client, admin, late["id"], action="extend", extension_days=20, note="当事人外出，经双方同意延长")
    too_long = await client.post(
        url(XUANWU, f"/cases/{late['id']}/steps"),
        headers=admin,
        json={"action": "extend", "extension_days": 11, "note": "再延长"},
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "mediation.extension_too_long"
    now = (await client.get(url(XUANWU, f"/cases/{late['id']}"), headers=admin)).json()
    assert now["time_limit"]["state"] in {"ok", "due_soon"}
    assert (await client.get(url(XUANWU, "/cases?overdue=true"), headers=admin)).json()["total"] == 0

    # A tenant may set a longer limit; settings are checked.
    bad = await client.put(
        f"/api/v1/t/{XUANWU}/plugins/mediation/settings", headers=admin, json={"values": {"time_limit_months": 0}}
    )
    assert bad.status_code == 422

    # The console page shows the warning in words, not only colour.
    page = await client.get(f"/t/{XUANWU}/mediation/cases", headers=admin)
    assert page.status_code == 200, page.text
    assert "即将到期" in page.text and soon.json()["number"] in page.text
    detail = await client.get(f"/t/{XUANWU}/mediation/cases/{late['id']}", headers=admin)
    assert detail.status_code == 200 and "3201**********1229" in detail.text and "320102195503151229" not in detail.text
    english = await client.get(f"/t/{XUANWU}/mediation/cases?lang=en", headers=admin)
    assert english.status_code == 200 and "Due soon: days left" in english.text and "Received" in english.text
    assert "Neighbour disputes" in english.text and "邻里纠纷" not in english.text
    for path in ("rooms", "stats"):
        shown = await client.get(f"/t/{XUANWU}/mediation/{path}", headers=admin)
        assert shown.status_code == 200, shown.text
    assert "梅园新村银龄调解室" in (await client.get(f"/t/{XUANWU}/mediation/rooms", headers=admin)).text


async def test_bad_input_is_explained(client: httpx.AsyncClient, xuanwu: dict[str, Any]) -> None:
    admin = xuanwu["admin"]
    no_notice = await client.post(
        url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"], rights_notified=False)
    )
    assert no_notice.status_code == 422 and "告知当事人权利义务" in no_notice.json()["error"]["message"]
    bad_id = case_body(xuanwu["room_a"])
    bad_id["parties"][0]["id_number"] = "320102195503151228"
    wrong = await client.post(url(XUANWU, "/cases"), headers=admin, json=bad_id)
    assert wrong.status_code == 422 and "校验位" in wrong.json()["error"]["message"]
    future = await client.post(
        url(XUANWU, "/cases"),
        headers=admin,
        json=case_body(xuanwu["room_a"], received_on=(TODAY + datetime.timedelta(days=1)).isoformat()),
    )
    assert future.status_code == 422 and "晚于今天" in future.json()["error"]["message"]
    other_room = await client.post(
        url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"], mediator_ids=[xuanwu["mediator_b"]])
    )
    assert other_room.status_code == 422 and other_room.json()["error"]["code"] == "mediation.mediator_not_in_room"
    case = (await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"]))).json()
    refer = await client.post(url(XUANWU, f"/cases/{case['id']}/steps"), headers=admin, json={"action": "refer"})
    assert refer.status_code == 422 and "转交给谁" in refer.json()["error"]["message"]
    not_settled = await client.post(url(XUANWU, f"/cases/{case['id']}/agreement"), headers=admin)
    assert not_settled.status_code == 409 and not_settled.json()["error"]["code"] == "mediation.not_settled"
    duplicate = await client.post(
        url(XUANWU, f"/rooms/{xuanwu['room_a']}/mediators"),
        headers=admin,
        json={"member_id": str(xuanwu["members"]["王建国"])},
    )
    assert duplicate.status_code == 409


async def test_absent_where_not_enabled(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    await grant(pg_platform, "qh-admin", QINHUAI, "mediation_manager")
    qinhuai = await token(client, "qh-admin")
    response = await client.get(url(QINHUAI, "/cases"), headers=qinhuai)
    assert response.status_code == 404 and response.json()["error"]["code"] == "plugin.inactive"
    assert "银龄调解室" in response.json()["error"]["message"]
    # 秦淮区's admin cannot reach 玄武区's room through 玄武区's URL either.
    assert (await client.get(url(XUANWU, f"/rooms/{xuanwu['room_a']}"), headers=qinhuai)).status_code in (403, 404)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def _key(platform: Platform, attachment_id: str) -> str:
    from core.storage.models import StoredFile
    from plugins.mediation.models import Attachment

    async with platform.database.session(TenantScope.system()) as session:
        return str(
            (
                await session.execute(
                    select(StoredFile.key)
                    .join(
                        Attachment,
                        (Attachment.tenant_id == StoredFile.tenant_id) & (Attachment.file_id == StoredFile.id),
                    )
                    .where(Attachment.id == attachment_id)
                )
            ).scalar_one()
        )


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


async def test_concurrent_steps_and_intakes(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    """Requests running at once on separate connections: one settlement wins, numbers never repeat."""
    import asyncio

    from core.reports.models import ReportSum

    admin = xuanwu["admin"]
    intakes = await asyncio.gather(
        *(client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"])) for _ in range(4))
    )
    assert [r.status_code for r in intakes] == [201] * 4, [r.text for r in intakes]
    numbers = {r.json()["number"] for r in intakes}
    assert numbers == {f"（{TODAY.year}）调字第{n}号" for n in range(1, 5)}

    case_id = intakes[0].json()["id"]
    await _step(client, admin, case_id, action="mediate")
    results = await asyncio.gather(
        *(
            client.post(
                url(XUANWU, f"/cases/{case_id}/steps"), headers=admin, json={"action": "settle", "agreement": AGREEMENT}
            )
            for _ in range(3)
        )
    )
    assert sorted(r.status_code for r in results) == [201, 409, 409], [r.text for r in results]
    async with pg_platform.database.session(TenantScope.system()) as session:
        settled = (
            await session.execute(
                select(ReportSum.value).where(
                    ReportSum.tenant_id == xuanwu["tenant_id"], ReportSum.metric == "mediation.cases_settled"
                )
            )
        ).scalar_one()
        events = (
            (await session.execute(select(OutboxEvent).where(OutboxEvent.name == "mediation.case_settled")))
            .scalars()
            .all()
        )
    assert float(settled) == 1 and len(events) == 1


async def test_a_mediator_sees_the_rooms_cases_through_the_account_link(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    """李秀兰 serves in room A without an account named on the mediator; once her account is linked to her record
    (账号关联), the room's cases are hers to see — and unlinking hides them again."""
    admin = xuanwu["admin"]
    created = await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"]))
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    await new_user(pg_platform, "tiao-c", XUANWU, "mediator")
    li = await token(client, "tiao-c")
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=li)).status_code == 404

    member = str(xuanwu["members"]["李秀兰"])
    linked = await client.put(
        f"/api/v1/t/{XUANWU}/members/{member}/account", headers=admin, json={"username": "tiao-c"}
    )
    assert linked.status_code == 200, linked.text
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=li)).status_code == 200
    assert (await client.get(url(XUANWU, "/cases"), headers=li)).json()["total"] == 1
    # Room B's case stays hidden: the link shows the rooms she serves in, nothing more.
    other = await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_b"]))
    assert (await client.get(url(XUANWU, f"/cases/{other.json()['id']}"), headers=li)).status_code == 404

    assert (await client.delete(f"/api/v1/t/{XUANWU}/members/{member}/account", headers=admin)).status_code == 204
    assert (await client.get(url(XUANWU, f"/cases/{case_id}"), headers=li)).status_code == 404
