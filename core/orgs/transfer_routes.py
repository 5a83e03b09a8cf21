"""``/api/v1/t/{tenant_code}/transfers``: organisation-relation transfers (组织关系转接).

The workflow and its rules live in :mod:`core.orgs.transfers`. Lists and single answers show each transfer once,
relative to the acting tenant's subtree (``direction``: outgoing, incoming or internal). An incoming transfer from
outside the subtree is answered from the receiving copy, which holds only the member's essentials (name, gender,
birth year, masked ID number), the sending tenant and the reason.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import UNAUTHENTICATED
from core.identity.access import Acting, current_principal, provide_acting
from core.identity.roles import MEMBER_READ, MEMBER_WRITE, TRANSFER_MANAGE
from core.orgs import transfers
from core.orgs.transfer_models import MemberTransfer, TransferKind, TransferStatus
from core.orgs.transfers import REPORTING_TZ, STEP_ZH, Actor, Direction, Side

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: str
    kind: TransferKind = TransferKind.DIRECT
    target_tenant_code: str | None = Field(
        default=None, pattern=r"^\d{6}$", description="接收单位的行政区划代码; omitted: the member's own tenant"
    )
    target_org_id: str | None = Field(default=None, description="接收党支部; not for deferrals")
    reason: Reason
    review_on: datetime.date | None = Field(default=None, description="复核日期, deferrals only")


class TransferNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note | None = None


class TransferRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class TransferMemberOut(BaseModel):
    """What either side may know of the member: the essentials needed to decide."""

    id: str
    name: str
    gender: str
    birth_year: int
    id_number: str | None  # masked


class TransferStepOut(BaseModel):
    step: str
    step_zh: str
    at: datetime.datetime
    by: str
    tenant_code: str
    note: str | None


class TransferOut(BaseModel):
    id: str
    kind: TransferKind
    kind_zh: str
    status: TransferStatus
    status_zh: str
    direction: str
    member: TransferMemberOut
    from_tenant_code: str
    from_tenant_name: str
    from_org_id: str | None  # only for the sending side
    from_org_name: str | None  # only for the sending side
    to_tenant_code: str
    to_tenant_name: str
    to_org_id: str | None  # only for the receiving side
    to_org_name: str | None
    reason: str
    review_on: datetime.date | None
    decision_note: str | None
    requested_at: datetime.datetime
    requested_by: str
    closed_at: datetime.datetime | None
    steps: list[TransferStepOut]


class TransferPage(BaseModel):
    items: list[TransferOut]
    total: int
    page: int
    page_size: int


class TransferStats(BaseModel):
    tenant_code: str
    period_from: datetime.date
    period_to: datetime.date
    requested: int
    completed: int
    rejected: int
    cancelled: int
    pending: int
    deferred: int
    incoming: int
    outgoing: int
    internal: int
    rate: float | None = Field(description="completed / (requested − cancelled); null when nothing to divide")
    rate_numerator: int
    rate_denominator: int


def transfer_out(transfer: MemberTransfer, side: Side) -> TransferOut:
    tree = side.tree
    origin, target = tree.nodes[transfer.from_tenant_id], tree.nodes[transfer.to_tenant_id]
    kind, status = TransferKind(transfer.kind), TransferStatus(transfer.status)
    return TransferOut(
        id=str(transfer.id),
        kind=kind,
        kind_zh=kind.zh,
        status=status,
        status_zh=status.zh,
        direction=transfers.direction_of(side, transfer),
        member=TransferMemberOut(
            id=str(transfer.member_id),
            name=transfer.member_name,
            gender=transfer.member_gender,
            birth_year=transfer.member_birth_year,
            id_number=transfer.member_id_masked,
        ),
        from_tenant_code=origin.code,
        from_tenant_name=origin.name,
        from_org_id=str(transfer.from_org_id) if transfer.from_org_id else None,
        from_org_name=transfer.from_org_name,
        to_tenant_code=target.code,
        to_tenant_name=target.name,
        to_org_id=str(transfer.to_org_id) if transfer.to_org_id else None,
        to_org_name=transfer.to_org_name,
        reason=transfer.reason,
        review_on=transfer.review_on,
        decision_note=transfer.decision_note,
        requested_at=transfer.requested_at,
        requested_by=transfer.requested_by,
        closed_at=transfer.closed_at,
        steps=[
            TransferStepOut(
                step=s["step"],
                step_zh=STEP_ZH.get(s["step"], s["step"]),
                at=datetime.datetime.fromisoformat(s["at"]),
                by=s["by"],
                tenant_code=s["tenant_code"],
                note=s.get("note"),
            )
            for s in transfer.steps
        ],
    )


def side_of(acting: Acting) -> Side:
    return Side(tenant=acting.tenant, tree=acting.tree)


def actor_of(request: Request[Any, Any, Any], acting: Acting) -> Actor:
    principal = current_principal(request)
    if principal is None:
        raise UNAUTHENTICATED.error()
    return Actor(user_id=principal.user_id, username=principal.username, tenant=acting.tenant)


class TransferController(Controller):
    path = "/api/v1/t/{tenant_code:str}/transfers"
    tags = ["transfers"]  # noqa: RUF012
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"permission": MEMBER_READ}, summary="Transfers of the subtree: outgoing, incoming or all")
    async def list_transfers(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        direction: FromQuery[Direction] = "all",
        status: FromQuery[TransferStatus | None] = None,
        kind: FromQuery[TransferKind | None] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
    ) -> TransferPage:
        side = side_of(acting)
        query = transfers.list_query(side, direction=direction, status=status, kind=kind)
        total = (await db_session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (
            (
                await db_session.execute(
                    query.order_by(MemberTransfer.requested_at.desc(), MemberTransfer.id)
                    .offset((page - 1) * page_size)
                    .limit(page_size)
                )
            )
            .scalars()
            .all()
        )
        return TransferPage(items=[transfer_out(t, side) for t in rows], total=total, page=page, page_size=page_size)

    @post("/", opt={"permission": MEMBER_WRITE}, summary="Request a transfer of a member", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[TransferCreate],
    ) -> TransferOut:
        side = side_of(acting)
        transfer = await transfers.request_transfer(
            db_session,
            side,
            actor_of(request, acting),
            member_id=data.member_id,
            kind=data.kind,
            target_tenant_code=data.target_tenant_code,
            target_org_id=data.target_org_id,
            reason=data.reason,
            review_on=data.review_on,
        )
        return transfer_out(transfer, side)

    @get("/stats", opt={"permission": MEMBER_READ}, summary="Counts and transfer rate for a period")
    async def stats(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        period_from: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
        period_to: Annotated[datetime.date | None, QueryParameter(name="to")] = None,
    ) -> TransferStats:
        today = datetime.datetime.now(REPORTING_TZ).date()
        start = period_from or today.replace(month=1, day=1)
        end = period_to or today
        counts = await transfers.stats(db_session, side_of(acting), start, end)
        return TransferStats(
            tenant_code=acting.tenant.code,
            period_from=start,
            period_to=end,
            requested=counts.requested,
            completed=counts.completed,
            rejected=counts.rejected,
            cancelled=counts.cancelled,
            pending=counts.pending,
            deferred=counts.deferred,
            incoming=counts.incoming,
            outgoing=counts.outgoing,
            internal=counts.internal,
            rate=counts.rate,
            rate_numerator=counts.completed,
            rate_denominator=counts.rate_denominator,
        )

    @get("/{transfer_id:uuid}", opt={"permission": MEMBER_READ}, summary="One transfer with its steps")
    async def get_transfer(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        transfer_id: FromPath[uuid.UUID],
    ) -> TransferOut:
        side = side_of(acting)
        return transfer_out(await transfers.get_transfer(db_session, side, transfer_id), side)

    @post(
        "/{transfer_id:uuid}/approve",
        opt={"permission": TRANSFER_MANAGE},
        summary="The receiving side agrees (a deferral ends here)",
        status_code=200,
    )
    async def approve(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        transfer_id: FromPath[uuid.UUID],
        data: JSONBody[TransferNote | None] = None,
    ) -> TransferOut:
        side = side_of(acting)
        note = data.note if data else None
        transfer = await transfers.approve(db_session, side, actor_of(request, acting), transfer_id, note)
        return transfer_out(transfer, side)

    @post(
        "/{transfer_id:uuid}/reject",
        opt={"permission": TRANSFER_MANAGE},
        summary="The receiving side refuses, with a reason",
        status_code=200,
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        transfer_id: FromPath[uuid.UUID],
        data: JSONBody[TransferRejection],
    ) -> TransferOut:
        side = side_of(acting)
        transfer = await transfers.reject(db_session, side, actor_of(request, acting), transfer_id, data.reason)
        return transfer_out(transfer, side)

    @post(
        "/{transfer_id:uuid}/cancel",
        opt={"permission": MEMBER_WRITE},
        summary="The requester withdraws a request awaiting a decision",
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        transfer_id: FromPath[uuid.UUID],
        data: JSONBody[TransferNote | None] = None,
    ) -> TransferOut:
        side = side_of(acting)
        note = data.note if data else None
        transfer = await transfers.cancel(db_session, side, actor_of(request, acting), transfer_id, note)
        return transfer_out(transfer, side)

    @post(
        "/{transfer_id:uuid}/complete",
        opt={"permission": TRANSFER_MANAGE},
        summary="The member has reported: hand the record over (moves it between tenants)",
        status_code=200,
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        transfer_id: FromPath[uuid.UUID],
        data: JSONBody[TransferNote | None] = None,
    ) -> TransferOut:
        side = side_of(acting)
        note = data.note if data else None
        transfer = await transfers.complete(db_session, side, actor_of(request, acting), transfer_id, note)
        return transfer_out(transfer, side)
