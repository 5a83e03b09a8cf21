"""Demo data for the ledger: in each county a retired cadres' party committee with branches of each kind,
a committee per branch, and members with believable names, ages, health classes and specialties.

Deterministic (seeded by the county code) and idempotent: a county that already has organisations is left alone.
"""

from __future__ import annotations

import datetime
import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orgs import idcard
from core.orgs.models import CommitteeSeat, Member, Organization
from core.privacy.crypto import ring
from core.tenancy.models import TenantLevel
from core.tenancy.tree import TenantNode, TenantTree

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = [
    "建国",
    "国强",
    "志刚",
    "振华",
    "德明",
    "永生",
    "文斌",
    "立新",
    "卫东",
    "学军",
    "家驹",
    "明远",
    "守仁",
    "兴旺",
]
GIVEN_FEMALE = ["秀英", "桂兰", "玉珍", "淑芬", "凤英", "丽华", "美玲", "素梅", "慧敏", "金凤", "月娥", "春燕"]
SPECIALTIES = [
    "书法",
    "绘画",
    "法律",
    "调解",
    "医学",
    "农业技术",
    "教育",
    "财会",
    "文艺",
    "摄影",
    "诗词",
    "太极拳",
    "关心下一代宣讲",
]
UNITS = ["县委办公室", "县人民医院", "县第一中学", "县农业农村局", "县财政局", "县人民法院", "县供销社", "县水利局"]
RANKS = ["正科级", "副科级", "正处级", "副处级", "科员", "高级教师", "主任医师"]
COMMUNITIES = ["梅园社区", "新街口社区", "锁金村社区", "玄武门社区", "后宰门社区", "兰园社区"]

BRANCHES = (
    ("老干部党委机关第一党支部", "original_unit"),
    ("梅园社区离退休干部党支部", "community"),
    ("老年大学临时党支部", "society"),
)
POSITIONS = ("secretary", "organization", "propaganda")


async def seed_ledger_demo(session: AsyncSession, tree: TenantTree, members_per_branch: int = 8) -> int:
    """Seed every county that has no organisations yet; returns how many members were created."""
    created = 0
    for node in tree.walk():
        if node.level is not TenantLevel.COUNTY:
            continue
        existing = (
            await session.execute(
                select(func.count()).select_from(Organization).where(Organization.tenant_id == node.id)
            )
        ).scalar_one()
        if existing:
            continue
        created += await _seed_county(session, node, members_per_branch)
    return created


async def _seed_county(session: AsyncSession, node: TenantNode, per_branch: int) -> int:
    rng = random.Random(int(node.code))  # noqa: S311 - demo data, not security
    committee = Organization(tenant_id=node.id, name=f"{node.name}离退休干部党委", level="committee", address=node.name)
    session.add(committee)
    await session.flush()
    created = 0
    sequence = 0
    for branch_name, kind in BRANCHES:
        branch = Organization(
            tenant_id=node.id,
            name=branch_name,
            level="branch",
            kind=kind,
            parent_id=committee.id,
            address=f"{node.name}{rng.choice(COMMUNITIES)}",
            founded_on=datetime.date(rng.randint(1998, 2020), rng.randint(1, 12), 1),
        )
        session.add(branch)
        await session.flush()
        seats: list[Member] = []
        for _ in range(per_branch):
            sequence += 1
            gender = "male" if rng.random() < 0.62 else "female"
            given = rng.choice(GIVEN_MALE if gender == "male" else GIVEN_FEMALE)
            birth = datetime.date(rng.randint(1932, 1962), rng.randint(1, 12), rng.randint(1, 28))
            number = idcard.make(node.code, birth, sequence % 100, gender)
            lixiu = birth.year < 1935
            health = rng.choices(["normal", "limited", "unable"], weights=[6, 3, 1])[0]
            specialties = rng.sample(SPECIALTIES, k=rng.randint(0, 2))
            member = Member(
                tenant_id=node.id,
                name=rng.choice(SURNAMES) + given,
                gender=gender,
                birth_date=birth,
                id_number=number,
                id_number_index=ring().blind_index(number),
                phone=f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
                retirement_type="lixiu" if lixiu else "tuixiu",
                retired_on=datetime.date(birth.year + (60 if gender == "male" else 55), birth.month, 1),
                former_unit=f"{node.name}{rng.choice(UNITS)}",
                former_rank=rng.choice(RANKS),
                is_party_member=True,
                party_joined_on=datetime.date(birth.year + rng.randint(20, 35), rng.randint(1, 12), 1),
                health_class=health,
                specialties=specialties,
                specialties_text=" ".join(specialties),
                residence_community=rng.choice(COMMUNITIES),
                formal_org_id=branch.id,
            )
            session.add(member)
            if health == "normal" and len(seats) < len(POSITIONS):
                seats.append(member)
            created += 1
        await session.flush()
        for member, position in zip(seats, POSITIONS, strict=False):
            session.add(
                CommitteeSeat(
                    tenant_id=node.id,
                    org_id=branch.id,
                    member_id=member.id,
                    position=position,
                    since=datetime.date(2024, 1, 1),
                )
            )
    await session.flush()
    return created
