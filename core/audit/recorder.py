"""Records every ORM write into :class:`~core.audit.models.AuditEntry`, in the same transaction.

The recorder listens to ``after_flush``: by then new rows have their keys and attribute history still
holds the before-image. Models set ``__audit_redact__`` to keep secrets (password hashes) out of the trail
and ``__audited__ = False`` to opt out (the audit table itself). Writes that bypass the ORM (bulk Core
statements) must call :func:`record` themselves.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

AUDIT_KEY = "audit_context"
REDACTED = "***"


@dataclass(frozen=True)
class AuditContext:
    """Who is writing, and under which request and acting tenant."""

    actor_id: uuid.UUID | None
    actor_name: str
    request_id: str | None = None
    acting_tenant_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> AuditContext:
        return cls(actor_id=None, actor_name=name)


def set_audit_context(session: Session, context: AuditContext) -> None:
    session.info[AUDIT_KEY] = context


def get_audit_context(session: Session) -> AuditContext:
    ctx = session.info.get(AUDIT_KEY)
    return ctx if isinstance(ctx, AuditContext) else AuditContext.system()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def _image(obj: Any, *, before: bool) -> dict[str, Any]:
    state = inspect(obj)
    redact: frozenset[str] = getattr(type(obj), "__audit_redact__", frozenset())
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if before:
            hist = state.attrs[key].history
            value = hist.deleted[0] if hist.deleted else (hist.unchanged[0] if hist.unchanged else None)
        else:
            value = getattr(obj, key)
        out[key] = REDACTED if key in redact and value is not None else _jsonable(value)
    return out


def _entity_tenant(obj: Any) -> int | None:
    if hasattr(obj, "__tenant_owned__"):
        return obj.tenant_id
    tenant_of = getattr(obj, "audit_tenant_id", None)
    if callable(tenant_of):
        return tenant_of()
    return None


def _entity_id(obj: Any) -> str:
    """The primary key, joined with commas (``tenant_id,id`` for tenant-owned rows), the same on every action."""
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in key)


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
    tenant_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row for a write (or a reveal of personal data) the ORM did not see."""
    from core.audit.models import AuditEntry

    ctx = get_audit_context(session)
    session.connection().execute(
        insert(AuditEntry),
        [
            {
                "id": uuid7(),
                "tenant_id": tenant_id if tenant_id is not None else ctx.acting_tenant_id,
                "at": datetime.datetime.now(datetime.UTC),
                "actor_id": ctx.actor_id,
                "actor_name": ctx.actor_name,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "before": _jsonable(before) if before is not None else None,
                "after": _jsonable(after) if after is not None else None,
                "request_id": ctx.request_id,
            }
        ],
    )


async def arecord(session: AsyncSession, **kwargs: Any) -> None:
    """:func:`record` from async code (a reveal of personal data, a bulk change)."""
    await session.run_sync(lambda sync_session: record(sync_session, **kwargs))


def _after_flush(session: Session, flush_context: Any) -> None:
    from core.audit.models import AuditEntry

    ctx = get_audit_context(session)
    now = datetime.datetime.now(datetime.UTC)
    rows: list[dict[str, Any]] = []

    def add(obj: Any, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        tenant_id = _entity_tenant(obj)
        rows.append(
            {
                "id": uuid7(),
                "tenant_id": tenant_id if tenant_id is not None else ctx.acting_tenant_id,
                "at": now,
                "actor_id": ctx.actor_id,
                "actor_name": ctx.actor_name,
                "action": action,
                "entity_type": inspect(obj).mapper.local_table.name,
                "entity_id": _entity_id(obj),
                "before": before,
                "after": after,
                "request_id": ctx.request_id,
            }
        )

    for obj in session.new:
        if getattr(type(obj), "__audited__", False):
            add(obj, "create", None, _image(obj, before=False))
    for obj in session.dirty:
        if not getattr(type(obj), "__audited__", False) or not session.is_modified(obj, include_collections=False):
            continue
        before, after = _image(obj, before=True), _image(obj, before=False)
        changed = {k for k in after if before.get(k) != after.get(k)}
        if changed:
            add(obj, "update", {k: before[k] for k in changed}, {k: after[k] for k in changed})
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            add(obj, "delete", _image(obj, before=True), None)
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def install_audit_recorder(session_class: type[Session]) -> None:
    if getattr(session_class, "_yinling_audit", False):
        return
    event.listen(session_class, "after_flush", _after_flush)
    session_class._yinling_audit = True  # type: ignore[attr-defined]
