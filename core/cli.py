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


@main.command()
def worker() -> None:
    """Deliver domain events to plugins and run background member imports (next to the web processes when
    Redis is set)."""
    import signal

    from core.events.worker import run_worker
    from core.logging import configure_logging
    from core.orgs.importing.jobs import MemberImports
    from core.platform import Platform

    settings = Settings()
    if settings.env == "production":
        problems = settings.production_problems()
        if problems:
            _fail("YINLING_ENV=production refuses to start:\n- " + "\n- ".join(problems))
    configure_logging(settings)

    async def main_loop() -> None:
        platform = Platform.from_settings(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await asyncio.gather(
                run_worker(platform.dispatcher, platform.wake, stop), MemberImports(platform).run(stop)
            )
        finally:
            await platform.close()

    asyncio.run(main_loop())


@main.group()
def members() -> None:
    """The member ledger (一人一档)."""


@members.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", "tenant_code", required=True, help="division code of the tenant the members belong to")
@click.option("--good-rows", is_flag=True, help="import the rows without errors and report the others")
@click.option("--update-existing", is_flag=True, help="a row whose ID number is already in the ledger updates it")
def members_import(file: Path, tenant_code: str, good_rows: bool, update_existing: bool) -> None:
    """Import members from an .xlsx laid out like the import template; nothing is imported unless every row
    is valid (or, with --good-rows, the valid rows only)."""
    from core.orgs.importing.command import import_file, report

    job, error = _run(
        lambda: import_file(Settings(), file, tenant_code, good_rows=good_rows, update_existing=update_existing)
    )
    if not report(job, error):
        sys.exit(1)


@main.group()
def pii() -> None:
    """Personal-data encryption."""


@pii.command("rekey")
def pii_rekey() -> None:
    """Re-encrypt all personal data under the first key of YINLING_PII_KEYS (see docs/operations.md)."""
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.privacy import crypto
    from core.privacy.rekey import rekey

    settings = Settings()
    crypto.configure(settings.pii_keys.get_secret_value(), settings.secret_key.get_secret_value())

    async def run() -> int:
        database = Database(create_engine(settings.effective_database_url))
        try:
            async with database.session(TenantScope.system()) as session:
                return (await rekey(session)).total
        finally:
            await database.dispose()

    total = _run(run)
    click.echo(f"已用最新密钥重新加密 {total} 行 / re-encrypted {total} rows under the newest key")


@main.group()
def reports() -> None:
    """Report aggregates."""


@reports.command("rebuild")
def reports_rebuild() -> None:
    """Recompute every report aggregate from the raw rows (after a restore, or to backfill a new plugin)."""
    from core.platform import Platform
    from core.reports.recount import rebuild

    async def run() -> int:
        platform = Platform.from_settings(Settings())
        try:
            return await rebuild(platform)
        finally:
            await platform.close()

    count = _run(run)
    click.echo(f"已按原始记录重建统计汇总，共 {count} 条事实 / rebuilt the report aggregates from {count} facts")


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
    from core.plugin_host.host import PluginHost
    from core.tenancy.manifest import apply_manifest, load_manifest
    from core.tenancy.tree import load_tree

    manifest = load_manifest(path)
    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system()) as session:
            report = await apply_manifest(session, manifest, PluginHost.discover())
            tree = await load_tree(session)
    finally:
        await database.dispose()
    if settings.keycloak_enabled:
        from core.identity.provisioning import sync_groups

        try:
            await sync_groups(settings, tree)
        except Exception as exc:  # noqa: BLE001 - the tenants are applied; the mirror can be repaired
            click.secho(f"Keycloak 群组未同步（{exc}）：请稍后运行 yinling identity sync-groups", fg="yellow", err=True)
    return report


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


def _identity_commands() -> None:
    from core.identity.commands import identity

    main.add_command(identity)


_identity_commands()


