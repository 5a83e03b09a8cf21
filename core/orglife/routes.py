"""``/api/v1/t/{tenant_code}/meetings`` (组织生活 and attendance), ``…/branches/{org_id}/six-haves`` and
``…/six-haves/completion`` ("六有"), ``…/model-branch`` ("六好" items, scores, rankings).

Lists and reads cover the acting tenant's subtree; meetings are created in the acting tenant, by one of its
own branches or party groups. Evidence files are handed out only as short-lived signed links.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, platform_of, provide_acting
from core.identity.principal import Principal
from core.identity.roles import ORGLIFE_WRITE, STANDARDS_MANAGE, TENANT_READ
from core.orglife import service, six_haves, standards
from core.orglife.models import (
    BranchScore,
    BranchScoreLine,
    ItemKind,
    Meeting,
    MeetingKind,
    MeetingMode,
    SixHaveEvidence,
    StandardItem,
)
from core.orglife.periods import resolve_period
from core.orglife.schemas import (
    AttendanceBatch,
    AttendanceOut,
    AttendanceSummary,
    BranchSixHavesOut,
    CancelRequest,
    CompletionOut,
    CompletionRow,
    EvidenceOut,
    ItemRate,
    MeetingCreate,
    MeetingOut,
    MeetingPage,
    MeetingUpdate,
    PublishRequest,
    RankingOut,
    RankingRow,
    ScoreIn,
    ScoreLineOut,
    ScoreOut,
    SixHaveOut,
    SixHaveUpdate,
    StandardItemCreate,
    StandardItemOut,
    StandardItemUpdate,
    StandardListOut,
)
from core.orgs.models import Organization
from core.storage.models import StoredFile
from core.tenancy.tree import TenantTree

# --- meetings ----------------------------------------------------------------------------------------------


def meeting_out(
    meeting: Meeting,
    tree: TenantTree,
    org_name: str,
    counts: dict[str, int],
    sheet: list[service.AttendanceRow] | None = None,
) -> MeetingOut:
    kind = MeetingKind(meeting.kind)
    mode = MeetingMode(meeting.mode)
    state = service.meeting_state(meeting)
    out = MeetingOut(
        id=str(meeting.id),
        tenant_code=tree.nodes[meeting.tenant_id].code,
        org_id=str(meeting.org_id),
        org_name=org_name,
        kind=kind,
        kind_zh=kind.zh,
        title=meeting.title,
        held_on=meeting.held_on,
        start_time=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        place=meeting.place,
        mode=mode,
        mode_zh=mode.zh,
        topic=meeting.topic,
        notes=meeting.notes,
        lecturer=meeting.lecturer,
        state=state,
        state_zh=service.STATE_ZH[state],
        cancel_reason=meeting.cancel_reason,
        present=counts.get("present", 0),
        absent=counts.get("absent", 0),
        excused=counts.get("excused", 0),
    )
    if sheet is not None:
        out.summary = AttendanceSummary(**service.summarise(sheet))
        out.attendance = [
            AttendanceOut(
                member_id=str(row.member.id),
                name=row.member.name,
                relation=row.relation,
                relation_zh=row.relation_zh,
                health_class=row.member.health_class,
                status=row.status,
                status_zh=row.status_zh,
                reason=row.reason,
                by_default=row.by_default,
                recorded_by=row.recorded_by,
            )
            for row in sheet
        ]
    return out


async def _org_names(session: AsyncSession, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not org_ids:
        return {}
    rows = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(org_ids)))
    return {org_id: name for org_id, name in rows.tuples()}  # noqa: C416 - a Result is not a mapping of pairs


async def _detail(session: AsyncSession, meeting: Meeting, tree: TenantTree) -> MeetingOut:
    sheet = await service.attendance_sheet(session, meeting)
    names = await _org_names(session, {meeting.org_id})
    counts = (await service.mark_counts(session, [meeting.id])).get(meeting.id, {})
    return meeting_out(meeting, tree, names.get(meeting.org_id, ""), counts, sheet)


class MeetingController(Controller):
    path = "/api/v1/t/{tenant_code:str}/meetings"
    tags = ["organisation life"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/", opt={"permission": TENANT_READ}, summary="Meetings and activities of the subtree, newest first")
    async def list_meetings(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromQuery[uuid.UUID | None] = None,
        kind: FromQuery[MeetingKind | None] = None,
        period: FromQuery[str | None] = None,
        date_from: FromQuery[datetime.date | None] = None,
        date_to: FromQuery[datetime.date | None] = None,
        include_cancelled: FromQuery[bool] = False,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
    ) -> MeetingPage:
        query = service.list_query(
            org_id=org_id,
            kind=kind,
            period=resolve_period(period, date_from, date_to),
            include_cancelled=include_cancelled,
        )
        total = (await db_session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (
            (
                await db_session.execute(
                    query.order_by(Meeting.held_on.desc(), Meeting.start_time.desc().nulls_last(), Meeting.id.desc())
                    .offset((page - 1) * page_size)
                    .limit(page_size)
                )
            )
            .scalars()
            .all()
        )
        names = await _org_names(db_session, {m.org_id for m in rows})
        counts = await service.mark_counts(db_session, [m.id for m in rows])
        items = [meeting_out(m, acting.tree, names.get(m.org_id, ""), counts.get(m.id, {})) for m in rows]
        return MeetingPage(items=items, total=total, page=page, page_size=page_size)

    @post("/", opt={"permission": ORGLIFE_WRITE}, summary="Record a meeting or activity of a branch", status_code=201)
    async def create_meeting(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[MeetingCreate],
    ) -> MeetingOut:
        meeting = await service.create_meeting(db_session, acting.tenant.id, data, request.user.username)
        return await _detail(db_session, meeting, acting.tree)

    @get("/{meeting_id:uuid}", opt={"permission": TENANT_READ}, summary="One meeting with its attendance sheet")
    async def get_meeting(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
    ) -> MeetingOut:
        return await _detail(db_session, await service.get_meeting(db_session, meeting_id), acting.tree)

    @patch("/{meeting_id:uuid}", opt={"permission": ORGLIFE_WRITE}, summary="Change a meeting")
    async def update_meeting(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[MeetingUpdate],
    ) -> MeetingOut:
        meeting = await service.get_meeting(db_session, meeting_id, lock=True)
        meeting = await service.update_meeting(db_session, meeting, data, request.user.username)
        return await _detail(db_session, meeting, acting.tree)

    @post(
        "/{meeting_id:uuid}/attendance",
        opt={"permission": ORGLIFE_WRITE},
        summary="Record attendance in bulk (present / absent with reason / excused)",
        status_code=200,
    )
    async def record_attendance(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[AttendanceBatch],
    ) -> MeetingOut:
        meeting = await service.get_meeting(db_session, meeting_id, lock=True)
        org = (
            await db_session.execute(
                select(Organization).where(
                    Organization.tenant_id == meeting.tenant_id, Organization.id == meeting.org_id
                )
            )
        ).scalar_one()
        await service.record_attendance(db_session, meeting, org, data.items, request.user.username)
        return await _detail(db_session, meeting, acting.tree)

    @delete(
        "/{meeting_id:uuid}/attendance/{member_id:uuid}",
        opt={"permission": ORGLIFE_WRITE},
        summary="Remove a member's mark (a standing credit is revoked)",
        status_code=204,
    )
    async def remove_mark(
        self,
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
        member_id: FromPath[uuid.UUID],
    ) -> None:
        meeting = await service.get_meeting(db_session, meeting_id, lock=True)
        await service.remove_mark(db_session, meeting, member_id)

    @post(
        "/{meeting_id:uuid}/cancel",
        opt={"permission": ORGLIFE_WRITE},
        summary="Cancel a meeting (credits for attendance are revoked)",
        status_code=200,
    )
    async def cancel_meeting(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[CancelRequest],
    ) -> MeetingOut:
        meeting = await service.get_meeting(db_session, meeting_id, lock=True)
        meeting = await service.cancel_meeting(db_session, meeting, data.reason, request.user.username)
        return await _detail(db_session, meeting, acting.tree)


# --- "六有" --------------------------------------------------------------------------------------------


def evidence_out(evidence: SixHaveEvidence, stored: StoredFile, url: str | None = None) -> EvidenceOut:
    return EvidenceOut(
        id=str(evidence.id),
        item=six_haves.SixHaveItem(evidence.item),
        name=stored.original_name,
        content_type=stored.content_type,
        size=stored.size,
        caption=evidence.caption,
        uploaded_by=evidence.uploaded_by,
        uploaded_at=evidence.created_at,
        download_url=url,
    )


def _completion_row(tree: TenantTree, tenant_id: int, sums: six_haves.Completion) -> CompletionRow:
    node = tree.nodes[tenant_id]
    return CompletionRow(
        tenant_code=node.code,
        tenant_name=node.name,
        branches=sums.branches,
        branches_complete=sums.complete,
        items_met=sums.items_met,
        items_total=sums.items_total,
        rate=sums.rate,
    )


class SixHavesController(Controller):
    path = "/api/v1/t/{tenant_code:str}"
    tags = ["branch standards"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/branches/{org_id:uuid}/six-haves", opt={"permission": TENANT_READ}, summary="A branch's “六有” checklist")
    async def checklist(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
    ) -> BranchSixHavesOut:
        org = await six_haves.branch_of(db_session, org_id)
        states = await six_haves.checklist(db_session, org)
        items = [
            SixHaveOut(
                item=s.item,
                item_zh=s.item.zh,
                met=s.met,
                note=s.row.note if s.row else "",
                checked_by=s.row.checked_by if s.row else None,
                checked_at=s.row.checked_at if s.row else None,
                evidence=[evidence_out(ev, stored) for ev, stored in s.evidence],
            )
            for s in states
        ]
        return BranchSixHavesOut(
            org_id=str(org.id),
            org_name=org.name,
            tenant_code=acting.tree.nodes[org.tenant_id].code,
            met=sum(1 for s in states if s.met),
            total=len(states),
            items=items,
        )

    @put(
        "/branches/{org_id:uuid}/six-haves/{item:str}",
        opt={"permission": ORGLIFE_WRITE},
        summary="Set one “六有” item met or not, with a note",
    )
    async def set_item(
        self,
        request: Request[Principal, Any, Any],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        item: FromPath[str],
        data: JSONBody[SixHaveUpdate],
    ) -> SixHaveOut:
        org = await six_haves.branch_of(db_session, org_id)
        which = six_haves.parse_item(item)
        row = await six_haves.set_item(
            db_session, org, which, met=data.met, note=data.note, actor=request.user.username
        )
        state = next(s for s in await six_haves.checklist(db_session, org) if s.item is which)
        return SixHaveOut(
            item=which,
            item_zh=which.zh,
            met=row.met,
            note=row.note,
            checked_by=row.checked_by,
            checked_at=row.checked_at,
            evidence=[evidence_out(ev, stored) for ev, stored in state.evidence],
        )

    @post(
        "/branches/{org_id:uuid}/six-haves/{item:str}/evidence",
        opt={"permission": ORGLIFE_WRITE},
        summary="Upload an evidence photo (multipart: field 'file', optional 'caption')",
        status_code=201,
    )
    async def upload_evidence(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        item: FromPath[str],
    ) -> EvidenceOut:
        # The form is read only once the branch is known to be in scope (an unknown one answers 404 first).
        org = await six_haves.branch_of(db_session, org_id)
        which = six_haves.parse_item(item)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise six_haves.EVIDENCE_FILE_MISSING.error(field="file")
        caption = form.get("caption")
        storage = platform_of(request).storage
        evidence, stored = await six_haves.add_evidence(
            db_session,
            storage,
            org,
            acting.tree.nodes[org.tenant_id].code,
            which,
            content=await upload.read(),
            filename=upload.filename or "photo",
            declared_type=upload.content_type or None,
            caption=caption if isinstance(caption, str) else "",
            actor=request.user.username,
        )
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        return evidence_out(evidence, stored, url)

    @get(
        "/branches/{org_id:uuid}/six-haves/{item:str}/evidence/{evidence_id:uuid}",
        opt={"permission": TENANT_READ},
        summary="One evidence file with a fresh short-lived download link",
    )
    async def get_evidence(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        item: FromPath[str],
        evidence_id: FromPath[uuid.UUID],
    ) -> EvidenceOut:
        org = await six_haves.branch_of(db_session, org_id)
        evidence, stored = await six_haves.get_evidence(db_session, org, six_haves.parse_item(item), evidence_id)
        url = await platform_of(request).storage.signed_url(stored.key, download_name=stored.original_name)
        return evidence_out(evidence, stored, url)

    @delete(
        "/branches/{org_id:uuid}/six-haves/{item:str}/evidence/{evidence_id:uuid}",
        opt={"permission": ORGLIFE_WRITE},
        summary="Delete an evidence file",
        status_code=204,
    )
    async def delete_evidence(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        org_id: FromPath[uuid.UUID],
        item: FromPath[str],
        evidence_id: FromPath[uuid.UUID],
    ) -> None:
        org = await six_haves.branch_of(db_session, org_id)
        await six_haves.delete_evidence(
            db_session, platform_of(request).storage, org, six_haves.parse_item(item), evidence_id
        )

    @get(
        "/six-haves/completion",
        opt={"permission": TENANT_READ},
        summary="“六有” completion of the subtree and of each tenant directly below",
    )
    async def completion(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession]
    ) -> CompletionOut:
        tree = acting.tree
        subtree = tree.subtree_ids(acting.tenant.id)
        per_tenant = await six_haves.completion_by_tenant(db_session, subtree)

        def summed(root: int) -> six_haves.Completion:
            out = six_haves.Completion()
            for tenant_id in tree.subtree_ids(root):
                out.add(per_tenant.get(tenant_id, six_haves.Completion()))
            return out

        whole = summed(acting.tenant.id)
        head = _completion_row(tree, acting.tenant.id, whole)
        return CompletionOut(
            **head.model_dump(),
            by_item=[
                ItemRate(
                    item=item,
                    item_zh=item.zh,
                    met=whole.met_by_item[item.value],
                    rate=round(whole.met_by_item[item.value] / whole.branches, 4) if whole.branches else None,
                )
                for item in six_haves.ITEMS
            ],
            children=[_completion_row(tree, child, summed(child)) for child in tree.children.get(acting.tenant.id, [])],
        )


# --- "六好" --------------------------------------------------------------------------------------------


def item_out(item: standards.ItemDef | StandardItem) -> StandardItemOut:
    kind = ItemKind(item.kind)
    return StandardItemOut(
        id=str(item.id),
        aspect=item.aspect,
        name=item.name,
        description=item.description,
        kind=kind,
        kind_zh=kind.zh,
        max_points=float(item.max_points),
        unit_points=float(item.unit_points) if item.unit_points is not None else None,
        position=item.position,
        is_active=item.is_active,
    )


def list_out(standard: standards.StandardList, tree: TenantTree) -> StandardListOut:
    zh, _en = standard.describe(tree)
    return StandardListOut(
        source=standard.source,
        source_tenant_code=tree.nodes[standard.tenant_id].code if standard.tenant_id is not None else None,
        source_zh=zh,
        max_total=float(standard.max_total),
        items=[item_out(i) for i in standard.items],
    )


def score_out(
    score: BranchScore, lines: list[BranchScoreLine], org: Organization, tree: TenantTree, frozen: bool
) -> ScoreOut:
    return ScoreOut(
        org_id=str(org.id),
        org_name=org.name,
        tenant_code=tree.nodes[org.tenant_id].code,
        year=score.year,
        bonus=float(score.bonus),
        deduction=float(score.deduction),
        total=float(score.total),
        list_source=score.list_source,
        comment=score.comment,
        scored_by=score.scored_by,
        scored_at=score.scored_at,
        frozen=frozen,
        lines=[
            ScoreLineOut(
                item_id=str(ln.item_id),
                aspect=ln.aspect,
                name=ln.name,
                kind=ItemKind(ln.kind),
                max_points=float(ln.max_points),
                unit_points=float(ln.unit_points) if ln.unit_points is not None else None,
                count=ln.count,
                points=float(ln.points),
                capped=ln.capped,
                note=ln.note,
            )
            for ln in lines
        ],
    )


class ModelBranchController(Controller):
    path = "/api/v1/t/{tenant_code:str}/model-branch"
    tags = ["branch standards"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/items", opt={"permission": TENANT_READ}, summary="The “六好” list that applies here and where it comes from")
    async def items(self, request: Request[Any, Any, Any], acting: NamedDependency[Acting]) -> StandardListOut:
        view = await standards.lineage_view(platform_of(request).database, acting.tree, acting.tenant.id)
        return list_out(view.standard, acting.tree)

    @post(
        "/items/adopt",
        opt={"permission": STANDARDS_MANAGE},
        summary="Copy the inherited list into this tenant's own, to edit",
        status_code=201,
    )
    async def adopt(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> StandardListOut:
        database = platform_of(request).database
        await standards.adopt(db_session, database, acting.tree, acting.tenant.id)
        rows = (
            (
                await db_session.execute(
                    select(StandardItem)
                    .where(StandardItem.tenant_id == acting.tenant.id)
                    .order_by(StandardItem.position, StandardItem.aspect, StandardItem.name)
                )
            )
            .scalars()
            .all()
        )
        own = standards.StandardList("own", acting.tenant.id, tuple(standards.item_def(r) for r in rows))
        return list_out(own, acting.tree)

    @post(
        "/items", opt={"permission": STANDARDS_MANAGE}, summary="Add an item to this tenant's own list", status_code=201
    )
    async def create_item(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[StandardItemCreate],
    ) -> StandardItemOut:
        database = platform_of(request).database
        return item_out(await standards.create_item(db_session, database, acting.tree, acting.tenant.id, data))

    @patch(
        "/items/{item_id:uuid}",
        opt={"permission": STANDARDS_MANAGE},
        summary="Change or deactivate an item of this tenant's own list",
    )
    async def update_item(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[StandardItemUpdate],
    ) -> StandardItemOut:
        return item_out(await standards.update_item(db_session, acting.tenant.id, item_id, data))

    @get(
        "/scores/{year:int}/{org_id:uuid}",
        opt={"permission": TENANT_READ},
        summary="A branch's “六好” score of a year, item by item",
    )
    async def get_score(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromPath[int],
        org_id: FromPath[uuid.UUID],
    ) -> ScoreOut:
        org = await six_haves.branch_of(db_session, org_id)
        score, lines = await standards.get_score(db_session, org, year)
        view = await standards.lineage_view(platform_of(request).database, acting.tree, org.tenant_id, year)
        return score_out(score, lines, org, acting.tree, view.publication is not None)

    @put(
        "/scores/{year:int}/{org_id:uuid}",
        opt={"permission": STANDARDS_MANAGE},
        summary="Score a branch for a year (replaces its lines); refused once the year is published",
    )
    async def put_score(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromPath[int],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[ScoreIn],
    ) -> ScoreOut:
        org = await six_haves.branch_of(db_session, org_id)
        database = platform_of(request).database
        await standards.score_branch(db_session, database, acting.tree, org, year, data, request.user.username)
        score, lines = await standards.get_score(db_session, org, year)
        return score_out(score, lines, org, acting.tree, False)

    @get(
        "/rankings/{year:int}",
        opt={"permission": TENANT_READ},
        summary="The subtree's ranking of a year: as published, or provisional before publication",
    )
    async def ranking(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromPath[int],
        threshold: Annotated[float | None, QueryParameter(ge=0, le=1000)] = None,
    ) -> RankingOut:
        publication = await standards.publication_of(db_session, acting.tenant.id, year)
        if publication is not None:
            ranked = await standards.published_ranking(db_session, acting.tenant.id, year)
            _live, unscored = await standards.live_ranking(
                db_session, acting.tree, acting.tenant.id, year, publication.threshold
            )
            used = Decimal(publication.threshold)
        else:
            used = Decimal(str(threshold)) if threshold is not None else standards.DEFAULT_THRESHOLD
            ranked, unscored = await standards.live_ranking(db_session, acting.tree, acting.tenant.id, year, used)
        return _ranking_out(acting, year, used, ranked, unscored, publication)

    @post(
        "/rankings/{year:int}/publish",
        opt={"permission": STANDARDS_MANAGE},
        summary="Publish the ranking of a year: flags model branches and freezes the year's scores",
        status_code=201,
    )
    async def publish(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: FromPath[int],
        data: JSONBody[PublishRequest],
    ) -> RankingOut:
        threshold = data.threshold if data.threshold is not None else standards.DEFAULT_THRESHOLD
        publication, ranked = await standards.publish(
            db_session, acting.tree, acting.tenant.id, year, threshold, request.user.username
        )
        _live, unscored = await standards.live_ranking(db_session, acting.tree, acting.tenant.id, year, threshold)
        return _ranking_out(acting, year, threshold, ranked, unscored, publication)


def _ranking_out(
    acting: Acting,
    year: int,
    threshold: Decimal,
    ranked: list[standards.Ranked],
    unscored: int,
    publication: Any,
) -> RankingOut:
    tree = acting.tree
    return RankingOut(
        tenant_code=acting.tenant.code,
        year=year,
        threshold=float(threshold),
        published=publication is not None,
        published_at=publication.published_at if publication is not None else None,
        published_by=publication.published_by if publication is not None else None,
        branches_scored=len(ranked),
        branches_unscored=unscored,
        model_branches=sum(1 for r in ranked if r.is_model),
        rows=[
            RankingRow(
                rank=r.rank,
                org_id=str(r.org_id),
                org_name=r.org_name,
                tenant_code=tree.nodes[r.tenant_id].code,
                tenant_name=tree.nodes[r.tenant_id].name,
                total=float(r.total),
                is_model=r.is_model,
            )
            for r in ranked
        ],
    )
