"""账号关联: a retired cadre's login account linked to their record — their own page (我的主页), and nothing of
anyone else's; one account one person; unlinking leaves nothing behind; a transfer carries the link along."""

from __future__ import annotations

from typing import Any

import httpx

from tests.identity.test_sessions_local import form_login
from tests.support import token
from tests.test_console_pages import HTML, csrf_of
from tests.test_transfers import act, make_branches, make_member, request


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_linked_member_sees_their_own_page_and_nothing_else(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    orgs = await make_branches(client, xw, "320102", "梅园社区支部")
    wang = await make_member(client, xw, "320102", orgs["梅园社区支部"], "王建国", phone="13912345678")
    li = await make_member(client, xw, "320102", orgs["梅园社区支部"], "李秀英")

    # Before the link the account has no record: 我的主页 explains whom to ask, in Chinese.
    mine = await token(client, "xw-member")
    assert (await me(client, mine))["member_id"] is None
    await form_login(client, "xw-member")
    unlinked = await client.get("/t/320102/me/", headers=HTML)
    assert unlinked.status_code == 404 and "还没有关联到老干部档案" in unlinked.text
    client.cookies.clear()

    linked = await client.put(f"/api/v1/t/320102/members/{wang}/account", headers=xw, json={"username": "xw-member"})
    assert linked.status_code == 200, linked.text
    assert linked.json()["username"] == "xw-member" and linked.json()["linked_by"] == "xw-admin"
    shown = await client.get(f"/api/v1/t/320102/members/{wang}/account", headers=xw)
    assert shown.json()["username"] == "xw-member"
    assert (await client.get(f"/api/v1/t/320102/members/{li}/account", headers=xw)).json() is None

    # The principal is loaded per request: the same token now carries the link.
    info = await me(client, mine)
    assert (info["member_tenant_code"], info["member_id"]) == ("320102", wang)

    # Signing in lands on 我的主页, which shows the person's own record and timeline.
    await form_login(client, "xw-member")
    home = await client.get("/", headers=HTML)
    assert home.status_code in (302, 303) and home.headers["location"] == "/t/320102/me"
    page = await client.get("/t/320102/me/", headers=HTML)
    assert page.status_code == 200, page.text
    assert "我的主页" in page.text and "王建国同志，您好" in page.text
    assert "李秀英" not in page.text and "13912345678" not in page.text
    assert 'href="/t/320102/me/"' in page.text  # the menu offers it
    # The member role reads nobody's record, not even through the officials' pages.
    assert (await client.get(f"/t/320102/members/{li}/timeline", headers=HTML)).status_code == 403
    assert (await client.get(f"/api/v1/t/320102/members/{wang}", headers=mine)).status_code == 403
    assert (await client.get("/api/v1/t/320102/members", headers=mine)).status_code == 403
    # Linking is for those who manage accounts, not for the member.
    refused = await client.put(f"/api/v1/t/320102/members/{li}/account", headers=mine, json={"username": "xw-member"})
    assert refused.status_code == 403

    # An official of the county sees no 我的主页 (not linked) and still lands on the dashboard.
    client.cookies.clear()
    await form_login(client, "xw-admin")
    assert (await client.get("/", headers=HTML)).headers["location"] == "/t/320102/"
    assert 'href="/t/320102/me/"' not in (await client.get("/t/320102/", headers=HTML)).text


async def test_one_account_one_person_and_unlinking_leaves_nothing(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    xw_orgs = await make_branches(client, xw, "320102", "梅园社区支部")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部")
    wang = await make_member(client, xw, "320102", xw_orgs["梅园社区支部"], "王建国")
    zhao = await make_member(client, qh, "320104", qh_orgs["夫子庙社区支部"], "赵秦淮")

    unknown = await client.put(f"/api/v1/t/320102/members/{wang}/account", headers=xw, json={"username": "nobody"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "member.account_not_found"
    assert "“nobody”" in unknown.json()["error"]["message"] and unknown.json()["error"]["field"] == "username"
    blank = await client.put(f"/api/v1/t/320102/members/{wang}/account", headers=xw, json={"username": " "})
    assert blank.status_code == 422 and blank.json()["error"]["field"] == "username"

    assert (
        await client.put(f"/api/v1/t/320102/members/{wang}/account", headers=xw, json={"username": "xw-member"})
    ).status_code == 200
    # 秦淮 cannot take the same account for its own member, and learns nothing of whom it belongs to.
    taken = await client.put(f"/api/v1/t/320104/members/{zhao}/account", headers=qh, json={"username": "xw-member"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "member.account_taken"
    assert "王建国" not in taken.text and "玄武" not in taken.text
    assert (await client.get(f"/api/v1/t/320104/members/{zhao}/account", headers=qh)).json() is None
    # Nor can 秦淮 read or change 玄武's link.
    assert (await client.get(f"/api/v1/t/320104/members/{wang}/account", headers=qh)).status_code == 404
    assert (await client.delete(f"/api/v1/t/320104/members/{wang}/account", headers=qh)).status_code == 404
    assert (await client.get(f"/api/v1/t/320102/members/{wang}/account", headers=qh)).status_code == 403

    # Unlinking removes the link and the member role it brought: the account is back to nothing here.
    member = await token(client, "xw-member")
    assert (await client.delete(f"/api/v1/t/320102/members/{wang}/account", headers=xw)).status_code == 204
    # (xw-member held nothing but that role: now it may not even ask who it is.)
    assert (await client.get("/api/v1/auth/me", headers=member)).status_code == 403
    assert (await client.get("/api/v1/t/320102/orgs", headers=member)).status_code == 403
    # Now 秦淮 may link it, and the member role follows to 秦淮.
    relinked = await client.put(f"/api/v1/t/320104/members/{zhao}/account", headers=qh, json={"username": "xw-member"})
    assert relinked.status_code == 200, relinked.text
    assert [(g["tenant_code"], g["role"]) for g in (await me(client, member))["grants"]] == [("320104", "member")]


async def test_a_transfer_between_counties_carries_the_link_and_the_role(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    xw_orgs = await make_branches(client, xw, "320102", "梅园社区支部")
    qh_orgs = await make_branches(client, qh, "320104", "夫子庙社区支部")
    wang = await make_member(client, xw, "320102", xw_orgs["梅园社区支部"], "王建国")
    await client.put(f"/api/v1/t/320102/members/{wang}/account", headers=xw, json={"username": "xw-member"})
    created = await request(
        client,
        xw,
        "320102",
        wang,
        kind="negotiated",
        target_tenant_code="320104",
        target_org_id=qh_orgs["夫子庙社区支部"],
    )
    assert created.status_code == 201, created.text
    transfer = created.json()["id"]
    assert (await act(client, qh, "320104", transfer, "approve")).status_code == 200
    assert (await act(client, qh, "320104", transfer, "complete")).status_code == 200

    member = await token(client, "xw-member")
    info = await me(client, member)
    assert (info["member_tenant_code"], info["member_id"]) == ("320104", wang)
    assert [(g["tenant_code"], g["role"]) for g in info["grants"]] == [("320104", "member")]
    assert (await client.get(f"/api/v1/t/320104/members/{wang}/account", headers=qh)).json()["username"] == "xw-member"
    assert (await client.get(f"/api/v1/t/320102/members/{wang}/account", headers=xw)).json() is None
    await form_login(client, "xw-member")
    assert (await client.get("/", headers=HTML)).headers["location"] == "/t/320104/me"
    page = await client.get("/t/320104/me/", headers=HTML)
    assert page.status_code == 200 and "王建国同志" in page.text and "秦淮区" in page.text


async def test_linking_on_the_record_page_puts_the_error_beside_the_field(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    orgs = await make_branches(client, xw, "320102", "梅园社区支部")
    wang = await make_member(client, xw, "320102", orgs["梅园社区支部"], "王建国")
    await form_login(client, "xw-admin")
    record = await client.get(f"/t/320102/members/{wang}", headers=HTML)
    assert record.status_code == 200 and "尚未关联登录账号" in record.text
    csrf = csrf_of(record.text)
    wrong = await client.post(
        f"/t/320102/members/{wang}/account",
        headers=HTML,
        data={"_csrf_token": csrf, "username": "xw-membr", "action": "link"},
    )
    assert wrong.status_code == 422
    assert "找不到登录账号“xw-membr”" in wrong.text and 'value="xw-membr"' in wrong.text  # nothing typed is lost
    done = await client.post(
        f"/t/320102/members/{wang}/account",
        headers=HTML,
        data={"_csrf_token": csrf, "username": "xw-member", "action": "link"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?saved=linked")
    shown = await client.get(done.headers["location"], headers=HTML)
    assert "已关联账号" in shown.text and "xw-member" in shown.text and "已关联登录账号" in shown.text
    gone = await client.post(
        f"/t/320102/members/{wang}/account", headers=HTML, data={"_csrf_token": csrf, "action": "unlink"}
    )
    assert gone.status_code == 303
    assert (await client.get(f"/api/v1/t/320102/members/{wang}/account", headers=xw)).json() is None
