"""Roll-up statistics (#11): maintained aggregates proven against a recount from raw rows, roll-ups up the tree
with per-child breakdown and the previous period, distinct counts that count a person once per level, the
Excel export and the work report."""

from __future__ import annotations

import datetime
import io
import re
from collections import defaultdict
from typing import Any

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from core.db.scope import TenantScope
from core.events.outbox import emit
from core.orglife import metrics as m
from core.orglife.metrics import compute_core_metrics
from core.orglife.periods import Period
from core.orgs.models import Member
from core.platform import Platform
from core.plugin_host.declarations import Aggregation, MetricSpec
from core.reports.facts import Fact, period_keys, record, retract
from core.reports.models import ReportDistinct, ReportSubject, ReportSum
from core.reports.periods import ReportPeriod
from core.reports.recount import facts_from_raw, totals
from core.reports.rollup import catalogue, rollup
from core.tenancy.tree import load_tree
from tests.support import token
from tests.test_branch_standards import set_items
from tests.test_org_life import HELD, make_county, make_meeting, make_member, make_org
from tests.test_transfers import act, request

TODAY = datetime.date.today()
LAST_YEAR = datetime.date(TODAY.year - 1, 6, 15)


async def meeting(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, org: str, marks: dict[str, str], **fields: Any
) -> str:
    created = await make_meeting(client, headers, org, code=code, **fields)
    assert created.status_code == 201, created.text
    meeting_id = str(created.json()["id"])
    items = [{"member_id": k, "status": s, "reason": "有事" if s == "absent" else ""} for k, s in marks.items()]
    if items:
        response = await client.post(
            f"/api/v1/t/{code}/meetings/{meeting_id}/attendance", headers=headers, json={"items": items}
        )
        assert response.status_code == 200, response.text
    return meeting_id


