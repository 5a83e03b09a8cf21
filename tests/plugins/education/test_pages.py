"""The programme's console pages: navigation, the station list (phones masked), recording an activity through
the form (mistakes shown beside their fields, nothing typed lost), and the figures read from the aggregates."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from core.db.scope import TenantScope
from core.platform import Platform
from plugins.education.models import Activity
from tests.identity.test_sessions_local import form_login
from tests.plugins.education.helpers import (
    XUANWU,
    activity_body,
    counsellor,
    days_ago,
    grant,
    make_member,
    set_state,
    station,
    url,
)
from tests.support import token

HTML = {"accept": "text/html"}


async def test_console_pages(client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any]) -> None:
    api = await token(client, "xw-admin")
    await set_state(client, api, XUANWU, "enabled")
    await grant(pg_platform, "xw-admin", XUANWU)
    s = await station(client, api)
    member_id = await make_member(pg_platform, world["ids"][XUANWU], "王建国")
    c = await counsellor(client, api, member_id=member_id, category="old_cadre")
    assert (
        await client.post(url(XUANWU, "/activities"), headers=api, json=activity_body(s["id"], [c["id"]]))
    ).status_code == 201

    await form_login(client, "xw-admin")
    nav = (await client.get(f"/api/v1/t/{XUANWU}/navigation", headers=api)).json()
    assert [i["path"] for i in nav if i["plugin"] == "education"] == [
        "education/stations",
        "education/activities",
        "education/figures",
    ]

    stations = await client.get(f"/t/{XUANWU}/education/stations", headers=HTML)
    assert stations.status_code == 200, stations.text
    assert "梅园新村社区校外教育辅导站" in stations.text and "138****5678" in stations.text
    assert "13812345678" not in stations.text
    english = await client.get(f"/t/{XUANWU}/education/stations?lang=en", headers=HTML)
    assert "Youth-education stations" in english.text and "Community" in english.text

    form = await client.get(f"/t/{XUANWU}/education/activities", headers=HTML)
    assert form.status_code == 200 and "讲述雨花台烈士的故事" in form.text and "王建国" in form.text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    bad = await client.post(
        f"/t/{XUANWU}/education/activities",
        headers=HTML,
        data={"_csrf_token": csrf.group(1), "station_id": s["id"], "kind": "reading", "title": "读书会",
              "held_on": days_ago(2), "duration_minutes": "60", "students": "20"},
    )  # fmt: skip
    assert bad.status_code == 422 and "⚠" in bad.text and 'value="读书会"' in bad.text
    good = await client.post(
        f"/t/{XUANWU}/education/activities",
        headers=HTML,
        data={"_csrf_token": csrf.group(1), "station_id": s["id"], "kind": "reading", "title": "读书会",
              "held_on": days_ago(2), "duration_minutes": "60", "students": "20", "counsellor_ids": c["id"]},
        follow_redirects=False,
    )  # fmt: skip
    assert good.status_code == 303 and "/education/activities?added=" in good.headers["location"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        titles = (await session.execute(select(Activity.title).order_by(Activity.title))).scalars().all()
        assert list(titles) == ["讲述雨花台烈士的故事", "读书会"]

    figures = await client.get(f"/t/{XUANWU}/education/figures", headers=HTML)
    assert figures.status_code == 200
    text = re.sub(r"\s+", " ", figures.text)
    assert re.search(r"受教育学生</th><td class=\"num\">65 人次", text), text[:2000]
    assert re.search(r"老干部</th><td class=\"num\">1 人", text)
    api_figures = (await client.get(url(XUANWU, "/figures"), headers=api)).json()
    assert api_figures["education.students_reached"] == 65 and api_figures["education.stations"] == 1
    assert api_figures["education.activities.reading"] == 1 and api_figures["education.active_counsellors"] == 1
