"""Demo data: realistic, only in counties, idempotent, and counted in the aggregates like any write."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

import plugins.education as education
from core.db.scope import TenantScope
from core.platform import Platform
from core.plugin_host import PluginContext
from plugins.education.models import Activity, Counsellor, Pairing, Station
from tests.plugins.education.helpers import NANJING, XUANWU, assert_aggregates_match_recount, make_member


async def test_demo_data_is_idempotent_and_counted(pg_platform: Platform, world: dict[str, Any]) -> None:
    tree = world["tree"]
    tenant_id = world["ids"][XUANWU]
    for name in ("王建国", "李德明", "陈桂兰"):
        await make_member(pg_platform, tenant_id, name)
    settings = {"allow_volunteers": True, "pairing_enabled": True, "max_pairing_months": 24}
    for code in (XUANWU, XUANWU, NANJING):
        async with pg_platform.database.session(TenantScope.system()) as session:
            context = PluginContext("education", tree.get(code), tree, session, settings)
            await education.demo_data(context=context)

    async with pg_platform.database.session(TenantScope.system()) as session:

        async def count(model: Any) -> int:
            return int((await session.execute(select(func.count()).select_from(model))).scalar_one())

        assert await count(Station) == 3  # once, and none at the city
        assert await count(Counsellor) == 4  # three members and one volunteer
        assert await count(Activity) == 8 and await count(Pairing) == 1
        students = (await session.execute(select(func.sum(Activity.students)))).scalar_one()
        assert students == 965
    sums, distinct = await assert_aggregates_match_recount(pg_platform, XUANWU, tenant_id)
    assert distinct  # the counsellors of the season are counted once per period
    assert sum(v for (m, _), v in sums.items() if m == "education.stations") == 3
    assert sum(v for (m, _), v in sums.items() if m == "education.students_reached") == 965
