"""Provisioning through the real Keycloak admin API: tenant groups, invitations, disabling, the CLI, outages."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from keycloak import KeycloakAdmin
from sqlalchemy import select

import core.identity.provisioning as provisioning
from core.cli import main
from core.db.scope import TenantScope
from core.identity.accounts import grant_role
from core.identity.models import RoleGrant, User
from core.identity.provisioning import group_path, sync_groups
from core.platform import Platform
from core.tenancy.tree import load_tree
from core.web.app import create_app
from tests.identity.support import (
    RUN,
    KeycloakEnv,
    TcpProxy,
    app_client,
    bearer,
    kc_settings_for,
    link_keycloak_user,
    password_grant,
)
from tests.support import seed_world


async def test_tenant_groups_follow_the_tree_and_a_second_run_changes_nothing(
    kc_world: dict[str, Any], kc_platform: Platform, kc_admin: KeycloakAdmin
) -> None:
    settings, tree = kc_platform.settings, kc_world["tree"]
    await sync_groups(settings, tree)  # earlier tests may have made some of them already
    xuanwu = await kc_admin.a_get_group_by_path(f"/yinling-test-{RUN}/320000/320100/320102")
    assert xuanwu["attributes"]["name"] == ["玄武区"] and xuanwu["attributes"]["code"] == ["320102"]
    assert group_path(settings, tree, "321181") == f"/yinling-test-{RUN}/320000/321100/321181"

    again = await sync_groups(settings, tree)
    assert again.created == [] and again.updated == [] and len(again.unchanged) == 1 + len(tree.nodes)

    # A group changed by hand in Keycloak is put right; nothing else is touched.
    await kc_admin.a_update_group(xuanwu["id"], {"name": "320102", "attributes": {"name": ["改错了"]}})
    repaired = await sync_groups(settings, tree)
    assert repaired.created == [] and repaired.updated == [f"/yinling-test-{RUN}/320000/320100/320102"]


async def test_invite_creates_the_keycloak_user_in_the_tenant_group_and_the_grant_here(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    kc_users: list[str],
) -> None:
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320102", "tenant_admin")
    admin = bearer(await password_grant(kc_env, kc_env.user, kc_env.user_password))
    username = f"t{RUN}-invited"
    kc_users.append(username)
    invite = {"username": username, "email": f"{username}@yinling.test", "display_name": "王秀英", "role": "member"}

    created = await kc_client.post("/api/v1/t/320102/users", headers=admin, json=invite)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["grants"] == [{"tenant_code": "320102", "tenant_name": "玄武区", "role": "member"}]
    assert body["single_sign_on"] is True and isinstance(body["invitation_sent"], bool)

    external_id = await kc_admin.a_get_user_id(username)

    assert external_id
    person = await kc_admin.a_get_user(external_id)
    assert person["enabled"] and person["firstName"] == "王秀英"
    assert set(person["requiredActions"]) == {"UPDATE_PASSWORD", "VERIFY_EMAIL"}
    groups = [g["path"] for g in await kc_admin.a_get_user_groups(external_id)]
    assert groups == [f"/yinling-test-{RUN}/320000/320100/320102"]
    async with kc_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        grants = (await session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id))).scalars().all()
    assert user.external_id == external_id and user.password_hash is None
    assert [(g.tenant_id, g.role) for g in grants] == [(kc_world["ids"]["320102"], "member")]

    # Inviting again changes nothing on either side.
    twice = await kc_client.post("/api/v1/t/320102/users", headers=admin, json=invite)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "user.username_taken"
    assert len(await kc_admin.a_get_users({"username": username, "exact": True})) == 1
    # Unknown roles and passwords (people set their own) are refused before anything is created.
    odd = await kc_client.post(
        "/api/v1/t/320102/users", headers=admin, json={**invite, "username": f"t{RUN}-x", "role": "king"}
    )
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "user.unknown_role"
    with_password = await kc_client.post(
        "/api/v1/t/320102/users", headers=admin, json={**invite, "username": f"t{RUN}-x", "password": "Abc-12345"}
    )
    assert with_password.status_code == 422 and await kc_admin.a_get_user_id(f"t{RUN}-x") is None

    listed = await kc_client.get("/api/v1/t/320102/users", headers=admin, params={"q": f"t{RUN}"})
    assert [u["username"] for u in listed.json()["items"]] == [username]
    everyone = (await kc_client.get("/api/v1/t/320102/users", headers=admin, params={"page_size": 2})).json()
    assert everyone["total"] == 5 and len(everyone["items"]) == 2  # xw-admin, -secretary, -member, kc admin, invitee

    # Disabling: in Keycloak and here; the person's tokens stop working at once.
    disabled = await kc_client.post(f"/api/v1/t/320102/users/{user.id}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert (await kc_admin.a_get_user(external_id))["enabled"] is False

    # Someone of another county does not exist for this admin; nor may an admin disable themselves.
    async with kc_platform.database.session(TenantScope.system()) as session:
        qh = (await session.execute(select(User).where(User.username == "qh-admin"))).scalar_one()
        me = (await session.execute(select(User).where(User.username == kc_env.user))).scalar_one()
    other = await kc_client.post(f"/api/v1/t/320102/users/{qh.id}/disable", headers=admin)
    assert other.status_code == 404 and other.json()["error"]["code"] == "user.not_found"
    assert (await kc_client.post(f"/api/v1/t/320104/users/{qh.id}/disable", headers=admin)).status_code == 403
    assert (await kc_client.post(f"/api/v1/t/320102/users/{me.id}/disable", headers=admin)).status_code == 403


async def test_a_disabled_keycloak_user_is_refused_with_their_still_unexpired_token(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    kc_users: list[str],
) -> None:
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320100", "tenant_admin")  # 南京市
    admin = bearer(await password_grant(kc_env, kc_env.user, kc_env.user_password))
    username = f"t{RUN}-member"
    kc_users.append(username)
    async with kc_platform.database.session(TenantScope.system()) as session:
        tree = await load_tree(session)
        person = provisioning.NewPerson(
            username, "李建国", "320104", "member", email=f"{username}@yinling.test", password="Member-pass-1"
        )
        done = await provisioning.provision_user(session, kc_platform.settings, kc_platform.roles, tree, person, by="t")
    tokens = await password_grant(kc_env, username, "Member-pass-1")
    async with kc_platform.database.session(TenantScope.system()) as session:
        await grant_role(
            session, kc_platform.roles, tree, user=done.user, tenant_code="320104", role="branch_secretary", by="t"
        )
    assert (await kc_client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
    # The city admin disables someone of a county below it.
    answer = await kc_client.post(f"/api/v1/t/320100/users/{done.user.id}/disable", headers=admin)
    assert answer.status_code == 200, answer.text
    assert (await kc_client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    # Keycloak ended their sessions too: no new token from the old refresh token.
    async with httpx.AsyncClient() as http:
        refreshed = await http.post(
            kc_env.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": kc_env.client_id,
                "client_secret": kc_env.client_secret,
                "refresh_token": tokens["refresh_token"],
            },
        )
    assert refreshed.status_code == 400


async def test_keycloak_unreachable_answers_503_and_leaves_nothing_behind(
    pg_platform: Platform,
    pg_urls: dict[str, str],
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
    kc_users: list[str],
    keycloak_relay: TcpProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keycloak reached through a relay that the test cuts: the platform's keys are cached, so API calls go on;
    what needs Keycloak says so (503) and writes nothing."""
    platform = Platform.from_settings(kc_settings_for(pg_urls, kc_env, keycloak_relay.url))
    try:
        await seed_world(platform)
        await link_keycloak_user(platform, kc_admin, kc_env.user, "320102", "tenant_admin")
        admin = bearer(await password_grant(kc_env, kc_env.user, kc_env.user_password, keycloak_relay.url))
        username = f"t{RUN}-outage"
        kc_users.append(username)
        invite = {"username": username, "email": f"{username}@yinling.test", "display_name": "赵敏", "role": "member"}
        async with app_client(create_app(platform.settings, platform=platform, deliver_events=False)) as client:
            assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200
            await keycloak_relay.stop()
            assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200  # cached keys
            down = await client.post("/api/v1/t/320102/users", headers=admin, json=invite)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "identity.unavailable"
            assert "Keycloak" in down.json()["error"]["message"]
            await keycloak_relay.start()

            # The database refuses after Keycloak said yes: the Keycloak user is deleted again.
            async def broken(*args: Any, **kwargs: Any) -> None:
                raise RuntimeError("database gone")

            monkeypatch.setattr(provisioning, "grant_role", broken)
            failed = await client.post("/api/v1/t/320102/users", headers=admin, json=invite)
            assert failed.status_code == 500
        assert await kc_admin.a_get_user_id(username) is None
        async with platform.database.session(TenantScope.system()) as session:
            assert (await session.execute(select(User).where(User.username == username))).first() is None
    finally:
        await platform.close()


