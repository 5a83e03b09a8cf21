"""Re-encrypt every encrypted column under the newest key of ``YINLING_PII_KEYS``.

Rotation: put the new key first (``NEW,OLD``), restart the processes (they now encrypt with NEW and still
read OLD), run ``yinling pii rekey``, then drop OLD. The values do not change, so the rows' audit images
do not either; one audit entry records the rotation itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, Table, and_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import arecord
from core.db.base import metadata
from core.privacy.crypto import EncryptedText, ring


@dataclass
class RekeyReport:
    tables: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.tables.values())


def encrypted_columns() -> dict[Table, list[str]]:
    import core.models  # noqa: F401 - every core table registered

    out: dict[Table, list[str]] = {}
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, EncryptedText)]
        if names:
            out[table] = names
    return out


async def rekey(session: AsyncSession, batch: int = 500) -> RekeyReport:
    """In the caller's (system-scope) transaction: rotate every ciphertext to the newest key."""
    keys = ring()
    report: dict[str, int] = {}
    for table, names in encrypted_columns().items():
        pk = list(table.primary_key.columns)
        raw = [type_coerce(table.c[name], String).label(name) for name in names]
        offset, changed = 0, 0
        while True:
            rows = (await session.execute(select(*pk, *raw).order_by(*pk).offset(offset).limit(batch))).all()
            if not rows:
                break
            for row in rows:
                values = {}
                for name in names:
                    token = getattr(row, name)
                    if token is not None:
                        values[name] = type_coerce(keys.rotate(token), String)
                if values:
                    condition = and_(*(col == getattr(row, col.name) for col in pk))
                    await session.execute(update(table).where(condition).values(values))
                    changed += 1
            offset += batch
        report[table.name] = changed
    await arecord(
        session, action="pii_rekey", entity_type="privacy", entity_id="keys", tenant_id=None, after=dict(report)
    )
    return RekeyReport(report)
