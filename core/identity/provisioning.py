"""Provisioning through the Keycloak admin API: tenants mirrored as groups, people created as Keycloak users.

Keycloak holds credentials and group membership; the platform database holds the user row (``external_id`` =
Keycloak's user id) and the role grants, which decide what anyone may do. Each operation is all or nothing
across both: the Keycloak step runs first, the database step commits next, and when the database step fails
the Keycloak step is undone (when Keycloak cannot be reached at all, nothing is written anywhere). Everything
here is idempotent: running it again changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError, KeycloakGetError, KeycloakPostError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, ErrorSpec
from core.identity.accounts import UNKNOWN_ROLE, USERNAME_TAKEN, check_password_strength, create_user, grant_role
from core.identity.keycloak import admin_client
from core.identity.models import User
from core.identity.roles import RoleRegistry
from core.settings import Settings
from core.tenancy.tree import TenantTree

logger = logging.getLogger(__name__)

#: An invited person sets their own password and proves their address at first sign-in.
INVITE_ACTIONS = ["UPDATE_PASSWORD", "VERIFY_EMAIL"]
INVITE_LINK_SECONDS = 3 * 24 * 3600

EMAIL_TAKEN = ErrorSpec(
    "user.email_taken",
    409,
    "邮箱 {email} 已被统一身份认证中的另一个账号使用",
    "The email address {email} is used by another Keycloak account",
)


@dataclass
class GroupSync:
    """Group paths created, updated (name changed) and already right."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewPerson:
    """Someone to create. Without ``password`` they are invited: they choose one and verify their email."""

    username: str
    display_name: str
    tenant_code: str | None = None
    role: str | None = None
    email: str | None = None
    password: str | None = None
    platform_admin: bool = False


@dataclass(frozen=True)
class Provisioned:
    user: User
    invitation_sent: bool | None  # None when nobody needed an invitation (a password was given)


def _root_segments(settings: Settings) -> list[str]:
    return [s for s in settings.keycloak_group_root.split("/") if s]


def group_path(settings: Settings, tree: TenantTree, tenant_code: str) -> str:
    """``/<root…>/320000/320100/320102``: the tenant's group, nested as the tenant tree is."""
    codes = [n.code for n in tree.lineage(tree.get(tenant_code).id)]
    return "/" + "/".join([*_root_segments(settings), *codes])


async def _find_group(admin: KeycloakAdmin, path: str) -> dict[str, Any] | None:
    try:
        group: dict[str, Any] = await admin.a_get_group_by_path(path)
    except KeycloakGetError as exc:
        if exc.response_code == 404:
            return None
        raise
    return group


async def _ensure_group(
    admin: KeycloakAdmin,
    path: str,
    name: str,
    parent_id: str | None,
    attributes: dict[str, list[str]],
    report: GroupSync,
) -> str:
    group = await _find_group(admin, path)
    if group is None:
        payload = {"name": name, "attributes": attributes}
        created = await admin.a_create_group(payload, parent=parent_id, skip_exists=True)
        if created is None:  # created concurrently by another process
            group = await _find_group(admin, path)
            if group is None:
                raise RuntimeError(f"Keycloak group {path} neither created nor found")
            return str(group["id"])
        report.created.append(path)
        return str(created)
    current = group.get("attributes") or {}
    if any(current.get(k) != v for k, v in attributes.items()):
        await admin.a_update_group(group["id"], {"name": name, "attributes": {**current, **attributes}})
        report.updated.append(path)
    else:
        report.unchanged.append(path)
    return str(group["id"])


async def sync_groups(settings: Settings, tree: TenantTree, only: str | None = None) -> GroupSync:
    """Mirror every tenant (or only ``only`` and its ancestors) as a Keycloak group, parents first.

    Call it after creating or renaming tenants (``yinling identity sync-groups`` does all of them).
    """
    report = GroupSync()
    nodes = tree.walk() if only is None else tree.lineage(tree.get(only).id)
    async with admin_client(settings) as admin:
        parent: str | None = None
        path = ""
        for segment in _root_segments(settings):
            path += "/" + segment
            parent = await _ensure_group(admin, path, segment, parent, {}, report)
        root = parent
        ids: dict[int, str] = {}
        for node in nodes:
            attributes = {"name": [node.name], "code": [node.code], "level": [node.level.value]}
            parent = ids[node.parent_id] if node.parent_id is not None else root
            ids[node.id] = await _ensure_group(
                admin, group_path(settings, tree, node.code), node.code, parent, attributes, report
            )
    return report


