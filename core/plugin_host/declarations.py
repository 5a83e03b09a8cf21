"""What plugins declare to the host: their identity, navigation items, metrics, member panels, and the
context objects hooks receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.identity.principal import Principal
    from core.identity.roles import RoleRegistry
    from core.tenancy.tree import TenantNode, TenantTree


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's identity, declared as ``PLUGIN = PluginInfo(...)`` in the module the entry point names."""

    name: str  # short, lowercase, [a-z][a-z0-9_]*, also the URL segment
    version: str
    title_zh: str
    title_en: str
    description: str = ""
    depends: tuple[str, ...] = ()  # names of plugins that must be installed and active alongside
    min_core_version: str = "0.1.0"


@dataclass(frozen=True)
class NavItem:
    """One navigation entry of the web console."""

    label_zh: str
    label_en: str
    path: str  # relative to the tenant's console root, e.g. "points/ledger"
    permission: str
    icon: str = ""
    order: int = 100


class Aggregation(StrEnum):
    """How a metric rolls up the tenant tree; a rate is always recomputed from two sums, never averaged."""

    SUM = "sum"  # a flow: facts in the period, summed over the subtree (活动场次, 参与人次, 服务时长)
    DISTINCT_COUNT = "distinct_count"  # subjects counted once per period and level (facts carry ``subject``)
    RATE = "rate"  # numerator / denominator, both SUM metrics, each summed first
    LEVEL = "level"  # a stock: every fact up to the period's end, summed (辅导站数, 在库专家数, 党员数)


@dataclass(frozen=True)
class MetricSpec:
    id: str  # "<plugin>.<metric>", e.g. "mediation.cases_settled"
    label_zh: str
    label_en: str
    unit_zh: str
    unit_en: str
    aggregation: Aggregation = Aggregation.SUM
    numerator: str | None = None  # for RATE: ids of the two summed metrics
    denominator: str | None = None


@dataclass(frozen=True)
class MemberPanel:
    title_zh: str
    title_en: str
    items: list[dict[str, Any]] = field(default_factory=list)  # label/value pairs or timeline entries
    order: int = 100


@dataclass
class PluginContext:
    """What a hook receives about where it runs: the tenant, the tree, a scoped session, who is acting."""

    plugin: str
    tenant: TenantNode
    tree: TenantTree
    session: AsyncSession
    settings: dict[str, Any]
    principal: Principal | None = None
    roles: RoleRegistry | None = None

    def can(self, permission: str) -> bool:
        if self.principal is None or self.roles is None:
            return False
        return self.principal.can(self.tree, self.roles, self.tenant.id, permission)
