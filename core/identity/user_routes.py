"""``/api/v1/t/{tenant_code}/users``: a tenant admin lists, invites and disables the people of their subtree.

"Of their subtree" means holding a grant there. A user outside it does not exist for this admin (404), and a
user who also holds grants elsewhere can only be disabled by an admin whose tenant covers all of them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.scope import TenantScope
from core.errors import ErrorSpec
from core.identity.access import Acting, platform_of, provide_acting, provide_principal
from core.identity.accounts import create_user, grant_role
from core.identity.models import RoleGrant, User
from core.identity.principal import Principal
from core.identity.provisioning import NewPerson, disable_user, provision_user
from core.identity.roles import USER_MANAGE
from core.tenancy.tree import TenantTree

MANAGE = {"permission": USER_MANAGE}
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._@-]{2,63}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

USER_NOT_FOUND = ErrorSpec(
    "user.not_found",
    404,
    "单位 {code}（{name}）及其下级单位中没有这个用户",
    "No such user in tenant {code} ({name}) or below",
)
USER_OUTSIDE_SCOPE = ErrorSpec(
    "user.outside_scope",
    403,
    "该用户在本单位以外也担任角色，只能由覆盖其全部单位的上级管理员停用",
    "This user also holds roles outside your tenant; an administrator above all of them must disable it",
)
CANNOT_DISABLE = ErrorSpec(
    "user.cannot_disable",
    403,
    "不能停用自己的账号或平台管理员账号",
    "You cannot disable your own account or a platform administrator",
)
PASSWORD_REQUIRED = ErrorSpec(
    "user.password_required",
    422,
    "本平台使用本地账号（未配置统一身份认证），新建用户时请填写初始密码",
    "Local accounts are in use (no Keycloak): give an initial password",
)
PASSWORD_NOT_ALLOWED = ErrorSpec(
    "user.password_not_allowed",
    422,
    "使用统一身份认证时由本人设置密码，请不要填写密码；系统会向其邮箱发送设置链接",
    "With Keycloak, people set their own password from the emailed link: leave the password out",
)
EMAIL_REQUIRED = ErrorSpec(
    "user.email_required",
    422,
    "请填写邮箱：邀请链接（设置密码、验证邮箱）会发送到该邮箱",
    "An email address is needed: the invitation (set password, verify email) goes there",
)


class UserInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN, description="lower-case letters, digits, . _ @ -; 3–64")
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    display_name: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=1, max_length=256, description="embedded mode only")


class UserGrantOut(BaseModel):
    tenant_code: str
    tenant_name: str
    role: str


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    is_active: bool
    single_sign_on: bool
    grants: list[UserGrantOut]


class InvitedOut(UserOut):
    invitation_sent: bool | None = Field(
        description="whether Keycloak emailed the set-password link (false: send it from Keycloak); null locally"
    )


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    page: int
    page_size: int


def _grants_in_scope(acting: Acting) -> Any:
    return select(RoleGrant).where(RoleGrant.tenant_id.in_(acting.scope.read))


async def _out(db_session: AsyncSession, acting: Acting, users: list[User]) -> list[UserOut]:
    ids = [u.id for u in users]
    rows = (await db_session.execute(_grants_in_scope(acting).where(RoleGrant.user_id.in_(ids)))).scalars().all()
    by_user: dict[uuid.UUID, list[UserGrantOut]] = {}
    tree: TenantTree = acting.tree
    for r in sorted(rows, key=lambda g: (tree.nodes[g.tenant_id].code, g.role)):
        node = tree.nodes[r.tenant_id]
        by_user.setdefault(r.user_id, []).append(
            UserGrantOut(tenant_code=node.code, tenant_name=node.name, role=r.role)
        )
    return [_user_out(u, by_user.get(u.id, [])) for u in users]


def _user_out(user: User, grants: list[UserGrantOut]) -> UserOut:
    return UserOut(
        id=str(user.id),
        username=user.username,
        display_name=user.display_name,
        is_active=user.is_active,
        single_sign_on=user.external_id is not None,
        grants=grants,
    )


class UserController(Controller):
    path = "/api/v1/t/{tenant_code:str}/users"
    tags = ["users"]  # noqa: RUF012 - Litestar reads controller settings from class attributes
    dependencies = {  # noqa: RUF012
        "acting": Provide(provide_acting, sync_to_thread=False),
        "principal": Provide(provide_principal, sync_to_thread=False),
    }

    @get("/", opt=MANAGE, summary="People holding a role in this tenant or below")
    async def list_users(
        self,
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        q: Annotated[str | None, QueryParameter(max_length=64, description="part of the username")] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> UserPage:
        in_scope = select(RoleGrant.user_id).where(RoleGrant.tenant_id.in_(acting.scope.read))
        query = select(User).where(User.id.in_(in_scope))
        if q:
            query = query.where(User.username.contains(q, autoescape=True))
        total = (await db_session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        users = list(
            (await db_session.execute(query.order_by(User.username).offset((page - 1) * page_size).limit(page_size)))
            .scalars()
            .all()
        )
        return UserPage(items=await _out(db_session, acting, users), total=total, page=page, page_size=page_size)

    @post("/", opt=MANAGE, status_code=201, summary="Invite a person with a role in this tenant")
    async def invite_user(
        self,
        data: JSONBody[UserInvite],
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
    ) -> InvitedOut:
        platform = platform_of(request)
        settings = platform.settings
        code = acting.tenant.code
        if settings.keycloak_enabled:
            if data.password is not None:
                raise PASSWORD_NOT_ALLOWED.error(field="password")
            if not data.email:
                raise EMAIL_REQUIRED.error(field="email")
            person = NewPerson(data.username, data.display_name, code, data.role, email=data.email)
            done = await provision_user(
                db_session, settings, platform.roles, acting.tree, person, by=principal.username
            )
            # Committed already (see provision_user): the answer is built without the session.
            grant = UserGrantOut(tenant_code=code, tenant_name=acting.tenant.name, role=data.role)
            return InvitedOut(**_user_out(done.user, [grant]).model_dump(), invitation_sent=done.invitation_sent)
        if data.password is None:
            raise PASSWORD_REQUIRED.error(field="password")
        user = await create_user(
            db_session, username=data.username, password=data.password, display_name=data.display_name
        )
        await grant_role(
            db_session,
            platform.roles,
            acting.tree,
            user=user,
            tenant_code=code,
            role=data.role,
            by=principal.username,
        )
        (out,) = await _out(db_session, acting, [user])
        return InvitedOut(**out.model_dump(), invitation_sent=None)

    @post("/{user_id:uuid}/disable", opt=MANAGE, status_code=200, summary="Disable a person here and in Keycloak")
    async def disable(
        self,
        user_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
    ) -> UserOut:
        platform = platform_of(request)
        held = (await db_session.execute(_grants_in_scope(acting).where(RoleGrant.user_id == user_id))).first()
        user = await db_session.get(User, user_id) if held is not None else None
        if user is None:
            raise USER_NOT_FOUND.error(field="user_id", code=acting.tenant.code, name=acting.tenant.name)
        if user.id == principal.user_id or user.is_platform_admin:
            raise CANNOT_DISABLE.error(field="user_id")
        # The request's session cannot see grants outside the acting subtree (ORM scope and RLS): ask the system.
        async with platform.database.session(TenantScope.system()) as system:
            tenants = set(
                (await system.execute(select(RoleGrant.tenant_id).where(RoleGrant.user_id == user.id))).scalars()
            )
        if not tenants <= acting.tree.subtree_ids(acting.tenant.id):
            raise USER_OUTSIDE_SCOPE.error(field="user_id")
        (out,) = await _out(db_session, acting, [user])
        if user.is_active:
            await disable_user(db_session, platform.settings, user)  # commits: no queries after this
        return out.model_copy(update={"is_active": False})
