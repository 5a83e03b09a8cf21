"""Experts by field as report metrics: each tenant's fields map to the province-wide classification, one
``LEVEL`` metric per category (``talent_pool.experts.<code>``) rolls up the tree like any other figure.

A city's figure per category is the sum of its counties'; changing an expert's fields moves them; retiring
removes them; a remap of ``field_categories`` moves nobody until it is applied (``/categories/reclassify``);
stocks are dated the day they change, so last month's figure stays what it was; the aggregates equal the
recount and survive ``yinling reports rebuild``; a city never sees another city's figures.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import insert, select

from core.db.engine import create_engine
from core.db.migrate import downgrade, upgrade
from core.db.scope import TenantScope
from core.orgs.demo import seed_ledger_demo
from core.orgs.models import Member
from core.platform import Platform
from core.plugin_host import PluginContext
from core.reports.models import ReportSum
from core.reports.recount import rebuild
from core.settings import Settings
from core.tenancy.models import Tenant
from plugins.talent_pool import demo_data, register_metrics
from plugins.talent_pool.categories import CATEGORIES, category_of
from plugins.talent_pool.models import ExpertCategory, Profile
from plugins.talent_pool.schemas import DEFAULT_FIELDS, TalentPoolSettings
from tests.conftest import migration_dirs_for_tests
from tests.plugins.talent_pool.helpers import (
    DANYANG,
    JIANGSU,
    NANJING,
    QINHUAI,
    TODAY,
    XUANWU,
    ZHENJIANG,
    admitted_expert,
    set_settings,
    url,
)
from tests.plugins.talent_pool.test_metrics import aggregates, recount
from tests.test_reports import assert_aggregates_match_the_recount

CODES = [c.code for c in CATEGORIES]
METRICS = ",".join(f"talent_pool.experts.{c}" for c in CODES)


async def by_category(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, period: str | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The roll-up of ``code`` per category: (the subtree's total, each child's), zero categories left out."""
    params = {"metrics": METRICS, **({"period": period} if period else {})}
    response = await client.get(f"/api/v1/t/{code}/reports/rollup", headers=headers, params=params)
    assert response.status_code == 200, response.text

    def short(values: dict[str, Any]) -> dict[str, Any]:
        return {k.removeprefix("talent_pool.experts."): v for k, v in values.items() if v}

    body = response.json()
    return short(body["total"]["values"]), {c["tenant_code"]: short(c["values"]) for c in body["children"]}


def test_the_classification_is_declared_once_for_every_tenant() -> None:
    declared = {m.id: m for m in register_metrics()}
    for category in CATEGORIES:
        spec = declared[f"talent_pool.experts.{category.code}"]
        assert spec.aggregation == "level" and spec.label_zh == f"{category.title_zh}领域专家"
    # The dashboard's headline figures of the programme stay its first three.
    assert [m.id for m in register_metrics()][:3] == [
        "talent_pool.experts",
        "talent_pool.demands_posted",
        "talent_pool.demands_met",
    ]
    # The seeded fields are the categories but 其他; other words go to 其他 unless the tenant maps them.
    assert [category_of(f, {}) for f in DEFAULT_FIELDS] == CODES[:-1]
    assert category_of("水利", {}) == "other" and category_of("水利", {"水利": "engineering"}) == "engineering"
    settings = TalentPoolSettings.model_validate({"field_categories": {" 水利 ": "工程建设", "非遗": "culture"}})
    assert settings.field_categories == {"水利": "engineering", "非遗": "culture"}


