"""The tenants API on PostgreSQL: the tree's rules, permissions by level, and bad input."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import token


async def test_province_admin_reads_every_county_city_admin_only_its_own(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    province = await token(client, "js-admin")
    nanjing = await token(client, "nj-admin")
    codes = [t["code"] for t in (await client.get("/api/v1/tenants", headers=province)).json()["items"]]
    assert codes == ["320000", "320100", "320102", "320104", "320105", "321100", "321102", "321181"]
    codes = [t["code"] for t in (await client.get("/api/v1/tenants", headers=nanjing)).json()["items"]]
    assert codes == ["320100", "320102", "320104", "320105"]
    assert (await client.get("/api/v1/tenants/321102", headers=nanjing)).status_code == 403
    assert (await client.get("/api/v1/tenants/320105", headers=nanjing)).json()["name"] == "建邺区"


async def test_subtree_lists_parents_before_children(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    headers = await token(client, "js-admin")
    body = (await client.get("/api/v1/tenants/321100/subtree", headers=headers)).json()
    assert [(t["code"], t["depth"], t["parent_code"]) for t in body["items"]] == [
        ("321100", 1, "320000"),
        ("321102", 2, "321100"),
        ("321181", 2, "321100"),
    ]


async def test_city_admin_creates_a_county_in_its_city_only(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    headers = await token(client, "nj-admin")
    created = await client.post(
        "/api/v1/tenants", headers=headers, json={"code": "320106", "name": "鼓楼区", "parent_code": "320100"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["level"] == "county"
    other_city = await client.post(
        "/api/v1/tenants", headers=headers, json={"code": "321111", "name": "丹徒区", "parent_code": "321100"}
    )
    assert other_city.status_code == 403
    county = await token(client, "xw-admin")
    assert (
        await client.post(
            "/api/v1/tenants",
            headers=county,
            json={"code": "320111", "name": "浦口区", "parent_code": "320100"},
        )
    ).status_code == 403


async def test_bad_input_is_refused_with_a_code_and_a_chinese_message(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    headers = await token(client, "admin")
    county_under_county = await client.post(
        "/api/v1/tenants", headers=headers, json={"code": "320199", "name": "错误区", "parent_code": "320102"}
    )
    assert county_under_county.status_code == 422
    error = county_under_county.json()["error"]
    assert error["code"] == "tenant.parent_level"
    assert "市级或省级" in error["message"] and error["field"] == "parent_code"

    duplicate = await client.post(
        "/api/v1/tenants", headers=headers, json={"code": "320102", "name": "重复", "parent_code": "320100"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "tenant.code_taken"

    unknown = await client.get("/api/v1/tenants/110000", headers=headers)
    assert unknown.status_code == 404
    assert "110000" in unknown.json()["error"]["message"]

    outside = await client.post(
        "/api/v1/tenants", headers=headers, json={"code": "330102", "name": "上城区", "parent_code": "320100"}
    )
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "tenant.code_outside_parent"

    malformed = await client.post("/api/v1/tenants", headers=headers, json={"code": "3201", "name": ""})
    assert malformed.status_code == 422
    body = malformed.json()["error"]
    assert body["code"] == "validation.failed"
    assert {d["field"] for d in body["details"]} == {"code", "name"}
    assert "格式不正确" in body["message"]

    english = await client.get("/api/v1/tenants/110000", headers={**headers, "Accept-Language": "en-US,en;q=0.9"})
    assert english.json()["error"]["message"] == "No tenant with division code 110000"


async def test_rename_deactivate_reactivate_and_delete_rules(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    city = await token(client, "nj-admin")
    county = await token(client, "xw-admin")
    renamed = await client.patch("/api/v1/tenants/320102", headers=city, json={"name": "玄武区（新）"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "玄武区（新）"
    # A county does not manage itself.
    assert (await client.post("/api/v1/tenants/320102/deactivate", headers=county)).status_code == 403

    province = await token(client, "js-admin")
    deactivated = await client.post("/api/v1/tenants/320100/deactivate", headers=province)
    assert sorted(t["code"] for t in deactivated.json()["items"]) == ["320100", "320102", "320104", "320105"]
    assert all(not t["is_active"] for t in deactivated.json()["items"])
    # A county cannot come back while its city is deactivated.
    blocked = await client.post("/api/v1/tenants/320102/activate", headers=province)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "tenant.parent_inactive"
    assert (await client.post("/api/v1/tenants/320100/activate", headers=province)).json()["is_active"] is True

    # A tenant with data (a role grant lives in 玄武区) is never hard-deleted; an empty one may be.
    has_data = await client.delete("/api/v1/tenants/320102", headers=province)
    assert has_data.status_code == 409 and has_data.json()["error"]["code"] == "tenant.has_data"
    assert (
        await client.post(
            "/api/v1/tenants",
            headers=province,
            json={"code": "320106", "name": "鼓楼区", "parent_code": "320100"},
        )
    ).status_code == 201
    assert (await client.delete("/api/v1/tenants/320106", headers=province)).status_code == 204
    assert (await client.get("/api/v1/tenants/320106", headers=province)).status_code == 404


async def test_anonymous_and_bad_tokens_get_401(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    assert (await client.get("/api/v1/tenants")).status_code == 401
    response = await client.get("/api/v1/tenants", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth.token_invalid"
