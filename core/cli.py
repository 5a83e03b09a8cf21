"""The ``yinling`` command: serve, migrate, apply tenant manifests, manage accounts, run the demo."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from core.errors import AppError
from core.settings import Settings

T = TypeVar("T")


def _run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_factory()

    return asyncio.run(main())


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="yinling")
def main() -> None:
    """银龄 Yinling: 离退休干部党建与服务平台 (party-building and services for retired cadres)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app and API with uvicorn."""
    import uvicorn

    settings = Settings()
    if settings.env == "production":
        problems = settings.production_problems()
        if problems:
            _fail("YINLING_ENV=production refuses to start:\n- " + "\n- ".join(problems))
    uvicorn.run(
        "core.web.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
        log_level=settings.log_level.lower(),
    )


@main.group()
def db() -> None:
    """Database migrations (core and every installed plugin)."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: every branch head)."""
    from core.db.migrate import upgrade

    settings = Settings()
    if not settings.is_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings, revision)
    click.echo(f"数据库已升级 / database upgraded ({revision})")


@db.command("heads")
def db_heads() -> None:
    """Print the head revision of every migration branch."""
    from core.db.migrate import heads

    for head in heads(Settings()):
        click.echo(head)


@main.group()
def tenants() -> None:
    """Tenant tree."""


async def apply_manifest_file(settings: Settings, path: Path) -> Any:
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.tenancy.manifest import apply_manifest, load_manifest

    manifest = load_manifest(path)
    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system()) as session:
            return await apply_manifest(session, manifest)
    finally:
        await database.dispose()


@tenants.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def tenants_apply(file: Path) -> None:
    """Create or update the tenant tree from a YAML manifest (idempotent, all or nothing)."""
    from core.tenancy.manifest import ManifestError

    try:
        report = _run(lambda: apply_manifest_file(Settings(), file))
    except ManifestError as exc:
        _fail(f"{exc.file}:{exc.line}: {exc.field}: {exc.reason}\n未做任何修改 / nothing was applied")
        return
    created, renamed, unchanged = len(report.created), len(report.renamed), len(report.unchanged)
    click.echo(f"新建 created {created}，更名 renamed {renamed}，未变 unchanged {unchanged}")


@main.group()
def users() -> None:
    """Accounts and role grants."""


async def create_account(
    settings: Settings,
    username: str,
    password: str,
    tenant: str | None,
    role: str | None,
    platform_admin: bool,
) -> None:
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.identity.accounts import create_user, grant_role
    from core.identity.roles import RoleRegistry
    from core.tenancy.tree import load_tree

    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system()) as session:
            user = await create_user(session, username=username, password=password, is_platform_admin=platform_admin)
            if tenant and role:
                tree = await load_tree(session)
                await grant_role(session, RoleRegistry(), tree, user=user, tenant_code=tenant, role=role, by="cli")
    finally:
        await database.dispose()


@users.command("create")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--tenant", help="division code of the tenant to grant the role in")
@click.option("--role", help="tenant_admin, branch_secretary, member, or a plugin's role")
@click.option("--platform-admin", is_flag=True, help="may act in every tenant")
def users_create(
    username: str, password_stdin: bool, tenant: str | None, role: str | None, platform_admin: bool
) -> None:
    """Create an account and (optionally) grant it a role in a tenant."""
    if not password_stdin:
        _fail("请用 --password-stdin 从标准输入提供密码 / pass the password on standard input with --password-stdin")
    if bool(tenant) != bool(role):
        _fail("--tenant 与 --role 需同时给出 / give --tenant and --role together")
    password = sys.stdin.readline().rstrip("\n")
    try:
        _run(lambda: create_account(Settings(), username, password, tenant, role, platform_admin))
    except AppError as exc:
        _fail(f"{exc.code}: {exc.message('zh')}")
    click.echo(f"已创建账号 {username} / account created")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="where the embedded data lives")
@click.option("--no-serve", is_flag=True, help="prepare the demo and exit (for tests and scripts)")
def demo(host: str, port: int, data_dir: Path | None, no_serve: bool) -> None:
    """One command on a bare machine: embedded database, migrations, demo tenants and data, then serve."""
    from core.demo import prepare_demo

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    if settings.is_postgres or settings.redis_url or settings.s3_endpoint:
        click.echo(
            "注意：检测到外部服务配置，演示数据将写入这些服务 / external services configured; the demo uses them"
        )
    logins = prepare_demo(settings)
    url = f"http://{host}:{port}"
    click.echo(f"\n银龄演示已就绪 / Yinling demo ready: {url}")
    click.echo(f"数据目录 / data: {settings.data_dir}")
    click.echo("演示账号 / demo logins (username / password — role @ tenant):")
    for login in logins:
        click.echo(f"  {login.username:<22} {login.password:<14} {login.description}")
    click.echo(f"API 文档 / API docs: {url}/schema")
    if no_serve:
        return
    import uvicorn

    from core.web.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
