"""The transactional outbox: delivered after commit, only to active consumers, retried with backoff,
with an exactly-once effect, and visible to admins."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

import tests.fixture_plugins.sample as sample
from core.db.scope import TenantScope
from core.events.models import EventDelivery, OutboxEvent
from core.events.outbox import emit
from core.platform import Platform
from tests.support import token


async def count(platform: Platform, model: Any, *where: Any) -> int:
    async with platform.database.session(TenantScope.system()) as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def enable_sample(client: httpx.AsyncClient, code: str, username: str) -> dict[str, str]:
    headers = await token(client, username)
    response = await client.put(f"/api/v1/t/{code}/plugins/sample", headers=headers, json={"state": "enabled"})
    assert response.status_code == 200, response.text
    return headers


async def test_an_event_of_a_rolled_back_transaction_is_never_delivered(
    pg_platform: Platform, world: dict[str, Any]
) -> None:
    xuanwu = world["ids"]["320102"]

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with pg_platform.database.session(TenantScope.of([xuanwu], [xuanwu])) as session:
            await emit(session, tenant_id=xuanwu, name="sample.poked", payload={}, source="sample")
            raise Abort
    assert await pg_platform.dispatcher.run_once() == 0
    assert await count(pg_platform, OutboxEvent) == 0
    assert await count(pg_platform, sample.SampleEffect, sample.SampleEffect.kind.like("event:%")) == 0


async def test_a_failing_delivery_is_retried_and_takes_effect_exactly_once(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    headers = await enable_sample(client, "320102", "xw-admin")
    await client.put(
        "/api/v1/t/320102/plugins/sample/settings", headers=headers, json={"values": {"points_per_event": 3}}
    )
    # The poke route needs sample.write: give the county admin the plugin's role.
    from core.identity.accounts import grant_role
    from core.identity.models import User

    async with pg_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == "xw-admin"))).scalar_one()
        await grant_role(
            session, pg_platform.roles, world["tree"], user=user, tenant_code="320102", role="sample_officer", by="t"
        )
    poked = await client.post("/api/v1/t/320102/sample/pokes", headers=headers, json={"fail_times": 2})
    assert poked.status_code == 201, poked.text
    event_id = poked.json()["event_id"]
    dispatcher = pg_platform.dispatcher

    await dispatcher.run_once()  # fan-out and first attempt: fails
    async with pg_platform.database.session(TenantScope.system()) as session:
        delivery = (await session.execute(select(EventDelivery))).scalar_one()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert "planned failure on attempt 1" in (delivery.last_error or "")
        wait = delivery.next_attempt_at - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(seconds=0) < wait <= datetime.timedelta(seconds=2)
    assert await count(pg_platform, sample.SampleEffect, sample.SampleEffect.kind.like("event:%")) == 0

    # Admins see the failing delivery and can ask for it now.
    failing = (await client.get("/api/v1/t/320102/events/deliveries?failing=true", headers=headers)).json()
    assert failing["total"] == 1 and failing["items"][0]["consumer"] == "sample"
    assert failing["items"][0]["event_name"] == "sample.poked"
    retried = await client.post(f"/api/v1/t/320102/events/deliveries/{event_id}/sample/retry", headers=headers)
    assert retried.status_code == 200
    await dispatcher.deliver_due()  # attempt 2: fails again, pushed back by 4 s
    async with pg_platform.database.session(TenantScope.system()) as session:
        assert (await session.execute(select(EventDelivery.attempts))).scalar_one() == 2
        await session.execute(update(EventDelivery).values(next_attempt_at=datetime.datetime.now(datetime.UTC)))
    assert await dispatcher.deliver_due() == 1  # attempt 3 succeeds
    assert await dispatcher.deliver_due() == 0
    for _ in range(2):  # a duplicate attempt (another worker, a redelivery) changes nothing
        async with pg_platform.database.session(TenantScope.system()) as session:
            delivery = (await session.execute(select(EventDelivery))).scalar_one()
        assert await dispatcher.deliver_one(delivery.tenant_id, delivery.event_id, "sample") is False
    effects = await count(pg_platform, sample.SampleEffect, sample.SampleEffect.kind == "event:3")
    assert effects == 1  # the consumer saw its tenant's settings, and took effect once
    delivered = (await client.get("/api/v1/t/320102/events/deliveries?status=delivered", headers=headers)).json()
    assert delivered["items"][0]["attempts"] == 3 and delivered["items"][0]["last_error"] is None


async def test_events_go_only_to_plugins_active_in_the_tenant(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    await enable_sample(client, "320102", "xw-admin")
    ids = world["ids"]
    async with pg_platform.database.session(TenantScope.of([ids["320104"]], [ids["320104"]])) as session:
        await emit(session, tenant_id=ids["320104"], name="sample.poked", payload={}, source="core")
    async with pg_platform.database.session(TenantScope.of([ids["320102"]], [ids["320102"]])) as session:
        await emit(session, tenant_id=ids["320102"], name="sample.poked", payload={}, source="core")
    await pg_platform.dispatcher.run_once()
    assert await count(pg_platform, OutboxEvent, OutboxEvent.dispatched_at.is_not(None)) == 2
    assert await count(pg_platform, EventDelivery) == 1
    assert await count(pg_platform, EventDelivery, EventDelivery.tenant_id == ids["320102"]) == 1


async def test_the_web_process_delivers_in_embedded_mode(embedded_settings: Any) -> None:
    """Without Redis the web process runs the delivery loop itself, woken when a transaction commits."""
    import asyncio

    from core.db.migrate import upgrade
    from core.identity.accounts import grant_role
    from core.identity.models import User
    from core.web.app import create_app
    from tests.conftest import http_client, migration_dirs_for_tests
    from tests.support import running, seed_world

    await asyncio.to_thread(upgrade, embedded_settings, "heads", migration_dirs_for_tests())
    platform = Platform.from_settings(embedded_settings, extra_plugins=(sample,))
    world = await seed_world(platform)
    app = create_app(embedded_settings, platform=platform)
    try:
        async with running(app), http_client(app) as client:
            headers = await enable_sample(client, "320102", "xw-admin")
            async with platform.database.session(TenantScope.system()) as session:
                user = (await session.execute(select(User).where(User.username == "xw-admin"))).scalar_one()
                await grant_role(
                    session,
                    platform.roles,
                    world["tree"],
                    user=user,
                    tenant_code="320102",
                    role="sample_officer",
                    by="t",
                )
            assert (await client.post("/api/v1/t/320102/sample/pokes", headers=headers, json={})).status_code == 201
            for _ in range(50):
                if await count(platform, sample.SampleEffect, sample.SampleEffect.kind.like("event:%")) == 1:
                    break
                await asyncio.sleep(0.1)
            assert await count(platform, sample.SampleEffect, sample.SampleEffect.kind.like("event:%")) == 1
    finally:
        await platform.close()
