"""Demo data for ``yinling demo``: two rooms per county with mediators from its ledger and a year's worth of
cases in the proportions the reports give (one city: 45 rooms, 480 disputes a year, 95% settled; Fengjie:
96.2% settled, many family and neighbour disputes, petitions 信访 among them)."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select

from core.orgs.models import Member
from core.plugin_host import PluginContext
from plugins.mediation import service
from plugins.mediation.models import Room
from plugins.mediation.schemas import AgreementIn, CaseCreate, MediationSettings, MediatorCreate, RoomCreate, StepIn

ROOMS = (
    ("银龄调解室", "mediation_room", "社区党群服务中心二楼", "周一至周五 9:00-11:30，14:30-17:00"),
    ("民生信访室", "petition_room", "老干部活动中心一楼东侧", "每周二、周四全天"),
)
SPECIALTIES = (["邻里纠纷", "物业纠纷"], ["婚姻家庭", "赡养纠纷"], ["信访接待", "政策解答"], ["劳动争议"])
#: (days ago, type, source, title, room index, outcome) — outcome: settled / followed_up / failed / referred / open
CASES: tuple[tuple[int, str, str, str, int, str], ...] = (
    (300, "neighbour", "walk_in", "楼上漏水致楼下天花板受损", 0, "followed_up"),
    (260, "family", "walk_in", "兄妹三人赡养老母亲分歧", 0, "followed_up"),
    (220, "property", "referral", "小区停车位占用纠纷", 0, "settled"),
    (190, "petition", "petition", "老旧小区加装电梯意见分歧", 1, "followed_up"),
    (150, "marriage", "walk_in", "夫妻因子女教育长期争吵", 0, "settled"),
    (120, "neighbour", "walk_in", "绿化带种菜引发邻里矛盾", 0, "followed_up"),
    (90, "labour", "referral", "退休返聘人员劳务费结算", 1, "referred"),
    (70, "petition", "petition", "拆迁安置补偿政策咨询与诉求", 1, "settled"),
    (45, "family", "walk_in", "遗产分配家庭纠纷", 0, "failed"),
    (25, "neighbour", "walk_in", "广场舞噪音扰民", 0, "settled"),
    (12, "other", "walk_in", "宠物狗咬伤赔偿", 0, "open"),
    (3, "petition", "petition", "社区养老服务站收费问题", 1, "open"),
)
NAMES = (("陈国华", "male"), ("周美玲", "female"), ("吴建军", "male"), ("孙丽娟", "female"), ("郑永强", "male"))


async def seed(context: PluginContext) -> None:
    """Idempotent: a tenant that already has rooms is left as it is."""
    session, tenant_id = context.session, context.tenant.id
    if (await session.execute(select(func.count()).where(Room.tenant_id == tenant_id))).scalar_one():
        return
    settings = MediationSettings.model_validate(context.settings or {})
    today = datetime.date.today()
    rooms = []
    for name, kind, place, hours in ROOMS:
        data = RoomCreate(
            name=name, kind=kind, place=place, opening_hours=hours, opened_on=today - datetime.timedelta(days=730)
        )
        rooms.append(await service.create_room(session, tenant_id, data))
    members = list(
        (
            await session.execute(select(Member.id).where(Member.tenant_id == tenant_id).order_by(Member.name).limit(4))
        ).scalars()
    )
    mediators: list[list[Any]] = [[], []]
    for index, member_id in enumerate(members):
        room = rooms[index % 2]
        joining = MediatorCreate(
            member_id=member_id,
            specialties=SPECIALTIES[index],
            availability="周二、周四上午" if index % 2 == 0 else "每周一全天",
            since=today - datetime.timedelta(days=365),
        )
        mediator, _ = await service.add_mediator(session, context.tree, room.id, joining)
        mediators[index % 2].append(mediator.id)
    for number, (days, case_type, source, title, room_index, outcome) in enumerate(CASES):
        received = today - datetime.timedelta(days=days)
        a, b = NAMES[number % len(NAMES)], NAMES[(number + 2) % len(NAMES)]
        case = await service.create_case(
            session,
            CaseCreate.model_validate(
                {
                    "room_id": rooms[room_index].id,
                    "case_type": case_type,
                    "source": source,
                    "title": title,
                    "description": f"{title}。当事人来访反映情况，请求调解。",
                    "received_on": received,
                    "rights_notified": True,
                    "intake_note": "已告知当事人权利义务",
                    "parties": [
                        {"side": "applicant", "name": a[0], "gender": a[1], "phone": "13800000000"},
                        {"side": "respondent", "name": b[0], "gender": b[1]},
                    ],
                    "mediator_ids": mediators[room_index][:2],
                }
            ),
            "demo",
            settings,
        )
        if outcome == "open":
            continue
        step_day = min(received + datetime.timedelta(days=3), today)
        end_day = min(received + datetime.timedelta(days=14), today)
        await service.take_step(session, case, StepIn(action="mediate", occurred_on=step_day), "demo", settings)
        if outcome == "failed":
            await service.take_step(
                session,
                case,
                StepIn(action="fail", occurred_on=end_day, note="双方分歧较大，未能达成协议"),
                "demo",
                settings,
            )
            continue
        if outcome == "referred":
            await service.take_step(
                session,
                case,
                StepIn(action="refer", occurred_on=end_day, referred_to="department", referred_to_name="区人社局"),
                "demo",
                settings,
            )
            continue
        agreement = AgreementIn(
            dispute="经调查，双方对事实无异议。",
            terms=["双方互谅互让，消除矛盾", "责任方于十五日内完成整改"],
            performance_method="当面履行，社区见证",
            performance_deadline=end_day + datetime.timedelta(days=15),
        )
        await service.take_step(
            session, case, StepIn(action="settle", occurred_on=end_day, agreement=agreement), "demo", settings
        )
        if outcome == "followed_up":
            follow = min(end_day + datetime.timedelta(days=20), today)
            await service.take_step(
                session,
                case,
                StepIn(action="follow_up", occurred_on=follow, satisfied=True, note="回访：已履行"),
                "demo",
                settings,
            )
