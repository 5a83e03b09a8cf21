"""Regression for the core change this plugin needed: a distinct-count fact recorded from a county's session
upserts rows at the county's ancestors; on PostgreSQL the upsert must see those rows (RLS read policy)."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import select

from core.db.scope import TenantScope
from core.platform import Platform
from core.reports.facts import Fact, record, retract
from core.reports.models import ReportDistinct


async def test_distinct_facts_from_a_county_scope_reach_its_ancestors(
    pg_platform: Platform, world: dict[str, Any]
) -> None:
    county, city, province = (world["ids"][code] for code in ("320102", "320100", "320000"))
    day = datetime.date(2026, 5, 4)
    for subject in ("a", "b", "a"):  # the third names a subject already counted: conflicting upserts everywhere
        async with pg_platform.database.session(TenantScope.of([county], [county])) as session:
            await record(session, county, Fact("education.test_distinct", day, subject=subject))
    async with pg_platform.database.session(TenantScope.of([county], [county])) as session:
        await retract(session, county, Fact("education.test_distinct", day, subject="b"))
    async with pg_platform.database.session(TenantScope.system()) as session:
        rows = (
            await session.execute(
                select(ReportDistinct.tenant_id, ReportDistinct.value).where(
                    ReportDistinct.metric == "education.test_distinct", ReportDistinct.period == "M2026-05"
                )
            )
        ).all()
    assert sorted(rows) == sorted([(county, 1), (city, 1), (province, 1)])
