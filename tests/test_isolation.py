"""Tenant isolation, both locks, on PostgreSQL with the application role (no ownership, no BYPASSRLS)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.db.scope import TenantScope
from core.errors import AppError
from core.identity.models import RoleGrant
from core.platform import Platform


async def test_the_app_role_neither_owns_the_tables_nor_bypasses_rls(pg_platform: Platform) -> None:
    async with pg_platform.database.session(TenantScope()) as session:
        role = (
            await session.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))
        ).one()
        assert tuple(role) == (False, False)
        owners = (
            (await session.execute(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")))
            .scalars()
            .all()
        )
        current = (await session.execute(text("SELECT current_user"))).scalar()
        assert current not in owners


async def test_a_raw_query_without_scope_returns_no_rows(pg_platform: Platform, world: dict[str, Any]) -> None:
    async with pg_platform.database.session(TenantScope.system()) as session:
        assert (await session.execute(text("SELECT count(*) FROM role_grant"))).scalar() == 8
    async with pg_platform.database.session(TenantScope()) as session:
        # Raw SQL escapes the ORM's lock; row-level security still answers nothing.
        assert (await session.execute(text("SELECT count(*) FROM role_grant"))).scalar() == 0
        assert (await session.execute(text("SELECT count(*) FROM audit_entry"))).scalar() == 0
        # And through the ORM a forgotten filter also returns nothing.
        assert (await session.execute(select(RoleGrant))).scalars().all() == []


async def test_rls_alone_limits_raw_sql_to_the_scope(pg_platform: Platform, world: dict[str, Any]) -> None:
    ids = world["ids"]
    xuanwu, qinhuai = ids["320102"], ids["320104"]
    async with pg_platform.database.session(TenantScope.of([xuanwu], [xuanwu])) as session:
        tenants = (await session.execute(text("SELECT DISTINCT tenant_id FROM role_grant"))).scalars().all()
        assert tenants == [xuanwu]
        # Writing into another county with raw SQL is refused by the database itself.
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.execute(
                text(
                    "INSERT INTO role_grant (tenant_id, id, user_id, role, granted_by, created_at, updated_at) "
                    "SELECT :t, gen_random_uuid(), user_id, 'member', 'x', now(), now() FROM role_grant LIMIT 1"
                ),
                {"t": qinhuai},
            )


async def test_the_orm_refuses_to_flush_into_another_tenant(pg_platform: Platform, world: dict[str, Any]) -> None:
    ids = world["ids"]
    xuanwu, qinhuai = ids["320102"], ids["320104"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        grant = (await session.execute(select(RoleGrant).where(RoleGrant.tenant_id == xuanwu))).scalars().first()
        assert grant is not None
        user_id = grant.user_id
    with pytest.raises(AppError) as caught:
        async with pg_platform.database.session(TenantScope.of([xuanwu], [xuanwu])) as session:
            session.add(RoleGrant(tenant_id=qinhuai, user_id=user_id, role="member"))
            await session.flush()
    assert caught.value.code == "tenant.write_denied"
    async with pg_platform.database.session(TenantScope.system()) as session:
        count = (
            await session.execute(text("SELECT count(*) FROM role_grant WHERE tenant_id = :t"), {"t": qinhuai})
        ).scalar()
        assert count == 1  # only the seeded admin; nothing half-written


async def test_the_orm_scope_limits_reads_even_where_rls_would_not(
    pg_platform: Platform, world: dict[str, Any]
) -> None:
    ids = world["ids"]
    nanjing = world["tree"].subtree_ids(ids["320100"])
    async with pg_platform.database.session(TenantScope.of(nanjing, nanjing)) as session:
        rows = (await session.execute(select(RoleGrant))).scalars().all()
        assert {r.tenant_id for r in rows} == {ids[c] for c in ("320100", "320102", "320104")}


async def test_audit_trail_is_append_only_even_for_the_owner(
    owner_engine: Any, pg_platform: Platform, world: dict[str, Any]
) -> None:
    async with pg_platform.database.session(TenantScope.system()) as session:
        before = (await session.execute(text("SELECT count(*) FROM audit_entry"))).scalar()
        assert before and before > 0
    with pytest.raises(DBAPIError, match="permission denied"):
        async with pg_platform.database.session(TenantScope.system()) as session:
            await session.execute(text("UPDATE audit_entry SET action = 'forged'"))
    # The owner is policed too (FORCE ROW LEVEL SECURITY, no update or delete policy): nothing changes.
    async with owner_engine.begin() as conn:
        await conn.execute(text("SELECT set_config('yinling.all_tenants', 'on', true)"))
        assert (await conn.execute(text("DELETE FROM audit_entry"))).rowcount == 0
        assert (await conn.execute(text("UPDATE audit_entry SET action = 'forged'"))).rowcount == 0
    async with pg_platform.database.session(TenantScope.system()) as session:
        assert (await session.execute(text("SELECT count(*) FROM audit_entry"))).scalar() == before
        forged = (await session.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'forged'"))).scalar()
        assert forged == 0
