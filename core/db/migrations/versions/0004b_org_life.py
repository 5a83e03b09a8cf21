"""Organisation life (组织生活) and attendance, the "六有" checklist with evidence, "六好" items, scores and
rankings; row-level security on every table.

Revision ID: 0004b_org_life
Revises: 0003_orgs_members
Create Date: 2026-11-24 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0004b_org_life"
down_revision: str | Sequence[str] | None = "0003_orgs_members"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "ranking_publication",
    "standard_item",
    "branch_score",
    "branch_six_have",
    "meeting",
    "ranking_entry",
    "branch_score_line",
    "meeting_attendance",
    "six_have_evidence",
)
INDEXES = (
    ("ix_branch_score_year", "branch_score"),
    ("ix_meeting_tenant_held_on", "meeting"),
    ("ix_meeting_tenant_org", "meeting"),
    ("ix_ranking_entry_year", "ranking_entry"),
    ("ix_meeting_attendance_member", "meeting_attendance"),
    ("ix_six_have_evidence_item", "six_have_evidence"),
)


def upgrade() -> None:
    op.create_table(
        "ranking_publication",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("branches", sa.Integer(), nullable=False),
        sa.Column("model_branches", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_ranking_publication_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "year", name=op.f("pk_ranking_publication")),
    )
    op.create_table(
        "standard_item",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("aspect", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("max_points", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("unit_points", sa.Numeric(precision=7, scale=1), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('bonus', 'deduction')", name=op.f("ck_standard_item_kind_known")),
        sa.CheckConstraint("max_points > 0", name=op.f("ck_standard_item_max_positive")),
        sa.CheckConstraint("unit_points IS NULL OR unit_points > 0", name=op.f("ck_standard_item_unit_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_standard_item_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_standard_item")),
        sa.UniqueConstraint("tenant_id", "aspect", "name", name="uq_standard_item_name"),
    )
    op.create_table(
        "branch_score",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("bonus", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("deduction", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("total", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("list_source", sa.String(length=160), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scored_by", sa.String(length=64), nullable=False),
        sa.Column("scored_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_branch_score_tenant_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_branch_score_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "org_id", "year", name=op.f("pk_branch_score")),
    )
    op.create_index("ix_branch_score_year", "branch_score", ["tenant_id", "year"], unique=False)
    op.create_table(
        "branch_six_have",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("item", sa.String(length=16), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.String(length=64), nullable=False),
        sa.Column("checked_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "item IN ('place', 'sign', 'facilities', 'rules', 'funds', 'activities')",
            name=op.f("ck_branch_six_have_item_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_branch_six_have_tenant_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_branch_six_have_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "org_id", "item", name=op.f("pk_branch_six_have")),
    )
    op.create_table(
        "meeting",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("lecturer", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("cancelled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('branch_congress', 'committee', 'group', 'lecture', 'theme_day', 'oath', 'political_birthday', 'other')",
            name=op.f("ck_meeting_kind_known"),
        ),
        sa.CheckConstraint("mode IN ('offline', 'online', 'hybrid')", name=op.f("ck_meeting_mode_known")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_meeting_duration_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_meeting_tenant_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_meeting_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_meeting")),
    )
    op.create_index("ix_meeting_tenant_held_on", "meeting", ["tenant_id", "held_on"], unique=False)
    op.create_index("ix_meeting_tenant_org", "meeting", ["tenant_id", "org_id"], unique=False)
    op.create_table(
        "ranking_entry",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("publisher_tenant_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("is_model", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publisher_tenant_id"],
            ["tenant.id"],
            name=op.f("fk_ranking_entry_publisher_tenant_id_tenant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id"],
            ["organization.tenant_id", "organization.id"],
            name=op.f("fk_ranking_entry_tenant_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_ranking_entry_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "publisher_tenant_id", "year", "org_id", name=op.f("pk_ranking_entry")),
    )
    op.create_index("ix_ranking_entry_year", "ranking_entry", ["tenant_id", "year"], unique=False)
    op.create_table(
        "branch_score_line",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("item_id", GUID(length=16), nullable=False),
        sa.Column("aspect", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("max_points", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("unit_points", sa.Numeric(precision=7, scale=1), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("points", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint("kind IN ('bonus', 'deduction')", name=op.f("ck_branch_score_line_kind_known")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_branch_score_line_points_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id", "year"],
            ["branch_score.tenant_id", "branch_score.org_id", "branch_score.year"],
            name=op.f("fk_branch_score_line_tenant_id_branch_score"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_branch_score_line_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "org_id", "year", "item_id", name=op.f("pk_branch_score_line")),
    )
    op.create_table(
        "meeting_attendance",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column(
            "credit",
            JsonB,
            nullable=True,
        ),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('present', 'absent', 'excused')", name=op.f("ck_meeting_attendance_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "meeting_id"],
            ["meeting.tenant_id", "meeting.id"],
            name=op.f("fk_meeting_attendance_tenant_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_meeting_attendance_tenant_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_meeting_attendance_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "meeting_id", "member_id", name=op.f("pk_meeting_attendance")),
    )
    op.create_index("ix_meeting_attendance_member", "meeting_attendance", ["tenant_id", "member_id"], unique=False)
    op.create_table(
        "six_have_evidence",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=False),
        sa.Column("item", sa.String(length=16), nullable=False),
        sa.Column("file_id", GUID(length=16), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "file_id"],
            ["stored_file.tenant_id", "stored_file.id"],
            name=op.f("fk_six_have_evidence_tenant_id_stored_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_id", "item"],
            ["branch_six_have.tenant_id", "branch_six_have.org_id", "branch_six_have.item"],
            name=op.f("fk_six_have_evidence_tenant_id_branch_six_have"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_six_have_evidence_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_six_have_evidence")),
    )
    op.create_index("ix_six_have_evidence_item", "six_have_evidence", ["tenant_id", "org_id", "item"], unique=False)

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    for index, table in INDEXES:
        op.drop_index(index, table_name=table)
    for table in reversed(TABLES):
        op.drop_table(table)
