"""Benchmark of the province roll-up and of keeping its aggregates current.

    uv run python scripts/bench_reports.py                 # a province: 13 cities, 104 counties, 530,000 members
    uv run python scripts/bench_reports.py --scale 0.1     # a tenth of it, for a quick look

Builds a scratch PostgreSQL database on the services of ``.services/env`` (created, migrated by the owner role,
dropped at the end unless ``--keep``), fills it with a year of one province's organisation life generated in
SQL — branches of ~25 members, ``--meetings`` meetings per branch and year, every member's attendance mark at
each (tens of millions of rows at full scale) — and the aggregates those rows imply (the same facts
``core.reports.core_facts`` records as the rows are written, summed in SQL instead of replayed one by one), plus
a distinct-count metric with a subject row per member and period at every level.

Then, through the application role with row-level security, it measures and prints:
- the province dashboard roll-up for a year (all core metrics, per city, with the previous year): p50/p95/max
  over ``--runs`` runs, and the same for a city, a county and a custom range of months;
- the cost of keeping aggregates current per write: ``core.reports.facts.record`` of one summed fact, of one
  distinct-count fact (subject rows at three levels, province, city and county, × month/quarter/year), and of a
  meeting's attendance diff, each inside its own transaction against the full tables.
Targets (issue #11): roll-up under 200 ms at p95; aggregate upkeep under 2 ms per write. Not a test: it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from core.db.scope import TenantScope  # noqa: E402
from core.orglife import metrics as m  # noqa: E402
from core.reports.core_facts import meeting_facts, record_change  # noqa: E402
from core.reports.facts import Fact, record  # noqa: E402
from core.reports.periods import ReportPeriod  # noqa: E402
from core.reports.rollup import rollup  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.tenancy.tree import load_tree  # noqa: E402

YEAR = datetime.date.today().year - 1
DISTINCT = "bench.members_attending"


def load_services_env() -> None:
    env_file = Path(os.environ.get("YINLING_SERVICES_DIR", REPO / ".services")) / "env"
    if not env_file.is_file():
        sys.exit(f"{env_file} not found: start the services (bash scripts/services.sh up)")
    for line in env_file.read_text().splitlines():
        line = line.strip().removeprefix("export ").strip()
        if "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key, value.strip().strip("'\""))


def with_db(url: str, name: str) -> str:
    return f"{url.rpartition('/')[0]}/{name}"


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def step(conn: asyncpg.Connection, label: str, sql: str, *args: object) -> None:
    start = time.perf_counter()
    status = await conn.execute(sql, *args)
    print(f"  {label:<44} {status:<22} {time.perf_counter() - start:7.1f} s", flush=True)


async def generate(owner_dsn: str, counties_per_city: int, members: int, meetings: int) -> None:
    """The province, its tree, ledger, organisation life and aggregates, in SQL (owner role, all tenants)."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        await conn.execute("SET yinling.all_tenants = 'on'")
        await conn.execute("SET synchronous_commit = off")
        counties = 13 * counties_per_city
        print(f"generating: 13 cities, {counties} counties, {members:,} members, {meetings} meetings/branch/year")
        await step(
            conn,
            "tenants",
            """
            INSERT INTO tenant (id, code, name, level, parent_id, path, is_active, settings, created_at, updated_at)
            SELECT 1, '320000', '江苏省', 'province', NULL, '/1/', true, '{}'::jsonb, now(), now()
            UNION ALL
            SELECT 1 + c, lpad((32 * 10000 + c * 100)::text, 6, '0'), '第' || c || '市', 'city', 1,
                   '/1/' || (1 + c) || '/', true, '{}'::jsonb, now(), now() FROM generate_series(1, 13) c
            UNION ALL
            SELECT 100 + (c - 1) * $1 + k, lpad((32 * 10000 + c * 100 + k)::text, 6, '0'),
                   '第' || c || '市第' || k || '县',
                   'county', 1 + c, '/1/' || (1 + c) || '/' || (100 + (c - 1) * $1 + k) || '/', true, '{}'::jsonb,
                   now(), now()
            FROM generate_series(1, 13) c, generate_series(1, $1) k
            """,
            counties_per_city,
        )
        per_county = members // counties
        branches_per_county = max(1, per_county // 25)
        await conn.execute(
            """
            CREATE TEMP TABLE bench_branch AS
            SELECT t.id AS tenant_id, b AS idx, gen_random_uuid() AS id
            FROM tenant t, generate_series(0, $1 - 1) b WHERE t.level = 'county'
            """,
            branches_per_county,
        )
        await step(
            conn,
            "organizations (branches)",
            """
            INSERT INTO organization (tenant_id, id, name, level, kind, address, is_active, created_at, updated_at)
            SELECT tenant_id, id, '第' || idx || '支部', 'branch',
                   (ARRAY['original_unit','community','association','joint'])[1 + idx % 4], '', true, now(), now()
            FROM bench_branch
            """,
        )
        await step(
            conn,
            "members",
            """
            INSERT INTO member (tenant_id, id, name, gender, birth_date, retirement_type, former_unit, former_rank,
                                is_party_member, health_class, specialties, specialties_text, residence_community,
                                formal_org_id, status, notes, extra, created_at, updated_at)
            SELECT b.tenant_id, gen_random_uuid(), '党员' || n, CASE WHEN n % 2 = 0 THEN 'male' ELSE 'female' END,
                   date '1940-01-01' + (n % 7000), 'retired', '', '', true,
                   (ARRAY['normal','limited','unable'])[1 + n % 3], '[]'::jsonb, '', '', b.id, 'active', '',
                   '{}'::jsonb, now(), now()
            FROM generate_series(0, $1 - 1) n
            JOIN bench_branch b ON b.tenant_id = 100 + 1 + (n % $2) AND b.idx = (n / $2) % $3
            """,
            per_county * counties,
            counties,
            branches_per_county,
        )
        await step(
            conn,
            "meetings",
            f"""
            INSERT INTO meeting (tenant_id, id, org_id, kind, title, held_on, duration_minutes, place, mode, topic,
                                 notes, lecturer, created_by, cancel_reason, created_at, updated_at)
            SELECT b.tenant_id, gen_random_uuid(), b.id,
                   CASE WHEN k % 4 = 0 THEN 'lecture' ELSE 'theme_day' END, '组织生活',
                   date '{YEAR}-01-01' + (k * 365 / $1), 90, '', 'offline', '', '',
                   CASE WHEN k % 4 = 0 THEN '宣讲团' ELSE '' END, 'bench', '', now(), now()
            FROM bench_branch b, generate_series(0, $1 - 1) k
            """,
            meetings,
        )
        await step(
            conn,
            "attendance marks",
            """
            INSERT INTO meeting_attendance (tenant_id, meeting_id, member_id, status, reason, auto, recorded_by,
                                            recorded_at)
            SELECT mt.tenant_id, mt.id, mb.id,
                   CASE WHEN mb.health_class = 'unable' THEN 'excused'
                        WHEN (hashtext(mb.id::text || mt.id::text) & 7) = 0 THEN 'absent' ELSE 'present' END,
                   '', false, 'bench', now()
            FROM meeting mt JOIN member mb ON mb.tenant_id = mt.tenant_id AND mb.formal_org_id = mt.org_id
            """,
        )
        print("aggregates (the facts the rows imply, summed in SQL):")
        await step(
            conn,
            "report_sum: organisation life",
            f"""
            INSERT INTO report_sum (tenant_id, metric, month, value)
            SELECT tenant_id, metric, month, sum(v) FROM (
              SELECT mt.tenant_id, date_trunc('month', mt.held_on)::date AS month,
                     unnest(ARRAY['{m.ACTIVITIES}','{m.ATTENDANCE}','{m.ATTENDANCE_EXPECTED}',
                                  '{m.LECTURES}','{m.LECTURE_AUDIENCE}']) AS metric,
                     unnest(ARRAY[1, a.present, a.expected,
                                  CASE WHEN mt.kind = 'lecture' THEN 1 ELSE 0 END,
                                  CASE WHEN mt.kind = 'lecture' THEN a.present ELSE 0 END]) AS v
              FROM meeting mt JOIN (
                SELECT tenant_id, meeting_id, count(*) FILTER (WHERE status = 'present') AS present,
                       count(*) FILTER (WHERE status IN ('present', 'absent')) AS expected
                FROM meeting_attendance GROUP BY tenant_id, meeting_id) a
                ON a.tenant_id = mt.tenant_id AND a.meeting_id = mt.id
            ) f WHERE v <> 0 GROUP BY tenant_id, metric, month
            """,
        )
        await step(
            conn,
            "report_sum: members and branches",
            f"""
            INSERT INTO report_sum (tenant_id, metric, month, value)
            SELECT tenant_id, '{m.MEMBERS}', date '{YEAR}-01-01', count(*) FROM member GROUP BY tenant_id
            UNION ALL
            SELECT tenant_id, '{m.BRANCHES}', date '{YEAR}-01-01', count(*) FROM organization GROUP BY tenant_id
            UNION ALL
            SELECT tenant_id, '{m.BRANCHES}.' || kind, date '{YEAR}-01-01', count(*) FROM organization
            GROUP BY tenant_id, kind
            UNION ALL
            SELECT tenant_id, '{m.SIX_HAVES_TOTAL}', date '{YEAR}-01-01', 6 * count(*) FROM organization
            GROUP BY tenant_id
            """,
        )
        await step(
            conn,
            "report_subject: a distinct metric, 3 levels",
            f"""
            INSERT INTO report_subject (tenant_id, metric, period, subject, n)
            SELECT lvl, '{DISTINCT}', p, mb.id::text, 1
            FROM member mb JOIN tenant t ON t.id = mb.tenant_id,
                 LATERAL unnest(string_to_array(trim(both '/' from t.path), '/')::int[]) lvl,
                 unnest(ARRAY['Y{YEAR}', 'Q{YEAR}-4']) p
            """,
        )
        await step(
            conn,
            "report_distinct: its counters",
            """
            INSERT INTO report_distinct (tenant_id, metric, period, value)
            SELECT tenant_id, metric, period, count(*) FROM report_subject GROUP BY tenant_id, metric, period
            """,
        )
        await step(conn, "analyze", "ANALYZE")
        rows = await conn.fetch(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
            "('member','meeting','meeting_attendance','report_sum','report_subject','report_distinct') ORDER BY 1"
        )
        print("rows: " + ", ".join(f"{r['relname']} {r['n_live_tup']:,}" for r in rows))
    finally:
        await conn.close()


def summary(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"  {label:<46} p50 {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   "
        f"max {ordered[-1] * 1000:7.2f} ms   (n={len(ordered)})"
    )


async def measure(settings: Settings, runs: int, writes: int) -> None:
    from core.platform import Platform
    from core.plugin_host.declarations import Aggregation, MetricSpec

    platform = Platform.from_settings(settings)
    try:
        async with platform.database.session(TenantScope.system()) as session:
            tree = await load_tree(session)
        province = tree.by_code["320000"]
        city = tree.by_code["320100"]
        county = tree.nodes[tree.children[city.id][0]]
        specs = [*m.core_metrics()]
        specs.append(
            MetricSpec(DISTINCT, "参加活动党员", "Members attending", "人", "members", Aggregation.DISTINCT_COUNT)
        )
        known = {s.id: s for s in specs}
        print(f"roll-up ({len(specs)} metrics, with the previous period; read through the app role and RLS):")
        for label, node, period in (
            (f"province {YEAR}, per city", province, ReportPeriod.parse(str(YEAR))),
            (f"province {YEAR}-Q4, per city", province, ReportPeriod.parse(f"{YEAR}-Q4")),
            (f"city {YEAR}, per county", city, ReportPeriod.parse(str(YEAR))),
            (f"county {YEAR}", county, ReportPeriod.parse(str(YEAR))),
            (f"province {YEAR}-02..{YEAR}-07 (custom)", province, ReportPeriod.parse(f"{YEAR}-02..{YEAR}-07")),
        ):
            scope = TenantScope.of(tree.subtree_ids(node.id))
            times = []
            for i in range(runs + 3):
                start = time.perf_counter()
                async with platform.database.session(scope) as session:
                    result = await rollup(session, tree, node, specs, period, known)
                if i >= 3:  # warm-up runs are not counted
                    times.append(time.perf_counter() - start)
            summary(label, times)
            if node is province and period.kind == "year":
                v = result.total.values
                print(
                    f"    → members {v[m.MEMBERS]:,.0f}, activities {v[m.ACTIVITIES]:,.0f}, attendance "
                    f"{v[m.ATTENDANCE]:,.0f} 人次, rate {v[m.ATTENDANCE_RATE]:.1%}, attending {v[DISTINCT]:,.0f}"
                )

        print(f"aggregate upkeep per write (time inside the writing transaction, {writes} writes each):")
        scope = TenantScope.of([county.id], [county.id])
        day = datetime.date(YEAR, 6, 15)

        async def timed(label: str, action: object) -> None:
            times = []
            for i in range(writes):
                async with platform.database.session(scope) as session:
                    await session.execute(text("SELECT 1"))  # the write's transaction is already open
                    start = time.perf_counter()
                    await action(session, i)  # type: ignore[operator]
                    times.append(time.perf_counter() - start)
            summary(label, times)

        await timed("summed fact (one attendance mark)", lambda s, i: record(s, county.id, Fact(m.ATTENDANCE, day)))
        await timed(
            "distinct fact (3 levels × Y/Q/M subject rows)",
            lambda s, i: record(s, county.id, Fact(DISTINCT, day, subject=str(uuid.UUID(int=i)))),
        )
        before = meeting_facts(day, "lecture", False, ["present"] * 20 + ["absent"] * 4)
        after = meeting_facts(day, "lecture", False, ["present"] * 21 + ["absent"] * 3)
        await timed("a meeting's attendance corrected (diff)", lambda s, i: record_change(s, county.id, before, after))
    finally:
        await platform.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of a province (members, counties)")
    parser.add_argument("--meetings", type=int, default=36, help="meetings per branch in the year")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    load_services_env()
    from core.db.migrate import installed_plugin_dirs, upgrade

    owner_url = os.environ["YINLING_TEST_PG_OWNER_URL"]
    app_url = os.environ["YINLING_TEST_PG_APP_URL"]
    admin_dsn = os.environ["YINLING_TEST_PG_ADMIN_DSN"]
    name = f"yinling_bench_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = Settings(
            database_url=with_db(app_url, name),
            database_migration_url=with_db(owner_url, name),
            db_app_role="yinling_app",
        )
        await asyncio.to_thread(upgrade, settings, "heads", installed_plugin_dirs())
        started = time.perf_counter()
        counties_per_city = max(1, round(8 * args.scale))
        await generate(
            asyncpg_dsn(with_db(owner_url, name)), counties_per_city, int(530_000 * args.scale), args.meetings
        )
        print(f"generated in {time.perf_counter() - started:.0f} s")
        await measure(settings, args.runs, args.writes)
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
