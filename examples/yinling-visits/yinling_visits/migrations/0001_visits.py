"""The visits plugin's tables, on its own branch ``visits``; row-level security on every one.

Revision ID: 0001_visits
Revises:
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0001_visits"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("visits",)
depends_on: str | Sequence[str] | None = "0002_plugins_events"

TABLES = ("visits_plan", "visits_record", "visits_follow_up", "visits_tally", "visits_consumed_event")
KINDS = "kind IN ('节日慰问', '生病探望', '生日慰问', '困难帮扶', '日常走访')"


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenant.id"], name=op.f(f"fk_{table}_tenant_id_tenant"), ondelete="RESTRICT"
    )


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "visits_plan",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("person_name", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(KINDS, name=op.f("ck_visits_plan_kind_known")),
        sa.CheckConstraint("status IN ('planned', 'done', 'cancelled')", name=op.f("ck_visits_plan_status_known")),
        _tenant_fk("visits_plan"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_visits_plan")),
    )
    op.create_index("ix_visits_plan_tenant_date", "visits_plan", ["tenant_id", "planned_date"])

    op.create_table(
        "visits_record",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("plan_id", GUID(length=16), nullable=True),
        sa.Column("person_name", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("needs", JsonB, nullable=False),
        sa.Column("follow_up_required", sa.Boolean(), nullable=False),
        sa.Column("follow_up_due", sa.Date(), nullable=True),
        sa.Column("photo_file_id", GUID(length=16), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(KINDS, name=op.f("ck_visits_record_kind_known")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_visits_record_duration_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_id"],
            ["visits_plan.tenant_id", "visits_plan.id"],
            name="fk_visits_record_plan",
            ondelete="RESTRICT",
        ),
        _tenant_fk("visits_record"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_visits_record")),
    )
    op.create_index("ix_visits_record_tenant_date", "visits_record", ["tenant_id", "visited_on"])

    op.create_table(
        "visits_follow_up",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("record_id", GUID(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "record_id"],
            ["visits_record.tenant_id", "visits_record.id"],
            name="fk_visits_follow_up_record",
            ondelete="RESTRICT",
        ),
        _tenant_fk("visits_follow_up"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_visits_follow_up")),
    )
    op.create_index("ix_visits_follow_up_open", "visits_follow_up", ["tenant_id", "done", "due_on"])

    op.create_table(
        "visits_tally",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        _tenant_fk("visits_tally"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_visits_tally")),
    )
    op.create_table(
        "visits_consumed_event",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=96), nullable=False),
        sa.Column("consumed_at", DateTimeUTC(timezone=True), nullable=False),
        _tenant_fk("visits_consumed_event"),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_visits_consumed_event")),
    )

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_table("visits_consumed_event")
    op.drop_table("visits_tally")
    op.drop_index("ix_visits_follow_up_open", table_name="visits_follow_up")
    op.drop_table("visits_follow_up")
    op.drop_index("ix_visits_record_tenant_date", table_name="visits_record")
    op.drop_table("visits_record")
    op.drop_index("ix_visits_plan_tenant_date", table_name="visits_plan")
    op.drop_table("visits_plan")
