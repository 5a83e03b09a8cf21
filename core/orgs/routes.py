"""``/api/v1/t/{tenant_code}/orgs`` and ``/members``: the organisation tree and the member ledger.

Lists cover the acting tenant's subtree; records are created in the acting tenant. ID numbers and phones
are masked in every answer; ``POST …/reveal`` shows them to those allowed, with a reason, and audits it.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.models import AuditEntry
from core.audit.recorder import arecord
from core.identity.access import Acting, provide_acting
from core.identity.roles import MEMBER_READ, MEMBER_REVEAL, MEMBER_WRITE, ORG_MANAGE, TENANT_READ, USER_MANAGE
from core.orgs import member_accounts, service
from core.orgs.committee import CommitteeIn, SeatOut, current_seats, replace_committee
from core.orgs.models import BranchKind, HealthClass, Member, Organization, OrgLevel, Participation, RetirementType
from core.orgs.schemas import (
    AccountLinkIn,
    AccountLinkOut,
    HistoryEntry,
    MemberCreate,
    MemberFields,
    MemberOut,
    MemberPage,
    OrgCreate,
    OrgOut,
    OrgUpdate,
    ParticipationsChange,
    Revealed,
    RevealRequest,
)
from core.privacy.crypto import mask_id_number, mask_phone
from core.tenancy.tree import TenantTree


def org_out(org: Organization, tree: TenantTree, members: int = 0) -> OrgOut:
    level = OrgLevel(org.level)
    kind = BranchKind(org.kind) if org.kind else None
    return OrgOut(
        id=str(org.id),
        tenant_code=tree.nodes[org.tenant_id].code,
        name=org.name,
        level=level,
        level_zh=level.zh,
        kind=kind,
        kind_zh=kind.zh if kind else None,
        parent_id=str(org.parent_id) if org.parent_id else None,
        address=org.address,
        founded_on=org.founded_on,
        is_active=org.is_active,
        members=members,
    )


async def member_out(session: AsyncSession, member: Member, tree: TenantTree) -> MemberOut:
    org_name = None
    if member.formal_org_id:
        org_name = (
            await session.execute(select(Organization.name).where(Organization.id == member.formal_org_id))
        ).scalar_one_or_none()
    participations = (
        (await session.execute(select(Participation.org_id).where(Participation.member_id == member.id)))
        .scalars()
        .all()
    )
    health = HealthClass(member.health_class)
    return MemberOut(
        id=str(member.id),
        tenant_code=tree.nodes[member.tenant_id].code,
        name=member.name,
        gender=member.gender,
        birth_date=member.birth_date,
        age=service.age_on(member.birth_date, datetime.date.today()),
        id_number=mask_id_number(member.id_number),
        phone=mask_phone(member.phone),
        retirement_type=RetirementType(member.retirement_type),
        retired_on=member.retired_on,
        former_unit=member.former_unit,
        former_rank=member.former_rank,
        is_party_member=member.is_party_member,
        party_joined_on=member.party_joined_on,
        health_class=health,
        health_class_zh=health.zh,
        specialties=list(member.specialties or []),
        residence_community=member.residence_community,
        formal_org_id=str(member.formal_org_id) if member.formal_org_id else None,
        formal_org_name=org_name,
        participations=[str(p) for p in participations],
        status=member.status,
        notes=member.notes,
    )


class OrgController(Controller):
    path = "/api/v1/t/{tenant_code:str}/orgs"
    tags = ["organisations"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/", opt={"permission": TENANT_READ}, summary="Organisations of the subtree with their member counts")
    async def list_orgs(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        level: FromQuery[OrgLevel | None] = None,
        include_inactive: FromQuery[bool] = False,
    ) -> list[OrgOut]:
        query = select(Organization).order_by(Organization.tenant_id, Organization.level, Organization.name)
        if level is not None:
            query = query.where(Organization.level == level.value)
        if not include_inactive:
            query = query.where(Organization.is_active)
        orgs = (await db_session.execute(query)).scalars().all()
        member_counts = await db_session.execute(
            select(Member.formal_org_id, func.count()).where(Member.status == "active").group_by(Member.formal_org_id)
        )
        # dict(result) would treat the result as a mapping (it has .keys()): pair the rows explicitly.
        counts = {org_id: count for org_id, count in member_counts.tuples()}  # noqa: C416
        return [org_out(o, acting.tree, counts.get(o.id, 0)) for o in orgs]

    @post("/", opt={"permission": ORG_MANAGE}, summary="Create an organisation in this tenant", status_code=201)
    async def create_org(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], data: JSONBody[OrgCreate]
    ) -> OrgOut:
        return org_out(await service.create_org(db_session, acting.tenant.id, data), acting.tree)

    @get("/{org_id:uuid}", opt={"permission": TENANT_READ}, summary="One organisation")
    async def get_org(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], org_id: FromPath[uuid.UUID]
    ) -> OrgOut:
        return org_out(await service.get_org(db_session, org_id), acting.tree)

    @patch("/{org_id:uuid}", opt={"permission": ORG_MANAGE}, summary="Rename or update an organisation")
    async def update_org(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[OrgUpdate],
    ) -> OrgOut:
        org = await service.get_org(db_session, org_id)
        return org_out(await service.update_org(db_session, org, data), acting.tree)

    @post("/{org_id:uuid}/deactivate", opt={"permission": ORG_MANAGE}, summary="Deactivate an empty organisation")
    async def deactivate_org(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], org_id: FromPath[uuid.UUID]
    ) -> OrgOut:
        org = await service.get_org(db_session, org_id)
        return org_out(await service.deactivate_org(db_session, org), acting.tree)

    @get("/{org_id:uuid}/committee", opt={"permission": TENANT_READ}, summary="The committee now serving (支委班子)")
    async def get_committee(
        self, db_session: NamedDependency[AsyncSession], org_id: FromPath[uuid.UUID]
    ) -> list[SeatOut]:
        return await current_seats(db_session, await service.get_org(db_session, org_id))

    @put(
        "/{org_id:uuid}/committee",
        opt={"permission": ORG_MANAGE},
        summary="Replace the committee (seats end, history kept)",
    )
    async def put_committee(
        self, db_session: NamedDependency[AsyncSession], org_id: FromPath[uuid.UUID], data: JSONBody[CommitteeIn]
    ) -> list[SeatOut]:
        return await replace_committee(db_session, await service.get_org(db_session, org_id), data)


class MemberController(Controller):
    path = "/api/v1/t/{tenant_code:str}/members"
    tags = ["members"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/", opt={"permission": MEMBER_READ}, summary="Search the ledger (name, branch, class, specialty, age)")
    async def search(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        org_id: FromQuery[uuid.UUID | None] = None,
        health_class: FromQuery[HealthClass | None] = None,
        specialty: FromQuery[str | None] = None,
        age_min: Annotated[int | None, QueryParameter(ge=0, le=130)] = None,
        age_max: Annotated[int | None, QueryParameter(ge=0, le=130)] = None,
        status: FromQuery[str | None] = "active",
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
    ) -> MemberPage:
        query = service.search_query(
            q=q,
            org_id=org_id,
            health_class=health_class.value if health_class else None,
            specialty=specialty,
            age_min=age_min,
            age_max=age_max,
            status=status or None,
            today=datetime.date.today(),
        )
        total = (await db_session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (
            (
                await db_session.execute(
                    query.order_by(Member.name, Member.id).offset((page - 1) * page_size).limit(page_size)
                )
            )
            .scalars()
            .all()
        )
        items = [await member_out(db_session, m, acting.tree) for m in rows]
        return MemberPage(items=items, total=total, page=page, page_size=page_size)

    @post("/", opt={"permission": MEMBER_WRITE}, summary="Create a member record in this tenant", status_code=201)
    async def create(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], data: JSONBody[MemberCreate]
    ) -> MemberOut:
        member = Member(tenant_id=acting.tenant.id, specialties=[], extra={})
        member = await service.apply_member_fields(db_session, acting.tenant.id, member, data, creating=True)
        return await member_out(db_session, member, acting.tree)

    @get("/{member_id:uuid}", opt={"permission": MEMBER_READ}, summary="One member (personal data masked)")
    async def get_member(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], member_id: FromPath[uuid.UUID]
    ) -> MemberOut:
        return await member_out(db_session, await service.get_member(db_session, member_id), acting.tree)

    @patch("/{member_id:uuid}", opt={"permission": MEMBER_WRITE}, summary="Change a member's record")
    async def update(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: JSONBody[MemberFields],
    ) -> MemberOut:
        member = await service.get_member(db_session, member_id)
        member = await service.apply_member_fields(db_session, member.tenant_id, member, data, creating=False)
        return await member_out(db_session, member, acting.tree)

    @put("/{member_id:uuid}/participations", opt={"permission": MEMBER_WRITE}, summary="Branches taken part in")
    async def participations(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: JSONBody[ParticipationsChange],
    ) -> MemberOut:
        member = await service.get_member(db_session, member_id)
        await service.set_participations(db_session, member.tenant_id, member, data.org_ids)
        return await member_out(db_session, member, acting.tree)

    @post(
        "/{member_id:uuid}/reveal",
        opt={"permission": MEMBER_REVEAL},
        summary="Show ID number / phone (audited)",
        status_code=200,
    )
    async def reveal(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: JSONBody[RevealRequest],
    ) -> Revealed:
        member = await service.get_member(db_session, member_id)
        await arecord(
            db_session,
            action="reveal",
            entity_type="member",
            entity_id=f"{member.tenant_id},{member.id}",
            tenant_id=member.tenant_id,
            after={"fields": sorted(set(data.fields)), "reason": data.reason},
        )
        return Revealed(
            id_number=member.id_number if "id_number" in data.fields else None,
            phone=member.phone if "phone" in data.fields else None,
        )

    @get("/{member_id:uuid}/account", opt={"permission": MEMBER_READ}, summary="The login account linked to the record")
    async def get_account(
        self, db_session: NamedDependency[AsyncSession], member_id: FromPath[uuid.UUID]
    ) -> AccountLinkOut | None:
        linked = await member_accounts.account_of(db_session, await service.get_member(db_session, member_id))
        return AccountLinkOut(**vars(linked)) if linked else None

    @put(
        "/{member_id:uuid}/account",
        opt={"permission": USER_MANAGE},
        summary="Link the person's login account to the record (grants the member role for their own page)",
    )
    async def put_account(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
        data: JSONBody[AccountLinkIn],
    ) -> AccountLinkOut:
        member = await service.get_member(db_session, member_id)
        linked = await member_accounts.link(db_session, member, data.username, by=str(request.user.username))
        return AccountLinkOut(**vars(linked))

    @delete(
        "/{member_id:uuid}/account",
        opt={"permission": USER_MANAGE},
        summary="Unlink the login account (its member role here is taken away)",
        status_code=204,
    )
    async def delete_account(self, db_session: NamedDependency[AsyncSession], member_id: FromPath[uuid.UUID]) -> None:
        await member_accounts.unlink(db_session, await service.get_member(db_session, member_id))

    @get("/{member_id:uuid}/history", opt={"permission": MEMBER_READ}, summary="Every change to the record")
    async def history(
        self, db_session: NamedDependency[AsyncSession], member_id: FromPath[uuid.UUID]
    ) -> list[HistoryEntry]:
        member = await service.get_member(db_session, member_id)
        rows = (
            await db_session.execute(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "member", AuditEntry.entity_id == f"{member.tenant_id},{member.id}")
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        ).scalars()
        out = []
        for row in rows:
            before, after = row.before or {}, row.after or {}
            keys = [
                k
                for k in (after or before)
                if k not in {"updated_at", "created_at", "id_number_index", "specialties_text"}
            ]
            changes = {k: {"before": before.get(k), "after": after.get(k)} for k in keys}
            out.append(HistoryEntry(at=row.at, actor=row.actor_name, action=row.action, changes=changes))
        return out
