"""The points plugin's tables (积分管理 + 时间银行) on its own branch ``points``; row-level security on every one.

Revision ID: 0001_points
Revises:
Create Date: 2026-11-23

``points_clearing`` is not tenant-owned: a row carries coins or points from one county to another, so its
policies let exactly the two tenants it names read it, the sending one insert it, and the receiving one settle it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0001_points"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("points",)
depends_on: str | Sequence[str] | None = "0007_reports"

TENANT_TABLES = (
    "points_balance",
    "points_catalogue_item",
    "points_coin_account",
    "points_coin_entry",
    "points_cycle",
    "points_entry",
    "points_proposal",
    "points_publication",
    "points_year_result",
    "points_objection",
    "points_redemption",
)
CLEARING = "points_clearing"
BOTH = "(yinling_can_read(from_tenant) OR yinling_can_read(to_tenant))"


def _clearing_rls() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {CLEARING} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {CLEARING} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {CLEARING}_read ON {CLEARING} FOR SELECT USING {BOTH}")
    op.execute(f"CREATE POLICY {CLEARING}_insert ON {CLEARING} FOR INSERT WITH CHECK (yinling_can_write(from_tenant))")
    op.execute(
        f"CREATE POLICY {CLEARING}_update ON {CLEARING} FOR UPDATE "
        "USING (yinling_can_write(to_tenant)) WITH CHECK (yinling_can_write(to_tenant))"
    )


def upgrade() -> None:
    op.create_table(
        "points_clearing",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("member_name", sa.String(length=64), nullable=False),
        sa.Column("from_tenant", sa.Integer(), nullable=False),
        sa.Column("to_tenant", sa.Integer(), nullable=False),
        sa.Column("coins", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('transfer', 'exchange')", name=op.f("ck_points_clearing_kind_known")),
        sa.CheckConstraint("status IN ('pending', 'settled')", name=op.f("ck_points_clearing_status_known")),
        sa.CheckConstraint("coins >= 0", name=op.f("ck_points_clearing_coins_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_clearing")),
        sa.UniqueConstraint("kind", "ref", "member_id", name="uq_points_clearing_ref"),
    )
    op.create_index("ix_points_clearing_to", "points_clearing", ["to_tenant", "status"], unique=False)
    op.create_table(
        "points_balance",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("disqualified", sa.Boolean(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_balance_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", "year", name=op.f("pk_points_balance")),
    )
    op.create_table(
        "points_catalogue_item",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("times", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('service', 'goods')", name=op.f("ck_points_catalogue_item_kind_known")),
        sa.CheckConstraint("price > 0", name=op.f("ck_points_catalogue_item_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_points_catalogue_item_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_catalogue_item_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_catalogue_item")),
    )
    op.create_table(
        "points_coin_account",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_points_coin_account_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_coin_account_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_points_coin_account")),
    )
    op.create_table(
        "points_coin_entry",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=96), nullable=False),
        sa.Column("source_ref", sa.String(length=160), nullable=True),
        sa.Column("event_id", GUID(length=16), nullable=True),
        sa.Column("reverses_id", GUID(length=16), nullable=True),
        sa.Column("idem_key", sa.String(length=120), nullable=True),
        sa.Column("counterpart", sa.String(length=64), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("proxy_by", sa.String(length=64), nullable=True),
        sa.Column("proxy_reason", sa.String(length=200), nullable=True),
        sa.Column("consent_note", sa.String(length=200), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('earn', 'reversal', 'redeem', 'refund', 'donate_out', 'donate_in', 'exchange_out', "
            "'exchange_in', 'transfer_out', 'transfer_in', 'expire')",
            name=op.f("ck_points_coin_entry_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reverses_id"],
            ["points_coin_entry.tenant_id", "points_coin_entry.id"],
            name=op.f("fk_points_coin_entry_tenant_id_points_coin_entry"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_coin_entry_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_coin_entry")),
        sa.UniqueConstraint("tenant_id", "event_id", "member_id", name="uq_points_coin_entry_event"),
        sa.UniqueConstraint("tenant_id", "idem_key", name="uq_points_coin_entry_idem"),
        sa.UniqueConstraint("tenant_id", "reverses_id", name="uq_points_coin_entry_reverses"),
    )
    op.create_index(
        "ix_points_coin_entry_member", "points_coin_entry", ["tenant_id", "member_id", "on_date"], unique=False
    )
    op.create_index("ix_points_coin_entry_ref", "points_coin_entry", ["tenant_id", "source_ref"], unique=False)
    op.create_table(
        "points_cycle",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("year_end", sa.String(length=8), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_points_cycle_status_known")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_cycle_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_cycle")),
        sa.UniqueConstraint("tenant_id", "year", name="uq_points_cycle_year"),
    )
    op.create_table(
        "points_entry",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("rule_code", sa.String(length=48), nullable=False),
        sa.Column("points", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("hours", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("disqualifies", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=96), nullable=False),
        sa.Column("source_ref", sa.String(length=160), nullable=True),
        sa.Column("event_id", GUID(length=16), nullable=True),
        sa.Column("reverses_id", GUID(length=16), nullable=True),
        sa.Column("proposal_id", GUID(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("proxy_by", sa.String(length=64), nullable=True),
        sa.Column("proxy_reason", sa.String(length=200), nullable=True),
        sa.Column("consent_note", sa.String(length=200), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('event', 'manual', 'reversal', 'carry', 'transfer_in', 'transfer_out')",
            name=op.f("ck_points_entry_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reverses_id"],
            ["points_entry.tenant_id", "points_entry.id"],
            name=op.f("fk_points_entry_tenant_id_points_entry"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_entry_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_entry")),
        sa.UniqueConstraint("tenant_id", "event_id", "member_id", "rule_code", name="uq_points_entry_event"),
        sa.UniqueConstraint("tenant_id", "reverses_id", name="uq_points_entry_reverses"),
    )
    op.create_index("ix_points_entry_member_year", "points_entry", ["tenant_id", "member_id", "year"], unique=False)
    op.create_index("ix_points_entry_ref", "points_entry", ["tenant_id", "source_ref"], unique=False)
    op.create_table(
        "points_proposal",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("rule_code", sa.String(length=48), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("hours", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("entry_id", GUID(length=16), nullable=True),
        sa.Column("proxy_by", sa.String(length=64), nullable=True),
        sa.Column("proxy_reason", sa.String(length=200), nullable=True),
        sa.Column("consent_note", sa.String(length=200), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected')", name=op.f("ck_points_proposal_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_proposal_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_proposal")),
    )
    op.create_index("ix_points_proposal_status", "points_proposal", ["tenant_id", "status"], unique=False)
    op.create_table(
        "points_publication",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("org_id", GUID(length=16), nullable=True),
        sa.Column("scope_name", sa.String(length=128), nullable=False),
        sa.Column("rows", JsonB, nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name=op.f("ck_points_publication_quarter_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_publication_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_publication")),
        sa.UniqueConstraint("tenant_id", "year", "quarter", "scope_key", name="uq_points_publication_scope"),
    )
    op.create_table(
        "points_year_result",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("member_name", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "rating IN ('stars', 'unqualified', 'disqualified', 'exempt')",
            name=op.f("ck_points_year_result_rating_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_year_result_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "year", "member_id", name=op.f("pk_points_year_result")),
    )
    op.create_table(
        "points_objection",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("publication_id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("steps", JsonB, nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('raised', 'investigating', 'answered', 'filed')", name=op.f("ck_points_objection_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "publication_id"],
            ["points_publication.tenant_id", "points_publication.id"],
            name=op.f("fk_points_objection_tenant_id_points_publication"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_objection_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_objection")),
    )
    op.create_table(
        "points_redemption",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("item_id", GUID(length=16), nullable=False),
        sa.Column("member_id", GUID(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("coins", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("redeemed_by", sa.String(length=64), nullable=False),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("proxy_by", sa.String(length=64), nullable=True),
        sa.Column("proxy_reason", sa.String(length=200), nullable=True),
        sa.Column("consent_note", sa.String(length=200), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('redeemed', 'cancelled')", name=op.f("ck_points_redemption_status_known")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_points_redemption_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["points_catalogue_item.tenant_id", "points_catalogue_item.id"],
            name=op.f("fk_points_redemption_tenant_id_points_catalogue_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_points_redemption_tenant_id_tenant"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_redemption")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_points_redemption_key"),
    )

    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    _clearing_rls()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for suffix in ("read", "insert", "update"):
            op.execute(f"DROP POLICY IF EXISTS {CLEARING}_{suffix} ON {CLEARING}")
        op.execute(f"ALTER TABLE {CLEARING} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {CLEARING} DISABLE ROW LEVEL SECURITY")
    for table in reversed(TENANT_TABLES):
        disable_tenant_rls(table)
    op.drop_table("points_redemption")
    op.drop_table("points_objection")
    op.drop_table("points_year_result")
    op.drop_table("points_publication")
    op.drop_index("ix_points_proposal_status", table_name="points_proposal")
    op.drop_table("points_proposal")
    op.drop_index("ix_points_entry_ref", table_name="points_entry")
    op.drop_index("ix_points_entry_member_year", table_name="points_entry")
    op.drop_table("points_entry")
    op.drop_table("points_cycle")
    op.drop_index("ix_points_coin_entry_ref", table_name="points_coin_entry")
    op.drop_index("ix_points_coin_entry_member", table_name="points_coin_entry")
    op.drop_table("points_coin_entry")
    op.drop_table("points_coin_account")
    op.drop_table("points_catalogue_item")
    op.drop_table("points_balance")
    op.drop_index("ix_points_clearing_to", table_name="points_clearing")
    op.drop_table("points_clearing")
