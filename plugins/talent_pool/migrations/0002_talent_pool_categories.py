"""Experts by category of the province-wide classification: ``talent_pool_expert_category`` (spans of days an
admitted expert counts in a category), with row-level security.

Experts admitted before this revision get their spans from their fields (a field named like a category belongs
to it, any other to 其他: no tenant has ``field_categories`` yet), opened the day they were admitted, and the
aggregates of ``talent_pool.experts.<category>`` get the same facts, so reports need no rebuild.

Revision ID: 0002_talent_pool_categories
Revises: 0001_talent_pool
Create Date: 2026-11-24

"""

import datetime
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite
from uuid_utils.compat import uuid7

from core.db.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision: str = "0002_talent_pool_categories"
down_revision: str | Sequence[str] | None = "0001_talent_pool"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "talent_pool_expert_category"
OPEN = "to_on IS NULL"
METRIC_PREFIX = "talent_pool.experts."
#: The classification as this revision knew it (category title → code); later edits to the code don't apply here.
TITLES = {
    "教育": "education",
    "医疗卫生": "medicine",
    "农业": "agriculture",
    "科技": "technology",
    "法律": "law",
    "经济管理": "economics",
    "文化艺术": "culture",
    "工程建设": "engineering",
    "党建宣传": "party_building",
    "社会工作": "social_work",
    "生态环保": "ecology",
    "体育健康": "sports_health",
}
ORDER = [*TITLES.values(), "other"]
REPORT_SUM = sa.table(
    "report_sum",
    sa.column("tenant_id", sa.Integer()),
    sa.column("metric", sa.String()),
    sa.column("month", sa.Date()),
    sa.column("value", sa.Numeric(20, 4)),
)


def _all_tenants(on: bool) -> None:
    """Let the owner role read and write every tenant's rows under the forced row-level security policies."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"SELECT set_config('yinling.all_tenants', '{'on' if on else 'off'}', true)"))


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("profile_id", GUID(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("from_on", sa.Date(), nullable=False),
        sa.Column("to_on", sa.Date(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "to_on IS NULL OR to_on >= from_on", name=op.f("ck_talent_pool_expert_category_dates_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "profile_id"],
            ["talent_pool_profile.tenant_id", "talent_pool_profile.id"],
            name=op.f("fk_talent_pool_expert_category_tenant_id_talent_pool_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_talent_pool_expert_category_tenant_id_tenant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_talent_pool_expert_category")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_talent_pool_expert_category_profile", ["tenant_id", "profile_id"], unique=False)
        batch_op.create_index(
            "uq_talent_pool_expert_category_open",
            ["tenant_id", "profile_id", "category"],
            unique=True,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
    enable_tenant_rls(TABLE)
    _all_tenants(True)
    try:
        _backfill()
    finally:
        _all_tenants(False)


def _backfill() -> None:
    bind = op.get_bind()
    profile = sa.table(
        "talent_pool_profile",
        sa.column("tenant_id", sa.Integer()),
        sa.column("id", GUID(length=16)),
        sa.column("fields", JsonB),
        sa.column("status", sa.String()),
        sa.column("admitted_on", sa.Date()),
    )
    spans = sa.table(
        TABLE,
        sa.column("tenant_id", sa.Integer()),
        sa.column("id", GUID(length=16)),
        sa.column("profile_id", GUID(length=16)),
        sa.column("category", sa.String()),
        sa.column("from_on", sa.Date()),
        sa.column("created_at", DateTimeUTC(timezone=True)),
        sa.column("updated_at", DateTimeUTC(timezone=True)),
    )
    found = bind.execute(
        sa.select(profile.c.tenant_id, profile.c.id, profile.c.fields, profile.c.admitted_on).where(
            profile.c.status == "admitted", profile.c.admitted_on.is_not(None)
        )
    ).all()
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    sums: dict[tuple[int, str, datetime.date], int] = defaultdict(int)
    for tenant_id, profile_id, fields, admitted_on in found:
        for category in sorted({TITLES.get(f, "other") for f in fields or []}, key=ORDER.index):
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "id": uuid7(),
                    "profile_id": profile_id,
                    "category": category,
                    "from_on": admitted_on,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            sums[(tenant_id, METRIC_PREFIX + category, admitted_on.replace(day=1))] += 1
    if rows:
        bind.execute(sa.insert(spans), rows)
    if sums:
        insert = (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(REPORT_SUM)
        values = [{"tenant_id": t, "metric": m, "month": mo, "value": n} for (t, m, mo), n in sums.items()]
        stmt = insert.values(values)
        bind.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "metric", "month"],
                set_={"value": REPORT_SUM.c.value + stmt.excluded.value},
            )
        )


def downgrade() -> None:
    _all_tenants(True)
    try:
        op.execute(sa.delete(REPORT_SUM).where(REPORT_SUM.c.metric.startswith(METRIC_PREFIX, autoescape=True)))
    finally:
        _all_tenants(False)
    disable_tenant_rls(TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("uq_talent_pool_expert_category_open")
        batch_op.drop_index("ix_talent_pool_expert_category_profile")
    op.drop_table(TABLE)
