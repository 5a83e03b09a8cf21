"""银龄人才援基层: the one narrow read path into other counties' pools.

A county's request session reads only its own subtree (ORM criteria + PostgreSQL RLS). When a city (or the
province) opens its counties' pools to each other (setting ``share_within``), matching needs to see the experts
of sibling counties — but nothing else of them. This module is the only code that does so:

* :func:`shared_tenants` decides which tenants' pools are open to the acting tenant. Both sides must agree: the
  acting tenant's effective ``share_within`` names a group (its city, or the province), and each other tenant of
  that group (county-level tenants only: the pools of the counties, not the bureaus above them) is included
  only if the plugin is active there and *its own* effective ``share_within`` opens it to a
  group containing the acting tenant. A county that closes its pool is never read; another city's county is
  never in a city group.
* :func:`read_shared_experts` opens a separate, read-only session whose scope is exactly those tenants
  (``TenantScope.of(read=ids)``, nothing writable), runs one query that selects only the shareable projection
  (name, fields, skills, availability, willingness to travel, and an aggregated load count), and closes it. No
  ORM entity of another county is ever loaded, so no ID number, phone, birth date or anything else leaves it;
  the age limit and health class are applied as filters inside the query, not returned.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.scope import TenantScope
from core.orgs.models import Member
from core.plugin_host import programme_states
from core.tenancy.models import TenantLevel
from core.tenancy.tree import TenantNode, TenantTree
from plugins.talent_pool.matching import ExpertView
from plugins.talent_pool.models import OPEN_ASSIGNMENT, Assignment, Profile
from plugins.talent_pool.schemas import TalentPoolSettings

if TYPE_CHECKING:
    from core.platform import Platform

PLUGIN = "talent_pool"


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def birth_cutoff(today: datetime.date, age_limit: int) -> datetime.date:
    """Members born *after* this date are at most ``age_limit`` years old today."""
    return _years_before(today, age_limit + 1)


def group_root(tree: TenantTree, tenant_id: int, share_within: str) -> TenantNode | None:
    """The tenant whose counties share pools with ``tenant_id`` under ``share_within`` (None: no sharing)."""
    if share_within == "none":
        return None
    wanted = TenantLevel.CITY if share_within == "city" else TenantLevel.PROVINCE
    for node in reversed(tree.lineage(tenant_id)):
        if node.level == wanted:
            return node
    return None


@dataclass(frozen=True)
class SharedPools:
    share_within: str
    root: TenantNode | None
    tenant_ids: tuple[int, ...]
    settings: dict[int, TalentPoolSettings]


async def shared_tenants(
    platform: Platform, tree: TenantTree, acting: TenantNode, readable: Iterable[int]
) -> SharedPools:
    """The tenants outside ``readable`` whose pools are open to ``acting`` (mutual consent, plugin active)."""
    states = await programme_states(platform, tree, PLUGIN)

    def settings_of(tenant_id: int) -> TalentPoolSettings:
        return TalentPoolSettings.model_validate(states(tenant_id).settings)

    own = settings_of(acting.id)
    root = group_root(tree, acting.id, own.share_within)
    if root is None:
        return SharedPools(own.share_within, None, (), {})
    inside = set(readable)
    ids: list[int] = []
    found: dict[int, TalentPoolSettings] = {}
    for node in tree.walk(root.id):
        if node.id in inside or not node.is_active or node.level != TenantLevel.COUNTY:
            continue
        if not states(node.id).active:
            continue
        theirs = settings_of(node.id)
        their_root = group_root(tree, node.id, theirs.share_within)
        if their_root is None or not tree.is_within(acting.id, their_root.id):
            continue
        ids.append(node.id)
        found[node.id] = theirs
    return SharedPools(own.share_within, root, tuple(ids), found)


def _eligible(settings_by_tenant: dict[int, TalentPoolSettings], today: datetime.date) -> Any:
    """Admitted, not unavailable, member active and able, within each tenant's age limit."""
    ages = [
        and_(Profile.tenant_id == tid, Member.birth_date > birth_cutoff(today, s.age_limit))
        for tid, s in settings_by_tenant.items()
    ]
    return and_(
        Profile.status == "admitted",
        Profile.availability != "unavailable",
        Member.status == "active",
        Member.health_class != "unable",
        or_(*ages) if ages else Member.id.is_(None),
    )


