"""``yinling demo``: the embedded database, migrations, the demo tenant tree and demo accounts.

Idempotent: running the demo again on the same data directory keeps what is there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database, create_engine
from core.db.migrate import upgrade
from core.db.scope import TenantScope
from core.identity.accounts import create_user, grant_role
from core.identity.models import User
from core.orgs.demo import seed_ledger_demo
from core.plugin_host.activation import effective_settings, load_snapshot
from core.plugin_host.declarations import PluginContext
from core.plugin_host.host import PluginHost
from core.plugin_host.service import effective_in
from core.plugin_host.settings import plugin_defaults
from core.settings import Settings
from core.tenancy.manifest import apply_manifest, load_manifest
from core.tenancy.tree import TenantTree, load_tree

DEMO_PASSWORD = "yinling2026"  # noqa: S105 - printed by `yinling demo`, refused in production


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    description: str
    tenant: str | None
    role: str | None
    platform_admin: bool = False


DEMO_LOGINS = (
    DemoLogin("admin", DEMO_PASSWORD, "平台管理员 platform admin", None, None, platform_admin=True),
    DemoLogin("js-admin", DEMO_PASSWORD, "江苏省 province admin (320000)", "320000", "tenant_admin"),
    DemoLogin("nj-admin", DEMO_PASSWORD, "南京市 city admin (320100)", "320100", "tenant_admin"),
    DemoLogin("zj-admin", DEMO_PASSWORD, "镇江市 city admin (321100)", "321100", "tenant_admin"),
    DemoLogin("xw-admin", DEMO_PASSWORD, "玄武区 county admin (320102)", "320102", "tenant_admin"),
    DemoLogin("qh-admin", DEMO_PASSWORD, "秦淮区 county admin (320104)", "320104", "tenant_admin"),
    DemoLogin("dy-admin", DEMO_PASSWORD, "丹阳市 county admin (321181)", "321181", "tenant_admin"),
    DemoLogin("xw-secretary", DEMO_PASSWORD, "玄武区 branch secretary 支部书记", "320102", "branch_secretary"),
    DemoLogin("xw-member", DEMO_PASSWORD, "玄武区 member 党员", "320102", "member"),
)


def demo_manifest_path() -> Path:
    """``tenants/demo.yaml`` in a checkout, or the copy bundled into the installed package."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "tenants" / "demo.yaml", here / "_bundled" / "tenants" / "demo.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("tenants/demo.yaml is missing from this installation")


async def seed_plugin_demo_data(session: AsyncSession, host: PluginHost, tree: TenantTree) -> None:
    """Each plugin seeds the tenants where it is active (the hook is idempotent: the demo may run again)."""
    snapshot = await load_snapshot(session)
    for node in tree.walk():
        active = effective_in(host, tree, snapshot, node.id)
        for name, effective in active.items():
            if not effective.active:
                continue
            values, _ = effective_settings(tree, snapshot, node.id, name, plugin_defaults(host, name))
            await host.call_one(name, "demo_data", context=PluginContext(name, node, tree, session, values))


async def seed_demo(settings: Settings) -> list[DemoLogin]:
    host = PluginHost.discover()
    database = Database(create_engine(settings.effective_database_url))
    try:
        async with database.session(TenantScope.system()) as session:
            await apply_manifest(session, load_manifest(demo_manifest_path()), host)
            tree = await load_tree(session)
            roles = host.role_registry()
            for login in DEMO_LOGINS:
                user = (await session.execute(select(User).where(User.username == login.username))).scalar_one_or_none()
                if user is None:
                    user = await create_user(
                        session,
                        username=login.username,
                        password=login.password,
                        display_name=login.description.split(" ")[0],
                        is_platform_admin=login.platform_admin,
                    )
                if login.tenant and login.role:
                    await grant_role(
                        session, roles, tree, user=user, tenant_code=login.tenant, role=login.role, by="demo"
                    )
            await seed_ledger_demo(session, tree)
            await link_demo_member(session, tree)
            await seed_plugin_demo_data(session, host, tree)
    finally:
        await database.dispose()
    return list(DEMO_LOGINS)


async def link_demo_member(session: AsyncSession, tree: TenantTree) -> None:
    """账号关联 for the demo: ``xw-member`` is the first active member of 玄武区, so 我的主页 has a person behind it."""
    from core.orgs.member_accounts import link
    from core.orgs.models import Member, MemberAccount

    home = tree.find("320102")
    if home is None:
        return
    if (await session.execute(select(MemberAccount).where(MemberAccount.tenant_id == home.id))).first():
        return  # the demo ran before
    member = (
        (
            await session.execute(
                select(Member).where(Member.tenant_id == home.id, Member.status == "active").order_by(Member.created_at)
            )
        )
        .scalars()
        .first()
    )
    if member is not None:
        await link(session, member, "xw-member", by="demo")


def prepare_demo(settings: Settings) -> list[DemoLogin]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    return asyncio.run(seed_demo(settings))