async def provision_user(
    session: AsyncSession, settings: Settings, roles: RoleRegistry, tree: TenantTree, person: NewPerson, *, by: str
) -> Provisioned:
    """Create the person in Keycloak (in their tenant's group) and here (user row + grant); commits ``session``.

    The commit happens here because only here is it known that the Keycloak user must be deleted again when
    the database refuses the rest.
    """
    _check_person(roles, tree, person)
    taken = (await session.execute(select(User.id).where(User.username == person.username))).scalar_one_or_none()
    if taken is not None:
        raise USERNAME_TAKEN.error(field="username", username=person.username)
    groups = []
    if person.tenant_code:
        await sync_groups(settings, tree, only=person.tenant_code)
        groups.append(group_path(settings, tree, person.tenant_code))
    async with admin_client(settings) as admin:
        external_id = await _create_keycloak_user(admin, person, groups)
        try:
            user = await create_user(
                session,
                username=person.username,
                password=None,
                display_name=person.display_name,
                is_platform_admin=person.platform_admin,
                external_id=external_id,
            )
            if person.tenant_code and person.role:
                await grant_role(
                    session, roles, tree, user=user, tenant_code=person.tenant_code, role=person.role, by=by
                )
            await session.commit()
        except BaseException:
            await _undo(admin.a_delete_user(external_id), f"delete Keycloak user {person.username}")
            raise
        invitation_sent = None if person.password else await _send_invitation(admin, settings, external_id)
    return Provisioned(user=user, invitation_sent=invitation_sent)


def _check_person(roles: RoleRegistry, tree: TenantTree, person: NewPerson) -> None:
    """Everything that can be refused before anything is created."""
    if person.role is not None and roles.get(person.role) is None:
        raise UNKNOWN_ROLE.error(field="role", role=person.role, known="、".join(roles.names()))
    if person.tenant_code:
        tree.get(person.tenant_code)
    if person.password is not None:
        check_password_strength(person.password)


async def _create_keycloak_user(admin: KeycloakAdmin, person: NewPerson, groups: list[str]) -> str:
    payload: dict[str, Any] = {
        "username": person.username,
        "enabled": True,
        # One field for the whole name: Chinese names are not split into first and last here.
        "firstName": person.display_name,
        "groups": groups,
        "requiredActions": [] if person.password else INVITE_ACTIONS,
    }
    if person.email:
        payload["email"] = person.email
        payload["emailVerified"] = person.password is not None  # an operator typed it in (CLI)
    if person.password:
        payload["credentials"] = [{"type": "password", "value": person.password, "temporary": False}]
    try:
        return str(await admin.a_create_user(payload))
    except KeycloakPostError as exc:
        if exc.response_code == 409:
            if b"email" in (exc.response_body or b""):
                raise EMAIL_TAKEN.error(field="email", email=person.email) from exc
            raise USERNAME_TAKEN.error(field="username", username=person.username) from exc
        raise


async def _send_invitation(admin: KeycloakAdmin, settings: Settings, external_id: str) -> bool:
    """Ask Keycloak to email the set-password / verify-email link; the account stands even if no mail goes out
    (realm without SMTP): an administrator can send it from Keycloak later."""
    try:
        await admin.a_send_update_account(
            user_id=external_id,
            payload=INVITE_ACTIONS,
            client_id=settings.keycloak_client_id,
            lifespan=INVITE_LINK_SECONDS,
            redirect_uri=settings.public_url.rstrip("/") + "/auth/login",
        )
    except (KeycloakError, AppError) as exc:
        logger.warning("invitation email for Keycloak user %s not sent: %s", external_id, exc)
        return False
    return True


async def disable_user(session: AsyncSession, settings: Settings, user: User) -> None:
    """Disable in Keycloak (and end their Keycloak sessions, so no refresh succeeds) and here; commits ``session``."""
    if not (settings.keycloak_enabled and user.external_id):
        user.is_active = False
        await session.commit()
        return
    async with admin_client(settings) as admin:
        representation = await _keycloak_user(admin, user.external_id)
        if representation is not None:
            await admin.a_update_user(user.external_id, {**representation, "enabled": False})
        try:
            user.is_active = False
            await session.commit()
        except BaseException:
            if representation is not None:
                await _undo(admin.a_update_user(user.external_id, representation), f"re-enable {user.username}")
            raise
        if representation is not None:
            await _undo(admin.a_user_logout(user.external_id), f"end Keycloak sessions of {user.username}")


async def _keycloak_user(admin: KeycloakAdmin, external_id: str) -> dict[str, Any] | None:
    """The full representation (a partial PUT can drop attributes), or ``None`` if Keycloak no longer has it."""
    try:
        found: dict[str, Any] = await admin.a_get_user(external_id)
    except KeycloakGetError as exc:
        if exc.response_code == 404:
            return None
        raise
    return found


async def _undo(step: Awaitable[Any], what: str) -> None:
    """Best-effort compensation: a failure is logged for an operator, and the original error still surfaces."""
    try:
        await step
    except Exception:
        logger.exception("could not %s; fix it in the Keycloak admin console", what)
