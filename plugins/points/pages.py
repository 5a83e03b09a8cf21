"""Console pages, mounted by the host at ``/t/{tenant_code}/points/…``.

* 积分台账 ``ledger``: the year's figures and entries; officers reverse an entry with a reason.
* 积分申报审核 ``proposals``: secretaries propose (also on behalf of a member who does not use a phone, with his
  consent written down); officers approve or reject — never their own.
* 积分排名与公示 ``ranking``: the live ranking with stars, the quarterly publications and the objections' steps.
* 时间银行 ``timebank``: the catalogue, redemption at the counter (one click = one key, so a double click redeems
  once), cancellation, new items.
* ``members/{id}``: one member's points, rank, stars, coins and history, in large plain text.
* 我的积分 ``mine``: the same for the signed-in retired cadre (账号关联), the quarterly publications that list
  them, and their own objections — raised here by the person, followed step by step. ``tenant.read`` (the member
  role) is all it needs; it never shows anyone else's record.

Every form posts back to its page and answers with the page again: a notice on success, the error message a
person can act on otherwise, and what was typed kept.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Template
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, request_language, zh_validation_message
from core.identity.access import Acting, current_principal, platform_of
from core.orgs.member_accounts import NOT_LINKED, own_member
from core.orgs.models import Member, Organization
from core.web.pages import render_page
from plugins.points import ledger, publication, service, timebank
from plugins.points.models import CatalogueItem, Entry, Objection, Proposal, Publication, Redemption
from plugins.points.publication import STATUS_ZH
from plugins.points.rules import PointsSettings, effective
from plugins.points.schemas import ItemCreate, Proxy

READ = {"permission": "points.read"}
PROPOSE = {"permission": "points.propose"}
APPROVE = {"permission": "points.approve"}
MANAGE = {"permission": "points.manage"}
REDEEM = {"permission": "points.redeem"}
OWN = {"permission": "tenant.read"}  # 我的积分: the member role; the page shows only the person's own record
PLUGIN = "points"

Form = URLEncodedBody[dict[str, str]]


def _actor(request: Request[Any, Any, Any]) -> str:
    return str(getattr(request.user, "username", "system"))


def _can(request: Request[Any, Any, Any], acting: Acting, permission: str) -> bool:
    principal = current_principal(request)
    return principal is not None and principal.can(
        acting.tree, platform_of(request).roles, acting.tenant.id, permission
    )


def _message(request: Request[Any, Any, Any], exc: AppError | ValidationError) -> str:
    if isinstance(exc, AppError):
        return exc.message(request_language(request))
    err = exc.errors()[0]
    return zh_validation_message(err["type"], err["msg"])


async def _names(session: AsyncSession, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Member.id, Member.name).where(Member.id.in_(list(ids))))
    return dict(rows.tuples().all())


async def _members(session: AsyncSession, tenant_id: int) -> list[Member]:
    rows = await session.execute(
        select(Member).where(Member.tenant_id == tenant_id, Member.status == "active").order_by(Member.name)
    )
    return list(rows.scalars())


async def _own(request: Request[Any, Any, Any], acting: Acting, session: AsyncSession) -> Member:
    """The signed-in person's own record in this tenant (账号关联), or the page that says whom to ask."""
    member = await own_member(session, current_principal(request))
    if member is None or member.tenant_id != acting.tenant.id:
        raise NOT_LINKED.error()
    return member


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except InvalidOperation:
        return None