async def test_cli_creates_the_keycloak_user_with_its_password_and_the_grant(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_env: KeycloakEnv,
    kc_users: list[str],
) -> None:
    username = f"t{RUN}-cli"
    kc_users.append(username)
    settings = kc_platform.settings
    env = {
        "YINLING_DATABASE_URL": settings.database_url,
        "YINLING_KEYCLOAK_URL": settings.keycloak_url,
        "YINLING_KEYCLOAK_REALM": settings.keycloak_realm,
        "YINLING_KEYCLOAK_CLIENT_ID": settings.keycloak_client_id,
        "YINLING_KEYCLOAK_CLIENT_SECRET": settings.keycloak_client_secret.get_secret_value(),
        "YINLING_KEYCLOAK_ADMIN_CLIENT_ID": settings.keycloak_admin_client_id,
        "YINLING_KEYCLOAK_ADMIN_CLIENT_SECRET": settings.keycloak_admin_client_secret.get_secret_value(),
        "YINLING_KEYCLOAK_GROUP_ROOT": settings.keycloak_group_root,
        "YINLING_PUBLIC_URL": settings.public_url,
    }
    args = ["users", "create", "--username", username, "--password-stdin", "--tenant", "320102"]
    args += ["--role", "branch_secretary", "--email", f"{username}@yinling.test"]
    # In a thread: the command runs its own event loop (asyncio.run), as it does in a shell.
    result = await asyncio.to_thread(CliRunner().invoke, main, args, input="Cli-pass-123\n", env=env)
    assert result.exit_code == 0, result.output
    tokens = await password_grant(kc_env, username, "Cli-pass-123")  # not temporary: no password change first
    me = await kc_client.get("/api/v1/auth/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["grants"] == [{"tenant_code": "320102", "tenant_name": "玄武区", "role": "branch_secretary"}]

    for _ in range(2):  # the second run finds everything in place
        sync = await asyncio.to_thread(CliRunner().invoke, main, ["identity", "sync-groups"], env=env)
        assert sync.exit_code == 0, sync.output
    assert "新建 created 0，更新 updated 0" in sync.output


async def test_a_tenant_created_through_the_api_is_mirrored_as_a_group(
    kc_client: httpx.AsyncClient,
    kc_world: dict[str, Any],
    kc_platform: Platform,
    kc_admin: KeycloakAdmin,
    kc_env: KeycloakEnv,
) -> None:
    await link_keycloak_user(kc_platform, kc_admin, kc_env.user, "320100", "tenant_admin")
    admin = bearer(await password_grant(kc_env, kc_env.user, kc_env.user_password))
    created = await kc_client.post(
        "/api/v1/tenants", headers=admin, json={"code": "320106", "name": "鼓楼区", "parent_code": "320100"}
    )
    assert created.status_code == 201, created.text
    group = await kc_admin.a_get_group_by_path(f"/yinling-test-{RUN}/320000/320100/320106")
    assert group["attributes"]["name"] == ["鼓楼区"] and group["attributes"]["level"] == ["county"]
    renamed = await kc_client.patch("/api/v1/tenants/320106", headers=admin, json={"name": "鼓楼区（新）"})
    assert renamed.status_code == 200
    group = await kc_admin.a_get_group_by_path(f"/yinling-test-{RUN}/320000/320100/320106")
    assert group["attributes"]["name"] == ["鼓楼区（新）"]
    await kc_admin.a_delete_group(group["id"])