async def open_loads(session: AsyncSession) -> dict[tuple[int, uuid.UUID], int]:
    """Open assignments per expert among the rows ``session`` may read: an aggregate, nothing else."""
    rows = await session.execute(
        select(Assignment.expert_tenant_id, Assignment.expert_id, func.count())
        .where(Assignment.status.in_(OPEN_ASSIGNMENT))
        .group_by(Assignment.expert_tenant_id, Assignment.expert_id)
    )
    return {(t, e): n for t, e, n in rows.tuples()}


async def read_shared_experts(
    platform: Platform,
    pools: SharedPools,
    today: datetime.date,
    *,
    expert_id: uuid.UUID | None = None,
    only_tenant: int | None = None,
) -> tuple[list[ExpertView], dict[tuple[int, uuid.UUID], int]]:
    """The shareable projection of the eligible experts of ``pools``, and open-assignment counts there.

    A separate read-only session scoped to exactly ``pools.tenant_ids`` (one of them with ``only_tenant``).
    """
    ids = [t for t in pools.tenant_ids if only_tenant is None or t == only_tenant]
    if not ids:
        return [], {}
    settings = {t: pools.settings[t] for t in ids}
    query = (
        select(
            Profile.id,
            Profile.member_id,
            Profile.tenant_id,
            Member.name,
            Profile.fields,
            Profile.skills,
            Profile.availability,
            Profile.willing_to_travel,
        )
        .join(Member, and_(Member.tenant_id == Profile.tenant_id, Member.id == Profile.member_id))
        .where(_eligible(settings, today))
        .order_by(Profile.tenant_id, Profile.id)
    )
    if expert_id is not None:
        query = query.where(Profile.id == expert_id)
    async with platform.database.session(TenantScope.of(read=ids)) as session:
        rows = (await session.execute(query)).tuples().all()
        loads = await open_loads(session)
    experts = [
        ExpertView(
            expert_id=pid,
            member_id=mid,
            tenant_id=tid,
            name=name,
            fields=tuple(fields or ()),
            skills=tuple(skills or ()),
            availability=availability,
            willing_to_travel=travel,
            load=0,
        )
        for pid, mid, tid, name, fields, skills, availability, travel in rows
    ]
    return experts, loads


async def read_own_experts(
    session: AsyncSession, settings_by_tenant: dict[int, TalentPoolSettings], today: datetime.date
) -> list[ExpertView]:
    """Eligible experts of the acting subtree, through the request's own session."""
    query = (
        select(Profile, Member.name)
        .join(Member, and_(Member.tenant_id == Profile.tenant_id, Member.id == Profile.member_id))
        .where(_eligible(settings_by_tenant, today))
        .order_by(Profile.tenant_id, Profile.id)
    )
    rows = (await session.execute(query)).tuples().all()
    return [
        ExpertView(
            expert_id=p.id,
            member_id=p.member_id,
            tenant_id=p.tenant_id,
            name=name,
            fields=tuple(p.fields or ()),
            skills=tuple(p.skills or ()),
            availability=p.availability,
            willing_to_travel=p.willing_to_travel,
            load=0,
        )
        for p, name in rows
    ]


async def subtree_settings(
    platform: Platform, tree: TenantTree, tenant_ids: Iterable[int]
) -> dict[int, TalentPoolSettings]:
    states = await programme_states(platform, tree, PLUGIN)
    return {tid: TalentPoolSettings.model_validate(states(tid).settings) for tid in tenant_ids}
