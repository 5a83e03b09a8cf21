"""Creating, renaming, deactivating and deleting tenants, with the tree's rules checked first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, MetaData, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import metadata as core_metadata
from core.errors import ErrorSpec
from core.tenancy.models import Tenant, TenantLevel
from core.tenancy.tree import TENANT_NOT_FOUND, TenantTree, load_tree

CODE_TAKEN = ErrorSpec(
    "tenant.code_taken",
    409,
    "行政区划代码 {code} 已被“{name}”使用",
    "Division code {code} is already used by {name}",
)
BAD_PARENT_LEVEL = ErrorSpec(
    "tenant.parent_level",
    422,
    "{level_zh}单位 {code} 的上级只能是{allowed_zh}单位，不能是{parent_level_zh}单位 {parent_code}",
    "A {level} tenant ({code}) must sit under a {allowed} tenant, not under the {parent_level} tenant {parent_code}",
)
PARENT_REQUIRED = ErrorSpec(
    "tenant.parent_required",
    422,
    "{level_zh}单位 {code} 必须指定上级单位（parent_code）",
    "A {level} tenant ({code}) needs a parent_code",
)
PROVINCE_HAS_NO_PARENT = ErrorSpec(
    "tenant.province_parent",
    422,
    "省级单位 {code} 不能有上级单位",
    "A province ({code}) cannot have a parent",
)
CODE_OUTSIDE_PARENT = ErrorSpec(
    "tenant.code_outside_parent",
    422,
    "行政区划代码 {code} 不属于上级单位 {parent_code}（{parent_name}）的辖区：代码应以 {prefix} 开头",
    "Division code {code} is not within {parent_code} ({parent_name}): it should start with {prefix}",
)
PARENT_INACTIVE = ErrorSpec(
    "tenant.parent_inactive",
    409,
    "上级单位 {parent_code} 已停用，不能在其下新建或启用单位",
    "Parent {parent_code} is deactivated",
)
HAS_DATA = ErrorSpec(
    "tenant.has_data",
    409,
    "单位 {code} 已有数据（{what}），不能删除；如不再使用请停用",
    "Tenant {code} holds data ({what}) and cannot be deleted; deactivate it instead",
)
PARENT_CHANGE = ErrorSpec(
    "tenant.parent_change",
    422,
    "单位 {code} 的上级不能从 {old} 改为 {new}；调整隶属关系请先停用原单位再新建",
    "The parent of {code} cannot change from {old} to {new}",
)

_ALLOWED_PARENTS = {
    TenantLevel.CITY: (TenantLevel.PROVINCE,),
    TenantLevel.COUNTY: (TenantLevel.CITY, TenantLevel.PROVINCE),  # 省直辖县级行政单位 sit under the province
}
_LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级"}


@dataclass
class NewTenant:
    code: str
    name: str
    parent_code: str | None = None
    level: TenantLevel | None = None


def check_placement(tree: TenantTree, code: str, level: TenantLevel, parent_code: str | None) -> None:
    """Raise the error a person can act on when ``code`` may not sit under ``parent_code``."""
    if level is TenantLevel.PROVINCE:
        if parent_code:
            raise PROVINCE_HAS_NO_PARENT.error(field="parent_code", code=code)
        return
    if not parent_code:
        raise PARENT_REQUIRED.error(field="parent_code", code=code, level=level.value, level_zh=_LEVEL_ZH[level.value])
    parent = tree.get(parent_code)
    allowed = _ALLOWED_PARENTS[level]
    if parent.level not in allowed:
        raise BAD_PARENT_LEVEL.error(
            field="parent_code",
            code=code,
            level=level.value,
            level_zh=_LEVEL_ZH[level.value],
            allowed=" or ".join(a.value for a in allowed),
            allowed_zh="或".join(_LEVEL_ZH[a.value] for a in allowed),
            parent_code=parent.code,
            parent_level=parent.level.value,
            parent_level_zh=_LEVEL_ZH[parent.level.value],
        )
    prefix = parent.code[:4] if parent.level is TenantLevel.CITY else parent.code[:2]
    if not code.startswith(prefix):
        raise CODE_OUTSIDE_PARENT.error(
            field="code", code=code, parent_code=parent.code, parent_name=parent.name, prefix=prefix
        )
    if not parent.is_active:
        raise PARENT_INACTIVE.error(field="parent_code", parent_code=parent.code)


async def create_tenant(session: AsyncSession, tree: TenantTree, new: NewTenant) -> Tenant:
    level = new.level or TenantLevel.from_code(new.code)
    existing = tree.find(new.code)
    if existing is not None:
        raise CODE_TAKEN.error(field="code", code=new.code, name=existing.name)
    check_placement(tree, new.code, level, new.parent_code)
    parent = tree.find(new.parent_code) if new.parent_code else None
    row = Tenant(code=new.code, name=new.name, level=level.value, parent_id=parent.id if parent else None, path="")
    session.add(row)
    await session.flush()
    row.path = f"{parent.path if parent else '/'}{row.id}/"
    await session.flush()
    return row


async def get_row(session: AsyncSession, code: str) -> Tenant:
    row = (await session.execute(select(Tenant).where(Tenant.code == code))).scalar_one_or_none()
    if row is None:
        raise TENANT_NOT_FOUND.error(field="tenant_code", code=code)
    return row


async def set_active(session: AsyncSession, code: str, active: bool) -> list[Tenant]:
    """Deactivate a tenant with its whole subtree, or reactivate one tenant (its parent must be active)."""
    tree = await load_tree(session)
    node = tree.get(code)
    if active:
        if node.parent_id is not None and not tree.nodes[node.parent_id].is_active:
            raise PARENT_INACTIVE.error(field="tenant_code", parent_code=tree.nodes[node.parent_id].code)
        ids = [node.id]
    else:
        ids = sorted(tree.subtree_ids(node.id))
    rows = (await session.execute(select(Tenant).where(Tenant.id.in_(ids)))).scalars().all()
    for row in rows:
        row.is_active = active
    await session.flush()
    return list(rows)


def _tenant_columns(meta: MetaData) -> list[Column[int]]:
    cols = []
    for table in meta.sorted_tables:
        if table.name in {"tenant", "audit_entry"}:
            continue
        col = table.columns.get("tenant_id")
        if col is not None:
            cols.append(col)
    return cols


async def delete_tenant(session: AsyncSession, code: str, meta: MetaData = core_metadata) -> None:
    """Hard-delete a tenant only when nothing but its audit trail refers to it."""
    row = await get_row(session, code)
    if (await session.execute(select(exists().where(Tenant.parent_id == row.id)))).scalar():
        raise HAS_DATA.error(field="tenant_code", code=code, what="下级单位 / child tenants")
    for col in _tenant_columns(meta):
        found = (
            await session.execute(select(exists().where(col == row.id)), execution_options={"skip_tenant_scope": True})
        ).scalar()
        if found:
            raise HAS_DATA.error(field="tenant_code", code=code, what=col.table.name)
    await session.delete(row)
    await session.flush()