async def create_account(
    settings: Settings,
    username: str,
    password: str,
    tenant: str | None,
    role: str | None,
    platform_admin: bool,
    email: str | None = None,
) -> None:
    if settings.keycloak_enabled:
        from core.identity.commands import create_keycloak_account
        from core.identity.provisioning import NewPerson

        person = NewPerson(
            username, username, tenant, role, email=email, password=password, platform_admin=platform_admin
        )
        await create_keycloak_account(settings, person)
        return
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.identity.accounts import create_user, grant_role
    from core.plugin_host.host import PluginHost
    from core.tenancy.tree import load_tree

    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system()) as session:
            user = await create_user(session, username=username, password=password, is_platform_admin=platform_admin)
            if tenant and role:
                tree = await load_tree(session)
                await grant_role(
                    session,
                    PluginHost.discover().role_registry(),
                    tree,
                    user=user,
                    tenant_code=tenant,
                    role=role,
                    by="cli",
                )
    finally:
        await database.dispose()


@users.command("create")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--tenant", help="division code of the tenant to grant the role in")
@click.option("--role", help="tenant_admin, branch_secretary, member, or a plugin's role")
@click.option("--platform-admin", is_flag=True, help="may act in every tenant")
@click.option("--email", help="email address (Keycloak mode; marked verified)")
def users_create(
    username: str, password_stdin: bool, tenant: str | None, role: str | None, platform_admin: bool, email: str | None
) -> None:
    """Create an account and (optionally) grant it a role in a tenant (in Keycloak too when it is configured)."""
    if not password_stdin:
        _fail("请用 --password-stdin 从标准输入提供密码 / pass the password on standard input with --password-stdin")
    if bool(tenant) != bool(role):
        _fail("--tenant 与 --role 需同时给出 / give --tenant and --role together")
    password = sys.stdin.readline().rstrip("\n")
    try:
        _run(lambda: create_account(Settings(), username, password, tenant, role, platform_admin, email))
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


# --- plugins --------------------------------------------------------------------------------------


