"""The plugin's API, mounted by the host under ``/api/v1/t/{tenant_code}/education`` behind the permission
guard and the activation guard. Every handler declares its permission; object ids are ``{…:uuid}`` path
parameters, looked up through the scoped session (another county's row simply does not exist)."""

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
from plugins.education import export, service
from plugins.education.schemas import (
    ActivityIn,
    ActivityKind,
    ActivityOut,
    ActivityPage,
    Category,
    CounsellorCreate,
    CounsellorOut,
    CounsellorPage,
    CounsellorRevealed,
    CounsellorUpdate,
    EducationSettings,
    PairingCreate,
    PairingEnd,
    PairingOut,
    PairingPage,
    PairingRevealed,
    PhotoOut,
    PlaceKind,
    RevealIn,
    StationCreate,
    StationOut,
    StationPage,
    StationRevealed,
    StationStatus,
    StationStatusIn,
    StationUpdate,
    WithdrawIn,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ = {"permission": "education.read"}
WRITE = {"permission": "education.write"}
REVEAL = {"permission": "education.reveal"}
PAIRING = {"permission": "education.pairing"}
PAIRING_REVEAL = {"permission": "education.pairing_reveal"}

Page = Annotated[int, QueryParameter(ge=1)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


def _actor(request: Request[Any, Any, Any]) -> str:
    return str(getattr(request.user, "username", "system"))


def tenant_settings(plugin_settings: dict[str, Any]) -> EducationSettings:
    return EducationSettings.model_validate(plugin_settings)


class EducationController(Controller):
    path = "/"
    tags = ["关心下一代 education"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    # --- stations ------------------------------------------------------------------------------------------

    @get("/stations", opt=READ, summary="Stations (校外教育辅导站) of the subtree; phones masked")
    async def list_stations(
        self,
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[StationStatus | None] = None,
        place_kind: FromQuery[PlaceKind | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> StationPage:
        rows, total = await service.list_stations(
            db_session, status=status, place_kind=place_kind, page=page, page_size=page_size
        )
        return StationPage(items=[service.station_out(r) for r in rows], total=total)

    @post("/stations", opt=WRITE, summary="Open a station (the open-station level rises)", status_code=201)
    async def create_station(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[StationCreate],
    ) -> StationOut:
        row = await service.create_station(db_session, acting.tenant.id, data, _actor(request))
        return service.station_out(row)

    @get("/stations/{station_id:uuid}", opt=READ, summary="One station")
    async def get_station(
        self, db_session: NamedDependency[AsyncSession], station_id: FromPath[uuid.UUID]
    ) -> StationOut:
        return service.station_out(await service.get_station(db_session, station_id))

    @patch("/stations/{station_id:uuid}", opt=WRITE, summary="Amend a station's place, contact or schedule")
    async def update_station(
        self,
        db_session: NamedDependency[AsyncSession],
        station_id: FromPath[uuid.UUID],
        data: JSONBody[StationUpdate],
    ) -> StationOut:
        return service.station_out(await service.update_station(db_session, station_id, data))

    @post(
        "/stations/{station_id:uuid}/status",
        opt=WRITE,
        summary="Open, suspend or close a station from a date",
        status_code=200,
    )
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        station_id: FromPath[uuid.UUID],
        data: JSONBody[StationStatusIn],
    ) -> StationOut:
        row = await service.change_station_status(db_session, station_id, data, _actor(request))
        return service.station_out(row)

    @post(
        "/stations/{station_id:uuid}/reveal",
        opt=REVEAL,
        summary="Show the contact's phone (audited)",
        status_code=200,
    )
    async def reveal_station(
        self,
        db_session: NamedDependency[AsyncSession],
        station_id: FromPath[uuid.UUID],
        data: JSONBody[RevealIn],
    ) -> StationRevealed:
        row = await service.reveal_station(db_session, station_id, data.reason)
        return StationRevealed(contact_phone=row.contact_phone)

    # --- counsellors ---------------------------------------------------------------------------------------

    @get("/counsellors", opt=READ, summary="Counsellors (“五老”) of the subtree; volunteers' data masked")
    async def list_counsellors(
        self,
        db_session: NamedDependency[AsyncSession],
        category: FromQuery[Category | None] = None,
        station_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[str | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> CounsellorPage:
        rows, total = await service.list_counsellors(
            db_session, category=category, station_id=station_id, status=status, page=page, page_size=page_size
        )
        views = await service.counsellor_views(db_session, rows)
        return CounsellorPage(items=[service.counsellor_out(v) for v in views], total=total)

    @post(
        "/counsellors",
        opt=WRITE,
        summary="Register a member (or a non-member volunteer) as a counsellor",
        status_code=201,
    )
    async def create_counsellor(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[CounsellorCreate],
    ) -> CounsellorOut:
        row = await service.create_counsellor(
            db_session, acting.tenant.id, data, _actor(request), tenant_settings(plugin_settings), acting.tree
        )
        return service.counsellor_out((await service.counsellor_views(db_session, [row]))[0])

    @get("/counsellors/{counsellor_id:uuid}", opt=READ, summary="One counsellor")
    async def get_counsellor(
        self, db_session: NamedDependency[AsyncSession], counsellor_id: FromPath[uuid.UUID]
    ) -> CounsellorOut:
        row = await service.get_counsellor(db_session, counsellor_id)
        return service.counsellor_out((await service.counsellor_views(db_session, [row]))[0])

    @patch("/counsellors/{counsellor_id:uuid}", opt=WRITE, summary="Change category, subjects, stations or status")
    async def update_counsellor(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        counsellor_id: FromPath[uuid.UUID],
        data: JSONBody[CounsellorUpdate],
    ) -> CounsellorOut:
        row = await service.update_counsellor(db_session, counsellor_id, data, acting.tree)
        return service.counsellor_out((await service.counsellor_views(db_session, [row]))[0])

    @post(
        "/counsellors/{counsellor_id:uuid}/reveal",
        opt=REVEAL,
        summary="Show a volunteer's name and phone (audited)",
        status_code=200,
    )
    async def reveal_counsellor(
        self,
        db_session: NamedDependency[AsyncSession],
        counsellor_id: FromPath[uuid.UUID],
        data: JSONBody[RevealIn],
    ) -> CounsellorRevealed:
        row = await service.reveal_counsellor(db_session, counsellor_id, data.reason)
        return CounsellorRevealed(name=row.volunteer_name, phone=row.volunteer_phone)

    # --- activities ----------------------------------------------------------------------------------------

    @get("/activities", opt=READ, summary="Activities of the subtree, newest first")
    async def list_activities(
        self,
        db_session: NamedDependency[AsyncSession],
        station_id: FromQuery[uuid.UUID | None] = None,
        kind: FromQuery[ActivityKind | None] = None,
        status: FromQuery[str | None] = None,
        since: FromQuery[datetime.date | None] = None,
        until: FromQuery[datetime.date | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> ActivityPage:
        rows, total = await service.list_activities(
            db_session,
            station_id=station_id,
            kind=kind,
            status=status,
            since=since,
            until=until,
            page=page,
            page_size=page_size,
        )
        return ActivityPage(items=await service.activities_out(db_session, rows), total=total)

    @post(
        "/activities",
        opt=WRITE,
        summary="Record an activity (emits education.activity_recorded; counts go to the reports)",
        status_code=201,
    )
    async def record_activity(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[ActivityIn],
    ) -> ActivityOut:
        row = await service.record_activity(db_session, data, _actor(request), acting.tree)
        return (await service.activities_out(db_session, [row]))[0]

    @get("/activities/{activity_id:uuid}", opt=READ, summary="One activity with its photos")
    async def get_activity(
        self, db_session: NamedDependency[AsyncSession], activity_id: FromPath[uuid.UUID]
    ) -> ActivityOut:
        row = await service.get_activity(db_session, activity_id)
        return (await service.activities_out(db_session, [row], with_photos=True))[0]

    @put(
        "/activities/{activity_id:uuid}",
        opt=WRITE,
        summary="Correct an activity (old facts retracted, education.activity_revoked + a new activity_recorded)",
    )
    async def edit_activity(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        activity_id: FromPath[uuid.UUID],
        data: JSONBody[ActivityIn],
    ) -> ActivityOut:
        row = await service.edit_activity(db_session, activity_id, data, _actor(request), acting.tree)
        return (await service.activities_out(db_session, [row], with_photos=True))[0]

    @post(
        "/activities/{activity_id:uuid}/withdraw",
        opt=WRITE,
        summary="Withdraw an activity recorded in error (facts retracted, emits education.activity_revoked)",
        status_code=200,
    )
    async def withdraw_activity(
        self,
        db_session: NamedDependency[AsyncSession],
        activity_id: FromPath[uuid.UUID],
        data: JSONBody[WithdrawIn],
    ) -> ActivityOut:
        row = await service.withdraw_activity(db_session, activity_id, data.reason)
        return (await service.activities_out(db_session, [row]))[0]

    @post(
        "/activities/{activity_id:uuid}/photos",
        opt=WRITE,
        summary="Upload a photo of the activity (multipart: field 'file', optional 'caption')",
        status_code=201,
    )
    async def upload_photo(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        activity_id: FromPath[uuid.UUID],
    ) -> PhotoOut:
        # The form is read only once the activity is known to be in scope (an unknown one answers 404 first).
        activity = await service.get_activity(db_session, activity_id)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise service.PHOTO_MISSING.error(field="file")
        caption = form.get("caption")
        storage = platform_of(request).storage
        photo, stored = await service.add_photo(
            db_session,
            storage,
            activity,
            acting.tree.nodes[activity.tenant_id].code,
            content=await upload.read(),
            filename=upload.filename or "photo",
            declared_type=upload.content_type or None,
            caption=caption if isinstance(caption, str) else "",
            actor=_actor(request),
        )
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        return service.photo_out(photo, stored, url)

    @get(
        "/activities/{activity_id:uuid}/photos/{photo_id:uuid}",
        opt=READ,
        summary="One photo with a fresh short-lived link",
    )
    async def get_photo(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        activity_id: FromPath[uuid.UUID],
        photo_id: FromPath[uuid.UUID],
    ) -> PhotoOut:
        activity = await service.get_activity(db_session, activity_id)
        photo, stored = await service.get_photo(db_session, activity, photo_id)
        url = await platform_of(request).storage.signed_url(stored.key, download_name=stored.original_name)
        return service.photo_out(photo, stored, url)

    @delete(
        "/activities/{activity_id:uuid}/photos/{photo_id:uuid}",
        opt=WRITE,
        summary="Delete a photo",
        status_code=204,
    )
    async def delete_photo(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        activity_id: FromPath[uuid.UUID],
        photo_id: FromPath[uuid.UUID],
    ) -> None:
        activity = await service.get_activity(db_session, activity_id)
        await service.delete_photo(db_session, platform_of(request).storage, activity, photo_id)

    @get(
        "/activities/export",
        opt=READ,
        summary="The activity ledger of the subtree for a date range as .xlsx (Chinese headers; a sheet by kind)",
    )
    async def export_activities(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        since: FromQuery[datetime.date | None] = None,
        until: FromQuery[datetime.date | None] = None,
    ) -> Response[bytes]:
        today = datetime.date.today()
        first = since or today.replace(month=1, day=1)
        last = until or today
        data, _ = await export.export_activities(db_session, acting.tenant, acting.tree, first, last)
        name = f"{acting.tenant.name}辅导站活动台账{first:%Y%m%d}-{last:%Y%m%d}.xlsx"
        return Response(
            data,
            media_type=XLSX,
            headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
        )

    # --- figures -------------------------------------------------------------------------------------------

    @get("/figures", opt=READ, summary="The programme's figures for a year in the subtree (from the report aggregates)")
    async def figures(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
    ) -> dict[str, float]:
        which = year or datetime.date.today().year
        subtree = acting.tree.subtree_ids(acting.tenant.id)
        return await service.figures(db_session, subtree, acting.tenant.id, which)

    # --- pairings ------------------------------------------------------------------------------------------

    @get("/pairings", opt=PAIRING, summary="Pairings (结对帮扶); students' data masked")
    async def list_pairings(
        self,
        db_session: NamedDependency[AsyncSession],
        counsellor_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[str | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> PairingPage:
        rows, total = await service.list_pairings(
            db_session, counsellor_id=counsellor_id, status=status, page=page, page_size=page_size
        )
        return PairingPage(items=[service.pairing_out(r) for r in rows], total=total)

    @post(
        "/pairings",
        opt=PAIRING,
        summary="Pair a counsellor with a student (refused unless the tenant has pairing on)",
        status_code=201,
    )
    async def create_pairing(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[PairingCreate],
    ) -> PairingOut:
        row = await service.create_pairing(
            db_session, acting.tenant.id, data, _actor(request), tenant_settings(plugin_settings), acting.tree
        )
        return service.pairing_out(row)

    @get("/pairings/{pairing_id:uuid}", opt=PAIRING, summary="One pairing (masked)")
    async def get_pairing(
        self, db_session: NamedDependency[AsyncSession], pairing_id: FromPath[uuid.UUID]
    ) -> PairingOut:
        return service.pairing_out(await service.get_pairing(db_session, pairing_id))

    @post("/pairings/{pairing_id:uuid}/end", opt=PAIRING, summary="End a pairing early", status_code=200)
    async def end_pairing(
        self,
        db_session: NamedDependency[AsyncSession],
        pairing_id: FromPath[uuid.UUID],
        data: JSONBody[PairingEnd],
    ) -> PairingOut:
        return service.pairing_out(await service.end_pairing(db_session, pairing_id, data))

    @post(
        "/pairings/{pairing_id:uuid}/reveal",
        opt=PAIRING_REVEAL,
        summary="Show the student's and guardian's details (audited)",
        status_code=200,
    )
    async def reveal_pairing(
        self,
        db_session: NamedDependency[AsyncSession],
        pairing_id: FromPath[uuid.UUID],
        data: JSONBody[RevealIn],
    ) -> PairingRevealed:
        row = await service.reveal_pairing(db_session, pairing_id, data.reason)
        return PairingRevealed(
            student_alias=row.student_alias,
            student_school=row.student_school,
            student_grade=row.student_grade,
            guardian_name=row.guardian_name,
            guardian_relation=row.guardian_relation,
            consent_record=row.consent_record,
        )
