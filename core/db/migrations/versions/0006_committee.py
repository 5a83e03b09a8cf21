"""Committee seats of organisations (支委班子), with row-level security.

Revision ID: 0006_committee
Revises: 0005_merge_ledger
Create Date: 2026-11-23 07:56:27.364947

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0006_committee"
down_revision: str | Sequence[str] | None = "0005_merge_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "committee_seat",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("position", sa.String(length=24), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_committee_seat_tenant_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_committee_seat_tenant_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_committee_seat_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_committee_seat")),
    )
    with op.batch_alter_table("committee_seat", schema=None) as batch_op:
        batch_op.create_index("ix_committee_seat_org", ["tenant_id", "org_id"], unique=False)

    enable_tenant_rls("committee_seat")


def downgrade() -> None:
    disable_tenant_rls("committee_seat")
    with op.batch_alter_table("committee_seat", schema=None) as batch_op:
        batch_op.drop_index("ix_committee_seat_org")

    op.drop_table("committee_seat")
