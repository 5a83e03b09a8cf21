"""Demo data for ``yinling demo``: in each county where the programme is on, three stations (a school, a
community, a village), "五老" counsellors drawn from the county's member ledger (plus one non-member volunteer
where allowed) and a season of activities. The sizes follow one city's report (100 counsellors, 40 events,
12,000 students reached a year) scaled to a county; children are only counted."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orgs.models import Member
from plugins.education import service
from plugins.education.models import Station
from plugins.education.schemas import ActivityIn, CounsellorCreate, EducationSettings, PairingCreate, StationCreate

STATIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "实验小学校外教育辅导站",
        "place_kind": "school",
        "partner_school": "区实验小学",
        "contact_name": "刘老师",
        "contact_phone": "13851700001",
        "schedule": "每周三下午 3:30-5:00",
        "days": 400,
    },
    {
        "name": "新村社区“五老”辅导站",
        "place_kind": "community",
        "partner_school": "区第二中学",
        "contact_name": "张主任",
        "contact_phone": "13851700002",
        "schedule": "每周六上午 9:00-11:00（寒暑假每天）",
        "days": 700,
    },
    {
        "name": "青山村关爱留守儿童辅导站",
        "place_kind": "village",
        "partner_school": "青山村小学",
        "contact_name": "陈书记",
        "contact_phone": "13851700003",
        "schedule": "每周日下午 2:00-4:30",
        "days": 250,
    },
)
CATEGORY_CYCLE = ("old_cadre", "old_teacher", "old_soldier", "old_expert", "old_model")
SUBJECTS = (["党史", "革命传统"], ["数学", "语文"], ["国防教育"], ["科普", "农业技术"], ["劳动教育", "道德讲堂"])
ACTIVITIES: tuple[tuple[int, str, str, int, int, int, int, int], ...] = (
    # days ago, kind, title, station, minutes, students, parents, teachers
    (80, "red_history", "讲好雨花英烈故事", 0, 90, 320, 0, 12),
    (66, "tutoring", "寒假作业辅导", 1, 120, 35, 8, 0),
    (52, "safety", "防溺水安全第一课", 2, 60, 86, 20, 4),
    (40, "reading", "红色经典诵读会", 1, 90, 48, 15, 2),
    (31, "internet_cafe", "节假日网吧义务巡查", 1, 180, 0, 0, 0),
    (20, "red_history", "清明祭英烈主题队会", 0, 60, 410, 0, 18),
    (12, "tutoring", "留守儿童周末课堂", 2, 150, 26, 5, 1),
    (4, "other", "科学小实验", 2, 90, 40, 6, 2),
)


async def seed(session: AsyncSession, tenant_id: int, settings: EducationSettings, is_county: bool) -> None:
    """Idempotent: a tenant that already has stations is left as it is; only counties get stations."""
    if not is_county:
        return
    existing = (
        await session.execute(select(func.count()).select_from(Station).where(Station.tenant_id == tenant_id))
    ).scalar_one()
    if existing:
        return
    today = datetime.date.today()
    stations = []
    for spec in STATIONS:
        values = {k: v for k, v in spec.items() if k != "days"}
        data = StationCreate.model_validate({**values, "opened_on": today - datetime.timedelta(days=spec["days"])})
        stations.append(await service.create_station(session, tenant_id, data, "demo"))
    members = (
        (
            await session.execute(
                select(Member.id)
                .where(Member.tenant_id == tenant_id, Member.status == "active")
                .order_by(Member.name, Member.id)
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    counsellors = []
    for index, member_id in enumerate(members):
        who = CounsellorCreate.model_validate(
            {
                "member_id": member_id,
                "category": CATEGORY_CYCLE[index % 5],
                "subjects": SUBJECTS[index % 5],
                "station_ids": [stations[index % 3].id, stations[(index + 1) % 3].id],
            }
        )
        counsellors.append(await service.create_counsellor(session, tenant_id, who, "demo", settings))
    if settings.allow_volunteers:
        volunteer = CounsellorCreate(
            volunteer_name="吴玉梅",
            volunteer_phone="13951700009",
            category="old_teacher",
            subjects=["英语"],
            station_ids=[stations[2].id],
        )
        counsellors.append(await service.create_counsellor(session, tenant_id, volunteer, "demo", settings))
    if not counsellors:
        return
    for n, (days, kind, title, station, minutes, students, parents, teachers) in enumerate(ACTIVITIES):
        leaders = [counsellors[n % len(counsellors)].id, counsellors[(n + 2) % len(counsellors)].id]
        activity = ActivityIn.model_validate(
            {
                "station_id": stations[station].id,
                "kind": kind,
                "title": title,
                "held_on": today - datetime.timedelta(days=days),
                "duration_minutes": minutes,
                "counsellor_ids": list(dict.fromkeys(leaders)),
                "students": students,
                "parents": parents,
                "teachers": teachers,
            }
        )
        await service.record_activity(session, activity, "demo")
    if settings.pairing_enabled:
        pairing = PairingCreate.model_validate(
            {
                "counsellor_id": counsellors[1 % len(counsellors)].id,
                "station_id": stations[2].id,
                "student_alias": "小雨",
                "student_school": "青山村小学",
                "student_grade": "四年级",
                "guardian_name": "李秀兰",
                "guardian_relation": "祖母",
                "consent_on": today - datetime.timedelta(days=60),
                "consent_record": "监护人书面同意书已存辅导站档案",
                "started_on": today - datetime.timedelta(days=58),
                "ends_on": today + datetime.timedelta(days=300),
                "goal": "课业辅导、每周谈心一次",
            }
        )
        await service.create_pairing(session, tenant_id, pairing, "demo", settings)
