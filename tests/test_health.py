"""Liveness, readiness against the real services, readiness naming what is down, rate limiting."""

from __future__ import annotations

import socket
from typing import Any

from core.platform import Platform
from core.web.app import create_app
from tests.conftest import http_client, service_settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_health_and_ready_on_the_real_services(client: Any) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert {name: c["backend"] for name, c in checks.items()} == {
        "database": "postgresql",
        "cache": "redis",
        "storage": "s3",
        "identity": "local",
    }


async def test_ready_names_each_dependency_that_is_down(pg_urls: dict[str, str], owner_engine: Any) -> None:
    port = closed_port()
    settings = service_settings(
        pg_urls,
        redis_url=f"redis://127.0.0.1:{port}/0",
        s3_endpoint=f"127.0.0.1:{port}",
        keycloak_url=f"http://127.0.0.1:{port}",
        keycloak_realm="x",
    )
    platform = Platform.from_settings(settings)
    try:
        async with http_client(create_app(settings, platform=platform)) as client:
            response = await client.get("/ready")
            body = response.json()
            assert response.status_code == 503
            assert body["failed"] == ["cache", "storage", "identity"]
            assert body["checks"]["database"]["ok"] is True
            assert body["message"] == "以下服务不可用：缓存、文件存储、统一身份认证"
            # Liveness does not depend on them, and rate limiting fails open while Redis is down.
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/api/v1/tenants")).status_code == 401
    finally:
        await platform.close()


async def test_rate_limit_answers_429_with_a_code(pg_urls: dict[str, str], owner_engine: Any) -> None:
    settings = service_settings(pg_urls, rate_limit_per_minute=3)
    platform = Platform.from_settings(settings)
    await platform.stores.get("rate_limit").delete_all()
    try:
        async with http_client(create_app(settings, platform=platform)) as client:
            statuses = [(await client.get("/api/v1/tenants")).status_code for _ in range(4)]
            assert statuses == [401, 401, 401, 429]
            limited = await client.get("/api/v1/tenants")
            assert limited.json()["error"]["code"] == "http.rate_limited"
            assert (await client.get("/health")).status_code == 200  # probes are never limited
    finally:
        await platform.stores.get("rate_limit").delete_all()
        await platform.close()


async def test_openapi_is_served(client: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"].startswith("Yinling")
    assert "/api/v1/tenants" in schema["paths"]
    assert "/api/v1/t/{tenant_code}/audit" in schema["paths"]


async def test_request_id_is_echoed_and_minted(client: Any) -> None:
    assert (await client.get("/health", headers={"X-Request-ID": "abc-123"})).headers["x-request-id"] == "abc-123"
    assert len((await client.get("/health", headers={"X-Request-ID": "bad id!"})).headers["x-request-id"]) == 32


def test_a_validators_own_chinese_words_reach_the_person() -> None:
    from core.errors import zh_validation_message

    assert zh_validation_message("value_error", "Value error, 日期不能晚于今天") == "日期不能晚于今天"
    assert zh_validation_message("value_error", "Value error, value is not a valid email address") == "取值不正确"
    assert zh_validation_message("missing", "Field required") == "必填"


async def test_ready_refuses_a_database_that_was_never_migrated(pg_urls: dict[str, str], owner_engine: Any) -> None:
    """A pod started before the migration job finished must not take traffic: /ready names the database."""
    import os
    import uuid

    import asyncpg

    from tests.conftest import _with_db

    admin_dsn = os.environ["YINLING_TEST_PG_ADMIN_DSN"]
    empty = f"yinling_t_empty_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{empty}"')
    finally:
        await conn.close()
    settings = service_settings(pg_urls, database_url=_with_db(pg_urls["app"], empty))
    platform = Platform.from_settings(settings)
    try:
        async with http_client(create_app(settings, platform=platform)) as client:
            response = await client.get("/ready")
            body = response.json()
            assert response.status_code == 503 and body["failed"] == ["database"]
            assert "yinling db upgrade" in body["checks"]["database"]["error"]
            assert (await client.get("/health")).status_code == 200
    finally:
        await platform.close()
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')
        finally:
            await conn.close()