async def test_city_rolls_up_its_counties_per_category_fields_move_and_retirement_removes(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw, qh, dy, nj = officers["xw"], officers["qh"], officers["dy"], officers["nj"]
    # 秦淮 adds two fields of its own: 水利 it files under 工程建设, 非遗传承 it leaves unfiled (其他).
    await set_settings(
        client, qh, QINHUAI, fields=[*DEFAULT_FIELDS, "水利", "非遗传承"], field_categories={"水利": "工程建设"}
    )
    a = await admitted_expert(client, pg_platform, world, xw, XUANWU, "甲", ["农业", "科技"], ["果树"])
    b = await admitted_expert(client, pg_platform, world, xw, XUANWU, "乙", ["教育", "党建宣传"], ["辅导"])
    await admitted_expert(client, pg_platform, world, qh, QINHUAI, "丙", ["农业"], ["病虫害防治"])
    await admitted_expert(client, pg_platform, world, qh, QINHUAI, "丁", ["水利", "工程建设"], ["堤防"])
    await admitted_expert(client, pg_platform, world, qh, QINHUAI, "戊", ["非遗传承"], ["剪纸"])
    await admitted_expert(client, pg_platform, world, dy, DANYANG, "己", ["农业"], ["茶叶"])  # another city

    total, counties = await by_category(client, nj, NANJING)
    assert counties == {
        XUANWU: {"agriculture": 1, "technology": 1, "education": 1, "party_building": 1},
        QINHUAI: {"agriculture": 1, "engineering": 1, "other": 1},  # 丁's two fields are one category
        "320105": {},
    }
    assert total == {
        "agriculture": 2,
        "technology": 1,
        "education": 1,
        "party_building": 1,
        "engineering": 1,
        "other": 1,
    }
    # The row count of the pages agrees with the aggregates.
    stats = (await client.get(url(NANJING, "/stats"), headers=nj)).json()
    assert {k: v for k, v in stats["experts_by_category"].items() if v} == total
    assert list(stats["experts_by_category"]) == CODES
    # The overview page lists every category of the classification, in either language.
    page = await client.get(f"/t/{NANJING}/talent_pool/", headers=nj)
    assert page.status_code == 200 and "各专业分类专家" in page.text and "工程建设" in page.text
    english = await client.get(f"/t/{NANJING}/talent_pool/?lang=en", headers=nj)
    assert "Experts by category" in english.text and "Engineering and construction" in english.text
    # The province sees both cities; 镇江 only its own.
    assert (await by_category(client, officers["js"], JIANGSU))[0]["agriculture"] == 3
    zj_total, zj_counties = await by_category(client, officers["zj"], ZHENJIANG)
    assert zj_total == {"agriculture": 1} and zj_counties[DANYANG] == {"agriculture": 1}

    # 甲 turns to law: out of 农业 and 科技, into 法律. 乙 retires: out of both.
    changed = await client.patch(url(XUANWU, f"/profiles/{a['id']}"), headers=xw, json={"fields": ["法律"]})
    assert changed.status_code == 200, changed.text
    retired = await client.post(url(XUANWU, f"/profiles/{b['id']}/review"), headers=xw, json={"decision": "retire"})
    assert retired.status_code == 200, retired.text
    # Editing something else moves nobody.
    same = await client.patch(url(XUANWU, f"/profiles/{a['id']}"), headers=xw, json={"title": "律师"})
    assert same.status_code == 200
    total, counties = await by_category(client, nj, NANJING)
    assert counties[XUANWU] == {"law": 1}
    assert total == {"agriculture": 1, "law": 1, "engineering": 1, "other": 1}
    assert total == {k: v for k, v in (await client.get(url(NANJING, "/stats"), headers=nj)).json()[
        "experts_by_category"
    ].items() if v}  # fmt: skip

    # The aggregates are the recount, for every tenant, month by month; a rebuild gives the same figures.
    for code in (XUANWU, QINHUAI, DANYANG):
        assert await aggregates(pg_platform, world["ids"][code]) == await recount(pg_platform, world, code)
    await assert_aggregates_match_the_recount(pg_platform)
    await rebuild(pg_platform)
    assert await by_category(client, nj, NANJING) == (total, counties)
    await assert_aggregates_match_the_recount(pg_platform)

    # In the Excel roll-up too, a column per category with the city's total.
    sheet = await client.get(f"/api/v1/t/{NANJING}/reports/rollup.xlsx", headers=nj, params={"metrics": METRICS})
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content)).active
    assert book is not None
    rows = list(book.iter_rows(values_only=True))
    header = rows[2]
    assert header[1 + 2 * CODES.index("law")] == "法律领域专家（人）"
    last = next(r for r in rows if r[0] and str(r[0]).startswith("合计"))
    assert last[1 + 2 * CODES.index("agriculture")] == 1 and last[1 + 2 * CODES.index("technology")] == 0

    # Another city's figures: neither the roll-up nor the pool's stats of 镇江 are 南京's to read.
    assert (await client.get(f"/api/v1/t/{ZHENJIANG}/reports/rollup", headers=nj)).status_code == 403
    assert (await client.get(url(ZHENJIANG, "/stats"), headers=nj)).status_code == 403
    assert (await client.get(url(QINHUAI, "/stats"), headers=xw)).status_code == 403
    # A county's own roll-up is its own experts only.
    assert (await by_category(client, xw, XUANWU))[0] == {"law": 1}


