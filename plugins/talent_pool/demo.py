"""Demo data for ``yinling demo``: experts from the county's ledger, a station, demands, services and a study.

Figures echo the reports (银龄专家服务团: technical guidance, problems solved, extra income; 智囊团: studies,
reports, suggestions adopted). Idempotent: a tenant that already has profiles is left as it is.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orgs.models import Member
from core.reports.facts import Fact, record
from plugins.talent_pool import service
from plugins.talent_pool.models import Assignment, Demand, Profile, ServiceRecord, Station, Study, Suggestion

EXPERTS = (
    (["农业"], ["果树修剪", "病虫害防治", "土壤改良"], "高级农艺师"),
    (["医疗卫生"], ["慢性病管理", "中医药", "健康讲座"], "主任医师"),
    (["教育"], ["课外辅导", "红色教育", "数学"], "中学高级教师"),
    (["经济管理"], ["财务管理", "企业管理", "政策咨询"], "高级会计师"),
    (["法律"], ["法律咨询", "矛盾调解"], "律师"),
    (["科技", "农业"], ["水产养殖", "机械维修"], "高级工程师"),
)
DEMANDS = (
    ("桃园果树修剪与病虫害防治", "农业", "village", "东山村", "东山村桃园", "桃树病虫害严重，需要指导果树修剪和病虫害防治。"),  # noqa: E501
    ("小微企业财务管理咨询", "经济管理", "enterprise", "宏达机械厂", "工业园区", "财务管理不规范，希望指导财务管理和企业管理。"),  # noqa: E501
    ("红色教育进校园", "教育", "school", "实验小学", "实验小学", "开展红色教育主题课和课外辅导。"),
)  # fmt: skip


async def seed(session: AsyncSession, tenant_id: int, field_categories: Mapping[str, str] | None = None) -> None:
    existing = (
        await session.execute(select(func.count()).select_from(Profile).where(Profile.tenant_id == tenant_id))
    ).scalar_one()
    if existing:
        return
    today = datetime.date.today()
    cutoff = today.replace(year=today.year - 75)
    members = (
        (
            await session.execute(
                select(Member)
                .where(
                    Member.tenant_id == tenant_id,
                    Member.status == "active",
                    Member.health_class != "unable",
                    Member.birth_date > cutoff,
                )
                .order_by(Member.name)
                .limit(len(EXPERTS))
            )
        )
        .scalars()
        .all()
    )
    if not members:
        return
    station = Station(
        tenant_id=tenant_id, name="银发人才工作站", address="老干部活动中心", focus="农业技术与企业服务",
        opened_on=today - datetime.timedelta(days=400),
    )  # fmt: skip
    session.add(station)
    await session.flush()
    await record(session, tenant_id, Fact(service.M_STATIONS, station.opened_on))
    profiles: list[Profile] = []
    admitted_on = today - datetime.timedelta(days=300)
    for member, (fields, skills, title) in zip(members, EXPERTS, strict=False):
        profile = Profile(
            tenant_id=tenant_id, member_id=member.id, fields=fields, skills=skills, title=title,
            achievements=f"从事{fields[0]}工作三十余年", availability="available", willing_to_travel=True,
            station_id=station.id, status="admitted", admitted_on=admitted_on,
            next_review_on=service.add_years(admitted_on, 2), created_by="demo",
        )  # fmt: skip
        session.add(profile)
        profiles.append(profile)
        await record(session, tenant_id, Fact(service.M_EXPERTS, admitted_on))
    await session.flush()
    for profile in profiles:
        await service.sync_categories(session, profile, field_categories or {}, admitted_on)
    posted_on = today - datetime.timedelta(days=30)
    for i, (title, field, kind, requester, place, description) in enumerate(DEMANDS):
        demand = Demand(
            tenant_id=tenant_id, title=title, field=field, requester_kind=kind, requester_name=requester,
            place=place, starts_on=posted_on, ends_on=posted_on + datetime.timedelta(days=90),
            description=description, posted_on=posted_on, status="open", created_by="demo",
        )  # fmt: skip
        session.add(demand)
        await session.flush()
        await record(session, tenant_id, Fact(service.M_DEMANDS_POSTED, posted_on))
        if i != 0 or not profiles:
            continue
        expert, member = profiles[0], members[0]
        assignment = Assignment(
            tenant_id=tenant_id, demand_id=demand.id, expert_tenant_id=tenant_id, expert_id=expert.id,
            expert_member_id=member.id, expert_name=member.name, expert_fields=expert.fields, score=93.0,
            explanation=[], status="completed", responded_on=posted_on, completed_on=today, created_by="demo",
        )  # fmt: skip
        session.add(assignment)
        demand.status, demand.met_on = "met", today
        await session.flush()
        await record(session, tenant_id, Fact(service.M_DEMANDS_MET, today))
        for days, solved, trainees, value in ((20, 2, 15, 30000.0), (10, 3, 25, 50000.0)):
            row = ServiceRecord(
                tenant_id=tenant_id, assignment_id=assignment.id, served_on=today - datetime.timedelta(days=days),
                hours=4.0, visits=1, problems_solved=solved, trainees=trainees, value_yuan=value,
                summary="现场指导果树修剪，讲解病虫害防治要点", recorded_by="demo", rating=5, feedback="很实用",
            )  # fmt: skip
            session.add(row)
            await session.flush()
            await record(session, tenant_id, *service.service_facts(row))
    study = Study(
        tenant_id=tenant_id, title="乡村振兴中的产业发展调研", topic="特色农业产业链",
        adviser_ids=[str(p.id) for p in profiles[:3]], started_on=today - datetime.timedelta(days=120),
        created_by="demo",
    )  # fmt: skip
    session.add(study)
    await session.flush()
    for j, content in enumerate(("建立农技专家包村联系制度", "扶持桃园合作社发展电子商务", "设立银发人才服务专项经费")):
        made_on = today - datetime.timedelta(days=60)
        adopted = j < 1
        session.add(
            Suggestion(
                tenant_id=tenant_id, study_id=study.id, content=content, made_on=made_on, adopted=adopted,
                adopted_on=today - datetime.timedelta(days=20) if adopted else None,
                adopted_by="县农业农村局" if adopted else "", created_by="demo",
            )
        )  # fmt: skip
        await record(session, tenant_id, Fact(service.M_SUGGESTIONS, made_on))
        if adopted:
            await record(session, tenant_id, Fact(service.M_ADOPTED, today - datetime.timedelta(days=20)))
    await session.flush()