class PointsPages(Controller):
    path = "/"
    include_in_schema = False

    # --- 积分台账 ---------------------------------------------------------------------------------------

    async def _ledger(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        settings: PointsSettings,
        year: int,
        *,
        notice: str | None = None,
        error: str | None = None,
    ) -> Template:
        entries = (
            (
                await session.execute(
                    select(Entry).where(Entry.year == year).order_by(Entry.on_date.desc(), Entry.id.desc()).limit(100)
                )
            )
            .scalars()
            .all()
        )
        reversed_ids = {e.reverses_id for e in entries if e.reverses_id}
        names = await _names(session, {e.member_id for e in entries})
        figures = await service.stats(session, year)
        return await render_page(
            request, acting, session, "points/ledger.html", plugin=PLUGIN, status_code=409 if error else 200,
            year=year, entries=entries, names=names, settings=settings, figures=figures, notice=notice, error=error,
            reversed_ids=reversed_ids, can_reverse=_can(request, acting, APPROVE["permission"]),
        )  # fmt: skip

    @get("/ledger", opt=READ)
    async def ledger_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromQuery[int | None] = None,
    ) -> Template:
        y = year or datetime.date.today().year
        return await self._ledger(request, acting, db_session, effective(plugin_settings), y)

    @post("/ledger/{entry_id:uuid}/reverse", opt=APPROVE, status_code=200)
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        entry_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        settings = effective(plugin_settings)
        entry = await ledger.get_entry(db_session, entry_id)
        reason = (data.get("reason") or "").strip() or "管理员冲销"
        try:
            async with db_session.begin_nested():
                await ledger.reverse_entry(db_session, entry, by=_actor(request), note=reason)
        except AppError as exc:
            return await self._ledger(request, acting, db_session, settings, entry.year, error=_message(request, exc))
        return await self._ledger(request, acting, db_session, settings, entry.year, notice="已冲销，原记录保留。")

    # --- 积分申报审核 -----------------------------------------------------------------------------------

    async def _proposals(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        settings: PointsSettings,
        *,
        values: dict[str, str] | None = None,
        notice: str | None = None,
        error: str | None = None,
    ) -> Template:
        rows = (
            (
                await session.execute(
                    select(Proposal).order_by(Proposal.status != "proposed", Proposal.created_at.desc()).limit(100)
                )
            )
            .scalars()
            .all()
        )
        names = await _names(session, {p.member_id for p in rows})
        return await render_page(
            request, acting, session, "points/proposals.html", plugin=PLUGIN, status_code=409 if error else 200,
            proposals=rows, names=names, settings=settings, members=await _members(session, acting.tenant.id),
            values=values or {"on_date": datetime.date.today().isoformat()}, notice=notice, error=error,
            can_propose=_can(request, acting, PROPOSE["permission"]),
            can_approve=_can(request, acting, APPROVE["permission"]), me=_actor(request),
        )  # fmt: skip

    @get("/proposals", opt=READ)
    async def proposals_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
    ) -> Template:
        return await self._proposals(request, acting, db_session, effective(plugin_settings))

    @post("/proposals", opt=PROPOSE, status_code=200)
    async def propose(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: Form,
    ) -> Template:
        settings = effective(plugin_settings)
        values = {k: str(v).strip() for k, v in data.items() if not k.startswith("_")}
        member_id = _uuid(values.get("member_id"))
        try:
            day = datetime.date.fromisoformat(values.get("on_date", ""))
        except ValueError:
            day = None
        problem = None
        if member_id is None:
            problem = "请选择党员"
        elif day is None or day > datetime.date.today():
            problem = "请填写正确的日期（不能晚于今天）"
        elif not values.get("reason"):
            problem = "请写明事由"
        if problem:
            return await self._proposals(request, acting, db_session, settings, values=values, error=problem)
        assert member_id is not None and day is not None
        try:
            proxy = (
                Proxy(reason=values.get("proxy_reason", ""), consent=values.get("consent", ""))
                if values.get("proxy")
                else None
            )
            async with db_session.begin_nested():
                await ledger.propose(
                    db_session, settings, tenant_id=acting.tenant.id, member_id=member_id,
                    rule_code=values.get("rule_code", ""), on_date=day, reason=values["reason"],
                    hours=_decimal(values.get("hours")), points=None, actor=_actor(request), proxy=proxy,
                )  # fmt: skip
        except ValidationError as exc:
            message = "代录须写明代录原因和本人同意的方式" if values.get("proxy") else _message(request, exc)
            return await self._proposals(request, acting, db_session, settings, values=values, error=message)
        except AppError as exc:
            return await self._proposals(
                request, acting, db_session, settings, values=values, error=_message(request, exc)
            )
        return await self._proposals(request, acting, db_session, settings, notice="已提交，等待单位管理员审核。")

    async def _decide(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        settings: PointsSettings,
        proposal_id: uuid.UUID,
        data: dict[str, str],
        *,
        approve: bool,
    ) -> Template:
        await ledger.get_proposal(session, proposal_id)
        try:
            async with session.begin_nested():
                await ledger.decide(
                    session, settings, proposal_id, approve=approve, actor=_actor(request), note=data.get("note", "")
                )
        except AppError as exc:
            return await self._proposals(request, acting, session, settings, error=_message(request, exc))
        notice = "已通过，积分已记入台账。" if approve else "已退回。"
        return await self._proposals(request, acting, session, settings, notice=notice)

    @post("/proposals/{proposal_id:uuid}/approve", opt=APPROVE, status_code=200)
    async def approve(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        proposal_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        settings = effective(plugin_settings)
        return await self._decide(request, acting, db_session, settings, proposal_id, data, approve=True)

    @post("/proposals/{proposal_id:uuid}/reject", opt=APPROVE, status_code=200)
    async def reject(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        proposal_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        settings = effective(plugin_settings)
        return await self._decide(request, acting, db_session, settings, proposal_id, data, approve=False)

    # --- 积分排名与公示 ---------------------------------------------------------------------------------

    async def _ranking(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        settings: PointsSettings,
        year: int,
        *,
        notice: str | None = None,
        error: str | None = None,
    ) -> Template:
        rows = await ledger.standings(
            session, settings, year=year, tenant_ids=sorted(acting.tree.subtree_ids(acting.tenant.id))
        )
        publications = (
            (
                await session.execute(
                    select(Publication).order_by(Publication.year.desc(), Publication.quarter.desc()).limit(40)
                )
            )
            .scalars()
            .all()
        )
        objections = (
            (await session.execute(select(Objection).where(Objection.status != "filed").order_by(Objection.created_at)))
            .scalars()
            .all()
        )
        branches = (
            (
                await session.execute(
                    select(Organization)
                    .where(Organization.tenant_id == acting.tenant.id, Organization.level == "branch")
                    .order_by(Organization.name)
                )
            )
            .scalars()
            .all()
        )
        today = datetime.date.today()
        last_quarter = ((today.month - 1) // 3) or 4
        return await render_page(
            request, acting, session, "points/ranking.html", plugin=PLUGIN, status_code=409 if error else 200,
            year=year, rows=rows, publications=publications, objections=objections, branches=branches,
            names=await _names(session, {o.member_id for o in objections}), settings=settings,
            next_step=publication.STEPS, status_zh=STATUS_ZH, notice=notice, error=error,
            can_manage=_can(request, acting, MANAGE["permission"]),
            default_year=today.year if last_quarter != 4 else today.year - 1, default_quarter=last_quarter,
        )  # fmt: skip

    @get("/ranking", opt=READ)
    async def ranking_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        year: FromQuery[int | None] = None,
    ) -> Template:
        y = year or datetime.date.today().year
        return await self._ranking(request, acting, db_session, effective(plugin_settings), y)

    @post("/publications", opt=MANAGE, status_code=200)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: Form,
    ) -> Template:
        settings = effective(plugin_settings)
        today = datetime.date.today()
        try:
            year, quarter = int(data.get("year", "")), int(data.get("quarter", ""))
        except ValueError:
            return await self._ranking(request, acting, db_session, settings, today.year, error="请选择年度和季度")
        try:
            async with db_session.begin_nested():
                row = await publication.publish(
                    db_session, settings, tenant_id=acting.tenant.id, year=year, quarter=quarter,
                    org_id=_uuid(data.get("org_id")), actor=_actor(request),
                )  # fmt: skip
        except AppError as exc:
            return await self._ranking(request, acting, db_session, settings, today.year, error=_message(request, exc))
        notice = f"已公示：{row.year} 年第 {row.quarter} 季度 · {row.scope_name}（{len(row.rows)} 人）"
        return await self._ranking(request, acting, db_session, settings, today.year, notice=notice)

    @get("/publications/{publication_id:uuid}", opt=READ)
    async def publication_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        publication_id: FromPath[uuid.UUID],
    ) -> Template:
        row = await publication.get_publication(db_session, publication_id)
        return await render_page(request, acting, db_session, "points/publication.html", plugin=PLUGIN, pub=row)

    @post("/objections/{objection_id:uuid}/step", opt=MANAGE, status_code=200)
    async def objection_step(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        objection_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        settings = effective(plugin_settings)
        year = datetime.date.today().year
        exists = (await db_session.execute(select(Objection.id).where(Objection.id == objection_id))).first()
        if exists is None:
            raise publication.OBJECTION_NOT_FOUND.error(field="objection_id")
        note = (data.get("note") or "").strip()
        if not note:
            return await self._ranking(
                request, acting, db_session, settings, year, error="请写明调查情况、答复或归档说明"
            )
        try:
            async with db_session.begin_nested():
                await publication.advance(
                    db_session, objection_id, to=data.get("to", ""), note=note, actor=_actor(request)
                )
        except AppError as exc:
            return await self._ranking(request, acting, db_session, settings, year, error=_message(request, exc))
        return await self._ranking(request, acting, db_session, settings, year, notice="已记录这一步。")

    # --- 时间银行 ---------------------------------------------------------------------------------------

    async def _timebank(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        *,
        notice: str | None = None,
        error: str | None = None,
    ) -> Template:
        items = (
            (await session.execute(select(CatalogueItem).order_by(CatalogueItem.kind, CatalogueItem.price)))
            .scalars()
            .all()
        )
        redemptions = (
            (await session.execute(select(Redemption).order_by(Redemption.created_at.desc()).limit(50))).scalars().all()
        )
        names = await _names(session, {r.member_id for r in redemptions})
        figures = await service.stats(session, datetime.date.today().year)
        return await render_page(
            request, acting, session, "points/timebank.html", plugin=PLUGIN, status_code=409 if error else 200,
            items=items, redemptions=redemptions, names=names, item_names={i.id: i.name for i in items},
            figures=figures, members=await _members(session, acting.tenant.id), key=str(uuid.uuid4()),
            notice=notice, error=error, can_redeem=_can(request, acting, REDEEM["permission"]),
            can_manage=_can(request, acting, MANAGE["permission"]),
        )  # fmt: skip

    @get("/timebank", opt=READ)
    async def timebank_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await self._timebank(request, acting, db_session)

    @post("/timebank/redeem", opt=REDEEM, status_code=200)
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: Form,
    ) -> Template:
        item_id, member_id = _uuid(data.get("item_id")), _uuid(data.get("member_id"))
        key = (data.get("key") or "").strip()
        if item_id is None or member_id is None or len(key) < 8:
            return await self._timebank(request, acting, db_session, error="请选择党员和兑换项目")
        try:
            quantity = max(1, min(int(data.get("quantity") or 1), 100))
            async with db_session.begin_nested():
                row, created = await timebank.redeem(
                    db_session, item_id=item_id, member_id=member_id, quantity=quantity, idempotency_key=key,
                    actor=_actor(request),
                )  # fmt: skip
        except ValueError:
            return await self._timebank(request, acting, db_session, error="数量须是 1 到 100 的整数")
        except AppError as exc:
            return await self._timebank(request, acting, db_session, error=_message(request, exc))
        notice = f"兑换成功，扣除 {row.coins} 币。" if created else "这笔兑换已经办理过了，没有重复扣币。"
        return await self._timebank(request, acting, db_session, notice=notice)

    @post("/timebank/redemptions/{redemption_id:uuid}/cancel", opt=REDEEM, status_code=200)
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        redemption_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        exists = (await db_session.execute(select(Redemption.id).where(Redemption.id == redemption_id))).first()
        if exists is None:
            raise timebank.REDEMPTION_NOT_FOUND.error(field="redemption_id")
        try:
            async with db_session.begin_nested():
                row = await timebank.cancel(
                    db_session, redemption_id, actor=_actor(request), reason=data.get("reason", "")
                )
        except AppError as exc:
            return await self._timebank(request, acting, db_session, error=_message(request, exc))
        return await self._timebank(request, acting, db_session, notice=f"已取消，退回 {row.coins} 币，库存已恢复。")

    @post("/timebank/items", opt=MANAGE, status_code=200)
    async def add_item(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: Form,
    ) -> Template:
        fields = {k: v for k, v in data.items() if k in ItemCreate.model_fields and v != ""}
        try:
            item = ItemCreate.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            message = f"{err['loc'][0] if err['loc'] else ''}：{zh_validation_message(err['type'], err['msg'])}"
            return await self._timebank(request, acting, db_session, error=message)
        db_session.add(CatalogueItem(tenant_id=acting.tenant.id, **item.model_dump()))
        await db_session.flush()
        return await self._timebank(request, acting, db_session, notice=f"已上架：{item.name}")

    # --- one member --------------------------------------------------------------------------------------

    @get("/members/{member_id:uuid}", opt=READ)
    async def member_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        member_id: FromPath[uuid.UUID],
        year: FromQuery[int | None] = None,
    ) -> Template:
        summary = await service.member_summary(db_session, effective(plugin_settings), member_id, year)
        return await render_page(request, acting, db_session, "points/member.html", plugin=PLUGIN, m=summary)

    # --- 我的积分: the signed-in person's own points, publications and objections -------------------------------

    async def _mine(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        settings: PointsSettings,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> Template:
        member = await _own(request, acting, session)
        summary = await service.member_summary(session, settings, member.id, None)
        mine = str(member.id)
        listed: list[dict[str, Any]] = []
        for pub in (
            await session.execute(
                select(Publication)
                .where(Publication.tenant_id == member.tenant_id, Publication.year >= summary.year - 1)
                .order_by(Publication.published_on.desc())
            )
        ).scalars():
            row = next((r for r in pub.rows if r.get("member_id") == mine), None)
            if row is not None:
                listed.append({"pub": pub, "row": row})
        objections = (
            (
                await session.execute(
                    select(Objection)
                    .where(Objection.tenant_id == member.tenant_id, Objection.member_id == member.id)
                    .order_by(Objection.created_at.desc())
                )
            )
            .scalars()
            .all()
        )
        zh = request_language(request) == "zh"
        pubs: list[Publication] = [item["pub"] for item in listed]
        pub_choices = [
            (
                str(p.id),
                f"{p.year} 年第 {p.quarter} 季度 · {p.scope_name}" if zh else f"{p.year} Q{p.quarter} · {p.scope_name}",
            )
            for p in pubs
        ]
        return await render_page(
            request, acting, session, "points/mine.html", plugin=PLUGIN, status_code=422 if errors else 200,
            m=summary, listed=listed, objections=objections, status_zh=STATUS_ZH, pub_choices=pub_choices,
            values=values or {}, errors=errors or {}, notice=notice,
        )  # fmt: skip

    @get("/mine", opt=OWN)
    async def mine_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
    ) -> Template:
        return await self._mine(request, acting, db_session, effective(plugin_settings))

    @post("/mine/objections", opt=OWN, status_code=200)
    async def object_mine(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: Form,
    ) -> Template:
        """The person raises an objection to a publication that lists them; staff follow it on the ranking page."""
        settings = effective(plugin_settings)
        values = {k: str(v).strip() for k, v in data.items() if not k.startswith("_")}
        member = await _own(request, acting, db_session)
        publication_id = _uuid(values.get("publication_id"))
        text = values.get("text", "")
        lang = request_language(request)
        problem: dict[str, str] = {}
        if len(text) < 5:
            problem["text"] = (
                "请写明异议的内容（至少 5 个字），例如哪一项积分有出入"
                if lang == "zh"
                else "Say what you object to (at least 5 characters)"
            )
        elif publication_id is None:
            problem["text"] = "请从公示列表中选择要提出异议的公示" if lang == "zh" else "Choose a publication"
        if problem:
            return await self._mine(request, acting, db_session, settings, values=values, errors=problem)
        assert publication_id is not None
        try:
            async with db_session.begin_nested():
                await publication.raise_objection(
                    db_session, publication_id, member_id=member.id, text=text, actor=_actor(request)
                )
        except AppError as exc:
            return await self._mine(
                request, acting, db_session, settings, values=values, errors={"text": _message(request, exc)}
            )
        notice = (
            "异议已提交，单位将调查核实并答复，进展会显示在本页。"
            if lang == "zh"
            else "Objection submitted: the unit will look into it and answer; its progress shows here."
        )
        return await self._mine(request, acting, db_session, settings, notice=notice)
