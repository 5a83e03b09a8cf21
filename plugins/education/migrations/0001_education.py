"""The education plugin's tables (stations, counsellors, activities, photos, pairings) on its own branch
``education``; row-level security on every one. Personal data columns hold ciphertext (EncryptedText).

Revision ID: 0001_education
Revises:
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0001_education"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("education",)
depends_on: str | Sequence[str] | None = "0003_orgs_members"

TABLES = (
    "education_station",
    "education_activity",
    "education_station_status_change",
    "education_activity_photo",
    "education_counsellor",
    "education_activity_counsellor",
    "education_counsellor_station",
    "education_pairing",
)
INDEXES = (
    ("ix_education_station_tenant_status", "education_station"),
    ("ix_education_activity_station", "education_activity"),
    ("ix_education_activity_tenant_date", "education_activity"),
    ("ix_education_station_status_change_station", "education_station_status_change"),
    ("ix_education_activity_photo_activity", "education_activity_photo"),
    ("ix_education_counsellor_member", "education_counsellor"),
    ("ix_education_activity_counsellor_counsellor", "education_activity_counsellor"),
    ("ix_education_pairing_counsellor", "education_pairing"),
)


def upgrade() -> None:
    op.create_table(
        "education_station",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("place_kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("partner_school", sa.String(length=64), nullable=False),
        sa.Column("contact_name", sa.String(length=32), nullable=False),
        sa.Column("contact_phone", sa.String(length=512), nullable=True),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "place_kind IN ('school', 'community', 'village')", name=op.f("ck_education_station_place_kind_known")
        ),
        sa.CheckConstraint("status IN ('open', 'suspended', 'closed')", name=op.f("ck_education_station_status_known")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_education_station_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_education_station")),
    )
    op.create_index("ix_education_station_tenant_status", "education_station", ["tenant_id", "status"], unique=False)
    op.create_table(
        "education_activity",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("station_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.Column("parents", sa.Integer(), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("withdrawn_reason", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('red_history', 'tutoring', 'reading', 'safety', 'internet_cafe', 'pairing', 'other')",
            name=op.f("ck_education_activity_kind_known"),
        ),
        sa.CheckConstraint("status IN ('recorded', 'withdrawn')", name=op.f("ck_education_activity_status_known")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_education_activity_duration_positive")),
        sa.CheckConstraint(
            "students >= 0 AND parents >= 0 AND teachers >= 0", name=op.f("ck_education_activity_audience_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            name=op.f("fk_education_activity_tenant_id_education_station"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_education_activity_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_education_activity")),
    )
    op.create_index("ix_education_activity_station", "education_activity", ["tenant_id", "station_id"], unique=False)
    op.create_index("ix_education_activity_tenant_date", "education_activity", ["tenant_id", "held_on"], unique=False)
    op.create_table(
        "education_station_status_change",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("station_id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'suspended', 'closed')", name=op.f("ck_education_station_status_change_status_known")
        ),
        sa.CheckConstraint("delta IN (-1, 0, 1)", name=op.f("ck_education_station_status_change_delta_unit")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            name=op.f("fk_education_station_status_change_tenant_id_education_station"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_education_station_status_change_tenant_id_tenant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_education_station_status_change")),
    )
    op.create_index(
        "ix_education_station_status_change_station",
        "education_station_status_change",
        ["tenant_id", "station_id"],
        unique=False,
    )
    op.create_table(
        "education_activity_photo",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("activity_id", GUID(length=16), nullable=False),
        sa.Column("file_id", GUID(length=16), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["education_activity.tenant_id", "education_activity.id"],
            name=op.f("fk_education_activity_photo_tenant_id_education_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "file_id"],
            ["stored_file.tenant_id", "stored_file.id"],
            name=op.f("fk_education_activity_photo_tenant_id_stored_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_education_activity_photo_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_education_activity_photo")),
    )
    op.create_index(
        "ix_education_activity_photo_activity", "education_activity_photo", ["tenant_id", "activity_id"], unique=False
    )
    op.create_table(
        "education_counsellor",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=True),
        sa.Column("volunteer_name", sa.String(length=512), nullable=True),
        sa.Column("volunteer_phone", sa.String(length=512), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("subjects", JsonB, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('old_cadre', 'old_soldier', 'old_expert', 'old_teacher', 'old_model')",
            name=op.f("ck_education_counsellor_category_known"),
        ),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_education_counsellor_status_known")),
        sa.CheckConstraint(
            "(member_id IS NULL) <> (volunteer_name IS NULL)", name=op.f("ck_education_counsellor_member_or_volunteer")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_education_counsellor_tenant_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_education_counsellor_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_education_counsellor")),
    )
    op.create_index("ix_education_counsellor_member", "education_counsellor", ["tenant_id", "member_id"], unique=False)
    op.create_table(
        "education_activity_counsellor",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", GUID(length=16), nullable=False),
        sa.Column("counsellor_id", GUID(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=True),
        sa.CheckConstraint(
            "category IN ('old_cadre', 'old_soldier', 'old_expert', 'old_teacher', 'old_model')",
            name=op.f("ck_education_activity_counsellor_category_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["education_activity.tenant_id", "education_activity.id"],
            name=op.f("fk_education_activity_counsellor_tenant_id_education_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "counsellor_id"],
            ["education_counsellor.tenant_id", "education_counsellor.id"],
            name=op.f("fk_education_activity_counsellor_tenant_id_education_counsellor"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_education_activity_counsellor_tenant_id_tenant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "activity_id", "counsellor_id", name=op.f("pk_education_activity_counsellor")
        ),
    )
    op.create_index(
        "ix_education_activity_counsellor_counsellor",
        "education_activity_counsellor",
        ["tenant_id", "counsellor_id"],
        unique=False,
    )
    op.create_table(
        "education_counsellor_station",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", GUID(length=16), nullable=False),
        sa.Column("station_id", GUID(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "counsellor_id"],
            ["education_counsellor.tenant_id", "education_counsellor.id"],
            name=op.f("fk_education_counsellor_station_tenant_id_education_counsellor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            name=op.f("fk_education_counsellor_station_tenant_id_education_station"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_education_counsellor_station_tenant_id_tenant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "counsellor_id", "station_id", name=op.f("pk_education_counsellor_station")
        ),
    )
    op.create_table(
        "education_pairing",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("counsellor_id", GUID(length=16), nullable=False),
        sa.Column("station_id", GUID(length=16), nullable=True),
        sa.Column("student_alias", sa.String(length=512), nullable=False),
        sa.Column("student_school", sa.String(length=512), nullable=False),
        sa.Column("student_grade", sa.String(length=512), nullable=False),
        sa.Column("guardian_name", sa.String(length=512), nullable=False),
        sa.Column("guardian_relation", sa.String(length=16), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("consent_record", sa.String(length=512), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("goal", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_education_pairing_status_known")),
        sa.CheckConstraint("ends_on >= started_on", name=op.f("ck_education_pairing_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "counsellor_id"],
            ["education_counsellor.tenant_id", "education_counsellor.id"],
            name=op.f("fk_education_pairing_tenant_id_education_counsellor"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "station_id"],
            ["education_station.tenant_id", "education_station.id"],
            name=op.f("fk_education_pairing_tenant_id_education_station"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_education_pairing_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_education_pairing")),
    )
    op.create_index(
        "ix_education_pairing_counsellor", "education_pairing", ["tenant_id", "counsellor_id"], unique=False
    )

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    for index, table in INDEXES:
        op.drop_index(index, table_name=table)
    for table in (
        "education_pairing",
        "education_counsellor_station",
        "education_activity_counsellor",
        "education_counsellor",
        "education_activity_photo",
        "education_station_status_change",
        "education_activity",
        "education_station",
    ):
        op.drop_table(table)
