"""An organisation's committee (支委班子): the current seats, replaced as a whole when the branch elects or
changes its committee; past seats keep their end date, so the history of who served stays."""

from __future__ import annotations

import datetime
import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.orgs.models import CommitteePosition, CommitteeSeat, Member, Organization, Participation

ONE_SECRETARY = ErrorSpec(
    "org.one_secretary",
    422,
    "一个党组织只能有一名书记（第 {index} 项重复）",
    "An organisation has one secretary (item {index})",
)
SEAT_MEMBER_INVALID = ErrorSpec(
    "org.committee_member_invalid",
    422,
    "第 {index} 项：该党员不存在、已不在册，或不属于（也未参加）本党组织",
    "Item {index}: the member does not exist, is not active, or neither belongs to nor takes part in this organisation",
)
SEAT_TWICE = ErrorSpec(
    "org.committee_member_twice", 422, "第 {index} 项：同一名党员不能担任两个职务", "Item {index}: one post per member"
)


class SeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID
    position: CommitteePosition
    since: datetime.date | None = None


class CommitteeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seats: list[SeatIn] = Field(max_length=15)


class SeatOut(BaseModel):
    member_id: str
    member_name: str
    position: CommitteePosition
    position_zh: str
    since: datetime.date
    until: datetime.date | None


async def current_seats(session: AsyncSession, org: Organization) -> list[SeatOut]:
    rows = await session.execute(
        select(CommitteeSeat, Member.name)
        .join(Member, (Member.tenant_id == CommitteeSeat.tenant_id) & (Member.id == CommitteeSeat.member_id))
        .where(CommitteeSeat.org_id == org.id, CommitteeSeat.until.is_(None))
    )
    order = list(CommitteePosition)
    seats = [
        SeatOut(
            member_id=str(seat.member_id),
            member_name=name,
            position=CommitteePosition(seat.position),
            position_zh=CommitteePosition(seat.position).zh,
            since=seat.since,
            until=seat.until,
        )
        for seat, name in rows.tuples()
    ]
    return sorted(seats, key=lambda s: (order.index(s.position), s.member_name))


async def replace_committee(session: AsyncSession, org: Organization, data: CommitteeIn) -> list[SeatOut]:
    """Check every seat first; then end the seats that change and open the new ones (today unless given)."""
    today = datetime.date.today()
    seen: set[uuid.UUID] = set()
    secretaries = 0
    for index, seat in enumerate(data.seats, start=1):
        if seat.member_id in seen:
            raise SEAT_TWICE.error(field=f"seats.{index - 1}.member_id", index=index)
        seen.add(seat.member_id)
        if seat.position is CommitteePosition.SECRETARY:
            secretaries += 1
            if secretaries > 1:
                raise ONE_SECRETARY.error(field=f"seats.{index - 1}.position", index=index)
        belongs = select(Participation.member_id).where(Participation.org_id == org.id)
        member = (
            await session.execute(
                select(Member).where(
                    Member.id == seat.member_id,
                    Member.tenant_id == org.tenant_id,
                    Member.status == "active",
                    or_(Member.formal_org_id == org.id, Member.id.in_(belongs)),
                )
            )
        ).scalar_one_or_none()
        if member is None:
            raise SEAT_MEMBER_INVALID.error(field=f"seats.{index - 1}.member_id", index=index)
    current = (
        (
            await session.execute(
                select(CommitteeSeat).where(CommitteeSeat.org_id == org.id, CommitteeSeat.until.is_(None))
            )
        )
        .scalars()
        .all()
    )
    wanted = {(s.member_id, s.position.value) for s in data.seats}
    kept = set()
    for serving in current:
        if (serving.member_id, serving.position) in wanted:
            kept.add((serving.member_id, serving.position))
        else:
            serving.until = today
    for chosen in data.seats:
        if (chosen.member_id, chosen.position.value) not in kept:
            session.add(
                CommitteeSeat(
                    tenant_id=org.tenant_id,
                    org_id=org.id,
                    member_id=chosen.member_id,
                    position=chosen.position.value,
                    since=chosen.since or today,
                )
            )
    await session.flush()
    return await current_seats(session, org)