async def test_a_remap_moves_experts_only_when_applied_each_by_its_own_tenants_mapping(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    xw, qh, nj = officers["xw"], officers["qh"], officers["nj"]
    await set_settings(client, nj, NANJING, fields=[*DEFAULT_FIELDS, "水利"])
    await admitted_expert(client, pg_platform, world, xw, XUANWU, "甲", ["水利"], ["灌溉"])
    await admitted_expert(client, pg_platform, world, qh, QINHUAI, "乙", ["水利", "农业"], ["堤防"])
    assert (await by_category(client, nj, NANJING))[0] == {"agriculture": 1, "other": 2}

    # The city files 水利 under 工程建设, 玄武 under 农业 (its own setting wins there).
    await set_settings(client, nj, NANJING, field_categories={"水利": "engineering"})
    await set_settings(client, xw, XUANWU, field_categories={"水利": "农业"})
    shown = (await client.get(url(XUANWU, "/categories"), headers=xw)).json()
    assert {"field": "水利", "category": "agriculture"} in shown["fields"]
    assert [c["code"] for c in shown["categories"]] == CODES
    assert shown["categories"][0]["metric"] == "talent_pool.experts.education"
    # Nothing moved yet: reported figures do not change behind anyone's back.
    assert (await by_category(client, nj, NANJING))[0] == {"agriculture": 1, "other": 2}

    applied = await client.post(url(NANJING, "/categories/reclassify"), headers=nj)
    assert applied.status_code == 200, applied.text
    assert applied.json() == {"checked": 2, "moved": 2}
    total, counties = await by_category(client, nj, NANJING)
    assert counties[XUANWU] == {"agriculture": 1}
    assert counties[QINHUAI] == {"agriculture": 1, "engineering": 1}
    assert total == {"agriculture": 2, "engineering": 1}
    again = await client.post(url(NANJING, "/categories/reclassify"), headers=nj)
    assert again.json() == {"checked": 2, "moved": 0}
    # A county applies its own subtree only.
    assert (await client.post(url(XUANWU, "/categories/reclassify"), headers=xw)).json()["checked"] == 1
    for code in (XUANWU, QINHUAI):
        assert await aggregates(pg_platform, world["ids"][code]) == await recount(pg_platform, world, code)

    # An unknown category is refused, naming the choices; another county's officer may not reclassify here.
    bad = await client.put(
        f"/api/v1/t/{XUANWU}/plugins/talent_pool/settings",
        headers=xw,
        json={"values": {"field_categories": {"水利": "水产"}}},
    )
    assert bad.status_code == 422 and "不是全省统一的专业分类" in bad.text and "工程建设（engineering）" in bad.text
    stranger = await client.post(url(XUANWU, "/categories/reclassify"), headers=officers["dy"])
    assert stranger.status_code == 403


async def test_stocks_are_dated_the_day_they_change_so_past_months_keep_their_figures(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], officers: dict[str, Any]
) -> None:
    """The demo's experts were admitted 300 days ago; moving one today leaves the past months as they were."""
    tree, xw_id, xw = world["tree"], world["ids"][XUANWU], officers["xw"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        await seed_ledger_demo(session, tree)
    async with pg_platform.database.session(TenantScope.of(read=[xw_id], write=[xw_id])) as session:
        await demo_data(context=PluginContext("talent_pool", tree.get(XUANWU), tree, session, {}))
    admitted = TODAY - datetime.timedelta(days=300)
    then = f"{admitted.year}-{admitted.month:02d}"
    before = {"agriculture": 2, "medicine": 1, "education": 1, "economics": 1, "law": 1, "technology": 1}
    assert (await by_category(client, xw, XUANWU))[0] == before
    assert (await by_category(client, xw, XUANWU, then))[0] == before

    async with pg_platform.database.session(TenantScope.of(read=[xw_id])) as session:
        profiles = (await session.execute(select(Profile).order_by(Profile.created_at))).scalars().all()
    doctor = next(p for p in profiles if p.fields == ["医疗卫生"])
    both = next(p for p in profiles if p.fields == ["科技", "农业"])
    moved = await client.patch(url(XUANWU, f"/profiles/{doctor.id}"), headers=xw, json={"fields": ["体育健康"]})
    assert moved.status_code == 200, moved.text
    gone = await client.post(url(XUANWU, f"/profiles/{both.id}/review"), headers=xw, json={"decision": "retire"})
    assert gone.status_code == 200, gone.text

    now = {"agriculture": 1, "sports_health": 1, "education": 1, "economics": 1, "law": 1}
    assert (await by_category(client, xw, XUANWU))[0] == now
    assert (await by_category(client, xw, XUANWU, then))[0] == before  # that month's end is unchanged
    async with pg_platform.database.session(TenantScope.of(read=[xw_id])) as session:
        closed = (
            await session.execute(
                select(ExpertCategory.category, ExpertCategory.from_on, ExpertCategory.to_on).where(
                    ExpertCategory.to_on.is_not(None)
                )
            )
        ).all()
    assert sorted(closed) == sorted(
        [("medicine", admitted, TODAY), ("agriculture", admitted, TODAY), ("technology", admitted, TODAY)]
    )
    # Month by month the aggregates are the recount, and a rebuild keeps the history.
    assert await aggregates(pg_platform, xw_id) == await recount(pg_platform, world, XUANWU)
    await rebuild(pg_platform)
    assert (await by_category(client, xw, XUANWU, then))[0] == before
    assert (await by_category(client, xw, XUANWU))[0] == now


async def test_the_migration_counts_the_experts_admitted_before_it(tmp_path: Path) -> None:
    """Upgrading a database whose pool already has experts gives them their spans and their figures (SQLite)."""
    settings = Settings(data_dir=tmp_path)
    dirs = migration_dirs_for_tests()
    await asyncio.to_thread(upgrade, settings, "0001_talent_pool", dirs)
    engine = create_engine(settings.effective_migration_url)
    admitted_on = datetime.date(2025, 3, 14)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Tenant.__table__).values(id=1, code="320102", name="玄武区", level="county", path="/1/")
            )
            for status, fields in (
                ("admitted", ["农业", "科技"]),
                ("admitted", ["水利", "非遗"]),
                ("pending", ["教育"]),
                ("retired", ["法律"]),
            ):
                member_id = uuid.uuid4()
                await conn.execute(
                    insert(Member.__table__).values(
                        tenant_id=1, id=member_id, name="老专家", gender="male", birth_date=datetime.date(1958, 1, 1)
                    )
                )
                await conn.execute(
                    insert(Profile.__table__).values(
                        tenant_id=1,
                        member_id=member_id,
                        fields=fields,
                        status=status,
                        admitted_on=None if status == "pending" else admitted_on,
                        created_by="test",
                    )
                )
        await asyncio.to_thread(upgrade, settings, "heads", dirs)
        async with engine.connect() as conn:
            spans = (
                await conn.execute(
                    select(ExpertCategory.category, ExpertCategory.from_on, ExpertCategory.to_on).order_by(
                        ExpertCategory.category
                    )
                )
            ).all()
            sums = {
                (metric, month): float(value)
                for metric, month, value in (
                    await conn.execute(select(ReportSum.metric, ReportSum.month, ReportSum.value))
                ).all()
            }
        assert [tuple(s) for s in spans] == [
            ("agriculture", admitted_on, None),
            ("other", admitted_on, None),  # 水利 and 非遗: one category, counted once
            ("technology", admitted_on, None),
        ]
        month = datetime.date(2025, 3, 1)
        assert sums == {
            ("talent_pool.experts.agriculture", month): 1,
            ("talent_pool.experts.other", month): 1,
            ("talent_pool.experts.technology", month): 1,
        }
        # Down again: the figures go with the table.
        await asyncio.to_thread(downgrade, settings, "0001_talent_pool", dirs)
        async with engine.connect() as conn:
            assert (await conn.execute(select(ReportSum.metric))).all() == []
    finally:
        await engine.dispose()
