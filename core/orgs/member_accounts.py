"""账号关联: linking a retired cadre's login account to their record in the ledger.

Why it exists: a retired cadre signs in on a phone to see *their own* page (我的主页), raise an objection to a
points publication, or see the cases of the mediation room they serve in. All of that needs to know which record
is theirs. Officials with the user-management permission make the link; the person gets the minimal ``member``
role in the tenant that holds the record, which lets them see their own page and nothing of anyone else's.

Rules:
* one account, one person (``user_id`` is unique province-wide; a clash names no other person);
* the link lives in the tenant of the member's active record and moves with it when the record is handed over on a
  transfer between tenants, together with the ``member`` role (:func:`move_with_member`);
* unlinking takes the ``member`` role of that tenant away again, so nothing is left behind.

Plugins read the link from the principal (``principal.member``, a :class:`core.identity.principal.MemberLink`) or
load the record with :func:`own_member` inside their scoped session.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.identity.models import RoleGrant, User
from core.identity.principal import Principal
from core.identity.roles import MEMBER
from core.orgs.models import Member, MemberAccount

ACCOUNT_NOT_FOUND = ErrorSpec(
    "member.account_not_found",
    422,
    "找不到登录账号“{username}”，请先在“用户与角色”中开通或核对账号",
    "No account '{username}': create it under Users and roles first, or check the spelling",
)
ACCOUNT_TAKEN = ErrorSpec(
    "member.account_taken",
    409,
    "账号“{username}”已关联到另一位老干部的档案，请先解除原来的关联",
    "The account '{username}' is already linked to another person's record; unlink it there first",
)
MEMBER_NOT_ACTIVE = ErrorSpec(
    "member.not_active",
    409,
    "{name}的档案已不在本单位（状态：{status}），不能关联账号",
    "{name}'s record is no longer active here ({status}); no account can be linked",
)
NOT_LINKED = ErrorSpec(
    "member.not_linked",
    404,
    "您的账号还没有关联到老干部档案，请联系所在单位的老干部工作人员办理",
    "Your account is not linked to a record yet; ask your unit's staff to link it",
)


@dataclass(frozen=True)
class LinkedAccount:
    username: str
    display_name: str
    linked_at: datetime.datetime
    linked_by: str


async def account_of(session: AsyncSession, member: Member) -> LinkedAccount | None:
    row = (
        await session.execute(
            select(User.username, User.display_name, MemberAccount.linked_at, MemberAccount.linked_by)
            .join(User, User.id == MemberAccount.user_id)
            .where(MemberAccount.tenant_id == member.tenant_id, MemberAccount.member_id == member.id)
        )
    ).first()
    return LinkedAccount(*row) if row else None


async def _link_row(session: AsyncSession, tenant_id: int, member_id: uuid.UUID) -> MemberAccount | None:
    return (
        await session.execute(
            select(MemberAccount).where(MemberAccount.tenant_id == tenant_id, MemberAccount.member_id == member_id)
        )
    ).scalar_one_or_none()


async def link(session: AsyncSession, member: Member, username: str, *, by: str) -> LinkedAccount:
    """Link ``username`` to ``member`` (replacing an earlier link of this member) and grant the ``member`` role."""
    if member.status != "active":
        raise MEMBER_NOT_ACTIVE.error(field="username", name=member.name, status=member.status)
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None or not user.is_active:
        raise ACCOUNT_NOT_FOUND.error(field="username", username=username)
    current = await _link_row(session, member.tenant_id, member.id)
    if current is not None and current.user_id == user.id:
        return LinkedAccount(user.username, user.display_name, current.linked_at, current.linked_by)
    if current is not None:
        await unlink(session, member)
    try:
        async with session.begin_nested():  # the unique user_id may be taken by a record this scope cannot see
            row = MemberAccount(tenant_id=member.tenant_id, member_id=member.id, user_id=user.id, linked_by=by)
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        raise ACCOUNT_TAKEN.error(field="username", username=username) from exc
    await _grant_member_role(session, user.id, member.tenant_id, by)
    return LinkedAccount(user.username, user.display_name, row.linked_at, row.linked_by)


async def unlink(session: AsyncSession, member: Member) -> bool:
    """Remove the member's link and the ``member`` role it gave; False when there was none."""
    current = await _link_row(session, member.tenant_id, member.id)
    if current is None:
        return False
    grants = await session.execute(
        select(RoleGrant).where(
            RoleGrant.tenant_id == member.tenant_id, RoleGrant.user_id == current.user_id, RoleGrant.role == MEMBER.name
        )
    )
    for grant in grants.scalars():
        await session.delete(grant)
    await session.delete(current)
    await session.flush()
    return True


async def _grant_member_role(session: AsyncSession, user_id: uuid.UUID, tenant_id: int, by: str) -> None:
    held = (
        await session.execute(
            select(RoleGrant.id).where(
                RoleGrant.tenant_id == tenant_id, RoleGrant.user_id == user_id, RoleGrant.role == MEMBER.name
            )
        )
    ).first()
    if held is None:
        session.add(RoleGrant(tenant_id=tenant_id, user_id=user_id, role=MEMBER.name, granted_by=by))
        await session.flush()


async def own_member(session: AsyncSession, principal: Principal | None) -> Member | None:
    """The signed-in person's own record, if their account is linked and the session's scope reaches it."""
    if principal is None or principal.member is None:
        return None
    return (
        await session.execute(
            select(Member).where(
                Member.tenant_id == principal.member.tenant_id, Member.id == principal.member.member_id
            )
        )
    ).scalar_one_or_none()


async def move_with_member(session: AsyncSession, member_id: uuid.UUID, origin_id: int, target_id: int) -> None:
    """On a hand-over between tenants: the link and the ``member`` role follow the record.

    Core statements under the transfer's widened scope (both tenants), like the hand-over itself; the receiving
    tenant's member row must exist already (the link's foreign key points at it).
    """
    linked = (
        await session.execute(
            select(MemberAccount.user_id, MemberAccount.linked_at, MemberAccount.linked_by).where(
                MemberAccount.tenant_id == origin_id, MemberAccount.member_id == member_id
            )
        )
    ).first()
    if linked is None:
        return
    user_id, linked_at, linked_by = linked
    await session.execute(
        delete(MemberAccount)
        .where(MemberAccount.tenant_id == origin_id, MemberAccount.member_id == member_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        insert(MemberAccount).values(
            tenant_id=target_id, member_id=member_id, user_id=user_id, linked_at=linked_at, linked_by=linked_by
        )
    )
    await session.execute(
        delete(RoleGrant)
        .where(RoleGrant.tenant_id == origin_id, RoleGrant.user_id == user_id, RoleGrant.role == MEMBER.name)
        .execution_options(synchronize_session=False)
    )
    await _grant_member_role(session, user_id, target_id, "transfer")
