"""Local accounts (embedded mode): create, sign in with lockout after repeated failures, grant roles."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.identity.models import RoleGrant, User
from core.identity.passwords import hash_password, needs_rehash, verify_password
from core.identity.roles import RoleRegistry
from core.tenancy.tree import TenantTree

MAX_FAILED_LOGINS = 5
LOCKOUT = datetime.timedelta(minutes=15)

INVALID_CREDENTIALS = ErrorSpec("auth.invalid_credentials", 401, "用户名或密码不正确", "Wrong username or password")
ACCOUNT_LOCKED = ErrorSpec(
    "auth.account_locked",
    403,
    "密码连续输错次数过多，账号已暂时锁定，请在 {minutes} 分钟后再试，或联系管理员解锁",
    "Too many wrong passwords: the account is locked; try again in {minutes} minutes or ask an administrator",
)
ACCOUNT_DISABLED = ErrorSpec("auth.account_disabled", 403, "该账号已停用，请联系管理员", "This account is disabled")
USERNAME_TAKEN = ErrorSpec("user.username_taken", 409, "用户名 {username} 已存在", "Username {username} is taken")
UNKNOWN_ROLE = ErrorSpec(
    "user.unknown_role",
    422,
    "没有名为 {role} 的角色；可选：{known}",
    "No role named {role}; known roles: {known}",
)
WEAK_PASSWORD = ErrorSpec(
    "user.weak_password",
    422,
    "密码至少需要 {min} 位，且同时包含字母和数字",
    "A password needs at least {min} characters with both letters and digits",
)
MIN_PASSWORD = 8


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise WEAK_PASSWORD.error(field="password", min=MIN_PASSWORD)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LoginFailed(Exception):
    """Raised after the failure has been counted, so the caller commits the counter before answering."""

    def __init__(self, error: Exception) -> None:
        self.error = error


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """Check a password; count failures and lock after :data:`MAX_FAILED_LOGINS` in a row."""
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        verify_password(None, password)
        raise LoginFailed(INVALID_CREDENTIALS.error())
    now = _now()
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise LoginFailed(ACCOUNT_LOCKED.error(minutes=minutes))
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            raise LoginFailed(ACCOUNT_LOCKED.error(minutes=int(LOCKOUT.total_seconds() // 60)))
        raise LoginFailed(INVALID_CREDENTIALS.error())
    if not user.is_active:
        raise LoginFailed(ACCOUNT_DISABLED.error())
    if user.failed_logins or user.locked_until:
        user.failed_logins = 0
        user.locked_until = None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str | None,
    display_name: str = "",
    is_platform_admin: bool = False,
    external_id: str | None = None,
) -> User:
    existing = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if existing is not None:
        raise USERNAME_TAKEN.error(field="username", username=username)
    if password is not None:
        check_password_strength(password)
    user = User(
        id=uuid.uuid4(),
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password) if password else None,
        is_platform_admin=is_platform_admin,
        external_id=external_id,
    )
    session.add(user)
    await session.flush()
    return user


async def grant_role(
    session: AsyncSession,
    roles: RoleRegistry,
    tree: TenantTree,
    *,
    user: User,
    tenant_code: str,
    role: str,
    by: str,
) -> RoleGrant:
    if roles.get(role) is None:
        raise UNKNOWN_ROLE.error(field="role", role=role, known="、".join(roles.names()))
    tenant = tree.get(tenant_code)
    existing = (
        await session.execute(
            select(RoleGrant).where(
                RoleGrant.user_id == user.id, RoleGrant.tenant_id == tenant.id, RoleGrant.role == role
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    grant = RoleGrant(user_id=user.id, tenant_id=tenant.id, role=role, granted_by=by)
    session.add(grant)
    await session.flush()
    return grant


GRANT_NOT_FOUND = ErrorSpec(
    "user.grant_not_found", 404, "该用户在此单位没有这个角色", "The user holds no such role in this tenant"
)
CANNOT_REVOKE_OWN = ErrorSpec(
    "user.cannot_revoke_own",
    403,
    "不能撤销自己的角色，请由另一位管理员办理",
    "You cannot take away your own role; ask another administrator",
)


async def revoke_role(session: AsyncSession, *, grant_id: uuid.UUID, by_user_id: uuid.UUID | None) -> RoleGrant:
    """Take a grant away. The session's scope decides which grants exist for the caller (another subtree's are
    not found); nobody takes away their own, so an administrator cannot lock the tenant out by a slip."""
    grant = (await session.execute(select(RoleGrant).where(RoleGrant.id == grant_id))).scalar_one_or_none()
    if grant is None:
        raise GRANT_NOT_FOUND.error(field="grant_id")
    if by_user_id is not None and grant.user_id == by_user_id:
        raise CANNOT_REVOKE_OWN.error(field="grant_id")
    await session.delete(grant)
    await session.flush()
    return grant