async def plugin_report(settings: Settings) -> dict[str, Any]:
    """Installed plugins (name, version, titles, source, hooks), load failures, and where each is enabled.

    Activation is read with system scope from the configured database; when it cannot be read the report
    still lists the plugins and says why under ``database``.
    """
    from core.plugin_host.host import PluginHost

    host = PluginHost.discover()
    plugins: dict[str, dict[str, Any]] = {
        name: {
            "name": name,
            "version": loaded.info.version,
            "title_zh": loaded.info.title_zh,
            "title_en": loaded.info.title_en,
            "description": loaded.info.description,
            "depends": list(loaded.info.depends),
            "source": loaded.source,
            "hooks": list(loaded.hooks),
            "activation": [],
            "active_in": [],
        }
        for name, loaded in sorted(host.plugins.items())
    }
    report: dict[str, Any] = {
        "plugins": list(plugins.values()),
        "failures": [{"source": f.source, "reason": f.reason} for f in host.failures],
        "configured_but_not_loaded": [],
        "database": {"ok": True, "error": None},
    }
    try:
        report["configured_but_not_loaded"] = await _read_activation(settings, host, plugins)
    except Exception as exc:  # noqa: BLE001 - the listing is still useful without the database
        report["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return report


async def _read_activation(settings: Settings, host: Any, plugins: dict[str, dict[str, Any]]) -> list[str]:
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.plugin_host.activation import load_snapshot, resolve
    from core.tenancy.tree import load_tree

    url = settings.effective_database_url
    if _no_sqlite_file(url):  # do not create an empty database just to list plugins
        raise FileNotFoundError(f"no database at {url}: run `yinling db upgrade` (or `yinling demo`) first")
    database = Database(create_engine(url))
    try:
        async with database.session(TenantScope.system()) as session:
            tree = await load_tree(session)
            snapshot = await load_snapshot(session)
    finally:
        await database.dispose()
    orphans: set[str] = set()
    for (tenant_id, name), own in snapshot.rows.items():
        node = tree.nodes.get(tenant_id)
        if name not in plugins:
            orphans.add(name)
        elif node is not None:
            plugins[name]["activation"].append(
                {"tenant_code": node.code, "tenant_name": node.name, "state": own.state, "policy": own.policy,
                 "settings": own.settings}
            )  # fmt: skip
    for entry in plugins.values():
        entry["activation"].sort(key=lambda row: row["tenant_code"])
    deps = {name: loaded.info.depends for name, loaded in host.plugins.items()}
    for node in tree.walk():
        for name, effective in resolve(tree, snapshot, node.id, deps).items():
            if effective.active:
                plugins[name]["active_in"].append(
                    {"tenant_code": node.code, "tenant_name": node.name, "source": effective.source,
                     "reason_zh": effective.reason_zh, "reason_en": effective.reason_en}
                )  # fmt: skip
    return sorted(orphans)


def _no_sqlite_file(url: str) -> bool:
    return url.startswith("sqlite") and not Path(url.split(":///", 1)[-1]).exists()


@main.group()
def plugins() -> None:
    """Installed plugins (programmes)."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def plugins_list(as_json: bool) -> None:
    """Installed plugins, their hooks, load failures, and the tenants where each is active.

    Exits with status 1 when a plugin failed to load.
    """
    import json

    report = _run(lambda: plugin_report(Settings()))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_plugin_report(report)
    if report["failures"]:
        sys.exit(1)


def _print_plugin_report(report: dict[str, Any]) -> None:
    click.echo(f"已安装插件 / installed plugins: {len(report['plugins'])}")
    if not report["database"]["ok"]:
        click.secho(f"  未能读取开通情况 / activation not read: {report['database']['error']}", fg="yellow")
    for entry in report["plugins"]:
        click.secho(f"\n{entry['name']} {entry['version']}  {entry['title_zh']} / {entry['title_en']}", bold=True)
        click.echo(f"  来源 source: {entry['source']}")
        if entry["depends"]:
            click.echo(f"  依赖 depends on: {', '.join(entry['depends'])}")
        click.echo(f"  钩子 hooks: {', '.join(entry['hooks']) or '-'}")
        if report["database"]["ok"]:
            active = [f"{a['tenant_code']} {a['tenant_name']}（{a['reason_zh']}）" for a in entry["active_in"]]
            click.echo(f"  开通于 active in: {'；'.join(active) if active else '无 / none'}")
    for name in report["configured_but_not_loaded"]:
        click.secho(f"\n{name}: 有开通设置但未加载 / configured in tenants but not loaded", fg="yellow")
    if report["failures"]:
        click.secho("\n加载失败 / failed to load:", fg="red", bold=True)
        for failure in report["failures"]:
            click.secho(f"  {failure['source']}: {failure['reason']}", fg="red")


@main.group()
def plugin() -> None:
    """Writing a plugin."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="where to create the package folder yinling-NAME",
)
@click.option("--title-zh", help="Chinese title, e.g. 老年大学")
@click.option("--title-en", help="English title, e.g. 'Elderly university'")
def plugin_new(name: str, directory: Path, title_zh: str | None, title_en: str | None) -> None:
    """Create a working plugin package NAME (lowercase letters, digits, underscores) to start from."""
    from core.plugin_host.scaffold import ScaffoldError, scaffold

    try:
        result = scaffold(name, directory, title_zh=title_zh, title_en=title_en)
    except ScaffoldError as exc:
        _fail(str(exc))
        return
    click.echo(f"已生成插件 / plugin created: {result.path}")
    for path in result.files:
        click.echo(f"  {path.relative_to(result.path)}")
    click.echo(
        f"下一步 / next: cd {result.path} && pip install -e . && pytest && yinling db upgrade && yinling plugins list"
    )
