"""Maintained report aggregates (report_sum, report_subject, report_distinct) with row-level security.

Revision ID: 0007_reports
Revises: 0006_committee
Create Date: 2026-11-23 10:00:00

Reads follow the usual tenant policy. ``report_sum`` is written only in the writer's tenant. The distinct
tables keep rows at every ancestor of the tenant where a fact happened, so their write policy also accepts the
transaction-local ``yinling.report_upkeep`` setting that :func:`core.reports.facts.record` raises around those
two statements and lowers right after (since 0008 the function ``yinling_report_count`` does so, within one call).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0007_reports"
down_revision: str | Sequence[str] | None = "0006_committee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPKEEP = "(yinling_can_write(tenant_id) OR coalesce(current_setting('yinling.report_upkeep', true), 'off') = 'on')"


def _upkeep_rls(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # ON CONFLICT DO UPDATE … RETURNING reads the ancestor's row too, so the upkeep may see what it updates.
    op.execute(
        f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (yinling_can_read(tenant_id) OR "
        "coalesce(current_setting('yinling.report_upkeep', true), 'off') = 'on')"
    )
    op.execute(f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK {UPKEEP}")
    op.execute(f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING {UPKEEP} WITH CHECK {UPKEEP}")
    op.execute(f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING {UPKEEP}")


def upgrade() -> None:
    op.create_table(
        "report_sum",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "month", name=op.f("pk_report_sum")),
    )
    op.create_table(
        "report_subject",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "period", "subject", name=op.f("pk_report_subject")),
    )
    op.create_table(
        "report_distinct",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "period", name=op.f("pk_report_distinct")),
    )
    enable_tenant_rls("report_sum")
    _upkeep_rls("report_subject")
    _upkeep_rls("report_distinct")


def downgrade() -> None:
    for table in ("report_distinct", "report_subject", "report_sum"):
        disable_tenant_rls(table)
        op.drop_table(table)
