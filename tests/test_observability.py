"""Prometheus metrics and structured logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from core.db.scope import TenantScope
from core.events.outbox import emit
from core.logging import JsonFormatter, RequestContextFilter
from core.platform import Platform
from tests.support import token


async def test_metrics_count_requests_and_show_the_event_queue(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    headers = await token(client, "xw-admin")
    for _ in range(3):
        assert (await client.get("/api/v1/t/320102/audit", headers=headers)).status_code == 200
    ids = world["ids"]
    async with pg_platform.database.session(TenantScope.of([ids["320102"]], [ids["320102"]])) as session:
        await emit(session, tenant_id=ids["320102"], name="core.test", payload={}, source="core")
    text = (await client.get("/metrics")).text
    assert "yinling_events_undispatched 1.0" in text
    assert "yinling_event_deliveries_pending 0.0" in text
    lag = next(line for line in text.splitlines() if line.startswith("yinling_event_delivery_lag_seconds "))
    assert float(lag.split()[1]) >= 0
    # Paths are grouped by route: no tenant codes or ids in the label space.
    request_lines = [line for line in text.splitlines() if line.startswith("yinling_requests_total{")]
    assert any('path="/api/v1/t/{tenant_code}/audit"' in line for line in request_lines), request_lines[:5]
    assert not any("320102" in line for line in request_lines)


def test_json_logs_carry_request_id_and_tenant(caplog: Any) -> None:
    from core.logging import REQUEST_ID, TENANT

    record = logging.LogRecord("yinling.test", logging.INFO, __file__, 1, "已记录 %s", ("一条",), None)
    REQUEST_ID.set("req-1")
    TENANT.set("320102")
    RequestContextFilter().filter(record)
    payload = json.loads(JsonFormatter().format(record))
    assert payload["message"] == "已记录 一条"
    assert (payload["request_id"], payload["tenant"], payload["level"]) == ("req-1", "320102", "INFO")
