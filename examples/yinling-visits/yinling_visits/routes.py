"""The plugin's API, mounted by the host under ``/api/v1/t/{tenant_code}/visits`` behind the permission guard
and the activation guard. Every handler declares its permission; object ids are ``{…:uuid}`` path parameters."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, provide_acting
from yinling_visits import service
from yinling_visits.schemas import (
    FollowUpOut,
    FollowUpPage,
    FollowUpUpdate,
    Kind,
    PlanCreate,
    PlanOut,
    PlanPage,
    PlanUpdate,
    RecordCreate,
    RecordOut,
    RecordPage,
    StatsOut,
    VisitsSettings,
)

READ = {"permission": "visits.read"}
WRITE = {"permission": "visits.write"}

Page = Annotated[int, QueryParameter(ge=1)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


def _actor(request: Request[Any, Any, Any]) -> str:
    return str(getattr(request.user, "username", "system"))


def tenant_settings(plugin_settings: dict[str, Any]) -> VisitsSettings:
    """The plugin's settings in the acting tenant, as the host's ``plugin_settings`` dependency gives them."""
    return VisitsSettings.model_validate(plugin_settings)


class VisitController(Controller):
    path = "/"
    tags = ["走访慰问 visits"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    # --- plans ---------------------------------------------------------------------------------

    @get("/plans", opt=READ, summary="Visit plans in the tenant's subtree, soonest first")
    async def list_plans(
        self,
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        kind: FromQuery[Kind | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> PlanPage:
        rows, total = await service.list_plans(db_session, status=status, kind=kind, page=page, page_size=page_size)
        return PlanPage(items=[service.plan_out(r) for r in rows], total=total)

    @post("/plans", opt=WRITE, summary="Plan a visit", status_code=201)
    async def create_plan(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[PlanCreate],
    ) -> PlanOut:
        row = await service.create_plan(db_session, acting.tenant.id, data, _actor(request))
        return service.plan_out(row)

    @get("/plans/{plan_id:uuid}", opt=READ, summary="One visit plan")
    async def get_plan(self, db_session: NamedDependency[AsyncSession], plan_id: FromPath[uuid.UUID]) -> PlanOut:
        return service.plan_out(await service.get_plan(db_session, plan_id))

    @patch("/plans/{plan_id:uuid}", opt=WRITE, summary="Reschedule, reassign, annotate or cancel a plan")
    async def update_plan(
        self, db_session: NamedDependency[AsyncSession], plan_id: FromPath[uuid.UUID], data: JSONBody[PlanUpdate]
    ) -> PlanOut:
        return service.plan_out(await service.update_plan(db_session, plan_id, data))

    # --- records -------------------------------------------------------------------------------

    @get("/records", opt=READ, summary="Visit records in the tenant's subtree, newest first")
    async def list_records(
        self,
        db_session: NamedDependency[AsyncSession],
        kind: FromQuery[Kind | None] = None,
        since: FromQuery[datetime.date | None] = None,
        until: FromQuery[datetime.date | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> RecordPage:
        rows, total = await service.list_records(
            db_session, kind=kind, since=since, until=until, page=page, page_size=page_size
        )
        return RecordPage(items=[service.record_out(r) for r in rows], total=total)

    @post(
        "/records", opt=WRITE, summary="Record a visit (closes its plan; emits visits.visit_recorded)", status_code=201
    )
    async def record_visit(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[RecordCreate],
        plugin_settings: NamedDependency[dict[str, Any]],
    ) -> RecordOut:
        settings = tenant_settings(plugin_settings)
        record, follow_ups = await service.record_visit(db_session, acting.tenant.id, data, _actor(request), settings)
        return service.record_out(record, follow_ups)

    @get("/records/{record_id:uuid}", opt=READ, summary="One visit record with its follow-ups")
    async def get_record(self, db_session: NamedDependency[AsyncSession], record_id: FromPath[uuid.UUID]) -> RecordOut:
        record, follow_ups = await service.get_record(db_session, record_id)
        return service.record_out(record, follow_ups)

    # --- follow-ups and figures ----------------------------------------------------------------

    @get("/follow-ups", opt=READ, summary="Follow-ups (回访), earliest due first; ?done=false for the open ones")
    async def list_follow_ups(
        self,
        db_session: NamedDependency[AsyncSession],
        done: FromQuery[bool | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> FollowUpPage:
        rows, total = await service.list_follow_ups(db_session, done=done, page=page, page_size=page_size)
        return FollowUpPage(items=[service.follow_up_out(r) for r in rows], total=total)

    @patch(
        "/follow-ups/{follow_up_id:uuid}",
        opt=WRITE,
        summary="Mark a follow-up done (emits visits.follow_up_done) or amend its note",
    )
    async def update_follow_up(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        follow_up_id: FromPath[uuid.UUID],
        data: JSONBody[FollowUpUpdate],
    ) -> FollowUpOut:
        row = await service.update_follow_up(db_session, follow_up_id, data, _actor(request))
        return service.follow_up_out(row)

    @get("/stats", opt=READ, summary="Visits made, people visited, needs found, follow-ups done (subtree)")
    async def stats(self, db_session: NamedDependency[AsyncSession]) -> StatsOut:
        return await service.stats(db_session)
