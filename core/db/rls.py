"""Row-level security for migrations (lock 2 of tenant isolation; see :mod:`core.db.scope`).

A migration that creates a tenant-owned table calls :func:`enable_tenant_rls` right after
``op.create_table``. On databases other than PostgreSQL the calls do nothing.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

#: SQL functions the policies call; created by the first core migration (one statement each).
FUNCTIONS_SQL = (
    """
CREATE OR REPLACE FUNCTION yinling_can_read(t integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('yinling.all_tenants', true), 'off') = 'on'
      OR t = ANY (string_to_array(nullif(current_setting('yinling.read_tenants', true), ''), ',')::integer[])
$$
""",
    """
CREATE OR REPLACE FUNCTION yinling_can_write(t integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('yinling.all_tenants', true), 'off') = 'on'
      OR t = ANY (string_to_array(nullif(current_setting('yinling.write_tenants', true), ''), ',')::integer[])
$$
""",
)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def enable_tenant_rls(table: str, column: str = "tenant_id", *, append_only: bool = False) -> None:
    """Turn on (and force) row-level security for a tenant-owned table.

    Reads need the row's tenant in the readable set; inserts, updates and deletes need it in the writable
    set. ``append_only`` tables (the audit trail) accept inserts from anyone in a transaction and never
    updates or deletes.
    """
    if not _is_postgres():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (yinling_can_read({column}))")
    if append_only:
        op.execute(f"CREATE POLICY {table}_append ON {table} FOR INSERT WITH CHECK (true)")
        return
    op.execute(f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK (yinling_can_write({column}))")
    op.execute(
        f"CREATE POLICY {table}_update ON {table} FOR UPDATE "
        f"USING (yinling_can_write({column})) WITH CHECK (yinling_can_write({column}))"
    )
    op.execute(f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING (yinling_can_write({column}))")


def disable_tenant_rls(table: str) -> None:
    """Undo :func:`enable_tenant_rls` (for downgrades)."""
    if not _is_postgres():
        return
    for suffix in ("read", "append", "insert", "update", "delete"):
        op.execute(f"DROP POLICY IF EXISTS {table}_{suffix} ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def make_append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on a table for every role, on PostgreSQL and SQLite alike."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION yinling_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; "
            "END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION yinling_refuse_change()"
        )
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def grant_app_role() -> None:
    """Give the application role data access (now and for every later table) without ownership.

    The role comes from ``YINLING_DB_APP_ROLE``. When the migrating role *is* the app role (a one-role
    development database) nothing is granted, and FORCE ROW LEVEL SECURITY still polices it.
    """
    if not _is_postgres():
        return
    from alembic import context

    role = context.config.attributes.get("app_role") or "yinling_app"
    bind = op.get_bind()
    current = bind.execute(text("SELECT current_user")).scalar()
    if role == current:
        return
    exists = bind.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    if not exists:
        raise RuntimeError(
            f"database role {role!r} does not exist: create it (LOGIN, NOSUPERUSER, NOBYPASSRLS) "
            "or set YINLING_DB_APP_ROLE; see docs/operations.md"
        )
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"')
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{role}"')


def revoke_changes(table: str) -> None:
    """The app role may only read and append (audit trail)."""
    if not _is_postgres():
        return
    from alembic import context

    role = context.config.attributes.get("app_role") or "yinling_app"
    op.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM "{role}"')
