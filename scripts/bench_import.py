"""Benchmark of the member Excel import (and export): ``uv run python scripts/bench_import.py [--rows N] [--sqlite]``.

Generates a valid ledger of N rows (default 10,000) with ``core.orgs.idcard.make``, then imports it the way
``POST …/members/imports`` does (one transaction, every row validated, ORM batches of 1,000 with the audit
trail) into a scratch database, and prints rows/s, total seconds and the process's peak memory; also the cost
of the per-row cryptography (Fernet for ID number and phone, the HMAC blind index) and of a masked export.

Database: by default a scratch PostgreSQL database on the services of ``.services/env`` (created, migrated
by the owner role, used through the application role with row-level security, then dropped);
``--sqlite`` uses a temporary SQLite file instead (the embedded mode). Not a test: nothing is asserted
beyond the row count.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import io
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.audit.recorder import AuditContext  # noqa: E402
from core.db.scope import TenantScope  # noqa: E402
from core.orgs import idcard  # noqa: E402
from core.orgs.importing import export as exporting  # noqa: E402
from core.orgs.importing.columns import MEMBER_COLUMN_BY_KEY, MEMBER_COLUMNS  # noqa: E402
from core.orgs.importing.jobs import MemberImports, Upload  # noqa: E402
from core.orgs.importing.sheets import read_sheet  # noqa: E402
from core.orgs.models import Member, Organization, OrgLevel  # noqa: E402
from core.orgs.service import search_query  # noqa: E402
from core.privacy.crypto import KeyRing  # noqa: E402
from core.settings import Settings  # noqa: E402

TENANT = "320102"
BRANCHES = 20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def load_services_env() -> None:
    env_file = Path(os.environ.get("YINLING_SERVICES_DIR", REPO / ".services")) / "env"
    if not env_file.is_file():
        sys.exit(f"{env_file} not found: start the services (bash scripts/services.sh up) or pass --sqlite")
    for line in env_file.read_text().splitlines():
        line = line.strip().removeprefix("export ").strip()
        if "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key, value.strip().strip("'\""))


def ledger(rows: int) -> bytes:
    """A valid file of ``rows`` people in the template's layout, spread over the benchmark's branches."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("党员名册")
    sheet.append([c.header for c in MEMBER_COLUMNS])
    keys = [c.key for c in MEMBER_COLUMNS]
    for i in range(rows):
        birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=(i // 100) * 3)
        gender = "male" if i % 2 else "female"
        values = {
            "name": f"测试{i:05d}",
            "gender": "男" if gender == "male" else "女",
            "birth_date": birth,
            "id_number": idcard.make(TENANT, birth, i % 100, gender),
            "phone": f"13{i:09d}",
            "retirement_type": "离休" if i % 7 == 0 else "退休",
            "retired_on": datetime.date(birth.year + 60, 6, 30),
            "former_unit": f"第{i % 40}机关",
            "former_rank": "正处级",
            "is_party_member": "是",
            "party_joined_on": datetime.date(birth.year + 22, 7, 1),
            "health_class": ("正常活动", "适当参加活动", "不能参加活动")[i % 3],
            "specialties": "书法、法律" if i % 5 == 0 else "",
            "residence_community": f"第{i % 60}社区",
            "branch": f"第{i % BRANCHES:02d}支部",
            "notes": "",
        }
        sheet.append([values[k] for k in keys])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def crypto_costs(count: int = 10_000) -> dict[str, float]:
    keys = KeyRing("bench-pii-key", "bench-secret-key-0123456789012345678901")
    numbers = [idcard.make(TENANT, datetime.date(1940, 1, 1), i % 100, "male") for i in range(count)]
    out = {}
    start = time.perf_counter()
    tokens = [keys.encrypt(n) for n in numbers]
    out["fernet encrypt"] = (time.perf_counter() - start) / count * 1e6
    start = time.perf_counter()
    for token in tokens:
        keys.decrypt(token)
    out["fernet decrypt"] = (time.perf_counter() - start) / count * 1e6
    start = time.perf_counter()
    for n in numbers:
        keys.blind_index(n)
    out["blind index (HMAC-SHA256)"] = (time.perf_counter() - start) / count * 1e6
    start = time.perf_counter()
    for n in numbers:
        idcard.parse(n)
    out["ID checksum"] = (time.perf_counter() - start) / count * 1e6
    return out


async def prepare(settings: Settings) -> Any:
    from core.db.migrate import installed_plugin_dirs, upgrade
    from core.demo import demo_manifest_path
    from core.platform import Platform
    from core.tenancy.manifest import apply_manifest, load_manifest
    from core.tenancy.tree import load_tree

    await asyncio.to_thread(upgrade, settings, "heads", installed_plugin_dirs())
    platform = Platform.from_settings(settings)
    async with platform.database.session(TenantScope.system()) as session:
        await apply_manifest(session, load_manifest(demo_manifest_path()))
        tenant = (await load_tree(session)).get(TENANT)
        committee = Organization(tenant_id=tenant.id, name="老干部党委", level=OrgLevel.COMMITTEE.value)
        session.add(committee)
        await session.flush()
        for b in range(BRANCHES):
            session.add(
                Organization(
                    tenant_id=tenant.id,
                    name=f"第{b:02d}支部",
                    level=OrgLevel.BRANCH.value,
                    kind="community",
                    parent_id=committee.id,
                )
            )
    return platform, tenant


async def bench(settings: Settings, rows: int, label: str) -> None:
    print(f"database: {label}")
    costs = crypto_costs()
    print("per-row cryptography (µs per call, this machine):")
    for name, micros in costs.items():
        print(f"  {name:<28} {micros:7.1f}")

    start = time.perf_counter()
    data = ledger(rows)
    print(f"generated {rows} rows: {len(data) / 1024:.0f} KiB in {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    sheet = read_sheet(data, MEMBER_COLUMNS, max_rows=max(rows, 50_000))
    parse_seconds = time.perf_counter() - start
    assert len(sheet.rows) == rows and MEMBER_COLUMN_BY_KEY["branch"].key in sheet.index

    platform, tenant = await prepare(settings)
    try:
        rss_before = peak_mb()
        imports = MemberImports(platform)
        start = time.perf_counter()
        outcome = await imports.submit(
            tenant_id=tenant.id,
            tenant_code=tenant.code,
            audit=AuditContext.system("bench"),
            upload=Upload(data, "bench.xlsx"),
            background=False,
        )
        seconds = time.perf_counter() - start
        job = outcome.job
        if job.status != "done":
            sys.exit(f"import failed: {job.message} {job.errors[:5]}")
        async with platform.database.session(TenantScope.of([tenant.id])) as session:
            count = (await session.execute(select(func.count()).select_from(Member))).scalar_one()
        print(f"imported {job.created_count} rows ({count} in the ledger), job {job.id}")
        phases = job.summary.get("seconds", {})
        print(f"  reading the workbook (openpyxl) {phases.get('read', parse_seconds):6.2f} s")
        print(f"  validating every row            {phases.get('validate', 0):6.2f} s")
        print(f"  writing (ORM batches + audit)   {phases.get('write', 0):6.2f} s")
        print(f"  total (upload to committed)     {seconds:6.2f} s")
        print(f"  throughput                      {rows / seconds:6.0f} rows/s")
        print(f"  peak memory (process RSS)       {peak_mb():6.0f} MiB (before the import: {rss_before:.0f} MiB)")

        scope = TenantScope.of([tenant.id], [tenant.id])
        async with platform.database.session(scope, AuditContext.system("bench")) as session:
            from core.tenancy.tree import load_tree

            tree = await load_tree(session)
            query = search_query(
                q=None,
                org_id=None,
                health_class=None,
                specialty=None,
                age_min=None,
                age_max=None,
                status="active",
                today=datetime.date.today(),
            )
            start = time.perf_counter()
            exported, written = await exporting.export_members(session, tenant, tree, query, {}, datetime.date.today())
            export_seconds = time.perf_counter() - start
        print(f"exported {written} rows (masked): {len(exported) / 1024:.0f} KiB in {export_seconds:.2f} s")
        print(f"  peak memory (process RSS)       {peak_mb():6.0f} MiB")
    finally:
        await platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yinling-bench-") as scratch:
        data_dir = Path(scratch)
        if args.sqlite:
            settings = Settings(env="test", data_dir=data_dir)
            asyncio.run(bench(settings, args.rows, f"SQLite {settings.effective_database_url}"))
            return
        load_services_env()
        import asyncpg

        admin_dsn = os.environ["YINLING_TEST_PG_ADMIN_DSN"]
        name = f"yinling_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect(admin_dsn)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        def url(variable: str) -> str:
            return os.environ[variable].rsplit("/", 1)[0] + f"/{name}"

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        try:
            settings = Settings(
                env="test",
                data_dir=data_dir,
                database_url=url("YINLING_TEST_PG_APP_URL"),
                database_migration_url=url("YINLING_TEST_PG_OWNER_URL"),
                db_app_role="yinling_app",
            )
            asyncio.run(bench(settings, args.rows, f"PostgreSQL (scratch database {name}, app role, RLS on)"))
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
