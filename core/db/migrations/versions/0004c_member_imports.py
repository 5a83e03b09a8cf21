"""Excel imports of the member ledger: one row per upload, with progress, errors and outcome; row-level security.

Revision ID: 0004c_member_imports
Revises: 0003_orgs_members
Create Date: 2026-11-24 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0004c_member_imports"
down_revision: str | Sequence[str] | None = "0003_orgs_members"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_import_job",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("on_duplicate", sa.String(length=16), nullable=False),
        sa.Column("background", sa.Boolean(), nullable=False),
        sa.Column("file_key", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", JsonB, nullable=False),
        sa.Column("summary", JsonB, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=True),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("heartbeat_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'validating', 'importing', 'done', 'failed')",
            name=op.f("ck_member_import_job_import_status_known"),
        ),
        sa.CheckConstraint("mode IN ('strict', 'good_rows')", name=op.f("ck_member_import_job_import_mode_known")),
        sa.CheckConstraint(
            "on_duplicate IN ('error', 'update')", name=op.f("ck_member_import_job_import_on_duplicate_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_member_import_job_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member_import_job")),
    )
    with op.batch_alter_table("member_import_job", schema=None) as batch_op:
        batch_op.create_index("ix_member_import_job_status", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_member_import_job_tenant_created", ["tenant_id", "created_at"], unique=False)
    enable_tenant_rls("member_import_job")


def downgrade() -> None:
    disable_tenant_rls("member_import_job")
    with op.batch_alter_table("member_import_job", schema=None) as batch_op:
        batch_op.drop_index("ix_member_import_job_tenant_created")
        batch_op.drop_index("ix_member_import_job_status")
    op.drop_table("member_import_job")
