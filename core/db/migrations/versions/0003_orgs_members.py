"""Organisations and the member ledger (一人一档) with encrypted personal data; row-level security.

Revision ID: 0003_orgs_members
Revises: 0002_plugins_events
Create Date: 2026-11-23 07:18:11.484968

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0003_orgs_members"
down_revision: str | Sequence[str] | None = "0002_plugins_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("parent_id", GUID(length=16), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("founded_on", sa.Date(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('committee', 'general_branch', 'branch', 'group')", name=op.f("ck_organization_level_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_organization_tenant_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_organization_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_organization")),
        sa.UniqueConstraint("tenant_id", "parent_id", "name", name="uq_organization_sibling_name"),
    )
    op.create_table(
        "member",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("id_number", sa.String(length=512), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=512), nullable=True),
        sa.Column("retirement_type", sa.String(length=8), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("former_unit", sa.String(length=128), nullable=False),
        sa.Column("former_rank", sa.String(length=64), nullable=False),
        sa.Column("is_party_member", sa.Boolean(), nullable=False),
        sa.Column("party_joined_on", sa.Date(), nullable=True),
        sa.Column("health_class", sa.String(length=16), nullable=False),
        sa.Column("specialties", JsonB, nullable=False),
        sa.Column("specialties_text", sa.Text(), nullable=False),
        sa.Column("residence_community", sa.String(length=128), nullable=False),
        sa.Column("formal_org_id", GUID(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("extra", JsonB, nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("gender IN ('male', 'female')", name=op.f("ck_member_gender_known")),
        sa.CheckConstraint("health_class IN ('normal', 'limited', 'unable')", name=op.f("ck_member_health_known")),
        sa.CheckConstraint("status IN ('active', 'transferred_out', 'deceased')", name=op.f("ck_member_status_known")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "formal_org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_member_tenant_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_member_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member")),
        sa.UniqueConstraint("tenant_id", "id_number_index", name="uq_member_id_number"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index("ix_member_tenant_name", ["tenant_id", "name"], unique=False)
        batch_op.create_index("ix_member_tenant_org", ["tenant_id", "formal_org_id"], unique=False)

    op.create_table(
        "member_participation",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_member_participation_tenant_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_member_participation_tenant_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_member_participation_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", "org_id", name=op.f("pk_member_participation")),
    )
    for table in ("organization", "member", "member_participation"):
        enable_tenant_rls(table)
    # Composite keys (tenant, member, branch) are longer than the 64 characters first allowed. SQLite does not
    # enforce lengths, and its batch mode would recreate the table without its append-only triggers.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("audit_entry", "entity_id", existing_type=sa.String(length=64), type_=sa.String(length=160))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("audit_entry", "entity_id", existing_type=sa.String(length=160), type_=sa.String(length=64))
    for table in ("member_participation", "member", "organization"):
        disable_tenant_rls(table)
    op.drop_table("member_participation")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_tenant_org")
        batch_op.drop_index("ix_member_tenant_name")

    op.drop_table("member")
    op.drop_table("organization")