async def assert_aggregates_match_the_recount(platform: Platform) -> None:
    """``report_sum`` equals the facts the raw rows imply: flows month by month, stocks in total."""
    async with platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        rows = (await session.execute(select(ReportSum))).scalars().all()
    levels = {s.id for _, s in [("core", x) for x in m.core_metrics()] if s.aggregation is Aggregation.LEVEL}
    kept: dict[int, dict[tuple[str, Any], float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        key = (row.metric, None if row.metric in levels else row.month)
        kept[row.tenant_id][key] += float(row.value)
    for node in tree.walk():
        expected: dict[tuple[str, Any], float] = defaultdict(float)
        for (metric, month), value in totals(await facts_from_raw(platform, tree, node.id)).items():
            expected[(metric, None if metric in levels else month)] += value
        actual = {k: v for k, v in kept.get(node.id, {}).items() if v}
        assert actual == {k: v for k, v in expected.items() if v}, node.code


async def test_aggregates_equal_the_recount_after_writes_corrections_late_records_and_transfers(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    ids = await make_county(client, xw)
    qh_branch = await make_org(client, qh, "320104", "夫子庙社区支部", "branch")
    qh_members = [await make_member(client, qh, "320104", f"秦{i}", qh_branch) for i in range(3)]

    first = await meeting(
        client, xw, "320102", ids["a"], {ids["王"]: "present", ids["李"]: "absent", ids["赵"]: "present"}
    )
    await meeting(client, xw, "320102", ids["a"], {ids["王"]: "present"}, kind="lecture", lecturer="老书记")
    cancelled = await meeting(client, xw, "320102", ids["b"], {ids["钱"]: "present"})
    await meeting(
        client, qh, "320104", qh_branch, dict.fromkeys(qh_members, "present"), kind="lecture", lecturer="宣讲团"
    )
    await assert_aggregates_match_the_recount(pg_platform)

    # Corrections: a mark changed, a mark removed, a meeting cancelled, a meeting moved to last year (late).
    await client.post(
        f"/api/v1/t/320102/meetings/{first}/attendance",
        headers=xw,
        json={"items": [{"member_id": ids["王"], "status": "absent", "reason": "住院"}]},
    )
    assert (
        await client.delete(f"/api/v1/t/320102/meetings/{first}/attendance/{ids['赵']}", headers=xw)
    ).status_code in (
        200,
        204,
    )
    await client.post(f"/api/v1/t/320102/meetings/{cancelled}/cancel", headers=xw, json={"reason": "改期"})
    late = await meeting(client, xw, "320102", ids["b"], {ids["钱"]: "present"}, held_on=LAST_YEAR.isoformat())
    moved = await client.patch(
        f"/api/v1/t/320102/meetings/{late}",
        headers=xw,
        json={"held_on": (LAST_YEAR - datetime.timedelta(days=40)).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    await set_items(client, xw, "320102", ids["a"], 6)
    await set_items(client, qh, "320104", qh_branch, 2)
    await set_items(client, qh, "320104", qh_branch, 1)
    await assert_aggregates_match_the_recount(pg_platform)

    # A transfer across counties: 玄武 covers one member fewer, 秦淮 one more, the city the same.
    created = await request(
        client, xw, "320102", ids["钱"], kind="direct", target_tenant_code="320104", target_org_id=qh_branch
    )
    assert created.status_code == 201, created.text
    assert (await act(client, qh, "320104", created.json()["id"], "approve")).status_code == 200
    assert (await act(client, qh, "320104", created.json()["id"], "complete")).status_code == 200
    await assert_aggregates_match_the_recount(pg_platform)

    # The roll-up agrees with the core's independent raw computation, county by county and for the city.
    nj = await token(client, "nj-admin")
    answer = await client.get("/api/v1/t/320100/reports/rollup", headers=nj, params={"period": str(TODAY.year)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ids_by_code = world["ids"]
    counties = {c["tenant_code"]: c["values"] for c in body["children"]}
    assert set(counties) == {"320102", "320104", "320105"}
    period = Period(datetime.date(TODAY.year, 1, 1), TODAY)
    async with pg_platform.database.session(TenantScope.system()) as session:
        raw = await compute_core_metrics(session, [ids_by_code[c] for c in counties], period)
    compared = (m.ACTIVITIES, m.ATTENDANCE, m.ATTENDANCE_EXPECTED, m.LECTURES, m.LECTURE_AUDIENCE, m.MEMBERS)
    compared += (m.BRANCHES, m.SIX_HAVES_MET, m.SIX_HAVES_TOTAL, m.SIX_HAVES_COMPLETE)
    for code, values in counties.items():
        for metric in compared:
            assert values[metric] == raw[metric][ids_by_code[code]], (code, metric)
    for metric in compared:
        assert body["total"]["values"][metric] == sum(raw[metric].values()), metric
    assert counties["320102"][m.MEMBERS] == 4 and counties["320104"][m.MEMBERS] == 4  # 张 is covered; 钱 moved
    rate = body["total"]["values"][m.ATTENDANCE_RATE]
    expected_rate = body["total"]["values"][m.ATTENDANCE] / body["total"]["values"][m.ATTENDANCE_EXPECTED]
    assert rate == pytest.approx(expected_rate, abs=1e-4)
    # Last year's late meeting counts in last year, not in this one.
    last = (
        await client.get("/api/v1/t/320102/reports/rollup", headers=xw, params={"period": str(TODAY.year - 1)})
    ).json()
    assert last["total"]["values"][m.ACTIVITIES] == 1 and last["total"]["values"][m.ATTENDANCE] == 1


async def test_a_plugins_late_event_lands_in_its_month_and_matches_its_recount(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xw = await token(client, "xw-admin")
    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=xw, json={"state": "enabled"})
    ).status_code == 200
    async with pg_platform.database.session(TenantScope.of([world["ids"]["320102"]], [world["ids"]["320102"]])) as s:
        for day in (TODAY, TODAY, LAST_YEAR):
            await emit(
                s,
                tenant_id=world["ids"]["320102"],
                name="sample.poked",
                payload={"on": day.isoformat()},
                source="sample",
            )
    assert await pg_platform.dispatcher.run_once() > 0
    await pg_platform.dispatcher.run_once()
    await assert_aggregates_match_the_recount(pg_platform)
    this_year = (
        await client.get("/api/v1/t/320102/reports/rollup", headers=xw, params={"metrics": "sample.pokes"})
    ).json()
    assert this_year["total"]["values"] == {"sample.pokes": 2} and this_year["total"]["previous"] == {"sample.pokes": 1}
    assert [x["id"] for x in this_year["metrics"]] == ["sample.pokes"]


async def test_distinct_counts_count_a_person_once_per_level_and_reversals_remove_them(
    world: dict[str, Any], pg_platform: Platform
) -> None:
    ids = world["ids"]
    spec = MetricSpec(
        "test.people", "服务对象", "People served", "人", "people", aggregation=Aggregation.DISTINCT_COUNT
    )
    day = datetime.date(TODAY.year, 3, 10)
    # The same person served in two counties of one city, twice in one of them.
    async with pg_platform.database.session(TenantScope.of([ids["320102"]], [ids["320102"]])) as session:
        await record(session, ids["320102"], Fact(spec.id, day, subject="p1"), Fact(spec.id, day, subject="p1"))
        await record(session, ids["320102"], Fact(spec.id, day, subject="p2"))
    async with pg_platform.database.session(TenantScope.of([ids["320104"]], [ids["320104"]])) as session:
        await record(session, ids["320104"], Fact(spec.id, day.replace(month=8), subject="p1"))

    async def figures(code: str, period: str) -> tuple[Any, dict[str, Any]]:
        async with pg_platform.database.session(TenantScope.system()) as session:
            tree = await load_tree(session)
            result = await rollup(session, tree, tree.by_code[code], [spec], ReportPeriod.parse(period))
        return result.total.values[spec.id], {c.node.code: c.values[spec.id] for c in result.children}

    assert await figures("320100", str(TODAY.year)) == (2, {"320102": 2, "320104": 1, "320105": 0})
    assert (await figures("320000", str(TODAY.year)))[0] == 2
    assert (await figures("320100", f"{TODAY.year}-Q1"))[0] == 2
    assert (await figures("320100", f"{TODAY.year}-Q3"))[0] == 1
    assert (await figures("320100", f"{TODAY.year}-01..{TODAY.year}-12"))[0] == 2  # custom: counted from months
    # Retract one of p1's two facts in 玄武: still counted; retract the other: only 秦淮's p1 remains.
    async with pg_platform.database.session(TenantScope.of([ids["320102"]], [ids["320102"]])) as session:
        await retract(session, ids["320102"], Fact(spec.id, day, subject="p1"))
    assert await figures("320100", str(TODAY.year)) == (2, {"320102": 2, "320104": 1, "320105": 0})
    async with pg_platform.database.session(TenantScope.of([ids["320102"]], [ids["320102"]])) as session:
        await retract(session, ids["320102"], Fact(spec.id, day, subject="p1"))
    assert await figures("320100", str(TODAY.year)) == (2, {"320102": 1, "320104": 1, "320105": 0})


async def test_a_county_cannot_write_its_citys_distinct_rows_except_through_the_upkeep(
    world: dict[str, Any], pg_platform: Platform
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    ids = world["ids"]
    with pytest.raises(DBAPIError):
        async with pg_platform.database.session(TenantScope.of([ids["320102"]], [ids["320102"]])) as session:
            await session.execute(
                text("INSERT INTO report_distinct (tenant_id, metric, period, value) VALUES (:t, 'x', 'Y2026', 5)"),
                {"t": ids["320100"]},
            )


async def record_and_compare_the_distinct_rows(platform: Platform, lineages: dict[int, list[int]]) -> None:
    """Distinct facts in two counties of a city (repeats, a retraction before its record, a fact and its reversal
    in one call, reversals across periods): ``report_subject`` and ``report_distinct`` equal a naive recount."""
    a, b = sorted(lineages)
    day = datetime.date(TODAY.year, 3, 10)
    calls: list[tuple[int, list[Fact]]] = [
        (a, [Fact("t.people", day, subject="p1"), Fact("t.people", day, subject="p1"), Fact("t.people", day, 1, "p2")]),
        (b, [Fact("t.people", day.replace(month=8), subject="p1"), Fact("t.other", day, subject="p1")]),
        (a, [Fact("t.people", day.replace(month=11), -1, "p3")]),  # a retraction seen before its record
        (a, [Fact("t.people", day, subject="p4"), Fact("t.people", day, -1, "p4")]),  # nets to nothing
        (a, [Fact("t.people", day, -1, "p1")]),
        (a, [Fact("t.people", day.replace(month=11), subject="p3"), Fact("t.people", day, -1, "p1")]),
        (b, [Fact("t.people", day.replace(month=9), subject="p2")]),
    ]
    expected_n: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for tenant_id, facts in calls:
        async with platform.database.session(TenantScope.of([tenant_id], [tenant_id])) as session:
            await record(session, tenant_id, *facts)
        for fact in facts:
            for level in lineages[tenant_id]:
                for period in period_keys(fact.on):
                    expected_n[(level, fact.metric, period, str(fact.subject))] += 1 if fact.value > 0 else -1
    expected_count: dict[tuple[int, str, str], int] = defaultdict(int)
    for (level, metric, period, _), n in expected_n.items():
        if n > 0:
            expected_count[(level, metric, period)] += 1
    async with platform.database.session(TenantScope.system()) as session:
        subjects = (await session.execute(select(ReportSubject))).scalars().all()
        counters = (await session.execute(select(ReportDistinct))).scalars().all()
    assert {(r.tenant_id, r.metric, r.period, r.subject): r.n for r in subjects if r.n} == {
        k: n for k, n in expected_n.items() if n
    }
    assert {(r.tenant_id, r.metric, r.period): r.value for r in counters if r.value} == dict(expected_count)
    year = f"Y{TODAY.year}"
    # The year: a counts p2; b counts p1 and p2; the city and the province count p1 and p2 once each.
    assert [expected_count[(level, "t.people", year)] for level in (*lineages[a], b)] == [2, 2, 1, 2]


async def test_distinct_upkeep_equals_a_naive_recount_on_postgres(world: dict[str, Any], pg_platform: Platform) -> None:
    ids = world["ids"]
    province, city = ids["320000"], ids["320100"]
    await record_and_compare_the_distinct_rows(
        pg_platform, {ids["320102"]: [province, city, ids["320102"]], ids["320104"]: [province, city, ids["320104"]]}
    )


@pytest.mark.embedded
async def test_distinct_upkeep_equals_a_naive_recount_on_sqlite(embedded_settings: Any) -> None:
    import asyncio

    from sqlalchemy import text

    from core.db.migrate import upgrade

    await asyncio.to_thread(upgrade, embedded_settings, "heads", [])
    platform = Platform.from_settings(embedded_settings)
    try:
        async with platform.database.session(TenantScope.system()) as session:
            for id_, code, level, parent, path in (
                (1, "320000", "province", None, "/1/"),
                (2, "320100", "city", 1, "/1/2/"),
                (3, "320102", "county", 2, "/1/2/3/"),
                (4, "320104", "county", 2, "/1/2/4/"),
            ):
                await session.execute(
                    text(
                        "INSERT INTO tenant (id, code, name, level, parent_id, path, is_active, settings, created_at, "
                        "updated_at) VALUES (:i, :c, :c, :l, :p, :path, 1, '{}', '2026-01-01', '2026-01-01')"
                    ),
                    {"i": id_, "c": code, "l": level, "p": parent, "path": path},
                )
        await record_and_compare_the_distinct_rows(platform, {3: [1, 2, 3], 4: [1, 2, 4]})
    finally:
        await platform.close()


async def test_the_upkeep_setting_is_off_again_for_the_next_statement_and_only_writable_tenants_are_counted(
    world: dict[str, Any], pg_platform: Platform
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    ids = world["ids"]
    county, other, city = ids["320102"], ids["320104"], ids["320100"]
    day = datetime.date(TODAY.year, 3, 10)
    with pytest.raises(DBAPIError):
        async with pg_platform.database.session(TenantScope.of([county], [county])) as session:
            await record(session, county, Fact("t.people", day, subject="p1"))
            setting = await session.execute(text("SELECT current_setting('yinling.report_upkeep', true)"))
            assert setting.scalar() in (None, "", "off")
            # The same transaction, right after the upkeep: the city's rows are out of reach again.
            updated = await session.execute(
                text("UPDATE report_distinct SET value = 99 WHERE tenant_id = :t RETURNING value"), {"t": city}
            )
            assert updated.all() == []
            await session.execute(
                text("INSERT INTO report_distinct (tenant_id, metric, period, value) VALUES (:t, 'x', 'Y2026', 5)"),
                {"t": city},
            )
    with pytest.raises(DBAPIError, match="outside the write scope"):
        async with pg_platform.database.session(TenantScope.of([county], [county])) as session:
            await record(session, other, Fact("t.people", day, subject="p1"))
    async with pg_platform.database.session(TenantScope.system()) as session:
        assert (await session.execute(select(ReportDistinct))).scalars().all() == []


async def test_rollup_api_periods_errors_and_permissions(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    js = await token(client, "js-admin")
    province = await client.get("/api/v1/t/320000/reports/rollup", headers=js, params={"period": f"{TODAY.year}-Q4"})
    assert province.status_code == 200
    body = province.json()
    assert [c["tenant_code"] for c in body["children"]] == ["320100", "321100"]
    assert body["period_label"] == f"{TODAY.year}年第四季度" and body["previous_period"] == f"{TODAY.year}-Q3"
    catalogue_ids = {x["id"] for x in (await client.get("/api/v1/t/320000/reports/metrics", headers=js)).json()}
    assert {m.MEMBERS, m.ATTENDANCE_RATE, "sample.pokes"} <= catalogue_ids
    bad = await client.get("/api/v1/t/320000/reports/rollup", headers=js, params={"period": "2026-13"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "report.period_invalid"
    unknown = await client.get("/api/v1/t/320000/reports/rollup", headers=js, params={"metrics": "core.nope"})
    assert unknown.status_code == 422 and "core.nope" in unknown.json()["error"]["message"]
    member = await token(client, "xw-member")
    assert (await client.get("/api/v1/t/320102/reports/rollup", headers=member)).status_code == 403
    xw = await token(client, "xw-admin")
    assert (await client.get("/api/v1/t/320100/reports/rollup", headers=xw)).status_code == 403


async def test_excel_export_has_chinese_headers_units_children_and_totals(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    nj = await token(client, "nj-admin")
    xw = await token(client, "xw-admin")
    qh = await token(client, "qh-admin")
    branches = {}
    for headers, code in ((xw, "320102"), (qh, "320104")):
        branches[code] = await make_org(client, headers, code, "社区支部", "branch")
        await make_member(client, headers, code, "党员甲", branches[code])
    await make_member(client, xw, "320102", "党员乙", branches["320102"])
    metrics = f"{m.MEMBERS},{m.ATTENDANCE_RATE}"
    response = await client.get("/api/v1/t/320100/reports/rollup.xlsx", headers=nj, params={"metrics": metrics})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert "南京市" in str(sheet["A1"].value) and "工作统计汇总表" in str(sheet["A1"].value)
    assert sheet["B3"].value == "覆盖党员数（人）" and sheet["D3"].value == "出席率"
    assert (sheet["B4"].value, sheet["C4"].value) == ("本期", "上期")
    rows = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=2).value for r in range(5, 9)}
    assert rows == {"玄武区": 2, "秦淮区": 1, "建邺区": 0, "合计（南京市）": 3}
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$3:$4"


async def test_work_report_states_the_figures_and_follows_the_tenants_template(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xw = await token(client, "xw-admin")
    nj = await token(client, "nj-admin")
    ids = await make_county(client, xw)
    await meeting(client, xw, "320102", ids["a"], {ids["王"]: "present", ids["李"]: "present", ids["赵"]: "absent"})
    await meeting(client, xw, "320102", ids["b"], {ids["钱"]: "present"})
    assert (
        await client.put("/api/v1/t/320100/plugins/sample", headers=nj, json={"state": "enabled"})
    ).status_code == 200

    built_in = await client.get("/api/v1/t/320100/reports/work-report.docx", headers=nj)
    assert built_in.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(built_in.content)).paragraphs)
    assert f"南京市{TODAY.year}年离退休干部工作情况汇报" in text
    held = HELD.year == TODAY.year
    assert f"组织开展各类活动{2 if held else 0}场次，参与党员达{3 if held else 0}人次" in text
    assert "示例项目" in text  # a section for the programme active in the city
    tables = Document(io.BytesIO(built_in.content)).tables
    assert [row.cells[0].text for row in tables[0].rows] == ["单位", "玄武区", "秦淮区", "建邺区", "合计"]
    assert len(Document(io.BytesIO(built_in.content)).inline_shapes) == 1  # the chart

    # The city replaces the template; its county inherits it; a non-.docx is refused.
    template = Document()
    template.add_paragraph("中共{{单位}}委员会老干部局")
    template.add_paragraph("{{期间}}工作情况")
    template.add_paragraph("{{正文}}")
    template.add_paragraph("落款日期：{{日期}}")
    buffer = io.BytesIO()
    template.save(buffer)
    files = {"file": ("模板.docx", buffer.getvalue(), "application/octet-stream")}
    assert (
        await client.put("/api/v1/t/320100/reports/work-report/template", headers=nj, files=files)
    ).status_code == 200
    refused = await client.put(
        "/api/v1/t/320100/reports/work-report/template",
        headers=nj,
        files={"file": ("x.docx", b"not a doc", "text/plain")},
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "report.template_type"
    used = (await client.get("/api/v1/t/320102/reports/work-report/template", headers=xw)).json()
    assert used["source"] == "inherited" and used["tenant_code"] == "320100"
    county = await client.get("/api/v1/t/320102/reports/work-report.docx", headers=xw)
    paragraphs = [p.text for p in Document(io.BytesIO(county.content)).paragraphs]
    assert paragraphs[0] == "中共玄武区委员会老干部局" and paragraphs[1] == f"{TODAY.year}年工作情况"
    assert "{{正文}}" not in "".join(paragraphs) and paragraphs[-1].startswith("落款日期：")
    assert any("组织生活" in p for p in paragraphs[2:-1])  # the body sits where {{正文}} stood
    assert (await client.delete("/api/v1/t/320100/reports/work-report/template", headers=nj)).json() == {"removed": 1}
    assert (await client.get("/api/v1/t/320102/reports/work-report/template", headers=xw)).json()[
        "source"
    ] == "built_in"


def test_the_catalogue_lists_every_metric_once_with_its_rule(pg_platform: Platform) -> None:
    entries = catalogue(pg_platform.plugins)
    ids = [e.spec.id for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        spec = entry.spec
        assert spec.label_zh and spec.label_en and spec.unit_zh
        assert spec.id.startswith(f"{entry.source}.") or entry.source == "core"
        if spec.aggregation is Aggregation.RATE:
            assert spec.numerator in ids and spec.denominator in ids, spec.id


async def test_members_moved_by_the_orm_keep_the_stock_right(world: dict[str, Any], pg_platform: Platform) -> None:
    """A write path that is not the API (a script, the import) still keeps the aggregates: the flush listener."""
    ids = world["ids"]
    async with pg_platform.database.session(TenantScope.of([ids["320105"]], [ids["320105"]])) as session:
        from core.orgs.models import Organization

        branch = Organization(tenant_id=ids["320105"], name="建邺支部", level="branch", kind="community")
        session.add(branch)
        await session.flush()
        people = [
            Member(
                tenant_id=ids["320105"],
                name=f"建{i}",
                gender="male",
                birth_date=datetime.date(1950, 1, 1),
                formal_org_id=branch.id,
            )
            for i in range(4)
        ]
        session.add_all(people)
        await session.flush()
        people[0].status = "deceased"
        await session.flush()
    await assert_aggregates_match_the_recount(pg_platform)


async def test_the_dashboard_shows_the_chosen_periods_figures_per_child_with_drill_down(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xw = await token(client, "xw-admin")
    ids = await make_county(client, xw)
    await meeting(
        client, xw, "320102", ids["a"], {ids["王"]: "present", ids["李"]: "present"}, held_on=LAST_YEAR.isoformat()
    )
    nj = {**(await token(client, "nj-admin")), "accept": "text/html"}
    page = await client.get("/t/320100/", headers=nj, params={"period": str(LAST_YEAR.year)})
    assert page.status_code == 200
    html = page.text
    assert f"{LAST_YEAR.year}年" in html and f'href="/t/320102/?period={LAST_YEAR.year}"' in html
    row = re.search(r'<a href="/t/320102/\?period=\d+">玄武区</a></td>(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    # Last year: the meeting and its two attendances; no members or branches yet (stocks count from when entered).
    assert cells[:4] == ["0", "0", "1", "2"]
    assert f"/api/v1/t/320100/reports/work-report.docx?period={LAST_YEAR.year}" in html
    this_year = (await client.get("/t/320100/", headers=nj)).text
    row = re.search(r'<a href="/t/320102/\?period=\d+">玄武区</a></td>(.*?)</tr>', this_year, re.S)
    assert row is not None and re.findall(r'<td class="num">([^<]*)</td>', row.group(1))[:4] == ["5", "2", "0", "0"]
    wrong = await client.get("/t/320100/", headers=nj, params={"custom": "2026-13..2026-02"})
    assert wrong.status_code == 200 and 'role="alert"' in wrong.text and "无法识别" in wrong.text
    member = {**(await token(client, "xw-member")), "accept": "text/html"}
    assert "reports/rollup.xlsx" not in (await client.get("/t/320102/", headers=member)).text


def test_a_programme_paragraph_names_only_the_breakdowns_that_are_not_zero() -> None:
    from core.reports.rollup import Rollup, Unit
    from core.reports.work_report import Programme, programme_paragraph
    from core.tenancy.tree import TenantLevel, TenantNode

    specs = [
        MetricSpec("tp.experts", "在库专家", "Experts", "人", "", Aggregation.LEVEL),
        MetricSpec("tp.services", "专家服务", "Services", "次", ""),
        MetricSpec("tp.experts.education", "教育领域专家", "Education", "人", "", Aggregation.LEVEL),
        MetricSpec("tp.experts.law", "法律领域专家", "Law", "人", "", Aggregation.LEVEL),
        MetricSpec("tp.experts.other", "其他领域专家", "Other", "人", "", Aggregation.LEVEL),
        MetricSpec("tp.rate", "满足率", "Rate", "", "", Aggregation.RATE, "tp.services", "tp.experts"),
        MetricSpec("tp.rate.law", "法律满足率", "Law rate", "", "", Aggregation.RATE, "tp.services", "tp.experts"),
    ]
    node = TenantNode(1, "320100", "南京市", TenantLevel("city"), None, "/1/", True)
    values = {"tp.experts": 7, "tp.services": 12, "tp.experts.education": 5, "tp.experts.law": 0,
              "tp.experts.other": 2, "tp.rate": 0.5, "tp.rate.law": 0.25}  # fmt: skip
    period = ReportPeriod.parse("2026")
    result = Rollup(node, period, period.previous(), specs, Unit(node, values, {"tp.services": 10}), [])
    text = programme_paragraph(result, Programme("银发人才库", specs))
    assert text == (
        "2026年，在库专家7人（其中教育领域专家5人、其他领域专家2人），专家服务12次（较上期增长20.0%），满足率50.0%。"
    )
