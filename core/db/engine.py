"""Engines and sessions. Every session is a :class:`YinlingSession`, which carries both tenant locks and
the audit recorder, whatever opened it (a request, the CLI, the worker, a test)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from core.audit.recorder import AuditContext, install_audit_recorder, set_audit_context
from core.db.scope import TenantScope, install_scope_guards, set_scope

logger = logging.getLogger(__name__)


class YinlingSession(Session):
    """The synchronous session class behind every :class:`AsyncSession` of the platform."""


AFTER_COMMIT_KEY = "after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` once the unit of work has committed (cache invalidation, queue wake-ups).

    Work that must not be seen before the data it describes is durable belongs here, not in the
    transaction. Callbacks run when the session was opened by :meth:`Database.session` or a request.
    """
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[Callable[[], Awaitable[None]]] = session.info.pop(AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            logger.exception("after-commit callback failed")


install_scope_guards(YinlingSession)
install_audit_recorder(YinlingSession)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINT works (event delivery needs it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if url.startswith("postgresql"):
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


class Database:
    """One engine and its session factory; :meth:`session` opens a unit of work with a scope and an actor."""

    def __init__(self, engine: AsyncEngine) -> None:
        from core.reports.core_facts import install_core_fact_listener  # the models import this module

        install_core_fact_listener(YinlingSession)
        self.engine = engine
        # Copied into every session's info (e.g. the event dispatcher's wake-up callback).
        self.session_info: dict[str, Any] = {}
        self.sessionmaker = async_sessionmaker(
            engine, class_=AsyncSession, sync_session_class=YinlingSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def open(self, scope: TenantScope, audit: AuditContext | None = None) -> AsyncSession:
        session = self.sessionmaker()
        session.info.update(self.session_info)
        set_scope(session.sync_session, scope)
        set_audit_context(session.sync_session, audit or AuditContext.system())
        return session

    @asynccontextmanager
    async def session(self, scope: TenantScope, audit: AuditContext | None = None) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends, rolled back on error."""
        session = self.open(scope, audit)
        try:
            async with session.begin():
                yield session
            await run_after_commit(session)
        finally:
            await session.close()

    async def dispose(self) -> None:
        await self.engine.dispose()
