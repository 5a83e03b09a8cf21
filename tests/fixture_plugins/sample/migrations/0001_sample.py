"""The sample plugin's table, on its own branch.

Revision ID: 0001_sample
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0001_sample"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("sample",)
depends_on: str | Sequence[str] | None = "0002_plugins_events"


def upgrade() -> None:
    op.create_table(
        "sample_effect",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_sample_effect_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sample_effect")),
    )
    enable_tenant_rls("sample_effect")


def downgrade() -> None:
    disable_tenant_rls("sample_effect")
    op.drop_table("sample_effect")
