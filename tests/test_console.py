"""The console shell and dashboard, rendered on the server (HTML checked here; the browser tests drive it
in Chromium)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from core.platform import Platform
from tests.identity.test_sessions_local import form_login
from tests.support import token

HTML = {"accept": "text/html"}


async def test_pages_send_strangers_to_the_login_page(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    response = await client.get("/t/320102/", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/auth/login?next=/t/320102"
    assert (await client.get("/")).headers["location"] == "/auth/login?next=/"
    # API callers still get a JSON 401.
    assert (await client.get("/api/v1/tenants")).status_code == 401


async def test_dashboard_switcher_breadcrumbs_and_drill_down(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    await form_login(client, "nj-admin")
    home = await client.get("/", headers=HTML)
    assert home.headers["location"] == "/t/320100/"
    page = await client.get("/t/320100/", headers=HTML)
    assert page.status_code == 200
    html = page.text
    # Only the tenants the city admin may act in are offered.
    offered = re.findall(r'<option value="(\d{6})"', html)
    assert offered == ["320100", "320102", "320104", "320105"]
    assert "江苏省" in html and '<span aria-current="page">南京市</span>' in html  # breadcrumbs along the tree
    for child in ("玄武区", "秦淮区", "建邺区"):
        assert f">{child}</a>" in html  # drill-down links
    assert "/static/vendor/echarts-5.6.0.min.js" in html and "cdn" not in html.lower()
    assert (await client.get("/static/vendor/echarts-5.6.0.min.js")).status_code == 200
    drilled = await client.get("/switch?t=320104", headers=HTML)
    assert drilled.headers["location"] == "/t/320104/"
    assert (await client.get("/t/321100/", headers=HTML)).status_code == 403


async def test_large_text_mode_and_language_stick(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    await form_login(client, "xw-admin")
    page = await client.get("/t/320102/", headers=HTML)
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    response = await client.post(
        "/ui/preferences", data={"elder": "1", "back": "/t/320102/", "_csrf_token": csrf.group(1)}
    )
    assert response.status_code == 303 and response.headers["location"] == "/t/320102/"
    page = await client.get("/t/320102/", headers=HTML)
    assert 'class="scale-130"' in page.text and '<body class="elder">' in page.text
    assert "长辈版（大字）：已开启" in page.text
    await client.post("/ui/preferences", data={"lang": "en", "back": "/t/320102/", "_csrf_token": csrf.group(1)})
    english = (await client.get("/t/320102/", headers=HTML)).text
    assert '<html lang="en"' in english and "Member ledger" in english
    unsafe = await client.post(
        "/ui/preferences", data={"lang": "zh", "back": "//evil.example", "_csrf_token": csrf.group(1)}
    )
    assert unsafe.headers["location"] == "/"


async def test_navigation_on_the_page_follows_the_programmes(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    await form_login(client, "xw-admin")
    assert "/t/320102/sample/home" not in (await client.get("/t/320102/", headers=HTML)).text
    await client.put("/api/v1/t/320102/plugins/sample", headers=admin, json={"state": "enabled"})
    page = (await client.get("/t/320102/", headers=HTML)).text
    assert 'href="/t/320102/sample/home/"' in page and "示例首页" in page


def test_every_console_string_has_english() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "i18n.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


async def test_english_pages_are_translated(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    await form_login(client, "xw-admin")
    page = (await client.get("/t/320102/", headers={**HTML, "accept-language": "en-GB,en;q=0.8"})).text
    assert "Overview" in page and "Large text" in page and "工作概况" not in page
    assert "November" in page or "December" in page or "January" in page or "2026" in page  # Babel-formatted date


async def test_adding_a_member_shows_errors_beside_fields_and_keeps_what_was_typed(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    from tests.test_members import ID_A

    await form_login(client, "xw-admin")
    form = await client.get("/t/320102/members/new", headers=HTML)
    assert form.status_code == 200
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    bad_id = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    refused = await client.post(
        "/t/320102/members/new",
        data={"name": "吴德华", "id_number": bad_id, "phone": "13812340000", "_csrf_token": csrf.group(1)},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'id="e-id_number"' in refused.text and "校验位" in refused.text  # the error sits under its field
    assert (
        f'value="{bad_id}"' in refused.text
        and 'value="吴德华"' in refused.text
        and 'value="13812340000"' in refused.text
    )
    missing = await client.post("/t/320102/members/new", data={"name": "", "_csrf_token": csrf.group(1)}, headers=HTML)
    assert 'id="e-name"' in missing.text and "必填" in missing.text
    saved = await client.post(
        "/t/320102/members/new", data={"name": "吴德华", "id_number": ID_A, "_csrf_token": csrf.group(1)}, headers=HTML
    )
    assert saved.status_code == 303
    listing = await client.get(saved.headers["location"], headers=HTML)
    assert "已新增党员档案：吴德华" in listing.text and "吴德华" in listing.text
    assert ID_A not in listing.text  # masked in lists


async def test_the_ledger_page_needs_member_read(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/members/", headers=HTML)).status_code == 403


async def test_programmes_page_switches_with_the_reason_shown(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    province = await token(client, "js-admin")
    await form_login(client, "xw-admin")
    page = await client.get("/t/320102/programmes", headers=HTML)
    assert "示例项目" in page.text and "未开通" in page.text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    switched = await client.post("/t/320102/programmes/sample", data={"state": "enabled", "_csrf_token": csrf.group(1)})
    assert switched.status_code == 303 and switched.headers["location"] == "/t/320102/programmes?changed=sample"
    page = await client.get(switched.headers["location"], headers=HTML)
    assert "已更新“示例项目”" in page.text and "本单位已开通" in page.text
    assert 'href="/t/320102/sample/home/"' in page.text  # and it is in the menu now
    # The province forbids it: the county sees why, and its attempt is refused with that reason.
    await client.put("/api/v1/t/320000/plugins/sample", headers=province, json={"policy": "forbid"})
    refused = await client.post("/t/320102/programmes/sample", data={"state": "enabled", "_csrf_token": csrf.group(1)})
    page = await client.get(refused.headers["location"], headers=HTML)
    assert "被 320000（江苏省）禁止" in page.text and "不能更改" in page.text


async def test_audit_log_page_lists_the_subtree_for_admins_only(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    await client.post("/api/v1/t/320102/orgs", headers=admin, json={"name": "审计测试党委", "level": "committee"})
    await form_login(client, "xw-admin")
    page = await client.get("/t/320102/audit", headers=HTML)
    assert page.status_code == 200 and "organization" in page.text and "新增" in page.text and "xw-admin" in page.text
    await form_login(client, "xw-member")
    assert (await client.get("/t/320102/audit", headers=HTML)).status_code == 403
