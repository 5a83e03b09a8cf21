"""Console page of organisation-relation transfers (组织关系转接): the transfers of the subtree with filters,
the counts and transfer rate of a period, a request form (direct, negotiated, deferred) and the workflow's
actions (approve, reject, complete, withdraw) as plain form posts. The rules are the service's
(:mod:`core.orgs.transfers`); a refusal is shown in words on the page."""

from __future__ import annotations

import datetime
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FORBIDDEN, AppError, request_language
from core.identity.access import Acting, provide_acting
from core.identity.roles import MEMBER_READ, MEMBER_WRITE, TRANSFER_MANAGE
from core.orgs import transfers
from core.orgs.models import Member
from core.orgs.transfer_models import MemberTransfer, TransferKind, TransferStatus
from core.orgs.transfer_routes import TransferCreate, actor_of, side_of, transfer_out
from core.orgs.transfers import REPORTING_TZ
from core.web.console import page_of, shell
from core.web.forms import app_error, can, parse, typed

PAGE_SIZE = 20
FORM_FIELDS = ("member_id", "kind", "target_tenant_code", "target_org_id", "reason", "review_on")
ACTIONS = ("approve", "reject", "complete", "cancel")
DONE_ZH = {
    "requested": "已提交转接申请",
    "approve": "已同意",
    "reject": "已退回",
    "complete": "已办结",
    "cancel": "已撤回",
}
DIRECTIONS = ("all", "incoming", "outgoing")


