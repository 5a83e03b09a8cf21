"""The talent pool's tables, on its own branch ``talent_pool``; row-level security on every one.

Revision ID: 0001_talent_pool
Revises:
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0001_talent_pool"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("talent_pool",)
depends_on: str | Sequence[str] | None = "0007_reports"

# Parents before children (the order they are created in); dropped in reverse.
TABLES = (
    "talent_pool_demand",
    "talent_pool_station",
    "talent_pool_study",
    "talent_pool_assignment",
    "talent_pool_report",
    "talent_pool_suggestion",
    "talent_pool_profile",
    "talent_pool_service",
    "talent_pool_review",
)
INDEXES = (
    ("ix_talent_pool_demand_status", "talent_pool_demand"),
    ("ix_talent_pool_assignment_demand", "talent_pool_assignment"),
    ("ix_talent_pool_assignment_expert", "talent_pool_assignment"),
    ("ix_talent_pool_report_study", "talent_pool_report"),
    ("ix_talent_pool_suggestion_study", "talent_pool_suggestion"),
    ("ix_talent_pool_profile_status", "talent_pool_profile"),
    ("ix_talent_pool_service_assignment", "talent_pool_service"),
    ("ix_talent_pool_service_date", "talent_pool_service"),
    ("ix_talent_pool_review_profile", "talent_pool_review"),
)


def upgrade() -> None:
    op.create_table(
        "talent_pool_demand",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("requester_kind", sa.String(length=16), nullable=False),
        sa.Column("requester_name", sa.String(length=100), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "requester_kind IN ('village', 'enterprise', 'school', 'community', 'other')",
            name=op.f("ck_talent_pool_demand_requester_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'met', 'cancelled')", name=op.f("ck_talent_pool_demand_status_known")
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_talent_pool_demand_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_demand_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_demand")),
    )
    op.create_index("ix_talent_pool_demand_status", "talent_pool_demand", ["tenant_id", "status"], unique=False)
    op.create_table(
        "talent_pool_station",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("focus", sa.String(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_station_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_station")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_talent_pool_station_name"),
    )
    op.create_table(
        "talent_pool_study",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("adviser_ids", JsonB, nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('ongoing', 'concluded')", name=op.f("ck_talent_pool_study_status_known")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_study_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_study")),
    )
    op.create_table(
        "talent_pool_assignment",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("demand_id", GUID(length=16), nullable=False),
        sa.Column("expert_tenant_id", sa.Integer(), nullable=False),
        sa.Column("expert_id", GUID(length=16), nullable=False),
        sa.Column("expert_member_id", GUID(length=16), nullable=False),
        sa.Column("expert_name", sa.String(length=64), nullable=False),
        sa.Column("expert_fields", JsonB, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", JsonB, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'declined', 'completed', 'cancelled')",
            name=op.f("ck_talent_pool_assignment_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "demand_id"],
            ["talent_pool_demand.tenant_id", "talent_pool_demand.id"],
            name=op.f("fk_talent_pool_assignment_tenant_id_talent_pool_demand"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_assignment_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_assignment")),
    )
    op.create_index(
        "ix_talent_pool_assignment_demand", "talent_pool_assignment", ["tenant_id", "demand_id"], unique=False
    )
    op.create_index(
        "ix_talent_pool_assignment_expert",
        "talent_pool_assignment",
        ["expert_tenant_id", "expert_id", "status"],
        unique=False,
    )
    op.create_table(
        "talent_pool_report",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("study_id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("file_id", GUID(length=16), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "file_id"],
            ["stored_file.tenant_id", "stored_file.id"],
            name=op.f("fk_talent_pool_report_tenant_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "study_id"],
            ["talent_pool_study.tenant_id", "talent_pool_study.id"],
            name=op.f("fk_talent_pool_report_tenant_id_talent_pool_study"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_report_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_report")),
    )
    op.create_index("ix_talent_pool_report_study", "talent_pool_report", ["tenant_id", "study_id"], unique=False)
    op.create_table(
        "talent_pool_suggestion",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("study_id", GUID(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=True),
        sa.Column("adopted_by", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "study_id"],
            ["talent_pool_study.tenant_id", "talent_pool_study.id"],
            name=op.f("fk_talent_pool_suggestion_tenant_id_talent_pool_study"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_suggestion_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_suggestion")),
    )
    op.create_index(
        "ix_talent_pool_suggestion_study", "talent_pool_suggestion", ["tenant_id", "study_id"], unique=False
    )
    op.create_table(
        "talent_pool_profile",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("fields", JsonB, nullable=False),
        sa.Column("skills", JsonB, nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("achievements", sa.Text(), nullable=False),
        sa.Column("availability", sa.String(length=16), nullable=False),
        sa.Column("availability_note", sa.String(length=200), nullable=False),
        sa.Column("willing_to_travel", sa.Boolean(), nullable=False),
        sa.Column("station_id", GUID(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "availability IN ('available', 'busy', 'unavailable')",
            name=op.f("ck_talent_pool_profile_availability_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'admitted', 'rejected', 'retired')", name=op.f("ck_talent_pool_profile_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_talent_pool_profile_tenant_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["talent_pool_station.tenant_id", "talent_pool_station.id"],
            name=op.f("fk_talent_pool_profile_tenant_id_talent_pool_station"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_profile_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_profile")),
        sa.UniqueConstraint("tenant_id", "member_id", name="uq_talent_pool_profile_member"),
    )
    op.create_index("ix_talent_pool_profile_status", "talent_pool_profile", ["tenant_id", "status"], unique=False)
    op.create_table(
        "talent_pool_service",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("assignment_id", GUID(length=16), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("problems_solved", sa.Integer(), nullable=False),
        sa.Column("trainees", sa.Integer(), nullable=False),
        sa.Column("value_yuan", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("feedback_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_talent_pool_service_rating_range")
        ),
        sa.CheckConstraint("value_yuan >= 0", name=op.f("ck_talent_pool_service_value_not_negative")),
        sa.CheckConstraint(
            "visits >= 0 AND problems_solved >= 0 AND trainees >= 0",
            name=op.f("ck_talent_pool_service_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assignment_id"],
            ["talent_pool_assignment.tenant_id", "talent_pool_assignment.id"],
            name=op.f("fk_talent_pool_service_tenant_id_talent_pool_assignment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_service_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_service")),
    )
    op.create_index(
        "ix_talent_pool_service_assignment", "talent_pool_service", ["tenant_id", "assignment_id"], unique=False
    )
    op.create_index("ix_talent_pool_service_date", "talent_pool_service", ["tenant_id", "served_on"], unique=False)
    op.create_table(
        "talent_pool_review",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("profile_id", GUID(length=16), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('admit', 'reject', 'renew', 'retire')", name=op.f("ck_talent_pool_review_decision_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "profile_id"],
            ["talent_pool_profile.tenant_id", "talent_pool_profile.id"],
            name=op.f("fk_talent_pool_review_tenant_id_talent_pool_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_talent_pool_review_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_review")),
    )
    op.create_index("ix_talent_pool_review_profile", "talent_pool_review", ["tenant_id", "profile_id"], unique=False)

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    for index, table in reversed(INDEXES):
        op.drop_index(index, table_name=table)
    for table in reversed(TABLES):
        op.drop_table(table)
