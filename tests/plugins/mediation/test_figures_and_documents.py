"""The maintained report aggregates equal a recount from the plugin's rows after writes, reversals (undone
steps, voided cases), corrections and late entries; the replaceable agreement template; the member panel."""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from typing import Any

import httpx
from docx import Document
from sqlalchemy import func, select

import plugins.mediation as mediation
from core.db.scope import TenantScope
from core.events.models import OutboxEvent
from core.orgs.demo import seed_ledger_demo
from core.platform import Platform
from core.plugin_host import PluginContext
from core.reports.facts import month_of
from core.reports.models import ReportSum
from core.tenancy.tree import load_tree
from plugins.mediation.documents import make_default_template
from plugins.mediation.models import Case, Mediator, Room
from tests.support import token

from .conftest import AGREEMENT, NANJING, TODAY, XUANWU, case_body, grant, set_state, url
from .test_workflow import _docx_text, _key


async def _post_step(client: httpx.AsyncClient, headers: dict[str, str], case_id: str, **body: Any) -> None:
    response = await client.post(url(XUANWU, f"/cases/{case_id}/steps"), headers=headers, json=body)
    assert response.status_code == 201, response.text


async def _aggregates(platform: Platform, tenant_id: int) -> dict[tuple[str, datetime.date], float]:
    async with platform.database.session(TenantScope.system()) as session:
        rows = await session.execute(
            select(ReportSum.metric, ReportSum.month, ReportSum.value).where(
                ReportSum.tenant_id == tenant_id, ReportSum.metric.like("mediation.%")
            )
        )
        return {(m, month): float(v) for m, month, v in rows.tuples() if float(v) != 0}


async def _recount(platform: Platform, tenant_id: int) -> dict[tuple[str, datetime.date], float]:
    out: dict[tuple[str, datetime.date], float] = defaultdict(float)
    async with platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        context = PluginContext("mediation", tree.nodes[tenant_id], tree, session, {})
        async for fact in mediation.metric_facts(context):
            out[(fact.metric, month_of(fact.on))] += fact.value
    return {k: v for k, v in out.items() if v != 0}


