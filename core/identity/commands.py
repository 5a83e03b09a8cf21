"""``yinling identity …`` (operators' provisioning commands) and the Keycloak side of ``yinling users create``.

Heavy imports stay inside the functions so that ``yinling --help`` stays quick.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click

from core.errors import AppError
from core.settings import Settings

if TYPE_CHECKING:
    from core.identity.provisioning import GroupSync, NewPerson, Provisioned


async def sync_all_groups(settings: Settings) -> GroupSync:
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.identity.provisioning import sync_groups
    from core.tenancy.tree import load_tree

    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system()) as session:
            tree = await load_tree(session)
    finally:
        await database.dispose()
    return await sync_groups(settings, tree)


async def create_keycloak_account(settings: Settings, person: NewPerson) -> Provisioned:
    """``yinling users create`` in Keycloak mode: the Keycloak user (password set, not temporary) and the
    platform user and grant, all or nothing."""
    from core.audit.recorder import AuditContext
    from core.db.engine import Database, create_engine
    from core.db.scope import TenantScope
    from core.identity.provisioning import provision_user
    from core.plugin_host.host import PluginHost
    from core.tenancy.tree import load_tree

    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system(), AuditContext.system("cli")) as session:
            tree = await load_tree(session)
            return await provision_user(
                session, settings, PluginHost.discover().role_registry(), tree, person, by="cli"
            )
    finally:
        await database.dispose()


@click.group()
def identity() -> None:
    """Single sign-on (Keycloak) provisioning."""


@identity.command("sync-groups")
def sync_groups_command() -> None:
    """Mirror every tenant as a Keycloak group (/320000/320100/320102); safe to run again."""
    try:
        report = asyncio.run(sync_all_groups(Settings()))
    except AppError as exc:
        click.secho(f"{exc.code}: {exc.message('zh')}", fg="red", err=True)
        sys.exit(2)
    created, updated, unchanged = len(report.created), len(report.updated), len(report.unchanged)
    click.echo(f"新建 created {created}，更新 updated {updated}，未变 unchanged {unchanged}")
