"""Helpers for the Alembic environment that tests import too (env.py itself runs on import)."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.types import GUID
from sqlalchemy import String


def compare_type(
    context: Any, inspected: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Differences SQLite cannot have: GUID (BINARY(16)) reflects as NUMERIC, and string lengths are not
    enforced (a length changed on PostgreSQL only is no difference there)."""
    if context.dialect.name == "sqlite" and isinstance(metadata_type, GUID):
        return False
    if context.dialect.name == "sqlite" and isinstance(metadata_type, String) and isinstance(inspected_type, String):
        return False
    return None
