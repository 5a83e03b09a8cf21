"""Console page of the organisation tree (组织架构): 党委 > 党总支 > 党支部 > 党小组 of the tenant's subtree, each
with its kind, members, secretary and committee (支委班子) and, for branches, the "六有" checklist; create and
edit an organisation with the API's own rules (errors beside each field, nothing typed lost)."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, request_language, zh_validation_message
from core.identity.access import Acting, provide_acting
from core.identity.roles import ORG_MANAGE, TENANT_READ
from core.orglife.models import BranchSixHave, SixHaveItem
from core.orgs import service
from core.orgs.committee import CommitteeIn, current_seats, replace_committee
from core.orgs.models import (
    BranchKind,
    CommitteePosition,
    CommitteeSeat,
    Member,
    Organization,
    OrgLevel,
    Participation,
)
from core.orgs.schemas import OrgCreate, OrgUpdate
from core.web.console import shell
from core.web.forms import app_error, can, parse, typed

CREATE_FIELDS = ("name", "level", "kind", "parent_id", "address", "founded_on")
EDIT_FIELDS = ("name", "kind", "address", "founded_on")


def level_choices(lang: str) -> list[tuple[str, str]]:
    return [(lv.value, lv.zh if lang == "zh" else lv.value.replace("_", " ")) for lv in OrgLevel]


def kind_choices(lang: str) -> list[tuple[str, str]]:
    return [(k.value, k.zh if lang == "zh" else k.value.replace("_", " ")) for k in BranchKind]


class BranchPages(Controller):
    path = "/t/{tenant_code:str}/branches"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"permission": TENANT_READ, "page": True})
    async def tree_page(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        orgs = (
            (await db_session.execute(select(Organization).where(Organization.is_active).order_by(Organization.name)))
            .scalars()
            .all()
        )
        counted = await db_session.execute(
            select(Member.formal_org_id, func.count()).where(Member.status == "active").group_by(Member.formal_org_id)
        )
        counts = {org_id: n for org_id, n in counted.tuples()}  # noqa: C416
        seats: dict[uuid.UUID, list[dict[str, str]]] = defaultdict(list)
        order = list(CommitteePosition)
        seat_rows = await db_session.execute(
            select(CommitteeSeat.org_id, CommitteeSeat.position, Member.name)
            .join(Member, (Member.tenant_id == CommitteeSeat.tenant_id) & (Member.id == CommitteeSeat.member_id))
            .where(CommitteeSeat.until.is_(None))
        )
        for org_id, position, name in sorted(
            seat_rows.tuples(), key=lambda r: (order.index(CommitteePosition(r[1])), r[2])
        ):
            pos = CommitteePosition(position)
            seats[org_id].append({"position": pos.value, "position_zh": pos.zh, "name": name})
        met: dict[uuid.UUID, set[str]] = defaultdict(set)
        for org_id, item in (
            await db_session.execute(select(BranchSixHave.org_id, BranchSixHave.item).where(BranchSixHave.met))
        ).tuples():
            met[org_id].add(item)
        context = await shell(request, acting, db_session)
        lang = context["lang"]
        children: dict[tuple[int, uuid.UUID | None], list[Organization]] = defaultdict(list)
        for org in orgs:
            children[(org.tenant_id, org.parent_id)].append(org)

        def node(org: Organization, depth: int) -> list[dict[str, Any]]:
            level = OrgLevel(org.level)
            kind = BranchKind(org.kind) if org.kind else None
            row = {
                "id": str(org.id),
                "name": org.name,
                "depth": min(depth, 3),
                "level_zh": level.zh if lang == "zh" else level.value.replace("_", " "),
                "kind_zh": (kind.zh if lang == "zh" else kind.value.replace("_", " ")) if kind else None,
                "members": counts.get(org.id, 0),
                "committee": seats.get(org.id, []),
                "secretary": next((s["name"] for s in seats.get(org.id, []) if s["position"] == "secretary"), None),
                "own": org.tenant_id == acting.tenant.id,
                "six": (
                    [
                        {
                            "item": i.value,
                            "label": i.zh if lang == "zh" else i.value.capitalize(),
                            "met": i.value in met.get(org.id, set()),
                        }
                        for i in SixHaveItem
                    ]
                    if level is OrgLevel.BRANCH
                    else None
                ),
            }
            out = [row]
            for child in children.get((org.tenant_id, org.id), []):
                out.extend(node(child, depth + 1))
            return out

        groups = []
        for tenant_node in acting.tree.walk():
            if tenant_node.id not in acting.tree.subtree_ids(acting.tenant.id):
                continue
            rows: list[dict[str, Any]] = []
            for root in children.get((tenant_node.id, None), []):
                rows.extend(node(root, 0))
            if rows or tenant_node.id == acting.tenant.id:
                groups.append({"tenant": tenant_node, "rows": rows})
        notice = None
        if saved:
            notice = f"已保存：{saved}" if lang == "zh" else f"Saved: {saved}"
        return Template(
            template_name="console/branches.html",
            context={
                **context,
                "groups": groups,
                "can_manage": can(request, acting, ORG_MANAGE),
                "notice": notice,
            },
        )

    async def _form(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        values: dict[str, str],
        errors: dict[str, str],
        org: Organization | None = None,
    ) -> Template:
        parents = (
            (
                await session.execute(
                    select(Organization)
                    .where(Organization.tenant_id == acting.tenant.id, Organization.is_active)
                    .where(Organization.level != OrgLevel.GROUP.value)
                    .order_by(Organization.name)
                )
            )
            .scalars()
            .all()
        )
        context = await shell(request, acting, session)
        lang = context["lang"]
        return Template(
            template_name="console/branch_form.html",
            context={
                **context,
                "values": values,
                "errors": errors,
                "org": org,
                "levels": level_choices(lang),
                "kinds": kind_choices(lang),
                "parents": [(str(p.id), f"{p.name}（{OrgLevel(p.level).zh}）") for p in parents],
            },
            status_code=422 if errors else 200,
        )

    @get("/new", opt={"permission": ORG_MANAGE, "page": True})
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await self._form(request, acting, db_session, {"level": OrgLevel.BRANCH.value}, {})

    @post("/new", opt={"permission": ORG_MANAGE, "page": True}, status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        values = typed(data, CREATE_FIELDS)
        lang = request_language(request)
        fields, errors = parse(OrgCreate, values, lang, "name")
        if fields is None:
            return await self._form(request, acting, db_session, values, errors)
        try:
            async with db_session.begin_nested():
                org = await service.create_org(db_session, acting.tenant.id, fields)
        except AppError as exc:
            return await self._form(request, acting, db_session, values, app_error(exc, lang, "name", CREATE_FIELDS))
        return Redirect(f"/t/{acting.tenant.code}/branches/?saved={quote(org.name)}", status_code=303)

    @get("/{org_id:uuid}/edit", opt={"permission": ORG_MANAGE, "page": True})
    async def edit_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
    ) -> Template:
        org = await service.get_org(db_session, org_id)
        values = {
            "name": org.name,
            "kind": org.kind or "",
            "address": org.address,
            "founded_on": org.founded_on.isoformat() if org.founded_on else "",
        }
        return await self._form(request, acting, db_session, values, {}, org)

    @post("/{org_id:uuid}/edit", opt={"permission": ORG_MANAGE, "page": True}, status_code=303)
    async def update(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        org = await service.get_org(db_session, org_id)
        values = typed(data, EDIT_FIELDS)
        lang = request_language(request)
        fields, errors = parse(OrgUpdate, values, lang, "name")
        if fields is not None and not values.get("name"):
            errors = {"name": "必填" if lang == "zh" else "Required"}
        if fields is None or errors:
            return await self._form(request, acting, db_session, values, errors, org)
        try:
            async with db_session.begin_nested():
                await service.update_org(db_session, org, fields)
        except AppError as exc:
            return await self._form(request, acting, db_session, values, app_error(exc, lang, "name", EDIT_FIELDS), org)
        return Redirect(f"/t/{acting.tenant.code}/branches/?saved={quote(org.name)}", status_code=303)

    # ---- the committee (支委班子): replaced as a whole, past seats kept as history --------------------------

    async def _committee_form(
        self,
        request: Request[Any, Any, Any],
        acting: Acting,
        session: AsyncSession,
        org: Organization,
        rows: list[dict[str, str]],
        errors: dict[str, str],
    ) -> Template:
        takes_part = select(Participation.member_id).where(Participation.org_id == org.id)
        members = (
            (
                await session.execute(
                    select(Member)
                    .where(Member.tenant_id == org.tenant_id, Member.status == "active")
                    .where(or_(Member.formal_org_id == org.id, Member.id.in_(takes_part)))
                    .order_by(Member.name, Member.id)
                )
            )
            .scalars()
            .all()
        )
        context = await shell(request, acting, session)
        lang = context["lang"]
        return Template(
            template_name="console/committee_form.html",
            context={
                **context,
                "org": org,
                "rows": rows,
                "errors": errors,
                "members": [(str(m.id), m.name) for m in members],
                "positions": [
                    (p.value, p.zh if lang == "zh" else p.value.replace("_", " ")) for p in CommitteePosition
                ],
            },
            status_code=422 if errors else 200,
        )

    @get("/{org_id:uuid}/committee", opt={"permission": ORG_MANAGE, "page": True})
    async def committee_form(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
    ) -> Template:
        org = await service.get_org(db_session, org_id)
        rows = [
            {"member_id": s.member_id, "position": s.position.value, "since": s.since.isoformat()}
            for s in await current_seats(db_session, org)
        ]
        rows += [{"member_id": "", "position": "member", "since": ""} for _ in range(3)]
        return await self._committee_form(request, acting, db_session, org, rows, {})

    @post("/{org_id:uuid}/committee", opt={"permission": ORG_MANAGE, "page": True}, status_code=303)
    async def save_committee(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        """The form posts ``member_id-N``, ``position-N`` and ``since-N``; rows without a member are left out."""
        org = await service.get_org(db_session, org_id)
        lang = request_language(request)
        count = 1 + max((int(k.rsplit("-", 1)[1]) for k in data if re.fullmatch(r"member_id-\d+", k)), default=-1)
        rows = [
            {f: str(data.get(f"{f}-{i}", "")).strip() for f in ("member_id", "position", "since")}
            for i in range(min(count, 30))
        ]
        chosen = [(i, r) for i, r in enumerate(rows) if r["member_id"]]
        payload = {
            "seats": [
                {
                    k: v
                    for k, v in (("member_id", r["member_id"]), ("position", r["position"]), ("since", r["since"]))
                    if v
                }
                for _i, r in chosen
            ]
        }
        errors: dict[str, str] = {}
        try:
            fields = CommitteeIn.model_validate(payload)
        except ValidationError as exc:
            for err in exc.errors():
                loc = err["loc"]
                if len(loc) >= 3 and isinstance(loc[1], int) and loc[1] < len(chosen):
                    key = f"{loc[2]}-{chosen[loc[1]][0]}"
                    message = str(err["msg"]) if lang == "en" else zh_validation_message(err["type"], err["msg"])
                    errors.setdefault(key, message)
            errors = errors or {"form": "请检查填写的内容" if lang == "zh" else "Check what was entered"}
            return await self._committee_form(request, acting, db_session, org, rows, errors)
        try:
            async with db_session.begin_nested():
                await replace_committee(db_session, org, fields)
        except AppError as exc:
            found = re.match(r"seats\.(\d+)\.(\w+)", exc.field or "")
            key = "form"
            if found and int(found.group(1)) < len(chosen):
                key = f"{found.group(2)}-{chosen[int(found.group(1))][0]}"
            return await self._committee_form(request, acting, db_session, org, rows, {key: exc.message(lang)})
        return Redirect(f"/t/{acting.tenant.code}/branches/?saved={quote(org.name)}", status_code=303)