def _date(raw: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class TransferPages(Controller):
    path = "/t/{tenant_code:str}/transfers"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"permission": MEMBER_READ, "page": True})
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        direction: FromQuery[str] = "all",
        status: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        period_from: FromQuery[str | None] = None,
        period_to: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        done: FromQuery[str | None] = None,
        problem: FromQuery[str | None] = None,
    ) -> Template:
        side = side_of(acting)
        chosen_direction = direction if direction in DIRECTIONS else "all"
        chosen_status = TransferStatus(status) if status in {s.value for s in TransferStatus} else None
        chosen_kind = TransferKind(kind) if kind in {k.value for k in TransferKind} else None
        query = transfers.list_query(
            side,
            direction=chosen_direction,  # type: ignore[arg-type]
            status=chosen_status,
            kind=chosen_kind,
        )
        listing = await page_of(
            db_session, query.order_by(MemberTransfer.requested_at.desc(), MemberTransfer.id), page, PAGE_SIZE
        )
        today = datetime.datetime.now(REPORTING_TZ).date()
        start = _date(period_from) or today.replace(month=1, day=1)
        end = _date(period_to) or today
        counts = await transfers.stats(db_session, side, start, end)
        context = await shell(request, acting, db_session)
        lang = context["lang"]
        filters = {
            "direction": chosen_direction,
            "status": chosen_status.value if chosen_status else "",
            "kind": chosen_kind.value if chosen_kind else "",
            "period_from": start.isoformat(),
            "period_to": end.isoformat(),
        }
        notice = None
        if done in DONE_ZH:
            notice = DONE_ZH[done] if lang == "zh" else f"Done: {done}"
        return Template(
            template_name="console/transfers.html",
            context={
                **context,
                "rows": [transfer_out(t, side) for t in listing.rows],
                "total": listing.total,
                "page": listing.page,
                "pages": listing.pages,
                "filters": filters,
                "query_base": urlencode({k: v for k, v in filters.items() if v}),
                "counts": counts,
                "rate": None if counts.rate is None else f"{counts.rate * 100:.1f}%",
                "statuses": [(s.value, s.zh if lang == "zh" else s.value) for s in TransferStatus],
                "kinds": [(k.value, k.zh if lang == "zh" else k.value) for k in TransferKind],
                "can_write": can(request, acting, MEMBER_WRITE),
                "can_decide": can(request, acting, TRANSFER_MANAGE),
                "notice": notice,
                "problem": problem,
            },
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> Template:
        members = (
            (
                await session.execute(
                    select(Member)
                    .where(Member.tenant_id == acting.tenant.id, Member.status == "active")
                    .order_by(Member.name, Member.id)
                    .limit(2000)
                )
            )
            .scalars()
            .all()
        )
        target = acting.tree.get(values["target_tenant_code"]) if values.get("target_tenant_code") else acting.tenant
        branches = await transfers.target_branches(session, target) if target is not None else []
        context = await shell(request, acting, session)
        lang = context["lang"]
        return Template(
            template_name="console/transfer_form.html",
            context={
                **context,
                "values": values,
                "errors": errors,
                "members": [(str(m.id), f"{m.name}（{m.birth_date.year}）") for m in members],
                "kinds": [(k.value, k.zh if lang == "zh" else k.value) for k in TransferKind],
                "targets": [
                    (n.code, f"{'　' * (n.path.count('/') - 2)}{n.name}（{n.code}）") for n in acting.tree.walk()
                ],
                "target": target,
                "branches": [(str(b.id), b.name) for b in branches],
            },
            status_code=422 if errors else 200,
        )

    @get("/new", opt={"permission": MEMBER_WRITE, "page": True})
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromQuery[str | None] = None,
        target_tenant_code: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
    ) -> Template:
        """Also the plain-form way to list the branches of another receiving tenant (the form re-opens with
        what was typed)."""
        values = {
            "member_id": member_id or "",
            "target_tenant_code": target_tenant_code or acting.tenant.code,
            "kind": kind or TransferKind.DIRECT.value,
            "reason": reason or "",
        }
        errors = {}
        if target_tenant_code and acting.tree.get(target_tenant_code) is None:
            errors["target_tenant_code"] = "没有这个单位" if request_language(request) == "zh" else "No such tenant"
            values["target_tenant_code"] = acting.tenant.code
        return await self._form(request, acting, db_session, values, errors)

    @post("/new", opt={"permission": MEMBER_WRITE, "page": True}, status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        values = typed(data, FORM_FIELDS)
        lang = request_language(request)
        if data.get("step") == "choose":  # list the branches of the chosen receiving tenant, keep what was typed
            errors = {}
            if acting.tree.get(values.get("target_tenant_code", "")) is None:
                errors["target_tenant_code"] = "没有这个单位" if lang == "zh" else "No such tenant"
                values["target_tenant_code"] = acting.tenant.code
            return await self._form(request, acting, db_session, values, errors)
        if values.get("kind") == TransferKind.DEFERRED.value:
            values.pop("target_org_id", None)
        fields, errors = parse(TransferCreate, values, lang, "reason")
        if fields is None:
            values.setdefault("target_tenant_code", acting.tenant.code)
            return await self._form(request, acting, db_session, values, errors)
        side = side_of(acting)
        try:
            async with db_session.begin_nested():
                transfer = await transfers.request_transfer(
                    db_session,
                    side,
                    actor_of(request, acting),
                    member_id=fields.member_id,
                    kind=fields.kind,
                    target_tenant_code=fields.target_tenant_code,
                    target_org_id=fields.target_org_id,
                    reason=fields.reason,
                    review_on=fields.review_on,
                )
        except AppError as exc:
            values.setdefault("target_tenant_code", acting.tenant.code)
            return await self._form(request, acting, db_session, values, app_error(exc, lang, "reason", FORM_FIELDS))
        return Redirect(f"/t/{acting.tenant.code}/transfers/?done=requested&status={transfer.status}", status_code=303)

    @post("/{transfer_id:uuid}/{action:str}", opt={"permission": MEMBER_WRITE, "page": True}, status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        transfer_id: FromPath[uuid.UUID],
        action: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect:
        """approve / reject / complete need transfer.manage (checked here, as the API's routes declare it);
        withdrawing needs member.write and being the requester (the service checks)."""
        side = side_of(acting)
        await transfers.get_transfer(db_session, side, transfer_id)  # another tenant's transfer: 404
        lang = request_language(request)
        back = f"/t/{acting.tenant.code}/transfers/"
        if action not in ACTIONS:
            return Redirect(back, status_code=303)
        if action != "cancel" and not can(request, acting, TRANSFER_MANAGE):
            raise FORBIDDEN.error()
        note = (data.get("note") or "").strip()[:500] or None
        if action == "reject" and (note is None or len(note) < 2):
            message = "退回时请写明原因（至少 2 个字）" if lang == "zh" else "Give the reason for refusing"
            return Redirect(f"{back}?problem={quote(message)}", status_code=303)
        actor = actor_of(request, acting)
        try:
            async with db_session.begin_nested():
                if action == "approve":
                    await transfers.approve(db_session, side, actor, transfer_id, note)
                elif action == "reject":
                    await transfers.reject(db_session, side, actor, transfer_id, note or "")
                elif action == "complete":
                    await transfers.complete(db_session, side, actor, transfer_id, note)
                else:
                    await transfers.cancel(db_session, side, actor, transfer_id, note)
        except AppError as exc:
            return Redirect(f"{back}?problem={quote(exc.message(lang))}", status_code=303)
        return Redirect(f"{back}?done={action}", status_code=303)
