"""The mediation block of a member's page: the rooms the member serves in and the cases they mediated."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_host import MemberPanel
from plugins.mediation.models import Case, CaseMediator, Mediator, Room


async def panel(session: AsyncSession, member_id: str) -> MemberPanel | None:
    try:
        member = uuid.UUID(str(member_id))
    except ValueError:
        return None
    serving = (
        await session.execute(
            select(Mediator, Room.name)
            .join(Room, (Room.tenant_id == Mediator.tenant_id) & (Room.id == Mediator.room_id))
            .where(Mediator.member_id == member)
            .order_by(Mediator.since)
        )
    ).all()
    if not serving:
        return None
    ids = [m.id for m, _ in serving]
    handled, settled = (
        await session.execute(
            select(func.count(), func.count(Case.settled_on))
            .select_from(CaseMediator)
            .join(Case, (Case.tenant_id == CaseMediator.tenant_id) & (Case.id == CaseMediator.case_id))
            .where(CaseMediator.mediator_id.in_(ids), Case.status != "voided")
        )
    ).one()
    items: list[dict[str, str]] = [
        {"label": "调解案件", "label_en": "Cases mediated", "value": str(handled)},
        {"label": "调解成功", "label_en": "Cases settled", "value": str(settled)},
    ]
    for mediator, room in serving:
        until = f"，{mediator.until.isoformat()} 离任" if mediator.until else ""
        items.append(
            {
                "on": mediator.since.isoformat(),
                "text": f"担任“{room}”调解员{until}",
                "text_en": f"Mediator at {room}" + (f" until {mediator.until.isoformat()}" if mediator.until else ""),
            }
        )
    return MemberPanel(title_zh="银龄调解", title_en="Mediation", items=items)
