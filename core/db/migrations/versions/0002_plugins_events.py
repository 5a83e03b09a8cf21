"""Plugin activation per tenant, the event outbox and deliveries; row-level security on all three.

Revision ID: 0002_plugins_events
Revises: 0001_core
Create Date: 2026-11-23 07:02:26.696460

"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0002_plugins_events"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=96), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("payload", JsonB, nullable=False),
        sa.Column("occurred_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("dispatched_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_outbox_event_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outbox_event")),
    )
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_event_pending", ["dispatched_at", "occurred_at"], unique=False)

    op.create_table(
        "plugin_activation",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("policy", sa.String(length=16), nullable=True),
        sa.Column("settings", JsonB, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "policy IS NULL OR policy IN ('mandate', 'forbid')", name=op.f("ck_plugin_activation_policy_known")
        ),
        sa.CheckConstraint(
            "state IS NULL OR state IN ('enabled', 'disabled')", name=op.f("ck_plugin_activation_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_plugin_activation_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "plugin", name=op.f("pk_plugin_activation")),
    )
    op.create_table(
        "event_delivery",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=False),
        sa.Column("consumer", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["outbox_event.tenant_id", "outbox_event.id"],
            name=op.f("fk_event_delivery_tenant_id_outbox_event"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_event_delivery_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", "consumer", name=op.f("pk_event_delivery")),
    )
    with op.batch_alter_table("event_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_event_delivery_due", ["status", "next_attempt_at"], unique=False)

    for table in ("plugin_activation", "outbox_event", "event_delivery"):
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in ("event_delivery", "outbox_event", "plugin_activation"):
        disable_tenant_rls(table)
    with op.batch_alter_table("event_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_event_delivery_due")

    op.drop_table("event_delivery")
    op.drop_table("plugin_activation")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_event_pending")

    op.drop_table("outbox_event")
