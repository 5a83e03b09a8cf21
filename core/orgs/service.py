"""Rules of the organisation tree and the member ledger, checked before anything is written."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, ErrorSpec
from core.orgs import idcard
from core.orgs.models import ALLOWED_CHILDREN, Member, Organization, OrgLevel, Participation
from core.orgs.schemas import MemberFields, OrgCreate, OrgUpdate
from core.privacy.crypto import ring

ORG_NOT_FOUND = ErrorSpec("org.not_found", 404, "找不到该党组织", "No such organisation")
ORG_PARENT_NOT_FOUND = ErrorSpec(
    "org.parent_not_found",
    422,
    "上级党组织不存在或不属于本单位",
    "The parent organisation does not exist in this tenant",
)
ORG_BAD_PARENT = ErrorSpec(
    "org.parent_level",
    422,
    "{parent_level_zh}下面不能设{level_zh}；{parent_level_zh}下只能设：{allowed_zh}",
    "A {level} cannot sit under a {parent_level}; allowed: {allowed}",
)
ORG_ROOT_LEVEL = ErrorSpec(
    "org.root_level", 422, "党小组必须设在党支部下面，请选择上级党支部", "A party group needs a parent branch"
)
ORG_KIND_ONLY_BRANCH = ErrorSpec(
    "org.kind_only_for_branch", 422, "只有党支部需要填写支部类型", "Only branches have a branch kind"
)
ORG_HAS_MEMBERS = ErrorSpec(
    "org.has_members",
    409,
    "该党组织还有 {count} 名党员的组织关系，不能停用；请先办理转接",
    "{count} members still belong here",
)
MEMBER_NOT_FOUND = ErrorSpec("member.not_found", 404, "找不到该党员档案", "No such member")
MEMBER_ID_INVALID = ErrorSpec(
    "member.id_number_invalid", 422, "身份证号有误：{reason}", "Invalid ID number: {reason_en}"
)
MEMBER_BIRTH_MISMATCH = ErrorSpec(
    "member.birth_mismatch",
    422,
    "出生日期 {given} 与身份证号中的出生日期 {from_id} 不一致",
    "Birth date {given} does not match the ID number ({from_id})",
)
MEMBER_BIRTH_REQUIRED = ErrorSpec(
    "member.birth_required", 422, "请填写出生日期（或填写身份证号）", "Give a birth date or an ID number"
)
MEMBER_DATE_ORDER = ErrorSpec(
    "member.date_order",
    422,
    "{field_zh}（{value}）不能早于出生日期（{birth}）",
    "{field} ({value}) is before the birth date ({birth})",
)
MEMBER_FUTURE_DATE = ErrorSpec("member.future_date", 422, "{field_zh}不能晚于今天", "{field} cannot be in the future")
MEMBER_ORG_INVALID = ErrorSpec(
    "member.org_invalid",
    422,
    "所选党组织不存在、不属于本单位或不是党支部：组织关系只能落在本单位的党支部",
    "The organisation is not a branch of this tenant",
)
MEMBER_DUPLICATE = ErrorSpec(
    "member.duplicate_id_number",
    409,
    "身份证号 {masked} 已有档案（{name}）",
    "A record with ID number {masked} exists ({name})",
)

_DATE_FIELDS_ZH = {"party_joined_on": "入党日期", "retired_on": "离退休日期", "birth_date": "出生日期"}


def parse_uuid(value: str | None, spec: ErrorSpec, field: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise spec.error(field=field) from None


async def get_org(session: AsyncSession, org_id: uuid.UUID) -> Organization:
    org = (await session.execute(select(Organization).where(Organization.id == org_id))).scalar_one_or_none()
    if org is None:
        raise ORG_NOT_FOUND.error(field="org_id")
    return org


def _check_level(level: OrgLevel, parent: Organization | None, kind: Any) -> None:
    if kind is not None and level is not OrgLevel.BRANCH:
        raise ORG_KIND_ONLY_BRANCH.error(field="kind")
    if parent is None:
        if level is OrgLevel.GROUP:
            raise ORG_ROOT_LEVEL.error(field="parent_id")
        return
    parent_level = OrgLevel(parent.level)
    allowed = ALLOWED_CHILDREN[parent_level]
    if level not in allowed:
        raise ORG_BAD_PARENT.error(
            field="level",
            level=level.value,
            level_zh=level.zh,
            parent_level=parent_level.value,
            parent_level_zh=parent_level.zh,
            allowed=", ".join(a.value for a in allowed) or "nothing",
            allowed_zh="、".join(a.zh for a in allowed) or "（不能再设下级组织）",
        )


async def create_org(session: AsyncSession, tenant_id: int, data: OrgCreate) -> Organization:
    parent = None
    parent_id = parse_uuid(data.parent_id, ORG_PARENT_NOT_FOUND, "parent_id")
    if parent_id is not None:
        parent = (
            await session.execute(
                select(Organization).where(Organization.id == parent_id, Organization.tenant_id == tenant_id)
            )
        ).scalar_one_or_none()
        if parent is None:
            raise ORG_PARENT_NOT_FOUND.error(field="parent_id")
    _check_level(data.level, parent, data.kind)
    org = Organization(
        tenant_id=tenant_id,
        name=data.name,
        level=data.level.value,
        kind=data.kind.value if data.kind else None,
        parent_id=parent.id if parent else None,
        address=data.address,
        founded_on=data.founded_on,
    )
    session.add(org)
    await session.flush()
    return org


async def update_org(session: AsyncSession, org: Organization, data: OrgUpdate) -> Organization:
    changes = data.model_dump(exclude_unset=True)
    if "kind" in changes and changes["kind"] is not None:
        _check_level(OrgLevel(org.level), None, data.kind)
        org.kind = data.kind.value if data.kind else None
    for key in ("name", "address", "founded_on"):
        if key in changes and changes[key] is not None:
            setattr(org, key, changes[key])
    await session.flush()
    return org


async def deactivate_org(session: AsyncSession, org: Organization) -> Organization:
    count = (
        await session.execute(
            select(func.count()).select_from(Member).where(Member.formal_org_id == org.id, Member.status == "active")
        )
    ).scalar_one()
    if count:
        raise ORG_HAS_MEMBERS.error(field="org_id", count=count)
    org.is_active = False
    await session.flush()
    return org


async def get_member(session: AsyncSession, member_id: uuid.UUID) -> Member:
    member = (await session.execute(select(Member).where(Member.id == member_id))).scalar_one_or_none()
    if member is None:
        raise MEMBER_NOT_FOUND.error(field="member_id")
    return member


_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def _date_error(field: str, value: datetime.date | None, birth: datetime.date, today: datetime.date) -> AppError | None:
    if value is None:
        return None
    if value < birth:
        return MEMBER_DATE_ORDER.error(
            field=field, field_zh=_DATE_FIELDS_ZH.get(field, field), value=value.isoformat(), birth=birth.isoformat()
        )
    if value > today:
        return MEMBER_FUTURE_DATE.error(field=field, field_zh=_DATE_FIELDS_ZH.get(field, field))
    return None


@dataclass(frozen=True)
class CheckedMember:
    """What the ledger's rules make of some member fields, worked out without the database.

    ``card`` is the parsed ID number (None when none was given or it is invalid), ``birth_date`` the
    effective birth date (the ID number's when there is one), ``errors`` every rule broken, ID number first.
    """

    card: idcard.IdCard | None
    birth_date: datetime.date | None
    errors: tuple[AppError, ...]


def check_member_fields(
    given: Mapping[str, Any], *, current: Member | None = None, today: datetime.date | None = None
) -> CheckedMember:
    """The member rules that need no database: ID number format and checksum, the birth date it encodes,
    a birth date at all, and the order of the dates (not before birth, not in the future).

    ``given`` holds the fields being set (all of them on create), ``current`` the record being changed (None
    on create). The rules that need the database (a duplicate ID number, a branch of the tenant) are the
    callers': :func:`apply_member_fields` for one record, the Excel import (``core.orgs.importing``) for a file.
    """
    today = today or datetime.date.today()
    errors: list[AppError] = []
    card: idcard.IdCard | None = None
    if given.get("id_number"):
        try:
            card = idcard.parse(given["id_number"])
        except idcard.IdCardError as exc:
            errors.append(MEMBER_ID_INVALID.error(field="id_number", reason=exc.zh, reason_en=exc.en))
    birth = given.get("birth_date") or (current.birth_date if current is not None else None)
    if card is not None:
        if given.get("birth_date") and given["birth_date"] != card.birth_date:
            errors.append(
                MEMBER_BIRTH_MISMATCH.error(
                    field="birth_date", given=given["birth_date"].isoformat(), from_id=card.birth_date.isoformat()
                )
            )
        birth = card.birth_date
    if birth is None:
        if not errors:  # an invalid ID number already says what is missing
            errors.append(MEMBER_BIRTH_REQUIRED.error(field="birth_date"))
        return CheckedMember(card, None, tuple(errors))
    checks: list[tuple[str, datetime.date | None, datetime.date]] = [("birth_date", birth, _EARLIEST_BIRTH)]
    for field in ("party_joined_on", "retired_on"):
        checks.append((field, given[field] if field in given else getattr(current, field, None), birth))
    for field, value, floor in checks:
        error = _date_error(field, value, floor, today)
        if error is not None:
            errors.append(error)
    return CheckedMember(card, birth, tuple(errors))


async def apply_member_fields(
    session: AsyncSession, tenant_id: int, member: Member, data: MemberFields, *, creating: bool
) -> Member:
    """Validate and set the given fields (all of them on create, the ones sent on update)."""
    given = data.model_dump(exclude_unset=True)
    checked = check_member_fields(given, current=None if creating else member)
    for error in checked.errors:
        if error.field == "id_number":
            raise error
    card = checked.card
    if card is not None:
        index = ring().blind_index(card.number)
        clash = (
            await session.execute(
                select(Member).where(
                    Member.id_number_index == index, Member.tenant_id == tenant_id, Member.id != member.id
                )
            )
        ).scalar_one_or_none()
        if clash is not None:
            from core.privacy.crypto import mask_id_number

            raise MEMBER_DUPLICATE.error(field="id_number", masked=mask_id_number(card.number), name=clash.name)
        member.id_number = card.number
        member.id_number_index = index
    elif "id_number" in given:
        member.id_number = None
        member.id_number_index = None

    if checked.errors:
        raise checked.errors[0]
    assert checked.birth_date is not None  # a missing birth date is one of the errors
    if card is not None and ("gender" not in given or creating):
        given.setdefault("gender", card.gender)
    member.birth_date = checked.birth_date

    if "formal_org_id" in given:
        org_id = parse_uuid(given["formal_org_id"], MEMBER_ORG_INVALID, "formal_org_id")
        if org_id is not None:
            org = (
                await session.execute(
                    select(Organization).where(
                        and_(Organization.id == org_id, Organization.tenant_id == tenant_id, Organization.is_active)
                    )
                )
            ).scalar_one_or_none()
            if org is None or org.level != OrgLevel.BRANCH.value:
                raise MEMBER_ORG_INVALID.error(field="formal_org_id")
        member.formal_org_id = org_id

    simple = (
        "name",
        "gender",
        "phone",
        "retired_on",
        "former_unit",
        "former_rank",
        "is_party_member",
        "party_joined_on",
        "residence_community",
        "notes",
    )
    for field in simple:
        if field in given and given[field] is not None:
            setattr(member, field, given[field])
    if creating and not getattr(member, "gender", None):
        member.gender = given.get("gender") or "male"
    if given.get("retirement_type"):
        member.retirement_type = str(given["retirement_type"])
    if given.get("health_class"):
        member.health_class = str(given["health_class"])
    if "specialties" in given and given["specialties"] is not None:
        member.specialties = list(dict.fromkeys(given["specialties"]))
        member.specialties_text = " ".join(member.specialties)
    member.tenant_id = tenant_id if creating else member.tenant_id
    if creating:
        session.add(member)
    await session.flush()
    return member


async def set_participations(
    session: AsyncSession, tenant_id: int, member: Member, org_ids: list[str]
) -> list[uuid.UUID]:
    wanted = [parse_uuid(o, MEMBER_ORG_INVALID, "org_ids") for o in org_ids]
    ids = [o for o in dict.fromkeys(wanted) if o is not None and o != member.formal_org_id]
    if ids:
        found = (
            (
                await session.execute(
                    select(Organization.id).where(
                        Organization.id.in_(ids), Organization.tenant_id == tenant_id, Organization.is_active
                    )
                )
            )
            .scalars()
            .all()
        )
        if set(found) != set(ids):
            raise MEMBER_ORG_INVALID.error(field="org_ids")
    await session.execute(
        delete(Participation).where(Participation.member_id == member.id, Participation.tenant_id == tenant_id)
    )
    for org_id in ids:
        session.add(Participation(tenant_id=tenant_id, member_id=member.id, org_id=org_id, since=datetime.date.today()))
    await session.flush()
    return ids


def age_on(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def search_query(
    *,
    q: str | None,
    org_id: uuid.UUID | None,
    health_class: str | None,
    specialty: str | None,
    age_min: int | None,
    age_max: int | None,
    status: str | None,
    today: datetime.date,
) -> Any:
    query = select(Member)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(
            or_(Member.name.like(pattern), Member.residence_community.like(pattern), Member.former_unit.like(pattern))
        )
    if org_id is not None:
        sub = select(Participation.member_id).where(Participation.org_id == org_id)
        query = query.where(or_(Member.formal_org_id == org_id, Member.id.in_(sub)))
    if health_class:
        query = query.where(Member.health_class == health_class)
    if specialty:
        query = query.where(Member.specialties_text.like(f"%{specialty.strip()}%"))
    if age_min is not None:
        query = query.where(Member.birth_date <= _years_before(today, age_min))
    if age_max is not None:
        query = query.where(Member.birth_date > _years_before(today, age_max + 1))
    if status:
        query = query.where(Member.status == status)
    return query


def _years_before(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)
