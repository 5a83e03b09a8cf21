"""Per-tenant activation and settings of a plugin."""

from __future__ import annotations

import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantOwned, utcnow


class PluginActivation(TenantOwned, Base):
    """What tenant ``tenant_id`` said about plugin ``plugin``.

    ``state``: ``enabled`` / ``disabled`` for the tenant itself, NULL to inherit from above.
    ``policy``: ``mandate`` / ``forbid`` for the tenant's whole subtree, NULL for none.
    ``settings``: the tenant's overrides of the plugin's settings (inherited down the tree).
    """

    __tablename__ = "plugin_activation"
    __table_args__ = (
        CheckConstraint("state IS NULL OR state IN ('enabled', 'disabled')", name="state_known"),
        CheckConstraint("policy IS NULL OR policy IN ('mandate', 'forbid')", name="policy_known"),
    )

    plugin: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    policy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False, default="system")
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, nullable=False, default=utcnow, onupdate=utcnow)
