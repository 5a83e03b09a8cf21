"""Join the three ledger branches (transfers, organisation life, member imports) into one core head.

Revision ID: 0005_merge_ledger
Revises: 0004a_transfers, 0004b_org_life, 0004c_member_imports
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "0005_merge_ledger"
down_revision: str | Sequence[str] | None = ("0004a_transfers", "0004b_org_life", "0004c_member_imports")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the three branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
