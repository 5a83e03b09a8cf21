"""A plugin used by the host's tests: it implements every hook, owns one table and its own migration branch."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from advanced_alchemy.types import GUID
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from pydantic import BaseModel, Field
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantOwned
from core.events.outbox import emit
from core.events.types import DomainEvent, EventContext
from core.identity.access import Acting, provide_acting
from core.identity.roles import Role
from core.plugin_host import MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl

PLUGIN = PluginInfo(name="sample", version="1.0.0", title_zh="示例项目", title_en="Sample programme")
HERE = Path(__file__).parent


class SampleEffect(TenantOwned, Base):
    """One row per effect: an event consumed, or the plugin enabled/disabled in a tenant."""

    __tablename__ = "sample_effect"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    event_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)


class SampleSettings(BaseModel):
    points_per_event: int = Field(default=1, ge=1, le=100)
    label: str = Field(default="示例", min_length=1, max_length=20)


class Poke(BaseModel):
    fail_times: int = 0


class SampleController(Controller):
    path = "/"
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012 - Litestar style

    @get("/hello", opt={"permission": "tenant.read"})
    async def hello(self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession]) -> dict[str, Any]:
        count = (await db_session.execute(select(func.count()).select_from(SampleEffect))).scalar_one()
        return {"tenant": acting.tenant.code, "effects": count}

    @post("/pokes", opt={"permission": "sample.write"}, status_code=201)
    async def poke(
        self, acting: NamedDependency[Acting], db_session: NamedDependency[AsyncSession], data: JSONBody[Poke]
    ) -> dict[str, str]:
        event = await emit(
            db_session, tenant_id=acting.tenant.id, name="sample.poked", payload=data.model_dump(), source="sample"
        )
        return {"event_id": str(event.id)}


@hookimpl
def register_routes() -> list[Any]:
    return [SampleController]


@hookimpl
def register_models() -> list[type[Any]]:
    return [SampleEffect]


@hookimpl
def migrations_dir() -> Path:
    return HERE / "migrations"


@hookimpl
def templates_dir() -> Path:
    return HERE / "templates"


@hookimpl
def static_dir() -> Path:
    return HERE / "static"


@hookimpl
def navigation(context: PluginContext) -> list[NavItem]:
    return [
        NavItem("示例首页", "Sample home", "home", "tenant.read"),
        NavItem("示例管理", "Sample admin", "admin", "sample.write"),
    ]


@hookimpl
def settings_schema() -> type[BaseModel]:
    return SampleSettings


@hookimpl
def register_roles() -> list[Role]:
    return [Role("sample_officer", "示例专员", "Sample officer", frozenset({"tenant.read", "sample.write"}))]


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if event.name != "sample.poked":
        return
    if int(event.payload.get("fail_times", 0)) >= context.attempt:
        raise RuntimeError(f"planned failure on attempt {context.attempt}")
    context.session.add(
        SampleEffect(tenant_id=event.tenant_id, kind=f"event:{context.settings['points_per_event']}", event_id=event.id)
    )
    await context.session.flush()


@hookimpl
def register_metrics() -> list[MetricSpec]:
    return [MetricSpec("sample.pokes", "戳一下次数", "Pokes", "次", "times")]


@hookimpl
async def member_panel(context: PluginContext, member_id: str) -> MemberPanel:
    return MemberPanel("示例", "Sample", [{"label": "成员", "value": member_id}])


@hookimpl
async def demo_data(context: PluginContext) -> None:
    context.session.add(SampleEffect(tenant_id=context.tenant.id, kind="demo"))


@hookimpl
async def on_tenant_enabled(context: PluginContext) -> None:
    context.session.add(SampleEffect(tenant_id=context.tenant.id, kind="enabled"))


@hookimpl
async def on_tenant_disabled(context: PluginContext) -> None:
    context.session.add(SampleEffect(tenant_id=context.tenant.id, kind="disabled"))
