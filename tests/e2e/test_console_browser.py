"""The console in a real browser: Debian's Chromium driven by Playwright against a real server on the real
services. Screenshots of the main pages are written to ``test-artifacts/screenshots/``."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from core.web.app import create_app
from tests.conftest import REPO, service_settings
from tests.support import PASSWORD, token

SHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("YINLING_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(pg_urls: dict[str, str]) -> Iterator[str]:
    """uvicorn serving the app in its own thread and event loop, on the test's database."""
    port = free_port()
    settings = service_settings(pg_urls, public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `apt-get install -y chromium` (scripts/test.sh does it)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        await launched.close()


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/")
    assert "/auth/login" in page.url
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/t/**")


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_sign_in_switch_tenant_and_drill_down(live_server: str, browser: Browser, world: dict[str, Any]) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    await sign_in(page, live_server, "nj-admin")
    assert page.url == f"{live_server}/t/320100/"
    assert await page.locator("h1").inner_text() == "南京市 · 工作概况"
    await page.wait_for_selector("#members-chart canvas")  # ECharts drew from /static, no CDN
    await shot(page, "dashboard-city")
    await page.select_option("#tenant-switch", "320104")
    await page.click(".switcher button")
    await page.wait_for_url(f"{live_server}/t/320104/")
    crumbs = await page.locator(".crumbs li").all_inner_texts()
    assert [c.replace("›", "").strip() for c in crumbs] == ["江苏省", "南京市", "秦淮区"]
    await page.click(".crumbs a >> text=南京市")
    await page.wait_for_url(f"{live_server}/t/320100/")
    await page.click("table.data a >> text=玄武区")
    # Drilling down keeps the period the official was looking at.
    await page.wait_for_url(f"{live_server}/t/320102/?period=*")
    assert await page.locator("h1").inner_text() == "玄武区 · 工作概况"
    assert page.url.split("period=")[1] == str(datetime.date.today().year)
    await shot(page, "dashboard-county")


async def test_large_text_mode_on_a_phone_sticks(live_server: str, browser: Browser, world: dict[str, Any]) -> None:
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    )
    page = await context.new_page()
    await sign_in(page, live_server, "xw-admin")
    base_size = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    async with page.expect_navigation():
        await page.click("button[name=elder]")
    assert await page.evaluate("document.body.classList.contains('elder')")
    large = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= 1.25 * base_size and large >= 22
    # It sticks: a new page load keeps it.
    await page.reload()
    assert await page.evaluate("document.body.classList.contains('elder')")
    # Nothing wider than the phone, and every button is a big target.
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= 360
    smallest = await page.evaluate(
        "Math.min(...[...document.querySelectorAll('button, select, .menu a')]"
        ".map(e => e.getBoundingClientRect().height))"
    )
    assert smallest >= 44
    line_height = await page.evaluate(
        "parseFloat(getComputedStyle(document.body).lineHeight) / parseFloat(getComputedStyle(document.body).fontSize)"
    )
    assert line_height >= 1.3
    await shot(page, "dashboard-phone-large-text")
    await context.close()


async def test_a_programme_appears_and_vanishes_in_the_menu(
    live_server: str, browser: Browser, world: dict[str, Any], client: Any, pg_platform: Any
) -> None:
    """The third-party example (走访慰问, installed through its entry point) switched on and off."""
    from sqlalchemy import select

    from core.db.scope import TenantScope
    from core.identity.accounts import grant_role
    from core.identity.models import User

    async with pg_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == "xw-admin"))).scalar_one()
        await grant_role(
            session, pg_platform.roles, world["tree"], user=user, tenant_code="320102", role="visitor", by="t"
        )
    admin = await token(client, "xw-admin")
    page = await browser.new_page(locale="zh-CN")
    await sign_in(page, live_server, "xw-admin")
    menu = page.locator("nav.menu")
    assert await menu.locator("text=走访计划").count() == 0
    assert (
        await client.put("/api/v1/t/320102/plugins/visits", headers=admin, json={"state": "enabled"})
    ).status_code == 200
    await page.reload()  # the server process sees the change through the shared activation cache (Redis)
    assert await menu.locator("text=走访计划").count() == 1, await page.locator("nav.menu").inner_html()
    await shot(page, "menu-with-programme")
    await client.put("/api/v1/t/320102/plugins/visits", headers=admin, json={"state": "disabled"})
    await page.reload()
    assert await menu.locator("text=走访计划").count() == 0


async def test_adding_a_member_in_the_browser(live_server: str, browser: Browser, world: dict[str, Any]) -> None:
    from tests.test_members import ID_B

    page = await browser.new_page(locale="zh-CN")
    await sign_in(page, live_server, "xw-admin")
    await page.click("nav.menu >> text=党员档案")
    await page.click("text=新增党员")
    await page.fill("#f-name", "郑桂兰")
    await page.fill("#f-id_number", ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1"))
    await page.fill("#f-phone", "13512345678")
    await page.click("button.primary")
    error = page.locator("#e-id_number")
    assert "校验位" in await error.inner_text()
    assert await page.input_value("#f-name") == "郑桂兰" and await page.input_value("#f-phone") == "13512345678"
    await shot(page, "member-form-error")
    await page.fill("#f-id_number", ID_B)
    await page.click("button.primary")
    await page.wait_for_url(f"{live_server}/t/320102/members/**")
    assert "已新增党员档案：郑桂兰" in await page.locator(".notice").inner_text()
    row = page.locator("table.data tbody tr", has_text="郑桂兰")
    assert "135****5678" in await row.inner_text()
    await shot(page, "member-ledger")


# --- the pages of the core features and a programme's own page --------------------------------------------


@pytest.fixture
def live_server_with_album(pg_urls: dict[str, str]) -> Iterator[str]:
    """Like ``live_server``, with the browser tests' own programme (老干部风采, a page and a member panel)."""
    from core.platform import Platform
    from tests.e2e import album_plugin

    port = free_port()
    settings = service_settings(pg_urls, public_url=f"http://127.0.0.1:{port}")
    platform = Platform.from_settings(settings, extra_plugins=(album_plugin,))
    app = create_app(settings, platform=platform)
    app.on_shutdown.append(platform.close)  # closed in the server's own event loop
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def no_sideways_scroll(page: Page, width: int) -> None:
    wide = await page.evaluate("document.scrollingElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide}px wide on a {width}px screen"


async def small_targets(page: Page) -> list[str]:
    """Buttons, fields and button-like links smaller than 44 px (WCAG 2.5.5 target size, 适老化)."""
    found: list[str] = await page.evaluate(
        """[...document.querySelectorAll(
             'button, select, input:not([type=hidden]):not([type=radio]), a.button, .menu a')]
           .filter(e => e.offsetParent !== null)
           .filter(e => e.getBoundingClientRect().height < 44)
           .map(e => e.outerHTML.slice(0, 80))"""
    )
    return found


async def test_the_core_pages_in_the_browser_with_screenshots(
    live_server: str, browser: Browser, world: dict[str, Any], client: Any
) -> None:
    """Organisations, a member's record and edit form, transfers, organisation life, users and roles, units
    below: each opens from the menu, shows its content, and has big targets and no sideways scrolling."""
    from tests.test_console_pages import ledger

    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    await sign_in(page, live_server, "xw-admin")
    for label, heading, name in (
        ("组织架构", "玄武区 · 组织架构", "branches"),
        ("党员档案", "玄武区 · 党员档案", "members"),
        ("组织关系转接", "玄武区 · 组织关系转接", "transfers"),
        ("组织生活", "玄武区 · 组织生活", "orglife"),
        ("用户与角色", "玄武区 · 用户与角色", "users"),
        ("下级单位", "玄武区 · 下级单位", "tenants"),
    ):
        await page.click(f"nav.menu >> text={label}")
        await page.wait_for_url(f"{live_server}/t/320102/{name}/**")
        assert await page.locator("h1").inner_text() == heading
        assert await page.locator("nav.menu a[aria-current=page]").inner_text() == label
        assert await small_targets(page) == []
        await no_sideways_scroll(page, 1280)
        await shot(page, f"page-{name}")
    # The organisation tree shows the committee; a branch is edited with an error kept beside its field.
    await page.goto(f"{live_server}/t/320102/branches/")
    assert "书记 王建国" in await page.locator(".org-tree").inner_text()
    await page.click(f"a[href='/t/320102/branches/{ids['branch']}/edit']")
    await page.fill("#f-founded_on", "2999-01-01")
    await page.fill("#f-address", "梅园新村 12 号")
    await page.fill("#f-name", "")
    await page.click("button.primary")
    assert "必填" in await page.locator("#e-name").inner_text()
    assert await page.input_value("#f-address") == "梅园新村 12 号"
    await shot(page, "branch-form-error")
    # A member's record: masked until revealed with a reason, then the full phone once.
    await page.goto(f"{live_server}/t/320102/members/")
    await page.click("table.data >> text=王建国")
    assert "139****5678" in await page.locator("#phone").inner_text()
    await page.fill("#f-reason", "联系本人核对档案")
    await page.click("text=查看完整信息")
    assert await page.locator("#phone").inner_text() == "13912345678"
    await shot(page, "member-record-revealed")
    # Organisation life: record a Party lecture; the missing lecturer is pointed out, the title kept.
    await page.goto(f"{live_server}/t/320102/orglife/new")
    await page.select_option("#f-org_id", ids["branch"])
    await page.select_option("#f-kind", "lecture")
    await page.fill("#f-title", "学习贯彻党的二十届四中全会精神")
    await page.click("button.primary")
    assert "讲课人" in await page.locator("#e-lecturer").inner_text()
    assert await page.input_value("#f-title") == "学习贯彻党的二十届四中全会精神"
    await page.fill("#f-lecturer", "王建国")
    await page.click("button.primary")
    await page.wait_for_url(f"{live_server}/t/320102/orglife/*?saved=1")
    await page.check(f"input[name='status-{ids['a']}'][value=present]")
    await page.check(f"input[name='status-{ids['b']}'][value=excused]")
    await page.fill(f"#reason-{ids['b']}", "住院治疗")
    await page.click("text=保存出席登记")
    await page.wait_for_url("**?saved=1")
    assert "100%" in await page.locator(".figures").inner_text()
    await shot(page, "meeting-attendance")


async def test_a_programme_page_and_panel_appear_and_vanish(
    live_server_with_album: str, browser: Browser, world: dict[str, Any], client: Any
) -> None:
    """Switched on, 老干部风采 adds a menu entry, its page and its panel on a member's timeline; switched off,
    all three are gone (the page answers that the programme is not on here)."""
    from tests.test_console_pages import ledger

    base = live_server_with_album
    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    page = await browser.new_page(locale="zh-CN")
    await sign_in(page, base, "xw-admin")
    timeline = f"{base}/t/320102/members/{ids['a']}/timeline"
    await page.goto(timeline)
    assert await page.locator("nav.menu >> text=风采展示").count() == 0
    assert "入选国庆展" not in await page.locator("main").inner_text()
    response = await page.goto(f"{base}/t/320102/album/gallery")
    assert response is not None and response.status == 404
    # The switch on the programmes page, as an administrator would do it.
    await page.goto(f"{base}/t/320102/programmes")
    card = page.locator(".cards li", has_text="老干部风采")
    await card.locator("button[value=enabled]").click()
    await page.wait_for_url("**changed=album")
    await page.click("nav.menu >> text=风采展示")
    await page.wait_for_url(f"{base}/t/320102/album/gallery/")
    assert await page.locator("h1").inner_text() == "玄武区 · 风采展示"
    await shot(page, "programme-page")
    await page.goto(timeline)
    main = await page.locator("main").inner_text()
    assert "入选国庆展" in main and "展出作品" in main and "加入中国共产党" in main
    # Merged by date with the core's entries: 2025 exhibition, 1990 prize, 1972 joining.
    assert main.index("入选国庆展") < main.index("摄影作品获市级奖") < main.index("加入中国共产党")
    await page.goto(f"{base}/t/320102/programmes")
    await page.locator(".cards li", has_text="老干部风采").locator("button[value=disabled]").click()
    await page.wait_for_url("**changed=album")
    assert await page.locator("nav.menu >> text=风采展示").count() == 0
    response = await page.goto(f"{base}/t/320102/album/gallery")
    assert response is not None and response.status == 404
    await page.goto(timeline)
    assert "入选国庆展" not in await page.locator("main").inner_text()


async def test_a_members_timeline_on_a_phone_in_large_text(
    live_server_with_album: str, browser: Browser, world: dict[str, Any], client: Any
) -> None:
    """The member is over seventy: 360 px wide, 长辈版 on, one column, big type, big targets."""
    from tests.test_console_pages import ledger

    base = live_server_with_album
    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    )
    page = await context.new_page()
    await sign_in(page, base, "xw-admin")
    await page.goto(f"{base}/t/320102/programmes")  # the test server alone knows this programme
    await page.locator(".cards li", has_text="老干部风采").locator("button[value=enabled]").click()
    await page.wait_for_url("**changed=album")
    async with page.expect_navigation():
        await page.click("button[name=elder]")
    await page.goto(f"{base}/t/320102/members/{ids['a']}/timeline")
    assert await page.evaluate("document.body.classList.contains('elder')")
    assert await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 22
    entry = page.locator(".timeline .text").first
    assert await entry.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 24
    assert "展出作品" in await page.locator(".key-figures").inner_text()
    await no_sideways_scroll(page, 360)
    assert await small_targets(page) == []
    await shot(page, "timeline-phone-large-text")
    for path in ("branches/", "members/", f"members/{ids['a']}", "transfers/", "orglife/", "users/", "tenants/"):
        await page.goto(f"{base}/t/320102/{path}")
        await shot(page, "phone-" + path.strip("/").replace("/", "-").replace(ids["a"], "record"))
        await no_sideways_scroll(page, 360)
        assert await small_targets(page) == [], path
    await shot(page, "tenants-phone-large-text")
    await context.close()


async def test_a_retired_cadre_signs_in_on_a_phone_and_lands_on_my_page(
    live_server: str, browser: Browser, world: dict[str, Any], client: Any
) -> None:
    """账号关联: the person's own account lands on 我的主页 — their own timeline, large text, nothing sideways."""
    from tests.test_console_pages import ledger

    admin = await token(client, "xw-admin")
    ids = await ledger(client, admin)
    linked = await client.put(
        f"/api/v1/t/320102/members/{ids['a']}/account", headers=admin, json={"username": "xw-member"}
    )
    assert linked.status_code == 200, linked.text
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    )
    page = await context.new_page()
    await sign_in(page, live_server, "xw-member")
    assert page.url == f"{live_server}/t/320102/me"
    assert await page.locator("h1").inner_text() == "我的主页"
    assert "王建国同志，您好" in await page.locator("main").inner_text()
    assert "李秀英" not in await page.content()
    async with page.expect_navigation():
        await page.click("button[name=elder]")
    assert await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 22
    await no_sideways_scroll(page, 360)
    assert await small_targets(page) == []
    await shot(page, "my-page-phone-large-text")
    await context.close()
