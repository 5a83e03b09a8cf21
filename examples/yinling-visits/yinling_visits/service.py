"""The plugin's work: plans, records, follow-ups, the figures, and the idempotent event consumer.

Functions take the session the host gives (scoped to the acting tenant's subtree for requests, to the event's
tenant for ``on_event``); the ORM and row-level security keep every query inside it, so a plan of another
county is simply "not found" here.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import VALIDATION_FAILED, ErrorSpec
from core.events.outbox import emit
from core.events.types import DomainEvent
from yinling_visits.models import ConsumedEvent, FollowUp, VisitPlan, VisitRecord, VisitTally
from yinling_visits.schemas import (
    FollowUpOut,
    FollowUpUpdate,
    PlanCreate,
    PlanOut,
    PlanUpdate,
    RecordCreate,
    RecordOut,
    StatsOut,
    VisitsSettings,
)

PLUGIN_NAME = "visits"
VISIT_RECORDED = "visits.visit_recorded"
FOLLOW_UP_DONE = "visits.follow_up_done"

PLAN_NOT_FOUND = ErrorSpec("visits.plan_not_found", 404, "找不到该走访计划", "No such visit plan")
RECORD_NOT_FOUND = ErrorSpec("visits.record_not_found", 404, "找不到该走访记录", "No such visit record")
FOLLOW_UP_NOT_FOUND = ErrorSpec("visits.follow_up_not_found", 404, "找不到该回访事项", "No such follow-up")
PLAN_CLOSED = ErrorSpec(
    "visits.plan_closed",
    409,
    "该走访计划{status_zh}，不能再登记或修改",
    "This visit plan is {status}; it cannot be recorded against or changed",
)
PHOTO_REQUIRED = ErrorSpec(
    "visits.photo_required",
    422,
    "本单位要求登记走访时附走访照片：请先上传照片，再填写 photo_file_id",
    "This tenant requires a photo with every visit record: upload it and give photo_file_id",
)
FOLLOW_UP_REOPEN = ErrorSpec(
    "visits.follow_up_done_already",
    409,
    "该回访事项已于 {done_on} 完成，不能改回未完成",
    "This follow-up was done on {done_on}; it cannot be reopened",
)
_STATUS_ZH = {"done": "已走访", "cancelled": "已取消"}


def _today() -> datetime.date:
    return datetime.date.today()


def plan_out(row: VisitPlan) -> PlanOut:
    return PlanOut(
        id=row.id,
        tenant_id=row.tenant_id,
        person_name=row.person_name,
        community=row.community,
        planned_date=row.planned_date,
        visitor=row.visitor,
        kind=row.kind,
        note=row.note,
        status=row.status,
        created_by=row.created_by,
    )


def follow_up_out(row: FollowUp) -> FollowUpOut:
    return FollowUpOut(
        id=row.id,
        tenant_id=row.tenant_id,
        record_id=row.record_id,
        due_on=row.due_on,
        done=row.done,
        done_on=row.done_on,
        done_by=row.done_by,
        note=row.note,
    )


def record_out(row: VisitRecord, follow_ups: list[FollowUp] | None = None) -> RecordOut:
    return RecordOut(
        id=row.id,
        tenant_id=row.tenant_id,
        plan_id=row.plan_id,
        person_name=row.person_name,
        community=row.community,
        kind=row.kind,
        visited_on=row.visited_on,
        visitor=row.visitor,
        duration_minutes=row.duration_minutes,
        findings=row.findings,
        needs=list(row.needs or []),
        follow_up_required=row.follow_up_required,
        follow_up_due=row.follow_up_due,
        photo_file_id=row.photo_file_id,
        recorded_by=row.recorded_by,
        follow_ups=[follow_up_out(f) for f in follow_ups or []],
    )


# --- plans -----------------------------------------------------------------------------------------


async def get_plan(session: AsyncSession, plan_id: uuid.UUID) -> VisitPlan:
    row = (await session.execute(select(VisitPlan).where(VisitPlan.id == plan_id))).scalar_one_or_none()
    if row is None:
        raise PLAN_NOT_FOUND.error(field="plan_id")
    return row


async def create_plan(session: AsyncSession, tenant_id: int, data: PlanCreate, actor: str) -> VisitPlan:
    row = VisitPlan(tenant_id=tenant_id, created_by=actor, **data.model_dump())
    session.add(row)
    await session.flush()
    return row


async def update_plan(session: AsyncSession, plan_id: uuid.UUID, data: PlanUpdate) -> VisitPlan:
    row = await get_plan(session, plan_id)
    if row.status != "planned":
        raise PLAN_CLOSED.error(field="status", status=row.status, status_zh=_STATUS_ZH.get(row.status, row.status))
    for key, value in data.model_dump(exclude_none=True).items():
        setattr(row, key, value)
    await session.flush()
    return row


async def list_plans(
    session: AsyncSession, *, status: str | None, kind: str | None, page: int, page_size: int
) -> tuple[list[VisitPlan], int]:
    query = select(VisitPlan)
    if status:
        query = query.where(VisitPlan.status == status)
    if kind:
        query = query.where(VisitPlan.kind == kind)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(VisitPlan.planned_date, VisitPlan.id).offset((page - 1) * page_size).limit(page_size)
        )
    ).scalars()
    return list(rows), total


# --- records and follow-ups ------------------------------------------------------------------------


def _missing(field: str) -> Exception:
    return VALIDATION_FAILED.error(
        field=field,
        details=[{"field": field, "message": "未关联走访计划时必填"}],
        summary=f"{field}：未关联走访计划时必填",
    )


async def record_visit(
    session: AsyncSession, tenant_id: int, data: RecordCreate, actor: str, settings: VisitsSettings
) -> tuple[VisitRecord, list[FollowUp]]:
    """Write the record (and its follow-up), close the plan, and emit ``visits.visit_recorded``.

    A record made against a plan lands in the plan's tenant, so the composite foreign key holds.
    """
    if settings.require_photo and data.photo_file_id is None:
        raise PHOTO_REQUIRED.error(field="photo_file_id")
    plan: VisitPlan | None = None
    if data.plan_id is not None:
        plan = await get_plan(session, data.plan_id)
        if plan.status != "planned":
            raise PLAN_CLOSED.error(
                field="plan_id", status=plan.status, status_zh=_STATUS_ZH.get(plan.status, plan.status)
            )
        tenant_id = plan.tenant_id
    person_name = data.person_name or (plan.person_name if plan else None)
    community = data.community or (plan.community if plan else None)
    kind = data.kind or (plan.kind if plan else None)
    for field, value in (("person_name", person_name), ("community", community), ("kind", kind)):
        if not value:
            raise _missing(field)
    assert person_name and community and kind
    due = data.follow_up_due
    if data.follow_up_required and due is None:
        due = data.visited_on + datetime.timedelta(days=settings.follow_up_days)
    record = VisitRecord(
        tenant_id=tenant_id,
        plan_id=plan.id if plan else None,
        person_name=person_name,
        community=community,
        kind=kind,
        visited_on=data.visited_on,
        visitor=data.visitor,
        duration_minutes=data.duration_minutes,
        findings=data.findings,
        needs=list(data.needs),
        follow_up_required=data.follow_up_required,
        follow_up_due=due if data.follow_up_required else None,
        photo_file_id=data.photo_file_id,
        recorded_by=actor,
    )
    session.add(record)
    await session.flush()
    follow_ups: list[FollowUp] = []
    if data.follow_up_required and due is not None:
        follow_up = FollowUp(tenant_id=tenant_id, record_id=record.id, due_on=due)
        session.add(follow_up)
        follow_ups.append(follow_up)
    if plan is not None:
        plan.status = "done"
    await session.flush()
    await emit(
        session,
        tenant_id=tenant_id,
        name=VISIT_RECORDED,
        payload={
            "visit_id": str(record.id),
            "visitor_username": actor,
            "visitor_name": record.visitor,
            "kind": record.kind,
            "duration_minutes": record.duration_minutes,
            "needs_found": len(record.needs),
            "follow_up_required": record.follow_up_required,
        },
        source=PLUGIN_NAME,
    )
    return record, follow_ups


async def get_record(session: AsyncSession, record_id: uuid.UUID) -> tuple[VisitRecord, list[FollowUp]]:
    row = (await session.execute(select(VisitRecord).where(VisitRecord.id == record_id))).scalar_one_or_none()
    if row is None:
        raise RECORD_NOT_FOUND.error(field="record_id")
    follow_ups = (
        await session.execute(
            select(FollowUp)
            .where(FollowUp.tenant_id == row.tenant_id, FollowUp.record_id == row.id)
            .order_by(FollowUp.due_on)
        )
    ).scalars()
    return row, list(follow_ups)


async def list_records(
    session: AsyncSession,
    *,
    kind: str | None,
    since: datetime.date | None,
    until: datetime.date | None,
    page: int,
    page_size: int,
) -> tuple[list[VisitRecord], int]:
    query = select(VisitRecord)
    if kind:
        query = query.where(VisitRecord.kind == kind)
    if since:
        query = query.where(VisitRecord.visited_on >= since)
    if until:
        query = query.where(VisitRecord.visited_on <= until)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(VisitRecord.visited_on.desc(), VisitRecord.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    ).scalars()
    return list(rows), total


async def list_follow_ups(
    session: AsyncSession, *, done: bool | None, page: int, page_size: int
) -> tuple[list[FollowUp], int]:
    query = select(FollowUp)
    if done is not None:
        query = query.where(FollowUp.done.is_(done))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(FollowUp.due_on, FollowUp.id).offset((page - 1) * page_size).limit(page_size)
        )
    ).scalars()
    return list(rows), total


async def update_follow_up(
    session: AsyncSession, follow_up_id: uuid.UUID, data: FollowUpUpdate, actor: str
) -> FollowUp:
    """Mark done (once; emits ``visits.follow_up_done``) or amend the note of an open follow-up."""
    row = (await session.execute(select(FollowUp).where(FollowUp.id == follow_up_id))).scalar_one_or_none()
    if row is None:
        raise FOLLOW_UP_NOT_FOUND.error(field="follow_up_id")
    if row.done and not data.done:
        raise FOLLOW_UP_REOPEN.error(field="done", done_on=row.done_on.isoformat() if row.done_on else "")
    if data.note:
        row.note = data.note
    if data.done and not row.done:
        row.done = True
        row.done_on = _today()
        row.done_by = actor
        await session.flush()
        await emit(
            session,
            tenant_id=row.tenant_id,
            name=FOLLOW_UP_DONE,
            payload={"follow_up_id": str(row.id), "visit_id": str(row.record_id), "done_by": actor},
            source=PLUGIN_NAME,
        )
    await session.flush()
    return row


# --- figures and the event consumer ----------------------------------------------------------------


async def stats(session: AsyncSession) -> StatsOut:
    """Figures over everything the session may read (the acting tenant's subtree)."""
    visits_made, people = (
        await session.execute(
            select(
                func.count(VisitRecord.id),
                func.count(distinct(VisitRecord.person_name + "|" + VisitRecord.community)),
            )
        )
    ).one()
    needs = sum(len(n or []) for n in (await session.execute(select(VisitRecord.needs))).scalars())
    done = (await session.execute(select(func.count()).where(FollowUp.done.is_(True)))).scalar_one()
    open_ = (await session.execute(select(func.count()).where(FollowUp.done.is_(False)))).scalar_one()
    counted, minutes = (
        await session.execute(
            select(func.coalesce(func.sum(VisitTally.visits), 0), func.coalesce(func.sum(VisitTally.minutes), 0))
        )
    ).one()
    return StatsOut(
        visits_made=visits_made,
        people_visited=people,
        needs_found=needs,
        follow_ups_done=done,
        follow_ups_open=open_,
        counted_by_events=int(counted),
        minutes_by_events=int(minutes),
    )


async def ensure_tally(session: AsyncSession, tenant_id: int) -> VisitTally:
    tally = await session.get(VisitTally, tenant_id)
    if tally is None:
        tally = VisitTally(tenant_id=tenant_id, visits=0, minutes=0)
        session.add(tally)
        await session.flush()
    return tally


async def count_visit(session: AsyncSession, event: DomainEvent) -> bool:
    """Count a ``visits.visit_recorded`` event into the tenant's tally, once: False if it was counted before.

    The host already makes a delivery's effect happen once (the writes commit with the delivery mark); the
    event id as the key of :class:`ConsumedEvent` also keeps a replayed or duplicated event from counting
    twice, and two concurrent deliveries collide on that key instead of both counting.
    """
    if await session.get(ConsumedEvent, (event.tenant_id, event.id)) is not None:
        return False
    session.add(ConsumedEvent(tenant_id=event.tenant_id, event_id=event.id, name=event.name))
    tally = await ensure_tally(session, event.tenant_id)
    tally.visits += 1
    tally.minutes += _int(event.payload.get("duration_minutes"))
    await session.flush()
    return True


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
