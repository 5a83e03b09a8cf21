"""Member accounts (账号关联): the login account of a retired cadre linked to their record, with row-level security.

Revision ID: 0008_member_account
Revises: 0007_reports
Create Date: 2026-11-23 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0008_member_account"
down_revision: str | Sequence[str] | None = "0007_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_account",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("linked_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_member_account_tenant_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_member_account_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_member_account_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_member_account")),
        sa.UniqueConstraint("user_id", name="uq_member_account_user_id"),
    )
    enable_tenant_rls("member_account")


def downgrade() -> None:
    disable_tenant_rls("member_account")
    op.drop_table("member_account")
