"""The points API, mounted under ``/api/v1/t/{tenant_code}/points`` behind the permission and activation guards."""

from __future__ import annotations

import datetime
import io
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, provide_acting
from plugins.points import exports, ledger, publication, service, timebank
from plugins.points.models import (
    CatalogueItem,
    Clearing,
    CoinEntry,
    Cycle,
    Entry,
    Objection,
    Proposal,
    Publication,
    Redemption,
)
from plugins.points.rules import PointsSettings, effective
from plugins.points.schemas import (
    ClearingOut,
    CloseYear,
    CoinEntryOut,
    CycleOut,
    Decision,
    DonationCreate,
    EntryOut,
    ExchangeCreate,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    MemberSummary,
    ObjectionCreate,
    ObjectionOut,
    ObjectionStep,
    Page,
    ProposalCreate,
    ProposalOut,
    PublicationCreate,
    PublicationOut,
    RedemptionCancel,
    RedemptionCreate,
    RedemptionOut,
    ReversalCreate,
    StatsOut,
)

READ = {"permission": "points.read"}
PROPOSE = {"permission": "points.propose"}
APPROVE = {"permission": "points.approve"}
MANAGE = {"permission": "points.manage"}
REDEEM = {"permission": "points.redeem"}

PageNo = Annotated[int, QueryParameter(ge=1)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def actor_of(request: Request[Any, Any, Any]) -> str:
    return str(getattr(request.user, "username", "system"))


def rules_of(plugin_settings: dict[str, Any]) -> PointsSettings:
    return effective(plugin_settings)


def _out(model: type[Any], row: Any) -> Any:
    return model.model_validate({name: getattr(row, name) for name in model.model_fields})


async def _paged(session: AsyncSession, query: Any, page: int, page_size: int) -> tuple[list[Any], int]:
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await session.execute(query.offset((page - 1) * page_size).limit(page_size))).scalars().all()
    return list(rows), int(total)