async def test_aggregates_equal_the_recount_after_reversals_and_late_entries(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    admin, tenant_id = xuanwu["admin"], xuanwu["tenant_id"]
    two_months_ago = TODAY - datetime.timedelta(days=62)
    last_year = TODAY.replace(year=TODAY.year - 1, month=12, day=10)

    # 1. A late entry (received two months ago), settled, the settlement undone, settled again, followed up.
    one = (
        await client.post(
            url(XUANWU, "/cases"),
            headers=admin,
            json=case_body(
                xuanwu["room_a"], received_on=two_months_ago.isoformat(), mediator_ids=[xuanwu["mediator_a"]]
            ),
        )
    ).json()
    settled_on = (two_months_ago + datetime.timedelta(days=12)).isoformat()
    await _post_step(client, admin, one["id"], action="mediate", occurred_on=settled_on)
    await _post_step(client, admin, one["id"], action="settle", agreement=AGREEMENT, occurred_on=settled_on)
    await _post_step(client, admin, one["id"], action="undo", note="误登记为调解成功")
    now = (await client.get(url(XUANWU, f"/cases/{one['id']}"), headers=admin)).json()
    assert (now["status"], now["settled_on"], now["outcome_on"], now["agreement"]) == ("mediating", None, None, {})
    await _post_step(client, admin, one["id"], action="settle", agreement=AGREEMENT, occurred_on=settled_on)
    await _post_step(client, admin, one["id"], action="follow_up", satisfied=True)

    # 2. A petition to the petition room, settled; then its type corrected (family → marriage).
    two = (
        await client.post(
            url(XUANWU, "/cases"),
            headers=admin,
            json=case_body(xuanwu["room_b"], case_type="family", source="petition"),
        )
    ).json()
    await _post_step(client, admin, two["id"], action="mediate")
    await _post_step(client, admin, two["id"], action="settle", agreement=AGREEMENT)
    fixed = await client.patch(url(XUANWU, f"/cases/{two['id']}"), headers=admin, json={"case_type": "marriage"})
    assert fixed.status_code == 200, fixed.text

    # 3. Entered in error: voided, the void undone, voided again.
    three = (await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"]))).json()
    await _post_step(client, admin, three["id"], action="void", note="重复登记")
    await _post_step(client, admin, three["id"], action="undo")
    await _post_step(client, admin, three["id"], action="void", note="重复登记，确认作废")
    listed = (await client.get(url(XUANWU, "/cases?status=voided"), headers=admin)).json()
    assert [c["id"] for c in listed["items"]] == [three["id"]]

    # 4. Received last year (a late entry in another year), failed, referred to the court; a party added.
    four = (
        await client.post(
            url(XUANWU, "/cases"),
            headers=admin,
            json=case_body(xuanwu["room_a"], case_type="labour", received_on=last_year.isoformat()),
        )
    ).json()
    await _post_step(client, admin, four["id"], action="mediate", occurred_on=last_year.isoformat())
    await _post_step(client, admin, four["id"], action="fail", note="双方分歧过大", occurred_on=last_year.isoformat())
    await _post_step(client, admin, four["id"], action="refer", referred_to="court", referred_to_name="玄武区人民法院")
    added = await client.post(
        url(XUANWU, f"/cases/{four['id']}/parties"),
        headers=admin,
        json={"kind": "organisation", "side": "third_party", "name": "南京某物业公司", "representative": "周经理"},
    )
    assert added.status_code == 201, added.text
    person = await client.post(
        url(XUANWU, f"/cases/{four['id']}/parties"), headers=admin, json={"side": "respondent", "name": "钱伟"}
    )
    assert person.status_code == 201

    # 5. Room B closes today; a mediator's service ends.
    closed = await client.patch(
        url(XUANWU, f"/rooms/{xuanwu['room_b']}"), headers=admin, json={"closed_on": TODAY.isoformat()}
    )
    assert closed.status_code == 200, closed.text
    ended = await client.patch(
        url(XUANWU, f"/rooms/{xuanwu['room_a']}/mediators/{xuanwu['mediator_a2']}"),
        headers=admin,
        json={"until": TODAY.isoformat()},
    )
    assert ended.status_code == 200

    aggregates = await _aggregates(pg_platform, tenant_id)
    assert aggregates == await _recount(pg_platform, tenant_id)

    this_month, then = month_of(TODAY), month_of(two_months_ago)
    assert aggregates[("mediation.cases_received", then)] == 1
    assert aggregates[("mediation.cases_received", month_of(last_year))] == 1
    assert aggregates[("mediation.cases_received.labour", month_of(last_year))] == 1
    assert aggregates.get(("mediation.cases_received.family", this_month)) is None  # corrected away
    assert aggregates[("mediation.cases_received.marriage", this_month)] == 1
    assert aggregates[("mediation.cases_settled.marriage", this_month)] == 1
    assert aggregates[("mediation.petitions_received", this_month)] == 1
    assert aggregates[("mediation.petitions_resolved", this_month)] == 1
    assert aggregates[("mediation.cases_received.room_petition_room", this_month)] == 1
    assert aggregates[("mediation.settle_days_total", month_of(two_months_ago + datetime.timedelta(days=12)))] == 12
    assert aggregates[("mediation.cases_concluded", this_month)] >= 1  # case 2 (case 4 concluded last year)
    assert aggregates[("mediation.cases_concluded", month_of(last_year))] == 1
    assert aggregates[("mediation.people_served", month_of(last_year))] == 3  # two at intake and 钱伟
    # Room B opened and closed this month (a stock of 0 here); room A opened 400 days ago; a mediator left today.
    assert ("mediation.rooms", this_month) not in aggregates
    assert aggregates[("mediation.rooms", month_of(TODAY - datetime.timedelta(days=400)))] == 1
    assert aggregates[("mediation.mediators", month_of(TODAY - datetime.timedelta(days=300)))] == 3
    assert aggregates[("mediation.mediators", this_month)] == -1

    # Stats read the aggregates: this year so far.
    stats = (
        await client.get(url(XUANWU, f"/stats?since={TODAY.year}-01-01&until={TODAY.isoformat()}"), headers=admin)
    ).json()
    received_this_year = 1 + (1 if two_months_ago.year == TODAY.year else 0)  # case three was voided
    assert stats["cases_received"] == received_this_year
    assert stats["cases_settled"] == 1 + (1 if (two_months_ago + datetime.timedelta(days=12)).year == TODAY.year else 0)
    assert stats["petitions_received"] == 1 and stats["petitions_resolved"] == 1

    # The revocation went out for the points plugin with the settled event's payload and "revokes".
    async with pg_platform.database.session(TenantScope.system()) as session:
        names = [
            (e.name, e.payload.get("ref"), e.payload.get("revokes"))
            for e in (
                await session.execute(
                    select(OutboxEvent).where(OutboxEvent.source == "mediation").order_by(OutboxEvent.occurred_at)
                )
            ).scalars()
        ]
    assert names[:3] == [
        ("mediation.case_settled", one["id"], None),
        ("mediation.case_settled_revoked", one["id"], one["id"]),
        ("mediation.case_settled", one["id"], None),
    ]
    assert ("mediation.case_followed_up", one["id"], None) in names

    # Member panel: 王建国 mediated case one (settled).
    async with pg_platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        context = PluginContext("mediation", tree.nodes[tenant_id], tree, session, {})
        panel = await mediation.member_panel(context, str(xuanwu["members"]["王建国"]))
    assert panel is not None and panel.items[0]["value"] == "1" and panel.items[1]["value"] == "1"
    assert "梅园新村银龄调解室" in panel.items[2]["text"]


def _custom_template(*, complete: bool = True, heading: str = "玄武区人民调解委员会（自定义模板）") -> bytes:
    document = Document(io.BytesIO(make_default_template()))
    document.paragraphs[0].insert_paragraph_before(heading)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "协议条款"
    table.rows[0].cells[1].text = "{{协议内容}}"
    if not complete:
        for paragraph in document.paragraphs:
            if "{{履行期限}}" in paragraph.text:
                for run in paragraph.runs:
                    run.text = run.text.replace("{{履行期限}}", "")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def test_tenant_replaces_the_agreement_template(
    client: httpx.AsyncClient, pg_platform: Platform, xuanwu: dict[str, Any]
) -> None:
    admin = xuanwu["admin"]
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    shipped = (await client.get(url(XUANWU, "/templates/agreement"), headers=admin)).json()
    assert shipped["custom"] is False and any(p.startswith("{{当事人}}") for p in shipped["placeholders"])

    incomplete = await client.put(
        url(XUANWU, "/templates/agreement"),
        headers=admin,
        files={"file": ("模板.docx", _custom_template(complete=False), docx)},
    )
    assert incomplete.status_code == 422 and "{{履行期限}}" in incomplete.json()["error"]["message"]
    not_word = await client.put(
        url(XUANWU, "/templates/agreement"), headers=admin, files={"file": ("模板.docx", b"hello, not a docx", docx)}
    )
    assert not_word.status_code == 422 and not_word.json()["error"]["code"] == "mediation.template_invalid"

    uploaded = await client.put(
        url(XUANWU, "/templates/agreement"), headers=admin, files={"file": ("玄武模板.docx", _custom_template(), docx)}
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["custom"] is True and uploaded.json()["download_url"]

    case = (await client.post(url(XUANWU, "/cases"), headers=admin, json=case_body(xuanwu["room_a"]))).json()
    await _post_step(client, admin, case["id"], action="mediate")
    await _post_step(client, admin, case["id"], action="settle", agreement=AGREEMENT)
    made = await client.post(url(XUANWU, f"/cases/{case['id']}/agreement"), headers=admin)
    assert made.status_code == 201, made.text
    text = _docx_text(await pg_platform.storage.get(await _key(pg_platform, made.json()["id"])))
    assert "玄武区人民调解委员会（自定义模板）" in text
    assert "1. 刘志刚于十日内请人修复卫生间防水层\n2. 刘志刚一次性赔偿" in text  # filled in the table cell too
    assert "{{" not in text

    # Back to the shipped template.
    assert (await client.delete(url(XUANWU, "/templates/agreement"), headers=admin)).status_code == 204
    again = await client.post(url(XUANWU, f"/cases/{case['id']}/agreement"), headers=admin)
    text = _docx_text(await pg_platform.storage.get(await _key(pg_platform, again.json()["id"])))
    assert "自定义模板" not in text and "人民调解协议书" in text

    # The city's template serves a county that has none of its own (as the work report's does).
    city = await token(client, "nj-admin")
    await set_state(client, city, NANJING, "enabled")
    await grant(pg_platform, "nj-admin", NANJING, "mediation_manager")
    city_up = await client.put(
        url(NANJING, "/templates/agreement"),
        headers=city,
        files={"file": ("南京模板.docx", _custom_template(heading="南京市人民调解协议书（市级模板）"), docx)},
    )
    assert city_up.status_code == 200, city_up.text
    in_force = (await client.get(url(XUANWU, "/templates/agreement"), headers=admin)).json()
    assert in_force["custom"] is True and in_force["inherited_from"] == "南京市"
    from_city = await client.post(url(XUANWU, f"/cases/{case['id']}/agreement"), headers=admin)
    text = _docx_text(await pg_platform.storage.get(await _key(pg_platform, from_city.json()["id"])))
    assert "南京市人民调解协议书（市级模板）" in text
    # A county's own template wins over the city's; deleting it falls back to the city's, not the shipped one.
    await client.put(
        url(XUANWU, "/templates/agreement"), headers=admin, files={"file": ("玄武模板.docx", _custom_template(), docx)}
    )
    own = (await client.get(url(XUANWU, "/templates/agreement"), headers=admin)).json()
    assert own["custom"] is True and own["inherited_from"] is None
    assert (await client.delete(url(XUANWU, "/templates/agreement"), headers=admin)).status_code == 204
    assert (await client.get(url(XUANWU, "/templates/agreement"), headers=admin)).json()["inherited_from"] == "南京市"
    # Deleting in the county never touches the city's.
    assert (await client.delete(url(XUANWU, "/templates/agreement"), headers=admin)).status_code == 204
    assert (await client.get(url(NANJING, "/templates/agreement"), headers=city)).json()["custom"] is True


async def test_demo_data_is_idempotent_and_its_figures_hold(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    response = await client.put("/api/v1/t/320102/plugins/mediation", headers=admin, json={"state": "enabled"})
    assert response.status_code == 200
    tenant_id = world["ids"][XUANWU]
    async with pg_platform.database.session(TenantScope.system()) as session:
        await seed_ledger_demo(session, await load_tree(session))  # the county's ledger, for the mediators
    for _ in range(2):
        async with pg_platform.database.session(TenantScope.system()) as session:
            tree = await load_tree(session)
            await mediation.demo_data(PluginContext("mediation", tree.nodes[tenant_id], tree, session, {}))
    async with pg_platform.database.session(TenantScope.system()) as session:
        rooms = (await session.execute(select(func.count()).select_from(Room))).scalar_one()
        cases = (await session.execute(select(func.count()).select_from(Case))).scalar_one()
        mediators = (await session.execute(select(func.count()).select_from(Mediator))).scalar_one()
    assert (rooms, cases, mediators) == (2, 12, 4)
    assert await _aggregates(pg_platform, tenant_id) == await _recount(pg_platform, tenant_id)
