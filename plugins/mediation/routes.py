"""The mediation API, mounted by the host under ``/api/v1/t/{tenant_code}/mediation`` behind the permission
guard and the activation guard. Every handler declares its permission; object ids are ``{…:uuid}`` path
parameters, looked up in the acting tenant's scope (another county's object does not exist here). A case is
further visible only to its room's mediators and to tenant administrators of its tenant and above; to anyone
else it answers 404 like a case that does not exist.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, platform_of, provide_acting
from core.storage.base import content_disposition
from plugins.mediation import casefile, documents, export, files, service, stats
from plugins.mediation.documents import DOCX_TYPE
from plugins.mediation.models import ATTACHMENT_KINDS
from plugins.mediation.schemas import (
    AttachmentOut,
    CaseCreate,
    CaseOut,
    CasePage,
    CaseType,
    CaseUpdate,
    MediationSettings,
    MediatorCreate,
    MediatorOut,
    MediatorsAssign,
    MediatorUpdate,
    PartyIn,
    PartyOut,
    Revealed,
    RevealRequest,
    RoomCreate,
    RoomOut,
    RoomPage,
    RoomUpdate,
    StatsOut,
    StepIn,
    StepOut,
    TemplateOut,
)

READ = {"permission": "mediation.read"}
MANAGE = {"permission": "mediation.manage"}
CASE_READ = {"permission": "mediation.case.read"}
CASE_WRITE = {"permission": "mediation.case.write"}
CASE_REVEAL = {"permission": "mediation.case.reveal"}
STATS = {"permission": "mediation.stats"}

Page = Annotated[int, QueryParameter(ge=1)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


def _actor(request: Request[Any, Any, Any]) -> str:
    return str(getattr(request.user, "username", "system"))


def _viewer(request: Request[Any, Any, Any], acting: Acting) -> service.Viewer:
    return service.Viewer(principal=request.user, tree=acting.tree)


def tenant_settings(plugin_settings: dict[str, Any]) -> MediationSettings:
    return MediationSettings.model_validate(plugin_settings)


async def _upload(request: Request[Any, Any, Any]) -> tuple[UploadFile, dict[str, str]]:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise files.FILE_MISSING.error(field="file")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return upload, fields


class MediationController(Controller):
    path = "/"
    tags = ["银龄调解室 mediation"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    # --- rooms and mediators -------------------------------------------------------------------

    @get("/rooms", opt=READ, summary="Mediation rooms of the subtree with their mediators")
    async def list_rooms(
        self, db_session: NamedDependency[AsyncSession], include_closed: FromQuery[bool] = False
    ) -> RoomPage:
        rooms = await service.list_rooms(db_session, include_closed=include_closed)
        mediators = await service.mediators_of(db_session, [r.id for r in rooms])
        return RoomPage(items=[service.room_out(r, mediators) for r in rooms], total=len(rooms))

    @post("/rooms", opt=MANAGE, summary="Open a mediation room in the acting tenant", status_code=201)
    async def create_room(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], data: JSONBody[RoomCreate]
    ) -> RoomOut:
        return service.room_out(await service.create_room(db_session, acting.tenant.id, data))

    @get("/rooms/{room_id:uuid}", opt=READ, summary="One room with its mediators")
    async def get_room(self, db_session: NamedDependency[AsyncSession], room_id: FromPath[uuid.UUID]) -> RoomOut:
        room = await service.get_room(db_session, room_id)
        return service.room_out(room, await service.mediators_of(db_session, [room.id]))

    @patch("/rooms/{room_id:uuid}", opt=MANAGE, summary="Change a room's place or hours, or close it")
    async def update_room(
        self, db_session: NamedDependency[AsyncSession], room_id: FromPath[uuid.UUID], data: JSONBody[RoomUpdate]
    ) -> RoomOut:
        room = await service.update_room(db_session, room_id, data)
        return service.room_out(room, await service.mediators_of(db_session, [room.id]))

    @post(
        "/rooms/{room_id:uuid}/mediators",
        opt=MANAGE,
        summary="Make a member of the ledger a mediator of the room (username: the account that sees its cases)",
        status_code=201,
    )
    async def add_mediator(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        room_id: FromPath[uuid.UUID],
        data: JSONBody[MediatorCreate],
    ) -> MediatorOut:
        mediator, name = await service.add_mediator(db_session, acting.tree, room_id, data)
        return service.mediator_out(mediator, name)

    @patch(
        "/rooms/{room_id:uuid}/mediators/{mediator_id:uuid}",
        opt=MANAGE,
        summary="Change a mediator's specialties, availability or account, or end the service (until)",
    )
    async def update_mediator(
        self,
        db_session: NamedDependency[AsyncSession],
        room_id: FromPath[uuid.UUID],
        mediator_id: FromPath[uuid.UUID],
        data: JSONBody[MediatorUpdate],
    ) -> MediatorOut:
        mediator, name = await service.update_mediator(db_session, room_id, mediator_id, data)
        return service.mediator_out(mediator, name)

    # --- cases ---------------------------------------------------------------------------------

    @get("/cases", opt=CASE_READ, summary="Cases the caller may see, newest first; ?overdue=true for the late ones")
    async def list_cases(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        status: FromQuery[str | None] = None,
        case_type: FromQuery[CaseType | None] = None,
        room_id: FromQuery[uuid.UUID | None] = None,
        overdue: FromQuery[bool | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> CasePage:
        settings = tenant_settings(plugin_settings)
        rows, total = await service.list_cases(
            db_session,
            _viewer(request, acting),
            acting.tenant.id,
            settings,
            status=status,
            case_type=case_type,
            room_id=room_id,
            overdue=overdue,
            page=page,
            page_size=page_size,
        )
        return CasePage(items=[service.summary(r, settings) for r in rows], total=total)

    @get(
        "/cases/export",
        opt=CASE_READ,
        summary="The case register as Excel (调解案件登记台账; names only, no ID numbers)",
    )
    async def export_cases(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        status: FromQuery[str | None] = None,
        case_type: FromQuery[CaseType | None] = None,
        overdue: FromQuery[bool | None] = None,
    ) -> Response[bytes]:
        settings = tenant_settings(plugin_settings)
        rows, _ = await service.list_cases(
            db_session,
            _viewer(request, acting),
            acting.tenant.id,
            settings,
            status=status,
            case_type=case_type,
            overdue=overdue,
            page=1,
            page_size=export.MAX_ROWS,
        )
        data = await export.workbook(db_session, rows, settings)
        name = f"调解案件登记台账-{acting.tenant.code}-{datetime.date.today().isoformat()}.xlsx"
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
        )

    @post(
        "/cases", opt=CASE_WRITE, summary="受理: receive a case (parties, mediators, notice of rights)", status_code=201
    )
    async def create_case(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[CaseCreate],
    ) -> CaseOut:
        settings = tenant_settings(plugin_settings)
        viewer = _viewer(request, acting)
        room = await service.get_room(db_session, data.room_id)
        if not viewer.administers(room.tenant_id) and room.id not in await service.my_rooms(db_session, viewer):
            raise service.ROOM_NOT_FOUND.error(field="room_id")
        case = await service.create_case(db_session, data, _actor(request), settings)
        return await service.case_detail(db_session, case, settings)

    @get("/cases/{case_id:uuid}", opt=CASE_READ, summary="One case (opening it is written to the audit log)")
    async def get_case(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        case_id: FromPath[uuid.UUID],
    ) -> CaseOut:
        case = await service.open_case(db_session, _viewer(request, acting), case_id)
        return await service.case_detail(db_session, case, tenant_settings(plugin_settings))

    @patch("/cases/{case_id:uuid}", opt=CASE_WRITE, summary="Correct a case's type, source, title, description or date")
    async def update_case(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        case_id: FromPath[uuid.UUID],
        data: JSONBody[CaseUpdate],
    ) -> CaseOut:
        settings = tenant_settings(plugin_settings)
        case = await service.get_case(db_session, _viewer(request, acting), case_id, lock=True)
        await service.update_case(db_session, case, data, settings)
        return await service.case_detail(db_session, case, settings)

    @post(
        "/cases/{case_id:uuid}/steps",
        opt=CASE_WRITE,
        summary="Take a workflow step: investigate, mediate, settle, fail, refer, perform, follow_up, confirm, "
        "record, extend, void, undo",
        status_code=201,
    )
    async def take_step(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        case_id: FromPath[uuid.UUID],
        data: JSONBody[StepIn],
    ) -> StepOut:
        case = await service.get_case(db_session, _viewer(request, acting), case_id, lock=True)
        step = await service.take_step(db_session, case, data, _actor(request), tenant_settings(plugin_settings))
        return service.step_out(step)

    @post("/cases/{case_id:uuid}/parties", opt=CASE_WRITE, summary="Add a party to a case", status_code=201)
    async def add_party(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
        data: JSONBody[PartyIn],
    ) -> PartyOut:
        case = await service.get_case(db_session, _viewer(request, acting), case_id, lock=True)
        return service.party_out(await service.add_party(db_session, case, data))

    @post(
        "/cases/{case_id:uuid}/parties/{party_id:uuid}/reveal",
        opt=CASE_REVEAL,
        summary="Show a party's ID number, phone or address (with a reason; audited)",
        status_code=200,
    )
    async def reveal_party(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
        party_id: FromPath[uuid.UUID],
        data: JSONBody[RevealRequest],
    ) -> Revealed:
        case = await service.get_case(db_session, _viewer(request, acting), case_id)
        party = await service.reveal_party(db_session, case, party_id, list(data.fields), data.reason)
        return Revealed(
            id_number=party.id_number if "id_number" in data.fields else None,
            phone=party.phone if "phone" in data.fields else None,
            address=party.address if "address" in data.fields else None,
        )

    @put("/cases/{case_id:uuid}/mediators", opt=CASE_WRITE, summary="Choose the mediators of a case (and the lead)")
    async def assign_mediators(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        case_id: FromPath[uuid.UUID],
        data: JSONBody[MediatorsAssign],
    ) -> CaseOut:
        settings = tenant_settings(plugin_settings)
        case = await service.get_case(db_session, _viewer(request, acting), case_id, lock=True)
        await service.assign_mediators(db_session, case, data)
        return await service.case_detail(db_session, case, settings)

    # --- materials and documents ---------------------------------------------------------------

    @get("/cases/{case_id:uuid}/attachments", opt=CASE_READ, summary="Materials of a case (no links: open one)")
    async def list_attachments(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
    ) -> list[AttachmentOut]:
        case = await service.get_case(db_session, _viewer(request, acting), case_id)
        return [files.attachment_out(a, f) for a, f in await files.attachments_of(db_session, case)]

    @post(
        "/cases/{case_id:uuid}/attachments",
        opt=CASE_WRITE,
        summary="Upload a scan or photo (multipart: 'file', optional 'kind' and 'caption')",
        status_code=201,
    )
    async def upload_attachment(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
    ) -> AttachmentOut:
        # The form is read only once the case is known to be visible (an unknown one answers 404 first).
        case = await service.get_case(db_session, _viewer(request, acting), case_id)
        upload, fields = await _upload(request)
        kind = fields.get("kind") or "evidence"
        if kind not in ATTACHMENT_KINDS or kind in {"agreement", "dossier"}:
            raise files.KIND_UNKNOWN.error(
                field="kind", kinds="、".join(k for k in ATTACHMENT_KINDS if k not in {"agreement", "dossier"})
            )
        storage = platform_of(request).storage
        attachment, stored = await files.attach(
            db_session,
            storage,
            case,
            acting.tree.nodes[case.tenant_id].code,
            content=await upload.read(),
            filename=upload.filename or "scan",
            declared_type=upload.content_type or None,
            kind=kind,
            caption=fields.get("caption", ""),
            actor=_actor(request),
        )
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        return files.attachment_out(attachment, stored, url)

    @get(
        "/cases/{case_id:uuid}/attachments/{attachment_id:uuid}",
        opt=CASE_READ,
        summary="One material with a fresh short-lived download link",
    )
    async def get_attachment(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
    ) -> AttachmentOut:
        case = await service.get_case(db_session, _viewer(request, acting), case_id)
        attachment, stored = await files.get_attachment(db_session, case, attachment_id)
        url = await platform_of(request).storage.signed_url(stored.key, download_name=stored.original_name)
        return files.attachment_out(attachment, stored, url)

    @post(
        "/cases/{case_id:uuid}/agreement",
        opt=CASE_WRITE,
        summary="Generate the 调解协议书 (.docx) from the tenant's template; filed with the case, signed link",
        status_code=201,
    )
    async def make_agreement(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
    ) -> AttachmentOut:
        case = await service.get_case(db_session, _viewer(request, acting), case_id)
        storage = platform_of(request).storage
        content = await casefile.agreement_for(db_session, storage, acting.tree, case)
        attachment, stored = await files.attach(
            db_session,
            storage,
            case,
            acting.tree.nodes[case.tenant_id].code,
            content=content,
            filename=f"调解协议书{case.number}.docx",
            declared_type=DOCX_TYPE,
            kind="agreement",
            caption="人民调解协议书",
            actor=_actor(request),
        )
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        return files.attachment_out(attachment, stored, url)

    @post(
        "/cases/{case_id:uuid}/dossier",
        opt=CASE_WRITE,
        summary="Assemble the case file 卷宗 (.docx, prescribed order); filed with the case, signed link",
        status_code=201,
    )
    async def make_dossier(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
    ) -> AttachmentOut:
        case = await service.get_case(db_session, _viewer(request, acting), case_id)
        storage = platform_of(request).storage
        content = await casefile.dossier_for(db_session, storage, acting.tree, case)
        attachment, stored = await files.attach(
            db_session,
            storage,
            case,
            acting.tree.nodes[case.tenant_id].code,
            content=content,
            filename=f"卷宗{case.number}.docx",
            declared_type=DOCX_TYPE,
            kind="dossier",
            caption="人民调解卷宗",
            actor=_actor(request),
        )
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        return files.attachment_out(attachment, stored, url)

    # --- the agreement template ----------------------------------------------------------------

    @get(
        "/templates/agreement",
        opt=READ,
        summary="The agreement template in use here (own, or the nearest level above's) and its placeholders",
    )
    async def get_template(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> TemplateOut:
        found = await files.template_in_force(db_session, acting.tree, acting.tenant.id)
        names = [f"{{{{{name}}}}}：{meaning}" for name, meaning in documents.PLACEHOLDERS.items()]
        if found is None:
            return TemplateOut(custom=False, placeholders=names)
        template, stored, source = found
        url = await platform_of(request).storage.signed_url(stored.key, download_name=stored.original_name)
        return TemplateOut(
            custom=True,
            uploaded_by=template.uploaded_by,
            uploaded_on=template.uploaded_on,
            placeholders=names,
            download_url=url,
            inherited_from=None if source == acting.tenant.id else acting.tree.nodes[source].name,
        )

    @put(
        "/templates/agreement",
        opt=MANAGE,
        summary="Replace the agreement template with the tenant's own .docx (multipart 'file')",
    )
    async def put_template(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> TemplateOut:
        upload, _ = await _upload(request)
        content = await upload.read()
        documents.check_template(content)
        storage = platform_of(request).storage
        stored = await files.store(
            db_session,
            storage,
            tenant_id=acting.tenant.id,
            tenant_code=acting.tenant.code,
            content=content,
            filename=upload.filename or "调解协议书模板.docx",
            declared_type=DOCX_TYPE,
            folder=files.TEMPLATE_FOLDER,
            actor=_actor(request),
        )
        template = await files.replace_template(db_session, acting.tenant.id, stored, _actor(request))
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        names = [f"{{{{{name}}}}}：{meaning}" for name, meaning in documents.PLACEHOLDERS.items()]
        return TemplateOut(
            custom=True,
            uploaded_by=template.uploaded_by,
            uploaded_on=template.uploaded_on,
            placeholders=names,
            download_url=url,
        )

    @delete(
        "/templates/agreement", opt=MANAGE, summary="Go back to the template shipped with the platform", status_code=204
    )
    async def delete_template(self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession]) -> None:
        found = await files.template_of(db_session, acting.tenant.id)
        if found is not None:
            await db_session.delete(found[0])
            await db_session.flush()

    # --- figures -------------------------------------------------------------------------------

    @get("/stats", opt=STATS, summary="Cases received, settled, rate, by type, room kind and room; petitions; people")
    async def get_stats(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        since: FromQuery[datetime.date | None] = None,
        until: FromQuery[datetime.date | None] = None,
    ) -> StatsOut:
        end = until or datetime.date.today()
        start = since or end.replace(month=1, day=1)
        return await stats.figures(db_session, acting.tree, acting.tenant.id, start, end)
