"""Helpers for the Alembic environment that tests import too (env.py itself runs on import)."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.types import GUID


def compare_type(
    context: Any, inspected: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """SQLite reflects Advanced Alchemy's GUID (BINARY(16)) as NUMERIC: not a real difference."""
    if context.dialect.name == "sqlite" and isinstance(metadata_type, GUID):
        return False
    return None
