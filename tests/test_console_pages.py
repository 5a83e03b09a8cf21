"""The console pages of the core features, rendered on the server: what they show, who may open them, and
forms that put errors next to the field in Chinese while keeping everything typed."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.identity.test_sessions_local import form_login
from tests.support import token

HTML = {"accept": "text/html"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def signed_in(client: httpx.AsyncClient, username: str, page: str) -> str:
    await form_login(client, username)
    response = await client.get(page, headers=HTML)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def ledger(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    """玄武区: a committee with a branch, two members in the branch, a committee with a secretary."""
    committee = (
        await client.post(
            "/api/v1/t/320102/orgs", headers=admin, json={"name": "玄武区老干部党委", "level": "committee"}
        )
    ).json()
    branch = (
        await client.post(
            "/api/v1/t/320102/orgs",
            headers=admin,
            json={"name": "梅园社区党支部", "level": "branch", "kind": "community", "parent_id": committee["id"]},
        )
    ).json()
    ids = {"committee": committee["id"], "branch": branch["id"]}
    for key, name, birth in (("a", "王建国", "1948-03-02"), ("b", "李秀英", "1951-07-19")):
        response = await client.post(
            "/api/v1/t/320102/members",
            headers=admin,
            json={
                "name": name,
                "birth_date": birth,
                "gender": "male" if key == "a" else "female",
                "phone": "13912345678",
                "formal_org_id": branch["id"],
                "party_joined_on": "1972-07-01",
            },
        )
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    seats = await client.put(
        f"/api/v1/t/320102/orgs/{branch['id']}/committee",
        headers=admin,
        json={"seats": [{"member_id": ids["a"], "position": "secretary"}]},
    )
    assert seats.status_code == 200, seats.text
    return ids


async def test_branches_page_shows_the_tree_committee_and_six_haves(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    await client.put(f"/api/v1/t/320102/branches/{ids['branch']}/six-haves/place", headers=admin, json={"met": True})
    await form_login(client, "xw-admin")
    page = await client.get("/t/320102/branches/", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "玄武区老干部党委" in html and "梅园社区党支部" in html and "社区支部" in html
    assert "书记 王建国" in html and "书记</span>" not in html
    assert "（1/6）" in html and "有标识（未达标）" in html
    assert f"/t/320102/branches/{ids['branch']}/edit" in html
    # The city sees the county's tree but cannot edit it from there.
    await form_login(client, "nj-admin")
    city = (await client.get("/t/320100/branches/", headers=HTML)).text
    assert "梅园社区党支部" in city and "/edit" not in city
    # A member may look, not change.
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/branches/", headers=HTML)).status_code == 200
    assert (await client.get("/t/320102/branches/new", headers=HTML)).status_code == 403


async def test_creating_a_branch_puts_errors_beside_fields_and_keeps_values(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    csrf = await signed_in(client, "xw-admin", "/t/320102/branches/new")
    # A party group with no parent branch: the service's rule, shown next to the parent field.
    refused = await client.post(
        "/t/320102/branches/new",
        data={"name": "第一党小组", "level": "group", "address": "梅园新村12号", "_csrf_token": csrf},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'id="e-parent_id"' in refused.text and "党小组必须设在党支部下面" in refused.text
    assert 'value="第一党小组"' in refused.text and 'value="梅园新村12号"' in refused.text
    empty = await client.post("/t/320102/branches/new", data={"name": "", "level": "branch", "_csrf_token": csrf})
    assert empty.status_code == 422 and 'id="e-name"' in empty.text and "必填" in empty.text
    saved = await client.post(
        "/t/320102/branches/new",
        data={"name": "第一党小组", "level": "group", "parent_id": ids["branch"], "_csrf_token": csrf},
    )
    assert saved.status_code == 303
    listing = await client.get(saved.headers["location"], headers=HTML)
    assert "已保存：第一党小组" in listing.text and "党小组" in listing.text
    edit = await client.get(f"/t/320102/branches/{ids['branch']}/edit", headers=HTML)
    assert 'value="梅园社区党支部"' in edit.text
    bad = await client.post(
        f"/t/320102/branches/{ids['branch']}/edit",
        data={"name": "梅园支部", "founded_on": "去年", "_csrf_token": csrf},
    )
    assert bad.status_code == 422 and 'id="e-founded_on"' in bad.text and 'value="梅园支部"' in bad.text
    ok = await client.post(
        f"/t/320102/branches/{ids['branch']}/edit",
        data={"name": "梅园支部", "kind": "community", "founded_on": "1999-07-01", "_csrf_token": csrf},
    )
    assert ok.status_code == 303
    assert "梅园支部" in (await client.get("/t/320102/branches/", headers=HTML)).text


async def test_member_record_edit_keeps_typed_values_and_reveal_is_audited(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    from tests.test_members import ID_A

    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    csrf = await signed_in(client, "xw-admin", f"/t/320102/members/{ids['a']}")
    page = (await client.get(f"/t/320102/members/{ids['a']}", headers=HTML)).text
    assert "王建国" in page and "梅园社区党支部" in page and "139****5678" in page and "13912345678" not in page
    assert f"/t/320102/members/{ids['a']}/timeline" in page and "查看完整信息" in page
    # The edit form: a bad ID number and a bad date stay next to their fields, everything typed is kept.
    bad = await client.post(
        f"/t/320102/members/{ids['a']}/edit",
        data={
            "name": "王建国",
            "id_number": ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"),
            "former_unit": "玄武区教育局",
            "residence_community": "梅园新村",
            "specialties": "书法、摄影",
            "_csrf_token": csrf,
        },
        headers=HTML,
    )
    assert bad.status_code == 422 and 'id="e-id_number"' in bad.text and "校验位" in bad.text
    assert 'value="玄武区教育局"' in bad.text and 'value="梅园新村"' in bad.text and 'value="书法、摄影"' in bad.text
    wrong_date = await client.post(
        f"/t/320102/members/{ids['a']}/edit",
        data={"name": "王建国", "retired_on": "2008-13-40", "former_unit": "玄武区教育局", "_csrf_token": csrf},
    )
    assert wrong_date.status_code == 422 and 'id="e-retired_on"' in wrong_date.text
    assert "日期" in wrong_date.text and 'value="玄武区教育局"' in wrong_date.text
    saved = await client.post(
        f"/t/320102/members/{ids['a']}/edit",
        data={"name": "王建国", "former_unit": "玄武区教育局", "specialties": "书法、摄影", "_csrf_token": csrf},
    )
    assert saved.status_code == 303, saved.text
    record = (await client.get(saved.headers["location"], headers=HTML)).text
    assert "已保存修改" in record and "玄武区教育局" in record and "书法、摄影" in record and "修改" in record
    # Reveal: a reason is required; then the full phone shows once and the audit log has it.
    no_reason = await client.post(f"/t/320102/members/{ids['a']}/reveal", data={"reason": "", "_csrf_token": csrf})
    assert no_reason.status_code == 422 and 'id="e-reason"' in no_reason.text and "13912345678" not in no_reason.text
    shown = await client.post(
        f"/t/320102/members/{ids['a']}/reveal", data={"reason": "联系本人核对档案", "_csrf_token": csrf}
    )
    assert shown.status_code == 200 and "13912345678" in shown.text and "本次查看已记录" in shown.text
    audit = (await client.get("/api/v1/t/320102/audit?page_size=100", headers=admin)).json()["items"]
    assert any(e["action"] == "reveal" and e["entity_id"].endswith(ids["a"]) for e in audit)
    # A branch secretary may read and change the ledger, not reveal.
    await form_login(client, "xw-secretary")
    page = (await client.get(f"/t/320102/members/{ids['a']}", headers=HTML)).text
    assert "查看完整信息" not in page
    csrf = csrf_of(page)
    refused = await client.post(f"/t/320102/members/{ids['a']}/reveal", data={"reason": "看看", "_csrf_token": csrf})
    assert refused.status_code == 403
    # Another county's member does not exist here.
    await form_login(client, "qh-admin")
    assert (await client.get(f"/t/320104/members/{ids['a']}", headers=HTML)).status_code == 404


async def test_member_import_page_reports_each_bad_row_then_imports(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    from tests.test_member_excel import make_orgs, person, workbook_bytes

    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    csrf = await signed_in(client, "xw-admin", "/t/320102/members/import")
    page = (await client.get("/t/320102/members/import", headers=HTML)).text
    assert "/api/v1/t/320102/members/import-template" in page and "/api/v1/t/320102/members/export" in page
    template = await client.get("/api/v1/t/320102/members/import-template")
    assert template.status_code == 200  # the session cookie is enough to download it
    none = await client.post(
        "/t/320102/members/import", data={"_csrf_token": csrf}, files={"x": ("a", b"", "text/plain")}
    )
    assert none.status_code == 422 and 'id="e-file"' in none.text
    rows = [person(i) for i in range(2, 6)]
    rows[1][0] = ""  # row 3 has no name
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    failed = await client.post(
        "/t/320102/members/import",
        data={"mode": "strict", "on_duplicate": "error", "_csrf_token": csrf},
        files={"file": ("名册.xlsx", workbook_bytes(rows), xlsx)},
    )
    assert failed.status_code == 303
    report = (await client.get(failed.headers["location"], headers=HTML)).text
    assert "未导入" in report and "姓名不能为空" in report and '<td class="num">3</td>' in report
    assert "/errors" in report  # the printable error list
    done = await client.post(
        "/t/320102/members/import",
        data={"mode": "good_rows", "on_duplicate": "error", "_csrf_token": csrf},
        files={"file": ("名册.xlsx", workbook_bytes(rows), xlsx)},
    )
    result = (await client.get(done.headers["location"], headers=HTML)).text
    assert "已完成" in result and "新增 3" in result
    listing = (await client.get("/t/320102/members/import", headers=HTML)).text
    assert listing.count("名册.xlsx") == 2
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/members/import", headers=HTML)).status_code == 403


async def test_transfers_page_requests_decides_and_counts(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    qinhuai = await token(client, "qh-admin")
    target = (
        await client.post(
            "/api/v1/t/320104/orgs", headers=qinhuai, json={"name": "夫子庙社区党支部", "level": "branch"}
        )
    ).json()
    csrf = await signed_in(client, "xw-admin", "/t/320102/transfers/new")
    # Choosing the receiving tenant lists its branches and keeps what was typed.
    chosen = await client.post(
        "/t/320102/transfers/new",
        data={
            "step": "choose",
            "target_tenant_code": "320104",
            "member_id": ids["b"],
            "reason": "随子女迁居秦淮",
            "_csrf_token": csrf,
        },
    )
    assert chosen.status_code == 200 and "夫子庙社区党支部" in chosen.text and "随子女迁居秦淮" in chosen.text
    assert f'value="{ids["b"]}" selected' in chosen.text
    missing = await client.post(
        "/t/320102/transfers/new",
        data={
            "target_tenant_code": "320104",
            "member_id": ids["b"],
            "kind": "direct",
            "reason": "",
            "_csrf_token": csrf,
        },
    )
    assert missing.status_code == 422 and 'id="e-reason"' in missing.text
    no_branch = await client.post(
        "/t/320102/transfers/new",
        data={
            "target_tenant_code": "320104",
            "member_id": ids["b"],
            "kind": "direct",
            "reason": "随子女迁居秦淮",
            "_csrf_token": csrf,
        },
    )
    assert no_branch.status_code == 422 and "随子女迁居秦淮" in no_branch.text
    sent = await client.post(
        "/t/320102/transfers/new",
        data={
            "target_tenant_code": "320104",
            "member_id": ids["b"],
            "kind": "direct",
            "target_org_id": target["id"],
            "reason": "随子女迁居秦淮",
            "_csrf_token": csrf,
        },
    )
    assert sent.status_code == 303, sent.text
    listing = (await client.get(sent.headers["location"], headers=HTML)).text
    assert "已提交转接申请" in listing and "李秀英" in listing and "待审批" in listing and "撤回申请" in listing
    assert "同意接收" not in listing  # the sending side does not decide
    # 秦淮区 approves and completes; a rejection needs a reason.
    csrf = await signed_in(client, "qh-admin", "/t/320104/transfers/?direction=incoming")
    page = (await client.get("/t/320104/transfers/?direction=incoming", headers=HTML)).text
    transfer_id = re.search(r"/t/320104/transfers/([0-9a-f-]{36})/approve", page)
    assert transfer_id
    no_reason = await client.post(f"/t/320104/transfers/{transfer_id.group(1)}/reject", data={"_csrf_token": csrf})
    assert "退回时请写明原因" in (await client.get(no_reason.headers["location"], headers=HTML)).text
    approved = await client.post(f"/t/320104/transfers/{transfer_id.group(1)}/approve", data={"_csrf_token": csrf})
    assert approved.headers["location"].endswith("done=approve")
    done = await client.post(f"/t/320104/transfers/{transfer_id.group(1)}/complete", data={"_csrf_token": csrf})
    page = (await client.get(done.headers["location"], headers=HTML)).text
    assert "已办结" in page and "100.0%" in page
    # A member of 玄武区 may not open the transfers; a secretary may look but not decide.
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/transfers/", headers=HTML)).status_code == 403
    await form_login(client, "xw-secretary")
    page = (await client.get("/t/320102/transfers/", headers=HTML)).text
    assert "同意接收" not in page
    refused = await client.post(
        f"/t/320102/transfers/{transfer_id.group(1)}/approve", data={"_csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 403


async def test_orglife_records_a_meeting_and_attendance_with_errors_beside_the_row(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    import datetime

    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    csrf = await signed_in(client, "xw-secretary", "/t/320102/orglife/new")
    today = datetime.date.today().isoformat()
    lecture = {
        "org_id": ids["branch"],
        "kind": "lecture",
        "title": "学习党的二十届四中全会精神",
        "held_on": today,
        "duration_minutes": "90",
        "place": "梅园社区活动室",
        "mode": "offline",
        "_csrf_token": csrf,
    }
    refused = await client.post("/t/320102/orglife/new", data=lecture)
    assert refused.status_code == 422 and 'id="e-lecturer"' in refused.text and "讲课人" in refused.text
    assert 'value="学习党的二十届四中全会精神"' in refused.text and 'value="梅园社区活动室"' in refused.text
    short = await client.post("/t/320102/orglife/new", data={**lecture, "duration_minutes": "2", "lecturer": "王建国"})
    assert short.status_code == 422 and 'id="e-duration_minutes"' in short.text and "不能小于 5" in short.text
    saved = await client.post("/t/320102/orglife/new", data={**lecture, "lecturer": "王建国"})
    assert saved.status_code == 303, saved.text
    meeting_url = saved.headers["location"].split("?")[0]
    page = (await client.get(meeting_url, headers=HTML)).text
    assert "王建国" in page and "李秀英" in page and "保存出席登记" in page
    # Absent without a reason: the error sits at that person's row; the other marks typed stay.
    bad = await client.post(
        f"{meeting_url}/attendance",
        data={f"status-{ids['a']}": "present", f"status-{ids['b']}": "absent", "_csrf_token": csrf},
    )
    assert bad.status_code == 422 and f'id="e-reason-{ids["b"]}"' in bad.text
    assert f'name="status-{ids["b"]}" value="absent" checked' in bad.text
    assert f'name="status-{ids["a"]}" value="present" checked' in bad.text
    ok = await client.post(
        f"{meeting_url}/attendance",
        data={
            f"status-{ids['a']}": "present",
            f"status-{ids['b']}": "absent",
            f"reason-{ids['b']}": "外出就医",
            "_csrf_token": csrf,
        },
    )
    assert ok.status_code == 303
    page = (await client.get(ok.headers["location"], headers=HTML)).text
    assert "已保存" in page and 'value="外出就医"' in page and "50%" in page
    listing = (await client.get(f"/t/320102/orglife/?kind=lecture&period={today[:4]}", headers=HTML)).text
    assert "学习党的二十届四中全会精神" in listing
    assert "学习党的二十届四中全会精神" not in (await client.get("/t/320102/orglife/?kind=oath", headers=HTML)).text
    assert "⚠" in (await client.get("/t/320102/orglife/?period=去年", headers=HTML)).text
    # A member reads, but records nothing.
    await form_login(client, "xw-member")
    assert "保存出席登记" not in (await client.get(meeting_url, headers=HTML)).text
    assert (await client.get("/t/320102/orglife/new", headers=HTML)).status_code == 403


async def test_six_good_ranking_page(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    import datetime

    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    year = datetime.date.today().year
    scored = await client.put(
        f"/api/v1/t/320102/model-branch/scores/{year}/{ids['branch']}", headers=admin, json={"lines": []}
    )
    assert scored.status_code == 200, scored.text
    await form_login(client, "nj-admin")
    page = (await client.get(f"/t/320100/orglife/ranking?year={year}", headers=HTML)).text
    assert "梅园社区党支部" in page and "玄武区" in page and "尚未公布" in page and "达标线 90" in page


async def test_users_page_grants_and_revokes_for_tenant_admins_only(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    csrf = await signed_in(client, "nj-admin", "/t/320100/users/")
    page = (await client.get("/t/320100/users/", headers=HTML)).text
    assert "xw-secretary" in page and "党支部书记" in page and "玄武区（320102）" in page
    assert "dy-admin" not in page and "js-admin" not in page  # outside 南京市's subtree
    pattern = r'<h2>([^<]*)<span class="tag">([a-z-]+)</span>.*?/t/320100/users/([0-9a-f-]{36})/grants'
    member_form = re.findall(pattern, page, re.S)
    ids = {username: uid for _name, username, uid in member_form}
    assert "xw-member" in ids
    granted = await client.post(
        f"/t/320100/users/{ids['xw-member']}/grants",
        data={"role": "branch_secretary", "tenant_code": "320102", "_csrf_token": csrf},
    )
    assert granted.status_code == 303
    page = (await client.get(granted.headers["location"], headers=HTML)).text
    assert "已授予角色" in page and page.count("党支部书记") >= 2
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/members/", headers=HTML)).status_code == 200  # the new role works
    csrf = await signed_in(client, "nj-admin", "/t/320100/users/?q=xw-member")
    page = (await client.get("/t/320100/users/?q=xw-member", headers=HTML)).text
    grants = re.findall(r"/t/320100/users/grants/([0-9a-f-]{36})/revoke", page)
    assert len(grants) == 2
    for grant in grants:
        assert (
            await client.post(f"/t/320100/users/grants/{grant}/revoke", data={"_csrf_token": csrf})
        ).status_code == 303
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/members/", headers=HTML)).status_code == 403
    # Out of reach: a role in a tenant outside the subtree, one's own grants, and the page for non-admins.
    csrf = await signed_in(client, "nj-admin", "/t/320100/users/")
    page = (await client.get("/t/320100/users/", headers=HTML)).text
    refused = await client.post(
        f"/t/320100/users/{ids['xw-secretary']}/grants",
        data={"role": "tenant_admin", "tenant_code": "321100", "_csrf_token": csrf},
    )
    assert "只能在本单位及下级单位授予角色" in (await client.get(refused.headers["location"], headers=HTML)).text
    assert "/t/320100/users/grants/" in page
    await form_login(client, "xw-secretary")
    assert (await client.get("/t/320102/users/", headers=HTML)).status_code == 403


async def test_tenants_page_lists_the_subtree_with_programmes_and_switch_links(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    province = await token(client, "js-admin")
    await client.put("/api/v1/t/320100/plugins/sample", headers=province, json={"state": "enabled"})
    await form_login(client, "nj-admin")
    page = (await client.get("/t/320100/tenants/", headers=HTML)).text
    for name in ("玄武区", "秦淮区", "建邺区"):
        assert name in page
    assert "镇江市" not in page and "丹阳市" not in page
    assert 'href="/t/320102/"' in page and 'href="/t/320102/programmes"' in page
    assert "示例项目：已开通" in page and "320100" in page  # inherited from the city, with the reason
    county = (await client.get("/t/320102/tenants/", headers=HTML)).text
    assert "本单位没有下级单位" in county
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/tenants/", headers=HTML)).status_code == 200
    assert (await client.get("/t/320100/tenants/", headers=HTML)).status_code == 403


def test_timeline_merges_every_panel_by_date_and_keeps_figures_apart() -> None:
    from core.plugin_host.declarations import MemberPanel
    from core.web.timeline import compose

    points = MemberPanel(
        "积分",
        "Points",
        [
            {"label": "积分", "label_en": "Points", "value": "86"},
            {"on": "2026-03-05", "text": "参加主题党日 +2 分", "text_en": "Theme day +2"},
            {"on": "2025-12-01", "text": "志愿服务 +5 分", "text_en": "Volunteering +5"},
        ],
    )
    mediation = MemberPanel(
        "调解",
        "Mediation",
        [
            {"on": "2026-01-10", "text": "调解邻里纠纷一件", "text_en": "Settled a neighbours' dispute"},
            {"on": "not a date", "text": "dropped"},
            {"label": "调解员", "value": "是"},
        ],
    )
    figures, entries = compose([("积分", "Points", points), ("调解", "Mediation", mediation)])
    assert [(f.label_zh, f.value, f.source_zh) for f in figures] == [("积分", "86", "积分"), ("调解员", "是", "调解")]
    assert figures[1].label_en == "调解员"  # no English given: the Chinese stands
    assert [(e.on.isoformat(), e.source_zh) for e in entries] == [
        ("2026-03-05", "积分"),
        ("2026-01-10", "调解"),
        ("2025-12-01", "积分"),
    ]


async def test_member_timeline_composes_the_record_and_active_programmes(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    import datetime

    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    today = datetime.date.today().isoformat()
    meeting = await client.post(
        "/api/v1/t/320102/meetings",
        headers=admin,
        json={
            "org_id": ids["branch"],
            "kind": "theme_day",
            "title": "重温入党誓词主题党日",
            "held_on": today,
            "duration_minutes": 90,
        },
    )
    assert meeting.status_code == 201, meeting.text
    marked = await client.post(
        f"/api/v1/t/320102/meetings/{meeting.json()['id']}/attendance",
        headers=admin,
        json={"items": [{"member_id": ids["a"], "status": "present"}]},
    )
    assert marked.status_code == 200, marked.text
    await form_login(client, "xw-admin")
    url = f"/t/320102/members/{ids['a']}/timeline"
    page = (await client.get(url, headers=HTML)).text
    assert "王建国 · 个人时间轴" in page and "加入中国共产党" in page and "任梅园社区党支部书记" in page
    assert "参加主题党日：重温入党誓词主题党日" in page and "今年参加组织生活" in page and "1 次" in page
    assert page.index(today) < page.index("1972-07-01")  # newest first
    assert "示例" not in page
    # A programme switched on adds its panel; switched off, it is gone again.
    await client.put("/api/v1/t/320102/plugins/sample", headers=admin, json={"state": "enabled"})
    page = (await client.get(url, headers=HTML)).text
    assert "（示例）" in page and ids["a"] in page
    await client.put("/api/v1/t/320102/plugins/sample", headers=admin, json={"state": "disabled"})
    assert "（示例）" not in (await client.get(url, headers=HTML)).text
    english = (await client.get(url, headers={**HTML, "accept-language": "en"})).text
    assert "Joined the Party" in english and "Timeline" in english
    # The city reads it; another county does not find the member; a member without ledger access is refused.
    await form_login(client, "nj-admin")
    assert (await client.get(f"/t/320100/members/{ids['a']}/timeline", headers=HTML)).status_code == 200
    await form_login(client, "qh-admin")
    assert (await client.get(f"/t/320104/members/{ids['a']}/timeline", headers=HTML)).status_code == 404
    await form_login(client, "xw-member")
    assert (await client.get(url, headers=HTML)).status_code == 403


async def test_committee_form_keeps_the_rows_and_points_at_the_wrong_one(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    csrf = await signed_in(client, "xw-admin", f"/t/320102/branches/{ids['branch']}/committee")
    form = (await client.get(f"/t/320102/branches/{ids['branch']}/committee", headers=HTML)).text
    assert f'<option value="{ids["a"]}" selected>王建国</option>' in form
    # Two secretaries: the second row is pointed at, both rows stay as chosen.
    two = await client.post(
        f"/t/320102/branches/{ids['branch']}/committee",
        data={
            "member_id-0": ids["a"],
            "position-0": "secretary",
            "member_id-1": "",
            "position-1": "member",
            "member_id-2": ids["b"],
            "position-2": "secretary",
            "since-2": "2025-03-01",
            "_csrf_token": csrf,
        },
    )
    assert two.status_code == 422 and 'id="e-position-2"' in two.text and "只能有一名书记" in two.text
    assert f'<option value="{ids["b"]}" selected>李秀英</option>' in two.text and 'value="2025-03-01"' in two.text
    bad_date = await client.post(
        f"/t/320102/branches/{ids['branch']}/committee",
        data={"member_id-0": ids["b"], "position-0": "organization", "since-0": "昨天", "_csrf_token": csrf},
    )
    assert bad_date.status_code == 422 and 'id="e-since-0"' in bad_date.text
    saved = await client.post(
        f"/t/320102/branches/{ids['branch']}/committee",
        data={
            "member_id-0": ids["a"],
            "position-0": "secretary",
            "member_id-1": ids["b"],
            "position-1": "organization",
            "_csrf_token": csrf,
        },
    )
    assert saved.status_code == 303
    tree = (await client.get("/t/320102/branches/", headers=HTML)).text
    assert "书记 王建国；组织委员 李秀英" in tree
    await form_login(client, "xw-secretary")
    assert (await client.get(f"/t/320102/branches/{ids['branch']}/committee", headers=HTML)).status_code == 403
