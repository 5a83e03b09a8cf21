"""Smoke set on the embedded defaults (SQLite file, files on disk, in-process stores, local accounts):
what ``yinling demo`` gives on a bare machine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner

from core.cli import main
from core.demo import prepare_demo
from core.platform import Platform
from core.settings import Settings
from core.web.app import create_app
from tests.conftest import http_client
from tests.support import token
from tests.test_leakage import PNG

pytestmark = pytest.mark.embedded


async def test_demo_on_embedded_defaults_end_to_end(embedded_settings: Settings) -> None:
    logins = await asyncio.to_thread(prepare_demo, embedded_settings)
    assert {"admin", "js-admin", "xw-admin", "xw-secretary", "xw-member"} <= {login.username for login in logins}
    # Running the demo again keeps what is there.
    await asyncio.to_thread(prepare_demo, embedded_settings)
    platform = Platform.from_settings(embedded_settings)
    try:
        async with http_client(create_app(embedded_settings, platform=platform)) as client:
            ready = (await client.get("/ready")).json()
            assert {n: c.get("backend") for n, c in ready["checks"].items()} == {
                "database": "sqlite",
                "cache": "memory",
                "storage": "local",
                "identity": "local",
            }
            xuanwu = await token(client, "xw-admin")
            qinhuai = await token(client, "qh-admin")
            # The demo seeded a ledger in every county, once (the demo ran twice above).
            ledger = (await client.get("/api/v1/t/320102/members?page_size=1", headers=xuanwu)).json()
            assert ledger["total"] == 24 and ledger["items"][0]["id_number"].count("*") == 10
            # xw-member is linked to a record of that ledger (once, though the demo ran twice): 我的主页 works.
            member = (await client.get("/api/v1/auth/me", headers=await token(client, "xw-member"))).json()
            assert member["member_tenant_code"] == "320102"
            own = (await client.get(f"/api/v1/t/320102/members/{member['member_id']}", headers=xuanwu)).json()
            assert own["status"] == "active"
            branches = (await client.get("/api/v1/t/320102/orgs?level=branch", headers=xuanwu)).json()
            assert {b["kind"] for b in branches} == {"original_unit", "community", "society"}
            seats = (await client.get(f"/api/v1/t/320102/orgs/{branches[0]['id']}/committee", headers=xuanwu)).json()
            assert [s["position"] for s in seats][:1] == ["secretary"]
            uploaded = await client.post(
                "/api/v1/t/320102/files", headers=xuanwu, files={"file": ("合影.png", PNG, "image/png")}
            )
            assert uploaded.status_code == 201, uploaded.text
            link = uploaded.json()["download_url"]
            assert link.startswith("http://testserver.local/files/local/t/320102/")
            download = await client.get(link.removeprefix("http://testserver.local"))
            assert download.status_code == 200 and download.content == PNG
            tampered = await client.get(link.removeprefix("http://testserver.local").replace("sig=", "sig=0"))
            assert tampered.status_code == 404
            # The ORM's lock alone isolates tenants on SQLite.
            file_id = uploaded.json()["id"]
            assert (await client.get(f"/api/v1/t/320104/files/{file_id}", headers=qinhuai)).status_code == 404
            assert (await client.get("/api/v1/t/320104/files", headers=qinhuai)).json()["total"] == 0
            assert (await client.get("/api/v1/t/320102/files", headers=qinhuai)).status_code == 403
            audit = (await client.get("/api/v1/t/320102/audit", headers=xuanwu)).json()
            assert any(e["entity_type"] == "stored_file" and e["action"] == "create" for e in audit["items"])
    finally:
        await platform.close()


def test_cli_demo_prints_logins_and_users_create_bootstraps(embedded_settings: Settings, monkeypatch: Any) -> None:
    monkeypatch.setenv("YINLING_DATA_DIR", str(embedded_settings.data_dir))
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--no-serve", "--data-dir", str(embedded_settings.data_dir)])
    assert result.exit_code == 0, result.output
    assert "js-admin" in result.output and "yinling2026" in result.output and "http://127.0.0.1:8000" in result.output
    created = runner.invoke(
        main,
        [
            "users",
            "create",
            "--username",
            "gl-admin",
            "--password-stdin",
            "--tenant",
            "320100",
            "--role",
            "tenant_admin",
        ],
        input="Strong-pass-42\n",
    )
    assert created.exit_code == 0, created.output
    weak = runner.invoke(main, ["users", "create", "--username", "weak", "--password-stdin"], input="12345678\n")
    assert weak.exit_code == 2 and "user.weak_password" in weak.output
    unknown_role = runner.invoke(
        main,
        ["users", "create", "--username", "x1", "--password-stdin", "--tenant", "320100", "--role", "king"],
        input="Strong-pass-42\n",
    )
    assert unknown_role.exit_code == 2 and "user.unknown_role" in unknown_role.output


def test_production_refuses_embedded_defaults_and_demo_secrets(monkeypatch: Any) -> None:
    from core.web.app import ConfigurationError

    settings = Settings(env="production")
    problems = settings.production_problems()
    assert len(problems) == 6 and any("YINLING_SECRET_KEY" in p for p in problems)
    with pytest.raises(ConfigurationError, match="YINLING_DATABASE_URL"):
        create_app(settings)
    monkeypatch.setenv("YINLING_ENV", "production")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2 and "YINLING_REDIS_URL" in result.output


async def test_audit_trail_is_append_only_on_sqlite_too(embedded_settings: Settings) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from core.db.migrate import upgrade
    from core.db.scope import TenantScope

    await asyncio.to_thread(upgrade, embedded_settings, "heads", [])
    platform = Platform.from_settings(embedded_settings)
    try:
        async with platform.database.session(TenantScope.system()) as session:
            await session.execute(
                text(
                    "INSERT INTO audit_entry (id, at, actor_name, action, entity_type, entity_id) "
                    "VALUES (x'00', '2026-01-01', 'a', 'b', 'c', 'd')"
                )
            )
        for statement in ("UPDATE audit_entry SET action = 'forged'", "DELETE FROM audit_entry"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with platform.database.session(TenantScope.system()) as session:
                    await session.execute(text(statement))
    finally:
        await platform.close()
