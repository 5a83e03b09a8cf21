"""Organisation-relation transfers (组织关系转接): one copy per tenant involved; row-level security.

Revision ID: 0004a_transfers
Revises: 0003_orgs_members
Create Date: 2026-11-24 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0004a_transfers"
down_revision: str | Sequence[str] | None = "0003_orgs_members"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('requested', 'approved') AND tenant_id = from_tenant_id"


def upgrade() -> None:
    op.create_table(
        "member_transfer",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("from_tenant_id", sa.Integer(), nullable=False),
        sa.Column("to_tenant_id", sa.Integer(), nullable=False),
        sa.Column("from_org_id", GUID(length=16), nullable=True),
        sa.Column("from_org_name", sa.String(length=128), nullable=True),
        sa.Column("to_org_id", GUID(length=16), nullable=True),
        sa.Column("to_org_name", sa.String(length=128), nullable=True),
        sa.Column("member_name", sa.String(length=64), nullable=False),
        sa.Column("member_gender", sa.String(length=8), nullable=False),
        sa.Column("member_birth_year", sa.Integer(), nullable=False),
        sa.Column("member_id_masked", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("requested_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("requested_by_id", GUID(length=16), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("steps", JsonB, nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('direct', 'negotiated', 'deferred')", name=op.f("ck_member_transfer_kind_known")),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'completed', 'rejected', 'cancelled', 'deferred')",
            name=op.f("ck_member_transfer_status_known"),
        ),
        sa.CheckConstraint(
            "tenant_id = from_tenant_id OR tenant_id = to_tenant_id", name=op.f("ck_member_transfer_copy_of_a_side")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "from_org_id"],
            ["organization.tenant_id", "organization.id"],
            name="fk_member_transfer_from_org",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "to_org_id"],
            ["organization.tenant_id", "organization.id"],
            name="fk_member_transfer_to_org",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_tenant_id"],
            ["tenant.id"],
            name=op.f("fk_member_transfer_from_tenant_id_tenant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_tenant_id"], ["tenant.id"], name=op.f("fk_member_transfer_to_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_member_transfer_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member_transfer")),
    )
    with op.batch_alter_table("member_transfer", schema=None) as batch_op:
        batch_op.create_index("ix_member_transfer_tenant_requested", ["tenant_id", "requested_at"], unique=False)
        batch_op.create_index(
            "uq_member_transfer_open",
            ["tenant_id", "member_id"],
            unique=True,
            postgresql_where=sa.text(_OPEN),
            sqlite_where=sa.text(_OPEN),
        )
    enable_tenant_rls("member_transfer")


def downgrade() -> None:
    disable_tenant_rls("member_transfer")
    with op.batch_alter_table("member_transfer", schema=None) as batch_op:
        batch_op.drop_index("uq_member_transfer_open")
        batch_op.drop_index("ix_member_transfer_tenant_requested")
    op.drop_table("member_transfer")
