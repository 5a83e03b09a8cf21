"""The talent pool's API, mounted by the host under ``/api/v1/t/{tenant_code}/talent_pool`` behind the permission
and activation guards. Every handler declares its permission; object ids are ``{…:uuid}`` path parameters, looked
up through the request's scoped session (another county's object simply does not exist here)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, platform_of, provide_acting
from core.storage.base import content_disposition
from plugins.talent_pool import export, service, sharing
from plugins.talent_pool.schemas import (
    AdoptionIn,
    AssignmentCreate,
    AssignmentOut,
    AssignmentPage,
    AssignmentRespond,
    CategoriesOut,
    DemandCreate,
    DemandOut,
    DemandPage,
    FeedbackIn,
    MatchOut,
    ProfileCreate,
    ProfileOut,
    ProfilePage,
    ProfileUpdate,
    ReclassifyOut,
    Reminder,
    ReportOut,
    ReviewIn,
    ServiceCreate,
    ServiceOut,
    ServicePage,
    ServiceRevoke,
    StationClose,
    StationCreate,
    StationDetail,
    StationOut,
    StatsOut,
    StudyCreate,
    StudyOut,
    StudyPage,
    SuggestionCreate,
    SuggestionOut,
    TalentPoolSettings,
)

READ = {"permission": "talent_pool.read"}
WRITE = {"permission": "talent_pool.write"}
REVIEW = {"permission": "talent_pool.review"}

Page = Annotated[int, QueryParameter(ge=1)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


def _actor(request: Request[Any, Any, Any]) -> str:
    return str(getattr(request.user, "username", "system"))


def tenant_settings(plugin_settings: dict[str, Any]) -> TalentPoolSettings:
    return TalentPoolSettings.model_validate(plugin_settings)


def readable(acting: Acting) -> frozenset[int]:
    """What the request's session may read: the scope's tenants (the acting subtree)."""
    if acting.scope.everything:
        return acting.tree.subtree_ids(acting.tenant.id)
    return acting.scope.read


def mapping_of(request: Request[Any, Any, Any], acting: Acting) -> service.MappingOf:
    """The ``field_categories`` in effect in a tenant of the acting subtree (its own settings, inherited)."""
    platform = platform_of(request)

    async def lookup(tenant_id: int) -> Mapping[str, str]:
        found = await sharing.subtree_settings(platform, acting.tree, [tenant_id])
        return found[tenant_id].field_categories

    return lookup


class TalentPoolController(Controller):
    path = "/"
    tags = ["银发人才库 talent pool"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    # --- fields, profiles, reviews, reminders ------------------------------------------------------------

    @get("/fields", opt=READ, summary="The tenant's list of talent fields (settings: fields)")
    async def fields(self, plugin_settings: NamedDependency[dict[str, Any]]) -> list[str]:
        return tenant_settings(plugin_settings).fields

    @get(
        "/categories",
        opt=READ,
        summary="The province-wide classification reports count experts by, and the category of each field here",
    )
    async def categories(self, plugin_settings: NamedDependency[dict[str, Any]]) -> CategoriesOut:
        return service.categories_out(tenant_settings(plugin_settings))

    @post(
        "/categories/reclassify",
        opt=REVIEW,
        summary="Apply each tenant's current field_categories to the admitted experts of the subtree (moves today)",
        status_code=200,
    )
    async def reclassify(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> ReclassifyOut:
        return await service.reclassify(db_session, mapping_of(request, acting))

    @get("/profiles", opt=READ, summary="Expert profiles of the subtree (?status, ?field, ?q, ?station_id)")
    async def list_profiles(
        self,
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        field: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        station_id: FromQuery[uuid.UUID | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> ProfilePage:
        rows, total = await service.list_profiles(
            db_session, status=status, field=field, q=q, station_id=station_id, page=page, page_size=page_size
        )
        return ProfilePage(items=[service.profile_out(p, m) for p, m in rows], total=total)

    @get("/profiles/export.xlsx", opt=READ, summary="The expert list as an Excel file (Chinese headers)")
    async def export_profiles(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        field: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        rows, _ = await service.list_profiles(
            db_session, status=status, field=field, q=None, station_id=None, page=1, page_size=100_000
        )
        content = export.experts_workbook(
            [service.profile_out(p, m) for p, m in rows], f"{acting.tenant.name}银发人才库专家名录"
        )
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": content_disposition(f"{acting.tenant.name}专家名录.xlsx")},
        )

    @post("/profiles", opt=WRITE, summary="Apply for a member to join the pool (待审核)", status_code=201)
    async def create_profile(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[ProfileCreate],
    ) -> ProfileOut:
        row, member = await service.create_profile(db_session, data, tenant_settings(plugin_settings), _actor(request))
        return service.profile_out(row, member)

    @get("/profiles/{profile_id:uuid}", opt=READ, summary="One expert profile with its review history")
    async def get_profile(
        self, db_session: NamedDependency[AsyncSession], profile_id: FromPath[uuid.UUID]
    ) -> ProfileOut:
        row, member = await service.get_profile(db_session, profile_id)
        return service.profile_out(row, member, await service.reviews_of(db_session, row))

    @patch("/profiles/{profile_id:uuid}", opt=WRITE, summary="Update fields, skills, availability, station …")
    async def update_profile(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        profile_id: FromPath[uuid.UUID],
        data: JSONBody[ProfileUpdate],
    ) -> ProfileOut:
        row, member = await service.update_profile(
            db_session, profile_id, data, tenant_settings(plugin_settings), mapping_of(request, acting)
        )
        return service.profile_out(row, member)

    @post(
        "/profiles/{profile_id:uuid}/review",
        opt=REVIEW,
        summary="Review decision: admit, reject, renew (periodic re-review) or retire",
        status_code=200,
    )
    async def review_profile(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        profile_id: FromPath[uuid.UUID],
        data: JSONBody[ReviewIn],
    ) -> ProfileOut:
        row, member = await service.review_profile(
            db_session, profile_id, data, tenant_settings(plugin_settings), _actor(request), mapping_of(request, acting)
        )
        return service.profile_out(row, member, await service.reviews_of(db_session, row))

    @get("/reminders", opt=READ, summary="Re-reviews due and age limits reached soon (each tenant's own settings)")
    async def reminders(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> list[Reminder]:
        settings = await sharing.subtree_settings(platform_of(request), acting.tree, readable(acting))
        return await service.reminders(db_session, settings)

    # --- demands, matching, assignments ------------------------------------------------------------------

    @get("/demands", opt=READ, summary="Demands (需求清单) of the subtree, newest first")
    async def list_demands(
        self,
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        field: FromQuery[str | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> DemandPage:
        rows, total = await service.list_demands(db_session, status=status, field=field, page=page, page_size=page_size)
        return DemandPage(items=[service.demand_out(r) for r in rows], total=total)

    @post("/demands", opt=WRITE, summary="Post a demand for a village, enterprise or school", status_code=201)
    async def create_demand(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin_settings: NamedDependency[dict[str, Any]],
        data: JSONBody[DemandCreate],
    ) -> DemandOut:
        row = await service.create_demand(
            db_session, acting.tenant.id, data, tenant_settings(plugin_settings), _actor(request)
        )
        return service.demand_out(row)

    @get("/demands/{demand_id:uuid}", opt=READ, summary="One demand")
    async def get_demand(self, db_session: NamedDependency[AsyncSession], demand_id: FromPath[uuid.UUID]) -> DemandOut:
        return service.demand_out(await service.get_demand(db_session, demand_id))

    @post(
        "/demands/{demand_id:uuid}/cancel", opt=WRITE, summary="Cancel a demand (open assignments too)", status_code=200
    )
    async def cancel_demand(
        self, db_session: NamedDependency[AsyncSession], demand_id: FromPath[uuid.UUID]
    ) -> DemandOut:
        return service.demand_out(await service.cancel_demand(db_session, demand_id))

    @get(
        "/demands/{demand_id:uuid}/matches",
        opt=READ,
        summary="Experts ranked for a demand, each score explained; shared pools of sibling counties included",
    )
    async def matches(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        demand_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> MatchOut:
        return await service.match(
            db_session, platform_of(request), acting.tree, acting.tenant, readable(acting), demand_id, limit
        )

    @post(
        "/demands/{demand_id:uuid}/assignments",
        opt=WRITE,
        summary="Assign an expert (派单); an expert of a shared sibling county names its tenant code",
        status_code=201,
    )
    async def assign(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        demand_id: FromPath[uuid.UUID],
        data: JSONBody[AssignmentCreate],
    ) -> AssignmentOut:
        row = await service.assign(
            db_session,
            platform_of(request),
            acting.tree,
            acting.tenant,
            readable(acting),
            demand_id,
            data,
            _actor(request),
        )
        return service.assignment_out(row)

    @get("/assignments", opt=READ, summary="Assignments of the subtree (?demand_id, ?status)")
    async def list_assignments(
        self,
        db_session: NamedDependency[AsyncSession],
        demand_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[str | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> AssignmentPage:
        rows, total = await service.list_assignments(
            db_session, demand_id=demand_id, status=status, page=page, page_size=page_size
        )
        return AssignmentPage(items=[service.assignment_out(r) for r in rows], total=total)

    @get("/assignments/{assignment_id:uuid}", opt=READ, summary="One assignment with its score explanation")
    async def get_assignment(
        self, db_session: NamedDependency[AsyncSession], assignment_id: FromPath[uuid.UUID]
    ) -> AssignmentOut:
        return service.assignment_out(await service.get_assignment(db_session, assignment_id))

    @post(
        "/assignments/{assignment_id:uuid}/respond",
        opt=WRITE,
        summary="The expert accepts or declines",
        status_code=200,
    )
    async def respond(
        self,
        db_session: NamedDependency[AsyncSession],
        assignment_id: FromPath[uuid.UUID],
        data: JSONBody[AssignmentRespond],
    ) -> AssignmentOut:
        return service.assignment_out(await service.respond(db_session, assignment_id, data))

    @post(
        "/assignments/{assignment_id:uuid}/complete",
        opt=WRITE,
        summary="Complete an assignment (办结); its demand counts as met",
        status_code=200,
    )
    async def complete(
        self, db_session: NamedDependency[AsyncSession], assignment_id: FromPath[uuid.UUID]
    ) -> AssignmentOut:
        return service.assignment_out(await service.complete(db_session, assignment_id))

    # --- services ----------------------------------------------------------------------------------------

    @post(
        "/assignments/{assignment_id:uuid}/services",
        opt=WRITE,
        summary="Record a service (emits talent_pool.service_completed in the expert's tenant)",
        status_code=201,
    )
    async def record_service(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        assignment_id: FromPath[uuid.UUID],
        data: JSONBody[ServiceCreate],
    ) -> ServiceOut:
        return service.service_out(await service.record_service(db_session, assignment_id, data, _actor(request)))

    @get("/services", opt=READ, summary="Service records of the subtree, newest first")
    async def list_services(
        self,
        db_session: NamedDependency[AsyncSession],
        assignment_id: FromQuery[uuid.UUID | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> ServicePage:
        rows, total = await service.list_services(
            db_session, assignment_id=assignment_id, page=page, page_size=page_size
        )
        return ServicePage(items=[service.service_out(r) for r in rows], total=total)

    @post(
        "/services/{service_id:uuid}/revoke",
        opt=WRITE,
        summary="Withdraw a wrongly recorded service (figures retracted; emits talent_pool.service_revoked)",
        status_code=200,
    )
    async def revoke_service(
        self,
        db_session: NamedDependency[AsyncSession],
        service_id: FromPath[uuid.UUID],
        data: JSONBody[ServiceRevoke],
    ) -> ServiceOut:
        return service.service_out(await service.revoke_service(db_session, service_id, data))

    @post("/services/{service_id:uuid}/feedback", opt=WRITE, summary="The served side's rating", status_code=200)
    async def feedback(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        service_id: FromPath[uuid.UUID],
        data: JSONBody[FeedbackIn],
    ) -> ServiceOut:
        return service.service_out(await service.give_feedback(db_session, service_id, data, _actor(request)))

    # --- think tank --------------------------------------------------------------------------------------

    @get("/studies", opt=READ, summary="Think-tank studies (智囊团调研课题) of the subtree")
    async def list_studies(
        self, db_session: NamedDependency[AsyncSession], page: Page = 1, page_size: PageSize = 50
    ) -> StudyPage:
        rows, total = await service.list_studies(db_session, page=page, page_size=page_size)
        return StudyPage(items=[await service.study_out(db_session, r) for r in rows], total=total)

    @post("/studies", opt=WRITE, summary="Open a study", status_code=201)
    async def create_study(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[StudyCreate],
    ) -> StudyOut:
        row = await service.create_study(db_session, acting.tenant.id, data, _actor(request))
        return await service.study_out(db_session, row)

    @get("/studies/{study_id:uuid}", opt=READ, summary="One study with its reports and suggestions")
    async def get_study(self, db_session: NamedDependency[AsyncSession], study_id: FromPath[uuid.UUID]) -> StudyOut:
        return await service.study_out(db_session, await service.get_study(db_session, study_id))

    @post(
        "/studies/{study_id:uuid}/reports",
        opt=WRITE,
        summary="Upload a report (multipart: 'file', 'title') to object storage",
        status_code=201,
    )
    async def upload_report(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        study_id: FromPath[uuid.UUID],
    ) -> ReportOut:
        # The form is read only once the study is known to be in scope (an unknown one answers 404 first).
        study = await service.get_study(db_session, study_id)
        form = await request.form()
        upload = form.get("file")
        title = form.get("title")
        if not isinstance(upload, UploadFile):
            raise service.REPORT_FILE_MISSING.error(field="file")
        storage = platform_of(request).storage
        report, stored = await service.add_report(
            db_session,
            storage,
            study,
            acting.tree.nodes[study.tenant_id].code,
            title=title if isinstance(title, str) else "",
            content=await upload.read(),
            filename=upload.filename or "report",
            declared_type=upload.content_type or None,
            actor=_actor(request),
        )
        url = await storage.signed_url(stored.key, download_name=stored.original_name)
        return service.report_out(report, stored, url)

    @get(
        "/studies/{study_id:uuid}/reports/{report_id:uuid}",
        opt=READ,
        summary="One report with a fresh short-lived download link",
    )
    async def get_report(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        study_id: FromPath[uuid.UUID],
        report_id: FromPath[uuid.UUID],
    ) -> ReportOut:
        study = await service.get_study(db_session, study_id)
        report, stored = await service.get_report(db_session, study, report_id)
        url = await platform_of(request).storage.signed_url(stored.key, download_name=stored.original_name)
        return service.report_out(report, stored, url)

    @post("/studies/{study_id:uuid}/suggestions", opt=WRITE, summary="Record a suggestion made", status_code=201)
    async def add_suggestion(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        study_id: FromPath[uuid.UUID],
        data: JSONBody[SuggestionCreate],
    ) -> SuggestionOut:
        study = await service.get_study(db_session, study_id)
        return service.suggestion_out(await service.add_suggestion(db_session, study, data, _actor(request)))

    @post(
        "/suggestions/{suggestion_id:uuid}/adoption",
        opt=WRITE,
        summary="Mark a suggestion adopted (采纳) or not",
        status_code=200,
    )
    async def adoption(
        self,
        db_session: NamedDependency[AsyncSession],
        suggestion_id: FromPath[uuid.UUID],
        data: JSONBody[AdoptionIn],
    ) -> SuggestionOut:
        return service.suggestion_out(await service.set_adoption(db_session, suggestion_id, data))

    # --- stations ----------------------------------------------------------------------------------------

    @get("/stations", opt=READ, summary="Talent stations (人才工作站) with their experts and services")
    async def list_stations(self, db_session: NamedDependency[AsyncSession]) -> list[StationOut]:
        return await service.station_figures(db_session, await service.list_stations(db_session))

    @post("/stations", opt=WRITE, summary="Open a station", status_code=201)
    async def create_station(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], data: JSONBody[StationCreate]
    ) -> StationOut:
        row = await service.create_station(db_session, acting.tenant.id, data)
        return (await service.station_figures(db_session, [row]))[0]

    @get("/stations/{station_id:uuid}", opt=READ, summary="One station: its experts and their services")
    async def get_station(
        self, db_session: NamedDependency[AsyncSession], station_id: FromPath[uuid.UUID]
    ) -> StationDetail:
        row = await service.get_station(db_session, station_id)
        figures = (await service.station_figures(db_session, [row]))[0]
        experts, _ = await service.list_profiles(
            db_session, status="admitted", field=None, q=None, station_id=row.id, page=1, page_size=500
        )
        services = await service.station_services(db_session, row)
        return StationDetail(
            **figures.model_dump(),
            expert_list=[service.profile_out(p, m) for p, m in experts],
            service_list=[service.service_out(s) for s in services],
        )

    @post("/stations/{station_id:uuid}/close", opt=WRITE, summary="Close a station (撤销)", status_code=200)
    async def close_station(
        self,
        db_session: NamedDependency[AsyncSession],
        station_id: FromPath[uuid.UUID],
        data: JSONBody[StationClose],
    ) -> StationOut:
        row = await service.close_station(db_session, station_id, data)
        return (await service.station_figures(db_session, [row]))[0]

    # --- figures -----------------------------------------------------------------------------------------

    @get(
        "/stats",
        opt=READ,
        summary="Experts by field and by category, demands posted and met, services, reports, suggestions",
    )
    async def stats(self, db_session: NamedDependency[AsyncSession]) -> StatsOut:
        return await service.stats(db_session)
