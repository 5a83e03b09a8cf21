"""The console in a real browser: Debian's Chromium driven by Playwright against a real server on the real
services. Screenshots of the main pages are written to ``test-artifacts/screenshots/``."""

from __future__ import annotations

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
    await page.wait_for_url(f"{live_server}/t/320102/")
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
