"""The talent pool's panel on a member's page: the profile's standing and the services the expert gave."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_host import MemberPanel
from plugins.talent_pool.models import Assignment, Profile, ServiceRecord
from plugins.talent_pool.service import STATUS_ZH

STATUS_EN = {"pending": "awaiting review", "admitted": "in the pool", "rejected": "not admitted", "retired": "left"}


async def member_panel(session: AsyncSession, member_id: str) -> MemberPanel | None:
    try:
        mid = uuid.UUID(str(member_id))
    except ValueError:
        return None
    profile = (await session.execute(select(Profile).where(Profile.member_id == mid))).scalar_one_or_none()
    if profile is None:
        return None
    services = (
        (
            await session.execute(
                select(ServiceRecord)
                .join(
                    Assignment,
                    and_(Assignment.tenant_id == ServiceRecord.tenant_id, Assignment.id == ServiceRecord.assignment_id),
                )
                .where(Assignment.expert_member_id == mid, ServiceRecord.revoked.is_(False))
                .order_by(ServiceRecord.served_on.desc())
                .limit(10)
            )
        )
        .scalars()
        .all()
    )
    solved = (
        await session.execute(
            select(func.coalesce(func.sum(ServiceRecord.problems_solved), 0))
            .join(
                Assignment,
                and_(Assignment.tenant_id == ServiceRecord.tenant_id, Assignment.id == ServiceRecord.assignment_id),
            )
            .where(Assignment.expert_member_id == mid, ServiceRecord.revoked.is_(False))
        )
    ).scalar_one()
    items: list[dict[str, str]] = [
        {"label": "人才库", "label_en": "Talent pool", "value": STATUS_ZH[profile.status]},
        {"label": "专业领域", "label_en": "Fields", "value": "、".join(profile.fields or [])},
        {"label": "解决难题", "label_en": "Problems solved", "value": str(int(solved))},
    ]
    if profile.next_review_on:
        items.append({"label": "下次复审", "label_en": "Next re-review", "value": profile.next_review_on.isoformat()})
    for s in services:
        items.append(
            {
                "on": s.served_on.isoformat(),
                "text": f"专家服务：解决难题 {s.problems_solved} 个，培训 {s.trainees} 人次",
                "text_en": f"Expert service: {s.problems_solved} problem(s) solved, {s.trainees} trainee(s)",
            }
        )
    return MemberPanel(title_zh="银发人才库", title_en="Silver talent pool", items=items, order=60)
