"""The one place that wires routes, dependencies, middleware and exception handlers into the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

import core
from core.audit.routes import AuditController
from core.errors import EXCEPTION_HANDLERS
from core.events.routes import EventController
from core.events.worker import run_worker
from core.identity.access import authentication_middleware, permission_guard, provide_acting, provide_db_session
from core.identity.login_routes import LoginController
from core.identity.pages import UserPages
from core.identity.routes import AuthController
from core.identity.sessions import session_middleware
from core.identity.user_routes import UserController
from core.identity.web_security import csrf_middleware, security_headers
from core.logging import configure_logging
from core.orglife.pages import OrgLifePages
from core.orglife.routes import MeetingController, ModelBranchController, SixHavesController
from core.orgs.branch_pages import BranchPages
from core.orgs.import_routes import MemberSheetController, OrgSheetController
from core.orgs.importing.jobs import member_imports
from core.orgs.pages import MemberPages
from core.orgs.routes import MemberController, OrgController
from core.orgs.transfer_pages import TransferPages
from core.orgs.transfer_routes import TransferController
from core.platform import Platform
from core.plugin_host.routes import PluginController, settings_provider
from core.reports.routes import ReportController
from core.settings import Settings
from core.storage.routes import FileController, serve_local_file
from core.tenancy.pages import TenantPages
from core.tenancy.routes import TenantController
from core.web.admin_pages import AdminPages
from core.web.console import ConsoleController
from core.web.health import health, ready
from core.web.metrics import PROMETHEUS, metrics
from core.web.request_id import request_id_middleware
from core.web.timeline import MemberTimelinePages, OwnPage


class ConfigurationError(RuntimeError):
    """The settings are unfit for the environment they claim (e.g. production on demo defaults)."""


CORE_ROUTES: Sequence[ControllerRouterHandler] = (
    health,
    ready,
    metrics,
    ConsoleController,
    MemberPages,
    AdminPages,
    AuthController,
    LoginController,
    UserController,
    TenantController,
    AuditController,
    FileController,
    OrgController,
    OrgSheetController,
    MemberController,
    MemberSheetController,
    MeetingController,
    SixHavesController,
    ModelBranchController,
    TransferController,
    PluginController,
    EventController,
    ReportController,
    serve_local_file,
    BranchPages,
    TransferPages,
    OrgLifePages,
    UserPages,
    TenantPages,
    MemberTimelinePages,
    OwnPage,
)


TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def template_config(platform: Platform) -> TemplateConfig[JinjaTemplateEngine]:
    """The core's templates by name, each plugin's under its own name (``visits/plan.html``)."""
    prefixed = {
        name: FileSystemLoader(str(folder)) for name, folder in platform.plugins.call_each("templates_dir") if folder
    }
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), PrefixLoader(prefixed)]),
        autoescape=select_autoescape(["html"]),
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def static_routers(platform: Platform) -> list[Router]:
    routers = [
        create_static_files_router(path="/static", directories=[STATIC], opt={"public": True}, include_in_schema=False)
    ]
    for name, folder in platform.plugins.call_each("static_dir"):
        if folder:
            routers.append(
                create_static_files_router(
                    path=f"/static/plugins/{name}", directories=[folder], opt={"public": True}, include_in_schema=False
                )
            )
    return routers


def plugin_routers(platform: Platform) -> list[Router]:
    """Each plugin's routes, mounted once for the whole process under its name, behind the activation guard."""
    routers = []
    for name, handlers in platform.plugins.routes().items():
        if handlers:
            routers.append(
                Router(
                    path=f"/api/v1/t/{{tenant_code:str}}/{name}",
                    route_handlers=handlers,
                    opt={"plugin": name},
                    dependencies={"plugin_settings": Provide(settings_provider(name))},
                    tags=[f"plugin:{name}"],
                )
            )
    return routers


def plugin_page_routers(platform: Platform) -> list[Router]:
    """Each plugin's console pages at ``/t/{code}/{plugin}/``, behind the same activation guard as its API."""
    return [
        Router(
            path=f"/t/{{tenant_code:str}}/{name}",
            route_handlers=handlers,
            opt={"plugin": name, "page": True},
            dependencies={
                "plugin_settings": Provide(settings_provider(name)),
                "acting": Provide(provide_acting, sync_to_thread=False),
            },
            include_in_schema=False,
        )
        for name, handlers in platform.plugins.pages().items()
        if handlers
    ]


def create_app(
    settings: Settings | None = None, *, platform: Platform | None = None, deliver_events: bool = True
) -> Litestar:
    """The app. ``deliver_events=False`` leaves event delivery to the caller (tests drive it by hand)."""
    settings = settings or (platform.settings if platform else Settings())
    if settings.env == "production":
        problems = settings.production_problems()
        if problems:
            raise ConfigurationError("YINLING_ENV=production refuses to start:\n- " + "\n- ".join(problems))
    configure_logging(settings)
    owned = platform is None
    the_platform = platform or Platform.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = imports = None
        if the_platform.events_inline and deliver_events:
            worker = asyncio.create_task(run_worker(the_platform.dispatcher, the_platform.wake, stop))
            # Background member imports run here too in embedded mode (``yinling worker`` runs them with Redis).
            imports = asyncio.create_task(member_imports(app).run(stop))
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            if imports is not None:
                await imports
            if owned:
                await the_platform.close()

    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=["^/health", "^/ready", "^/metrics", "^/schema", "^/static"],
        store="rate_limit",
    )
    app = Litestar(
        route_handlers=[
            *CORE_ROUTES,
            *plugin_routers(the_platform),
            *plugin_page_routers(the_platform),
            *static_routers(the_platform),
        ],
        template_config=template_config(the_platform),
        dependencies={"db_session": Provide(provide_db_session)},
        guards=[permission_guard],
        middleware=[
            request_id_middleware,
            PROMETHEUS.middleware,
            rate_limit.middleware,
            session_middleware(settings),
            csrf_middleware(settings),
            authentication_middleware(),
        ],
        before_send=[security_headers(settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        stores=the_platform.stores,
        openapi_config=OpenAPIConfig(
            title="Yinling 银龄 API",
            version=core.__version__,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            description="离退休干部党建与服务平台 API. Errors: {error: {code, message, field?, details?}}.",
        ),
        cors_config=CORSConfig(allow_origins=[settings.public_url]),
        lifespan=[lifespan],
        debug=False,
        logging_config=None,
        request_max_body_size=settings.upload_max_bytes + 1024 * 1024,
    )
    app.state.platform = the_platform
    return app


def app_factory() -> Litestar:
    """Entry point for ``uvicorn --factory core.web.app:app_factory``."""
    return create_app()


__all__ = ["ConfigurationError", "create_app"]
