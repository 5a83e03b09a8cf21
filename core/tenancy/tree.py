"""An in-memory snapshot of the tenant tree: subtrees, ancestors and lookups without further queries.

The whole tree of a province is ~110 rows, so each unit of work loads it once (:func:`load_tree`) and
answers every scope question from memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.tenancy.models import Tenant, TenantLevel

TENANT_NOT_FOUND = ErrorSpec(
    "tenant.not_found", 404, "找不到行政区划代码为 {code} 的单位", "No tenant with division code {code}"
)


@dataclass(frozen=True)
class TenantNode:
    id: int
    code: str
    name: str
    level: TenantLevel
    parent_id: int | None
    path: str
    is_active: bool


@dataclass
class TenantTree:
    nodes: dict[int, TenantNode] = field(default_factory=dict)
    by_code: dict[str, TenantNode] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: Iterable[TenantNode]) -> TenantTree:
        tree = cls()
        for node in sorted(rows, key=lambda n: n.code):
            tree.nodes[node.id] = node
            tree.by_code[node.code] = node
            tree.children.setdefault(node.parent_id, []).append(node.id)
        return tree

    def get(self, code: str) -> TenantNode:
        node = self.by_code.get(code)
        if node is None:
            raise TENANT_NOT_FOUND.error(field="tenant_code", code=code)
        return node

    def find(self, code: str) -> TenantNode | None:
        return self.by_code.get(code)

    def ancestors(self, tenant_id: int) -> list[TenantNode]:
        """From the root down to the parent of ``tenant_id``."""
        out: list[TenantNode] = []
        node = self.nodes.get(tenant_id)
        while node is not None and node.parent_id is not None:
            node = self.nodes.get(node.parent_id)
            if node is not None:
                out.append(node)
        out.reverse()
        return out

    def lineage(self, tenant_id: int) -> list[TenantNode]:
        """The ancestors and the tenant itself, root first (breadcrumbs)."""
        return [*self.ancestors(tenant_id), self.nodes[tenant_id]]

    def subtree_ids(self, tenant_id: int) -> frozenset[int]:
        out: set[int] = set()
        stack = [tenant_id]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.add(current)
            stack.extend(self.children.get(current, []))
        return frozenset(out)

    def subtree(self, tenant_id: int) -> list[TenantNode]:
        return self.walk(tenant_id)

    def is_within(self, tenant_id: int, ancestor_id: int) -> bool:
        """True when ``tenant_id`` is ``ancestor_id`` or lies below it."""
        node = self.nodes.get(tenant_id)
        return node is not None and f"/{ancestor_id}/" in node.path

    def walk(self, start: int | None = None) -> list[TenantNode]:
        """Depth first, parents before children, siblings by code: the order a tree is read in."""
        out: list[TenantNode] = []
        stack = list(reversed(self.children.get(start, []))) if start is None else [start]
        while stack:
            current = self.nodes[stack.pop()]
            out.append(current)
            stack.extend(reversed(self.children.get(current.id, [])))
        return out

    def roots(self) -> list[TenantNode]:
        return [self.nodes[i] for i in self.children.get(None, [])]

    def all_ids(self) -> frozenset[int]:
        return frozenset(self.nodes)


def node_of(row: Tenant) -> TenantNode:
    return TenantNode(
        id=row.id,
        code=row.code,
        name=row.name,
        level=TenantLevel(row.level),
        parent_id=row.parent_id,
        path=row.path,
        is_active=row.is_active,
    )


async def load_tree(session: AsyncSession) -> TenantTree:
    rows = (await session.execute(select(Tenant))).scalars().all()
    return TenantTree.build(node_of(r) for r in rows)
