"""Tenant scope: what a session may read and write, enforced twice.

Lock 1 (every database): :func:`install_scope_guards` makes the ORM add ``tenant_id IN (readable)`` to
every query of a :class:`~core.db.base.TenantOwned` model, and refuses to flush a row into a tenant the
scope may not write. A session without a scope reads nothing of those tables.

Lock 2 (PostgreSQL): at the start of every transaction the session writes the scope into transaction-local
settings (``yinling.read_tenants`` …) that the row-level-security policies read; the application's role
neither owns the tables nor bypasses RLS, so a query that escapes lock 1 still returns nothing foreign.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, false, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from core.db.base import TenantOwned, is_tenant_owned
from core.errors import ErrorSpec

SCOPE_KEY = "tenant_scope"

WRITE_OUTSIDE_SCOPE = ErrorSpec(
    "tenant.write_denied",
    403,
    "不能修改本单位权限范围以外的数据（单位编号 {tenant_id}）",
    "Writing data of tenant {tenant_id} is outside your scope",
)
TENANT_CHANGE_DENIED = ErrorSpec(
    "tenant.move_denied",
    403,
    "数据不能直接改到另一个单位名下",
    "A row cannot be moved to another tenant directly",
)


@dataclass(frozen=True)
class TenantScope:
    """The tenants a unit of work may read and write. ``everything`` is for system work (CLI, worker)."""

    read: frozenset[int] = frozenset()
    write: frozenset[int] = frozenset()
    everything: bool = False

    @classmethod
    def system(cls) -> TenantScope:
        return cls(everything=True)

    @classmethod
    def of(cls, read: Iterable[int], write: Iterable[int] = ()) -> TenantScope:
        return cls(read=frozenset(read), write=frozenset(write))

    def can_read(self, tenant_id: int) -> bool:
        return self.everything or tenant_id in self.read

    def can_write(self, tenant_id: int) -> bool:
        return self.everything or tenant_id in self.write

    def settings(self) -> dict[str, str]:
        """The transaction-local settings the RLS policies read."""
        return {
            "yinling.all_tenants": "on" if self.everything else "off",
            "yinling.read_tenants": ",".join(str(i) for i in sorted(self.read)),
            "yinling.write_tenants": ",".join(str(i) for i in sorted(self.write)),
        }


def get_scope(session: Session) -> TenantScope | None:
    scope = session.info.get(SCOPE_KEY)
    return scope if isinstance(scope, TenantScope) else None


def set_scope(session: Session, scope: TenantScope) -> None:
    """Set the scope of a session; if a transaction is open on PostgreSQL, its settings follow at once."""
    session.info[SCOPE_KEY] = scope
    if session.in_transaction():
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            _apply_settings(conn, scope)


@asynccontextmanager
async def widened(session: AsyncSession, *, read: Iterable[int] = (), write: Iterable[int] = ()) -> AsyncIterator[None]:
    """Let this unit of work also read ``read`` and write ``write``, for the block only.

    The one way to step outside the acting scope on purpose (a transfer's two sides, a city's template serving
    its counties, an event for the county that owns a row): row-level security still applies, pending writes are
    flushed before the scope narrows again, and nothing happens when the scope already covers the tenants. On an
    error the caller's transaction is rolled back, which drops the transaction-local settings as well, so only
    the session's record of the scope is put back then.
    """
    before = get_scope(session.sync_session) or TenantScope()
    more_read, more_write = frozenset(read), frozenset(write)
    if before.everything or (more_read <= before.read and more_write <= before.write):
        yield
        return
    wider = TenantScope(read=before.read | more_read, write=before.write | more_write)
    await session.flush()
    # set_scope rewrites the transaction's PostgreSQL settings at once: run it where the session may do IO.
    await session.run_sync(lambda s: set_scope(s, wider))
    try:
        yield
        await session.flush()
    except BaseException:
        session.sync_session.info[SCOPE_KEY] = before
        raise
    await session.run_sync(lambda s: set_scope(s, before))


def _apply_settings(connection: Any, scope: TenantScope) -> None:
    for name, value in scope.settings().items():
        connection.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def _add_scope_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("skip_tenant_scope", False):
        return
    scope = get_scope(state.session)
    if scope is not None and scope.everything:
        return
    if scope is None or not scope.read:
        state.statement = state.statement.options(
            with_loader_criteria(TenantOwned, lambda cls: false(), include_aliases=True)
        )
        return
    readable = tuple(sorted(scope.read))
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id.in_(readable), include_aliases=True)
    )


def _after_begin(session: Session, transaction: Any, connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    _apply_settings(connection, get_scope(session) or TenantScope())


def _check_writes(session: Session, flush_context: Any, instances: Any) -> None:
    scope = get_scope(session) or TenantScope()
    if scope.everything:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not is_tenant_owned(obj):
            continue
        tenant_id = obj.tenant_id
        if tenant_id is None or not scope.can_write(tenant_id):
            raise WRITE_OUTSIDE_SCOPE.error(tenant_id=tenant_id)
        if obj in session.dirty:
            from sqlalchemy import inspect

            history = inspect(obj).attrs.tenant_id.history
            if history.deleted and history.deleted[0] != tenant_id:
                raise TENANT_CHANGE_DENIED.error()


def install_scope_guards(session_class: type[Session]) -> None:
    """Attach lock 1 and the PostgreSQL settings to a session class (idempotent)."""
    if getattr(session_class, "_yinling_scope_guards", False):
        return
    event.listen(session_class, "do_orm_execute", _add_scope_criteria)
    event.listen(session_class, "after_begin", _after_begin)
    event.listen(session_class, "before_flush", _check_writes)
    session_class._yinling_scope_guards = True  # type: ignore[attr-defined]
