"""Liveness (``/health``) and readiness (``/ready``): each dependency checked, 503 naming what failed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar import Request, Response, get
from sqlalchemy import text

from core.cache.stores import check_store
from core.db.scope import TenantScope
from core.platform import Platform

CHECK_TIMEOUT = 3.0
_LABELS_ZH = {"database": "数据库", "cache": "缓存", "storage": "文件存储", "identity": "统一身份认证"}


_expected_heads: frozenset[str] | None = None


def expected_heads(platform: Platform) -> frozenset[str]:
    """The Alembic heads of the core and every installed plugin (read once: the code does not change under us)."""
    global _expected_heads
    if _expected_heads is None:
        from core.db.migrate import heads

        _expected_heads = frozenset(heads(platform.settings))
    return _expected_heads


class SchemaBehind(Exception):
    """The database answers but its schema is not the code's: a pod must not take traffic before the migration."""


async def _database(platform: Platform) -> str:
    async with platform.database.session(TenantScope()) as session:
        await session.execute(text("SELECT 1"))
        try:
            applied = set((await session.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        except Exception as exc:  # no version table: never migrated
            raise SchemaBehind("数据库尚未建表，请先运行 yinling db upgrade") from exc
    missing = expected_heads(platform) - applied
    if missing:
        raise SchemaBehind(
            f"数据库结构不是最新版本（缺少迁移 {'、'.join(sorted(missing))}），请运行 yinling db upgrade"
        )
    return platform.database.dialect


async def _cache(platform: Platform) -> str:
    await check_store(platform.stores.get("cache"))
    return "redis" if platform.settings.redis_url else "memory"


async def _storage(platform: Platform) -> str:
    await platform.storage.check()
    return "s3" if platform.settings.s3_endpoint else "local"


async def _identity(platform: Platform) -> str:
    settings = platform.settings
    if not settings.keycloak_enabled:
        return "local"
    url = f"{settings.keycloak_url.rstrip('/')}/realms/{settings.keycloak_realm}/.well-known/openid-configuration"
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
        response = await client.get(url)
        response.raise_for_status()
    return "keycloak"


CHECKS = {"database": _database, "cache": _cache, "storage": _storage, "identity": _identity}


async def readiness(platform: Platform) -> tuple[bool, dict[str, dict[str, Any]]]:
    async def run(name: str) -> tuple[str, dict[str, Any]]:
        try:
            backend = await asyncio.wait_for(CHECKS[name](platform), CHECK_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any failure makes the dependency not ready
            detail = str(exc) or type(exc).__name__
            return name, {"ok": False, "error": detail[:300]}
        return name, {"ok": True, "backend": backend}

    results = dict(await asyncio.gather(*(run(n) for n in CHECKS)))
    return all(r["ok"] for r in results.values()), results


@get("/health", opt={"public": True}, tags=["health"], summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", opt={"public": True}, tags=["health"], summary="Readiness: database, cache, storage, identity")
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    platform: Platform = request.app.state.platform
    ok, checks = await readiness(platform)
    failed = [name for name, result in checks.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "ready" if ok else "unavailable", "checks": checks}
    if failed:
        body["failed"] = failed
        body["message"] = "以下服务不可用：" + "、".join(_LABELS_ZH[n] for n in failed)
    return Response(body, status_code=200 if ok else 503)
