"""The mediation plugin's tables, on its own branch ``mediation``; row-level security on every one.

Revision ID: 0001_mediation
Revises:
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0001_mediation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("mediation",)
depends_on: str | Sequence[str] | None = "0007_reports"

# Creation order (foreign keys point backwards); dropped in reverse.
TABLES = (
    "mediation_room",
    "mediation_template",
    "mediation_mediator",
    "mediation_case",
    "mediation_party",
    "mediation_case_mediator",
    "mediation_step",
    "mediation_attachment",
)

STATUS_CHECK = (
    "status IN ('intake', 'investigating', 'mediating', 'settled', 'failed', 'referred', 'performing', "
    "'followed_up', 'voided')"
)
ATTACHMENT_KIND_CHECK = (
    "kind IN ('application', 'identity', 'investigation', 'record', 'agreement', 'follow_up', 'evidence', "
    "'dossier', 'other')"
)


def upgrade() -> None:
    op.create_table(
        "mediation_room",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("opening_hours", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('mediation_room', 'petition_room', 'family_centre', 'other')",
            name=op.f("ck_mediation_room_kind_known"),
        ),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name=op.f("ck_mediation_room_closed_after_opened")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_room_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_mediation_room")),
    )
    op.create_table(
        "mediation_case",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("room_id", GUID(length=16), nullable=False),
        sa.Column("number", sa.String(length=48), nullable=False),
        sa.Column("case_type", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("rights_notified", sa.Boolean(), nullable=False),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("referred_to", sa.String(length=16), nullable=True),
        sa.Column("referred_to_name", sa.String(length=128), nullable=False),
        sa.Column("agreement", JsonB, nullable=False),
        sa.Column("followed_up_on", sa.Date(), nullable=True),
        sa.Column("confirmed_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "case_type IN ('neighbour', 'family', 'marriage', 'property', 'labour', 'petition', 'other')",
            name=op.f("ck_mediation_case_type_known"),
        ),
        sa.CheckConstraint(
            "referred_to IS NULL OR referred_to IN ('court', 'committee', 'department')",
            name=op.f("ck_mediation_case_referral_known"),
        ),
        sa.CheckConstraint(
            "source IN ('walk_in', 'referral', 'petition')", name=op.f("ck_mediation_case_source_known")
        ),
        sa.CheckConstraint(
            STATUS_CHECK,
            name=op.f("ck_mediation_case_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "room_id"],
            ["mediation_room.tenant_id", "mediation_room.id"],
            name=op.f("fk_mediation_case_tenant_id_mediation_room"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_case_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_mediation_case")),
    )
    op.create_index("ix_mediation_case_received", "mediation_case", ["tenant_id", "received_on"], unique=False)
    op.create_index("ix_mediation_case_room", "mediation_case", ["tenant_id", "room_id", "status"], unique=False)
    op.create_index("uq_mediation_case_number", "mediation_case", ["tenant_id", "number"], unique=True)
    op.create_table(
        "mediation_template",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", GUID(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "file_id"],
            ["stored_file.tenant_id", "stored_file.id"],
            name=op.f("fk_mediation_template_tenant_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_template_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "kind", name=op.f("pk_mediation_template")),
    )
    op.create_table(
        "mediation_attachment",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("case_id", GUID(length=16), nullable=False),
        sa.Column("file_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            ATTACHMENT_KIND_CHECK,
            name=op.f("ck_mediation_attachment_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["mediation_case.tenant_id", "mediation_case.id"],
            name=op.f("fk_mediation_attachment_tenant_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "file_id"],
            ["stored_file.tenant_id", "stored_file.id"],
            name=op.f("fk_mediation_attachment_tenant_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_attachment_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_mediation_attachment")),
    )
    op.create_index("ix_mediation_attachment_case", "mediation_attachment", ["tenant_id", "case_id"], unique=False)
    op.create_table(
        "mediation_mediator",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("room_id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=True),
        sa.Column("specialties", JsonB, nullable=False),
        sa.Column("availability", sa.String(length=255), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["member.tenant_id", "member.id"],
            name=op.f("fk_mediation_mediator_tenant_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "room_id"],
            ["mediation_room.tenant_id", "mediation_room.id"],
            name=op.f("fk_mediation_mediator_tenant_id_mediation_room"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_mediator_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_mediation_mediator")),
    )
    op.create_index("ix_mediation_mediator_user", "mediation_mediator", ["user_id"], unique=False)
    op.create_index(
        "uq_mediation_mediator_room_member", "mediation_mediator", ["tenant_id", "room_id", "member_id"], unique=True
    )
    op.create_table(
        "mediation_party",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("case_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=False),
        sa.Column("representative", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=512), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=512), nullable=True),
        sa.Column("address", sa.String(length=512), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'organisation')", name=op.f("ck_mediation_party_kind_known")),
        sa.CheckConstraint(
            "side IN ('applicant', 'respondent', 'third_party')", name=op.f("ck_mediation_party_side_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["mediation_case.tenant_id", "mediation_case.id"],
            name=op.f("fk_mediation_party_tenant_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_party_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_mediation_party")),
    )
    op.create_index("ix_mediation_party_case", "mediation_party", ["tenant_id", "case_id"], unique=False)
    op.create_index("ix_mediation_party_id_index", "mediation_party", ["tenant_id", "id_number_index"], unique=False)
    op.create_table(
        "mediation_step",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("case_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", JsonB, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["mediation_case.tenant_id", "mediation_case.id"],
            name=op.f("fk_mediation_step_tenant_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_step_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_mediation_step")),
    )
    op.create_index("ix_mediation_step_case", "mediation_step", ["tenant_id", "case_id", "seq"], unique=False)
    op.create_table(
        "mediation_case_mediator",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", GUID(length=16), nullable=False),
        sa.Column("mediator_id", GUID(length=16), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["mediation_case.tenant_id", "mediation_case.id"],
            name=op.f("fk_mediation_case_mediator_tenant_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "mediator_id"],
            ["mediation_mediator.tenant_id", "mediation_mediator.id"],
            name=op.f("fk_mediation_case_mediator_tenant_id_mediation_mediator"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mediation_case_mediator_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "case_id", "mediator_id", name=op.f("pk_mediation_case_mediator")),
    )
    # ### end Alembic commands ###
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
        op.drop_table(table)
