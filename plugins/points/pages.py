"""Console pages: the ledger and proposals for secretaries and admins, the ranking with its publications, the
time bank's catalogue and redemptions. Mounted by the host at ``/t/{tenant_code}/points/…``."""

from __future__ import annotations

import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting
from core.orgs.models import Member
from core.web.pages import render_page
from plugins.points import ledger, service
from plugins.points.models import CatalogueItem, Entry, Objection, Proposal, Publication, Redemption
from plugins.points.rules import effective

READ = {"permission": "points.read"}
PLUGIN = "points"


async def _names(session: AsyncSession, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Member.id, Member.name).where(Member.id.in_(list(ids))))
    return dict(rows.tuples().all())


class PointsPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/ledger", opt=READ)
    async def ledger_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromQuery[int | None] = None,
    ) -> Template:
        settings = effective(plugin_settings)
        y = year or datetime.date.today().year
        entries = (
            (
                await db_session.execute(
                    select(Entry).where(Entry.year == y).order_by(Entry.on_date.desc(), Entry.id.desc()).limit(100)
                )
            )
            .scalars()
            .all()
        )
        names = await _names(db_session, {e.member_id for e in entries})
        figures = await service.stats(db_session, y)
        return await render_page(
            request, acting, db_session, "points/ledger.html", plugin=PLUGIN, year=y, entries=entries,
            names=names, settings=settings, figures=figures,
        )  # fmt: skip

    @get("/proposals", opt=READ)
    async def proposals_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        rows = (
            (
                await db_session.execute(
                    select(Proposal).order_by(Proposal.status != "proposed", Proposal.created_at.desc()).limit(100)
                )
            )
            .scalars()
            .all()
        )
        names = await _names(db_session, {p.member_id for p in rows})
        return await render_page(
            request, acting, db_session, "points/proposals.html", plugin=PLUGIN, proposals=rows, names=names
        )

    @get("/ranking", opt=READ)
    async def ranking_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromQuery[int | None] = None,
    ) -> Template:
        settings = effective(plugin_settings)
        y = year or datetime.date.today().year
        rows = await ledger.standings(
            db_session, settings, year=y, tenant_ids=sorted(acting.tree.subtree_ids(acting.tenant.id))
        )
        publications = (
            (
                await db_session.execute(
                    select(Publication).order_by(Publication.year.desc(), Publication.quarter.desc())
                )
            )
            .scalars()
            .all()
        )
        objections = (
            (
                await db_session.execute(
                    select(Objection).where(Objection.status != "filed").order_by(Objection.created_at)
                )
            )
            .scalars()
            .all()
        )
        names = await _names(db_session, {o.member_id for o in objections})
        return await render_page(
            request, acting, db_session, "points/ranking.html", plugin=PLUGIN, year=y, rows=rows,
            publications=publications, objections=objections, names=names, settings=settings,
        )  # fmt: skip

    @get("/timebank", opt=READ)
    async def timebank_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        items = (
            (await db_session.execute(select(CatalogueItem).order_by(CatalogueItem.kind, CatalogueItem.price)))
            .scalars()
            .all()
        )
        redemptions = (
            (await db_session.execute(select(Redemption).order_by(Redemption.created_at.desc()).limit(50)))
            .scalars()
            .all()
        )
        names = await _names(db_session, {r.member_id for r in redemptions})
        item_names = {i.id: i.name for i in items}
        figures = await service.stats(db_session, datetime.date.today().year)
        return await render_page(
            request, acting, db_session, "points/timebank.html", plugin=PLUGIN, items=items,
            redemptions=redemptions, names=names, item_names=item_names, figures=figures,
        )  # fmt: skip
