"""A plugin used by the host's tests: it implements every hook, owns one table and its own migration branch."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

from advanced_alchemy.types import GUID
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.response import Template
from pydantic import BaseModel, Field
from sqlalchemy import Date, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantOwned
from core.events.outbox import emit
from core.events.types import DomainEvent, EventContext
from core.identity.access import Acting, provide_acting
from core.identity.roles import Role
from core.plugin_host import MemberPanel, MetricSpec, NavItem, PluginContext, PluginInfo, hookimpl
from core.reports.facts import Fact, record
from core.web.pages import render_page

PLUGIN = PluginInfo(name="sample", version="1.0.0", title_zh="示例项目", title_en="Sample programme")
HERE = Path(__file__).parent


class SampleEffect(TenantOwned, Base):
    """One row per effect: an event consumed, or the plugin enabled/disabled in a tenant."""

    __tablename__ = "sample_effect"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    event_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    day: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)


class SampleSettings(BaseModel):
    points_per_event: int = Field(default=1, ge=1, le=100)
    label: str = Field(default="示例", min_length=1, max_length=20)


class Poke(BaseModel):
    fail_times: int = 0
    on: str | None = None  # the day the poke counts for (a late event names an earlier day)


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


class SamplePages(Controller):
    path = "/"

    @get("/home", opt={"permission": "tenant.read"})
    async def home(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        count = (await db_session.execute(select(func.count()).select_from(SampleEffect))).scalar_one()
        return await render_page(request, acting, db_session, "sample/hello.html", plugin="sample", effects=count)


@hookimpl
def register_routes() -> list[Any]:
    return [SampleController]


@hookimpl
def register_pages() -> list[Any]:
    return [SamplePages]


@hookimpl
def translations_dir() -> Path:
    return HERE / "translations"


@hookimpl
async def metric_facts(context: PluginContext) -> Any:
    rows = (await context.session.execute(select(SampleEffect).where(SampleEffect.kind.like("event:%")))).scalars()
    for row in rows:
        yield Fact("sample.pokes", row.day)


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
    day = datetime.date.fromisoformat(event.payload.get("on") or datetime.date.today().isoformat())
    context.session.add(
        SampleEffect(
            tenant_id=event.tenant_id, kind=f"event:{context.settings['points_per_event']}", event_id=event.id, day=day
        )
    )
    await record(context.session, event.tenant_id, Fact("sample.pokes", day))
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
