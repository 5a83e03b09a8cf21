"""The leakage suite: for every route, a user of county A never sees or changes county B.

Routes are enumerated from the app itself, so a new tenant-scoped route joins this suite without anyone
remembering to add it; a route must also say what permission it needs (``test_every_route_declares``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import select

from core.db.scope import TenantScope
from core.platform import Platform
from tests.support import token

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def routes(app: Litestar) -> list[tuple[str, str, Any]]:
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods):
                if method in {"HEAD", "OPTIONS"}:
                    continue
                out.append((method, route.path, handler))
    return out


def test_every_route_declares_a_permission_or_is_public(pg_app: Litestar) -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, handler in routes(pg_app)
        if not path.startswith("/schema")
        and not handler.opt.get("public")
        and not isinstance(handler.opt.get("permission"), str)
    ]
    assert undeclared == []


async def upload(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> str:
    response = await client.post(
        f"/api/v1/t/{code}/files", headers=headers, files={"file": ("照片.png", PNG, "image/png")}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def fill(path: str, tenant_code: str, object_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        return tenant_code if match.group(1) == "tenant_code" else object_id

    return PARAM.sub(value, path)


async def empower(platform: Platform, world: dict[str, Any]) -> None:
    """Every plugin mandated province-wide and every role granted to both county admins in their counties,
    so that only tenant isolation stands between county A and county B."""
    from core.identity.accounts import grant_role
    from core.identity.models import User
    from core.plugin_host.activation import load_snapshot
    from core.plugin_host.service import change_activation

    tree = world["tree"]
    async with platform.database.session(TenantScope.system()) as session:
        for name in platform.plugins.plugins:
            snapshot = await load_snapshot(session)
            await change_activation(
                session,
                platform.plugins,
                tree,
                tree.get("320000"),
                name,
                state=None,
                policy="mandate",
                actor="test",
                snapshot=snapshot,
            )
        for username, code in (("xw-admin", "320102"), ("qh-admin", "320104")):
            user = (await session.execute(select(User).where(User.username == username))).scalar_one()
            for role in platform.roles.names():
                await grant_role(session, platform.roles, tree, user=user, tenant_code=code, role=role, by="test")
    await platform.activation.invalidate()


async def test_county_a_cannot_reach_county_b_through_any_route(
    pg_app: Litestar, client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    await empower(pg_platform, world)
    a = await token(client, "xw-admin")  # 玄武区 320102
    b = await token(client, "qh-admin")  # 秦淮区 320104
    b_file = await upload(client, b, "320104")
    a_file = await upload(client, a, "320102")

    checked = []
    for method, path, _handler in routes(pg_app):
        if "{tenant_code" not in path:
            continue
        # 1. A names B's tenant: refused whatever the route.
        url = fill(path, "320104", b_file)
        response = await client.request(method, url, headers=a, json={} if method in {"POST", "PATCH", "PUT"} else None)
        assert response.status_code in (403, 404), f"{method} {url} answered {response.status_code}: {response.text}"
        # 2. A names its own tenant but B's object (every id in the path): B's object does not exist for A.
        if ":uuid}" in path:
            url = fill(path, "320102", b_file)
            response = await client.request(
                method, url, headers=a, json={} if method in {"POST", "PATCH", "PUT"} else None
            )
            # 422 means the empty body was refused before any row was looked up: nothing of B was touched.
            refused_body = response.status_code == 422 and response.json()["error"]["code"] == "validation.failed"
            assert response.status_code == 404 or refused_body, (
                f"{method} {url}: {response.status_code} {response.text}"
            )
        checked.append(f"{method} {path}")
    assert len(checked) >= 6

    # B's file is still there, untouched, and A's lists never show it.
    assert (await client.get(f"/api/v1/t/320104/files/{b_file}", headers=b)).status_code == 200
    a_files = (await client.get("/api/v1/t/320102/files", headers=a)).json()["items"]
    assert [f["id"] for f in a_files] == [a_file]
    a_audit = (await client.get("/api/v1/t/320102/audit?page_size=500", headers=a)).json()["items"]
    assert a_audit and b_file not in {e["entity_id"].split(",")[-1] for e in a_audit}
    assert {e["tenant_id"] for e in a_audit} == {world["ids"]["320102"]}


async def test_province_reads_counties_city_reads_only_its_own(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xuanwu = await token(client, "xw-admin")
    danyang = await token(client, "dy-admin")
    await upload(client, xuanwu, "320102")
    await upload(client, danyang, "321181")
    province = await token(client, "js-admin")
    nanjing = await token(client, "nj-admin")
    assert (await client.get("/api/v1/t/320000/files", headers=province)).json()["total"] == 2
    assert (await client.get("/api/v1/t/320100/files", headers=nanjing)).json()["total"] == 1
    assert (await client.get("/api/v1/t/321100/files", headers=nanjing)).status_code == 403
    # Acting lower than one's grant narrows what is read.
    assert (await client.get("/api/v1/t/320104/files", headers=nanjing)).json()["total"] == 0


async def test_unknown_tenant_in_url_is_404_naming_it(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    headers = await token(client, "js-admin")
    response = await client.get(f"/api/v1/t/329999/files/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "tenant.not_found",
        "message": "找不到行政区划代码为 329999 的单位",
        "field": "tenant_code",
    }
