"""每季度公示: a quarter's ranking of a branch or the whole tenant, frozen when published, and objections to it.

A publication stores its rows (rank, name, branch, score, stars) as they were at the end of the quarter; later
entries, reversals and even a member's transfer do not change what was published. Objections follow
raised → investigating → answered → filed; each step is appended with who, when and what was said.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.errors import ErrorSpec
from core.orgs.models import Organization
from plugins.points.ledger import get_member, standings
from plugins.points.models import Objection, Publication
from plugins.points.rules import PointsSettings

ALREADY_PUBLISHED = ErrorSpec(
    "points.already_published",
    409,
    "{year} 年第 {quarter} 季度的{scope}积分已经公示，公示后不能更改",
    "Quarter {quarter} of {year} was already published for {scope}; a publication is frozen",
)
QUARTER_NOT_OVER = ErrorSpec(
    "points.quarter_not_over",
    409,
    "{year} 年第 {quarter} 季度还没有结束，结束后才能公示",
    "Quarter {quarter} of {year} is not over yet",
)
PUBLICATION_NOT_FOUND = ErrorSpec("points.publication_not_found", 404, "找不到该公示", "No such publication")
BRANCH_NOT_FOUND = ErrorSpec("points.branch_not_found", 404, "找不到该党支部", "No such branch")
OBJECTION_NOT_FOUND = ErrorSpec("points.objection_not_found", 404, "找不到该异议", "No such objection")
NOT_LISTED = ErrorSpec(
    "points.not_in_publication",
    422,
    "该党员不在这次公示名单中，不能对它提出异议",
    "The member is not listed in this publication",
)
BAD_STEP = ErrorSpec(
    "points.objection_step",
    409,
    "异议当前为“{status}”，下一步只能是“{allowed}”",
    "The objection is '{status}'; the next step can only be '{allowed}'",
)

STEPS = {"raised": "investigating", "investigating": "answered", "answered": "filed"}
STATUS_ZH = {"raised": "已提出", "investigating": "调查核实中", "answered": "已答复", "filed": "已归档"}


def quarter_end(year: int, quarter: int) -> datetime.date:
    month = quarter * 3
    return datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)


async def publish(
    session: AsyncSession,
    settings: PointsSettings,
    *,
    tenant_id: int,
    year: int,
    quarter: int,
    org_id: uuid.UUID | None,
    actor: str,
    today: datetime.date | None = None,
) -> Publication:
    end = quarter_end(year, quarter)
    if (today or datetime.date.today()) <= end:
        raise QUARTER_NOT_OVER.error(field="quarter", year=year, quarter=quarter)
    scope_name = "全单位"
    if org_id is not None:
        org = (
            await session.execute(
                select(Organization).where(Organization.id == org_id, Organization.tenant_id == tenant_id)
            )
        ).scalar_one_or_none()
        if org is None:
            raise BRANCH_NOT_FOUND.error(field="org_id")
        scope_name = org.name
    rows = await standings(session, settings, year=year, until=end, org_id=org_id, tenant_ids=[tenant_id])
    publication = Publication(
        tenant_id=tenant_id,
        year=year,
        quarter=quarter,
        scope_key=str(org_id) if org_id else "tenant",
        org_id=org_id,
        scope_name=scope_name,
        rows=rows,
        published_by=actor,
        published_on=today or datetime.date.today(),
    )
    try:
        async with session.begin_nested():
            session.add(publication)
            await session.flush()
    except IntegrityError as exc:
        raise ALREADY_PUBLISHED.error(field="quarter", year=year, quarter=quarter, scope=scope_name) from exc
    return publication


async def get_publication(session: AsyncSession, publication_id: uuid.UUID) -> Publication:
    row = (await session.execute(select(Publication).where(Publication.id == publication_id))).scalar_one_or_none()
    if row is None:
        raise PUBLICATION_NOT_FOUND.error(field="publication_id")
    return row


def _step(status: str, actor: str, note: str) -> dict[str, Any]:
    return {"status": status, "by": actor, "at": utcnow().isoformat(), "note": note}


async def raise_objection(
    session: AsyncSession, publication_id: uuid.UUID, *, member_id: uuid.UUID, text: str, actor: str
) -> Objection:
    publication = await get_publication(session, publication_id)
    if str(member_id) not in {row["member_id"] for row in publication.rows}:
        raise NOT_LISTED.error(field="member_id")
    await get_member(session, member_id, publication.tenant_id)
    objection = Objection(
        tenant_id=publication.tenant_id,
        publication_id=publication.id,
        member_id=member_id,
        text=text,
        status="raised",
        steps=[_step("raised", actor, text)],
        raised_by=actor,
    )
    session.add(objection)
    await session.flush()
    return objection


async def advance(session: AsyncSession, objection_id: uuid.UUID, *, to: str, note: str, actor: str) -> Objection:
    objection = (
        await session.execute(select(Objection).where(Objection.id == objection_id).with_for_update())
    ).scalar_one_or_none()
    if objection is None:
        raise OBJECTION_NOT_FOUND.error(field="objection_id")
    allowed = STEPS.get(objection.status)
    if allowed != to:
        raise BAD_STEP.error(
            field="status", status=STATUS_ZH[objection.status], allowed=STATUS_ZH.get(allowed or "", "无")
        )
    objection.status = to
    objection.steps = [*objection.steps, _step(to, actor, note)]
    await session.flush()
    return objection