class PointsController(Controller):
    path = "/"
    tags = ["积分管理 points"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    # --- rules and cycles --------------------------------------------------------------------------

    @get("/rules", opt=READ, summary="The tenant's effective points rules (inherited down the tree)")
    async def rules(self, plugin_settings: NamedDependency[dict[str, Any]]) -> dict[str, Any]:
        return rules_of(plugin_settings).model_dump(mode="json")

    @get("/cycles", opt=READ, summary="Points years of the tenant and whether each is open or closed")
    async def cycles(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession]
    ) -> list[CycleOut]:
        await ledger.ensure_cycle(db_session, acting.tenant.id, datetime.date.today().year)
        rows = await db_session.execute(
            select(Cycle).where(Cycle.tenant_id == acting.tenant.id).order_by(Cycle.year.desc())
        )
        return [_out(CycleOut, r) for r in rows.scalars()]

    @post(
        "/cycles/{year:int}/close",
        opt=MANAGE,
        status_code=200,
        summary="Close (freeze) a year: results, stars, carry or reset",
    )
    async def close_year(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromPath[int],
        data: JSONBody[CloseYear],
    ) -> CycleOut:
        cycle = await ledger.close_year(
            db_session, rules_of(plugin_settings), tenant_id=acting.tenant.id, year=year, actor=actor_of(request)
        )
        return _out(CycleOut, cycle)

    # --- ledger ------------------------------------------------------------------------------------

    @get("/entries", opt=READ, summary="Ledger entries, newest first")
    async def entries(
        self,
        db_session: NamedDependency[AsyncSession],
        member_id: FromQuery[uuid.UUID | None] = None,
        year: FromQuery[int | None] = None,
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> Page:
        query = select(Entry).order_by(Entry.on_date.desc(), Entry.id.desc())
        if member_id:
            query = query.where(Entry.member_id == member_id)
        if year:
            query = query.where(Entry.year == year)
        rows, total = await _paged(db_session, query, page, page_size)
        return Page(items=[_out(EntryOut, r) for r in rows], total=total)

    @post("/entries/{entry_id:uuid}/reverse", opt=APPROVE, summary="Reverse an entry with a new entry", status_code=201)
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        entry_id: FromPath[uuid.UUID],
        data: JSONBody[ReversalCreate],
    ) -> EntryOut:
        entry = await ledger.get_entry(db_session, entry_id)
        reversal = await ledger.reverse_entry(db_session, entry, by=actor_of(request), note=data.reason)
        return _out(EntryOut, reversal)

    @get("/proposals", opt=READ, summary="Manual entries proposed; ?status=proposed for those awaiting approval")
    async def proposals(
        self,
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> Page:
        query = select(Proposal).order_by(Proposal.created_at.desc())
        if status:
            query = query.where(Proposal.status == status)
        rows, total = await _paged(db_session, query, page, page_size)
        return Page(items=[_out(ProposalOut, r) for r in rows], total=total)

    @post(
        "/proposals", opt=PROPOSE, summary="Propose a manual entry (optionally on a member's behalf)", status_code=201
    )
    async def propose(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[ProposalCreate],
    ) -> ProposalOut:
        proposal = await ledger.propose(
            db_session,
            rules_of(plugin_settings),
            tenant_id=acting.tenant.id,
            member_id=data.member_id,
            rule_code=data.rule_code,
            on_date=data.on_date,
            reason=data.reason,
            hours=data.hours,
            points=data.points,
            actor=actor_of(request),
            proxy=data.proxy,
        )
        return _out(ProposalOut, proposal)

    @post(
        "/proposals/{proposal_id:uuid}/approve",
        opt=APPROVE,
        status_code=200,
        summary="Approve a proposal (not one's own)",
    )
    async def approve(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
    ) -> ProposalOut:
        proposal = await ledger.decide(
            db_session, rules_of(plugin_settings), proposal_id, approve=True, actor=actor_of(request), note=data.note
        )
        return _out(ProposalOut, proposal)

    @post(
        "/proposals/{proposal_id:uuid}/reject",
        opt=APPROVE,
        status_code=200,
        summary="Reject a proposal (not one's own)",
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        proposal_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
    ) -> ProposalOut:
        proposal = await ledger.decide(
            db_session, rules_of(plugin_settings), proposal_id, approve=False, actor=actor_of(request), note=data.note
        )
        return _out(ProposalOut, proposal)

    # --- members, ranking, publication ---------------------------------------------------------------

    @get("/members/{member_id:uuid}", opt=READ, summary="A member's balance, history, rank, stars and coins")
    async def member(
        self,
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        member_id: FromPath[uuid.UUID],
        year: FromQuery[int | None] = None,
    ) -> MemberSummary:
        return await service.member_summary(db_session, rules_of(plugin_settings), member_id, year)

    @get("/ranking", opt=READ, summary="Live ranking of the tenant or one branch (not frozen; see publications)")
    async def ranking(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromQuery[int | None] = None,
        org_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[dict[str, Any]]:
        return await ledger.standings(
            db_session,
            rules_of(plugin_settings),
            year=year or datetime.date.today().year,
            org_id=org_id,
            tenant_ids=sorted(acting.scope.read) if not acting.scope.everything else None,
        )

    @get("/publications", opt=READ, summary="Quarterly publications (每季度公示), newest first")
    async def publications(self, db_session: NamedDependency[AsyncSession]) -> list[PublicationOut]:
        rows = await db_session.execute(
            select(Publication).order_by(Publication.year.desc(), Publication.quarter.desc(), Publication.scope_name)
        )
        return [_out(PublicationOut, r) for r in rows.scalars()]

    @post("/publications", opt=MANAGE, summary="Publish a quarter's ranking (frozen once published)", status_code=201)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[PublicationCreate],
    ) -> PublicationOut:
        row = await publication.publish(
            db_session,
            rules_of(plugin_settings),
            tenant_id=acting.tenant.id,
            year=data.year,
            quarter=data.quarter,
            org_id=data.org_id,
            actor=actor_of(request),
        )
        return _out(PublicationOut, row)

    @get("/publications/{publication_id:uuid}", opt=READ, summary="One publication with its frozen rows")
    async def get_publication(
        self, db_session: NamedDependency[AsyncSession], publication_id: FromPath[uuid.UUID]
    ) -> PublicationOut:
        return _out(PublicationOut, await publication.get_publication(db_session, publication_id))

    @post(
        "/publications/{publication_id:uuid}/objections",
        opt=READ,
        summary="Raise an objection to a publication for a listed member",
        status_code=201,
    )
    async def object_to(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        publication_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionCreate],
    ) -> ObjectionOut:
        row = await publication.raise_objection(
            db_session, publication_id, member_id=data.member_id, text=data.text, actor=actor_of(request)
        )
        return _out(ObjectionOut, row)

    @get("/objections", opt=READ, summary="Objections to publications; ?status=")
    async def objections(
        self, db_session: NamedDependency[AsyncSession], status: FromQuery[str | None] = None
    ) -> list[ObjectionOut]:
        query = select(Objection).order_by(Objection.created_at.desc())
        if status:
            query = query.where(Objection.status == status)
        return [_out(ObjectionOut, r) for r in (await db_session.execute(query)).scalars()]

    @post(
        "/objections/{objection_id:uuid}/steps",
        opt=MANAGE,
        status_code=200,
        summary="Investigate, answer or file an objection",
    )
    async def objection_step(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionStep],
    ) -> ObjectionOut:
        row = await publication.advance(db_session, objection_id, to=data.to, note=data.note, actor=actor_of(request))
        return _out(ObjectionOut, row)

    # --- time bank -----------------------------------------------------------------------------------

    @get("/timebank/items", opt=READ, summary="The time bank's catalogue of services and goods")
    async def items(
        self, db_session: NamedDependency[AsyncSession], active: FromQuery[bool | None] = None
    ) -> list[ItemOut]:
        query = select(CatalogueItem).order_by(CatalogueItem.kind, CatalogueItem.price, CatalogueItem.name)
        if active is not None:
            query = query.where(CatalogueItem.active.is_(active))
        return [_out(ItemOut, r) for r in (await db_session.execute(query)).scalars()]

    @post("/timebank/items", opt=MANAGE, summary="Offer a service or good for coins", status_code=201)
    async def add_item(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], data: JSONBody[ItemCreate]
    ) -> ItemOut:
        item = CatalogueItem(tenant_id=acting.tenant.id, **data.model_dump())
        db_session.add(item)
        await db_session.flush()
        return _out(ItemOut, item)

    @patch("/timebank/items/{item_id:uuid}", opt=MANAGE, summary="Change price, place, times; restock; withdraw")
    async def update_item(
        self, db_session: NamedDependency[AsyncSession], item_id: FromPath[uuid.UUID], data: JSONBody[ItemUpdate]
    ) -> ItemOut:
        item = await service.update_item(db_session, item_id, data)
        return _out(ItemOut, item)

    @get("/timebank/redemptions", opt=READ, summary="Redemptions, newest first")
    async def redemptions(
        self,
        db_session: NamedDependency[AsyncSession],
        member_id: FromQuery[uuid.UUID | None] = None,
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> Page:
        query = select(Redemption).order_by(Redemption.created_at.desc())
        if member_id:
            query = query.where(Redemption.member_id == member_id)
        rows, total = await _paged(db_session, query, page, page_size)
        return Page(items=[_out(RedemptionOut, r) for r in rows], total=total)

    @post("/timebank/redemptions", opt=REDEEM, summary="以币换物: redeem an item (idempotent by key)")
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[RedemptionCreate],
    ) -> Response[RedemptionOut]:
        actor = actor_of(request)
        redemption, created = await timebank.redeem(
            db_session,
            item_id=data.item_id,
            member_id=data.member_id,
            quantity=data.quantity,
            idempotency_key=data.idempotency_key,
            actor=actor,
            proxy=ledger.proxy_fields(data.proxy, actor),
        )
        return Response(_out(RedemptionOut, redemption), status_code=201 if created else 200)

    @post(
        "/timebank/redemptions/{redemption_id:uuid}/cancel",
        opt=REDEEM,
        status_code=200,
        summary="Cancel: coins and stock return",
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        redemption_id: FromPath[uuid.UUID],
        data: JSONBody[RedemptionCancel],
    ) -> RedemptionOut:
        row = await timebank.cancel(db_session, redemption_id, actor=actor_of(request), reason=data.reason)
        return _out(RedemptionOut, row)

    @get("/timebank/coins", opt=READ, summary="Coin ledger entries, newest first")
    async def coins(
        self,
        db_session: NamedDependency[AsyncSession],
        member_id: FromQuery[uuid.UUID | None] = None,
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> Page:
        query = select(CoinEntry).order_by(CoinEntry.on_date.desc(), CoinEntry.id.desc())
        if member_id:
            query = query.where(CoinEntry.member_id == member_id)
        rows, total = await _paged(db_session, query, page, page_size)
        return Page(items=[_out(CoinEntryOut, r) for r in rows], total=total)

    @post("/timebank/donations", opt=REDEEM, summary="Donate coins to another member", status_code=201)
    async def donate(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[DonationCreate],
    ) -> list[CoinEntryOut]:
        out, in_ = await timebank.donate(
            db_session,
            rules_of(plugin_settings),
            from_member_id=data.from_member_id,
            to_member_id=data.to_member_id,
            coins=data.coins,
            note=data.note,
            actor=actor_of(request),
            idempotency_key=data.idempotency_key,
        )
        return [_out(CoinEntryOut, out), _out(CoinEntryOut, in_)]

    @post("/timebank/exchanges", opt=REDEEM, summary="通存通兑: send coins to another county", status_code=201)
    async def exchange(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[ExchangeCreate],
    ) -> ClearingOut:
        row = await timebank.send_coins(
            db_session,
            rules_of(plugin_settings),
            acting.tree,
            member_id=data.member_id,
            to_tenant_code=data.to_tenant_code,
            coins=data.coins,
            actor=actor_of(request),
            idempotency_key=data.idempotency_key,
        )
        return _out(ClearingOut, row)

    @get("/timebank/incoming", opt=READ, summary="Coins and points sent here from other counties, not yet received")
    async def incoming(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession]
    ) -> list[ClearingOut]:
        rows = await timebank.pending_for(db_session, _scope_ids(acting))
        return [_out(ClearingOut, r) for r in rows]

    @post(
        "/timebank/incoming/{clearing_id:uuid}/receive",
        opt=REDEEM,
        status_code=200,
        summary="Receive coins sent from another county",
    )
    async def receive(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        clearing_id: FromPath[uuid.UUID],
    ) -> ClearingOut:
        row = await timebank.settle(db_session, clearing_id, _scope_ids(acting), actor=actor_of(request))
        return _out(ClearingOut, row)

    # --- figures and exports --------------------------------------------------------------------------

    @get("/stats", opt=READ, summary="Points issued, members with points, hours, coins (the acting subtree)")
    async def stats(self, db_session: NamedDependency[AsyncSession], year: FromQuery[int | None] = None) -> StatsOut:
        return await service.stats(db_session, year or datetime.date.today().year)

    @get("/exports/ranking.xlsx", opt=READ, summary="The live ranking as an Excel workbook", media_type=XLSX)
    async def export_ranking(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        y = year or datetime.date.today().year
        rows = await ledger.standings(
            db_session, rules_of(plugin_settings), year=y, tenant_ids=sorted(_scope_ids(acting))
        )
        return _xlsx(exports.ranking_workbook(rows, f"{y} 年度积分排名"), f"points-ranking-{y}.xlsx")

    @get("/exports/ledger.xlsx", opt=READ, summary="The points ledger of a year as an Excel workbook", media_type=XLSX)
    async def export_ledger(
        self, db_session: NamedDependency[AsyncSession], year: FromQuery[int | None] = None
    ) -> Response[bytes]:
        y = year or datetime.date.today().year
        data = await exports.ledger_workbook(db_session, y)
        return _xlsx(data, f"points-ledger-{y}.xlsx")


def _scope_ids(acting: Acting) -> frozenset[int]:
    return acting.tree.subtree_ids(acting.tenant.id) if acting.scope.everything else acting.scope.read


def _xlsx(data: bytes, filename: str) -> Response[bytes]:
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


__all__ = ["Clearing", "PointsController", "io"]
