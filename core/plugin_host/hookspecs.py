"""Every hook a Yinling plugin may implement. This module is the plugin author's reference.

A plugin is a module (or package) named by an entry point in the group ``yinling.plugins``. It declares
``PLUGIN = PluginInfo(...)`` and implements any of the hooks below with the ``@hookimpl`` marker from
``core.plugin_host``. Hooks return *declarations* (routes, roles, navigation items, schemas…); the host
decides what to do with them, so a plugin never mutates the app. A hook may return an awaitable where its
documentation says so; the host awaits it. Hooks are called with keyword arguments; an implementation may
accept any subset of the documented arguments (pluggy passes only those it names).

Every plugin is loaded into every process and serves every tenant: no import-time side effects, no
per-tenant state in module globals. Whether a plugin is active in a tenant is the host's business: inactive
plugins' routes answer 404, their navigation vanishes, their event handlers are not called.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler
    from pydantic import BaseModel

    from core.events.types import DomainEvent, EventContext
    from core.identity.roles import Role
    from core.plugin_host.declarations import MemberPanel, MetricSpec, NavItem, PluginContext
    from core.reports.facts import Fact

PROJECT = "yinling"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def register_routes() -> Sequence[ControllerRouterHandler]:
    """Route handlers and controllers of the plugin.

    Called once at start-up. The host mounts them under ``/api/v1/t/{tenant_code}/{plugin_name}`` (paths in
    your handlers are relative to that), behind the permission guard and the activation guard: a request in
    a tenant where the plugin is not active answers 404 naming the programme. Every handler must declare
    ``opt={"permission": "<permission>"}`` with a permission the core or your ``register_roles`` defines.
    Use the ``db_session`` dependency (scoped to the acting tenant), ``acting`` (the tenant and scope) and
    ``plugin_settings`` (a dict: your ``settings_schema`` as it applies in the acting tenant).
    """


@hookspec
def register_pages() -> Sequence[ControllerRouterHandler]:
    """Console pages of the plugin: controllers mounted once at ``/t/{tenant_code}/{plugin name}/``.

    Each handler declares ``opt={"permission": ...}`` like an API route; the router adds ``page=True`` (so a
    visitor who is not signed in is sent to the login page) and the ``acting`` dependency (the tenant of the
    URL). Pages of a plugin inactive in that tenant answer 404 naming the programme, exactly like its API
    routes. Render with :func:`core.web.pages.render_page`, which fills in the console's shell (navigation,
    tenant switcher, breadcrumbs, 长辈版, language) and the plugin's own translations; templates extend
    ``console/base.html`` and live in :func:`templates_dir` (looked up as ``"<plugin>/<file>.html"``).
    Navigation entries point at these pages: ``NavItem(path="ledger")`` → ``/t/{code}/<plugin>/ledger``.
    """


@hookspec
def translations_dir() -> Path | None:
    """The folder of the plugin's Babel catalogues (``en/LC_MESSAGES/messages.po``) for its pages' strings.

    Source strings are Chinese; :func:`core.web.pages.render_page` looks a string up in the plugin's catalogue
    first and the core's after. ``uv run python scripts/i18n.py`` extracts the plugin's strings into it and
    ``--check`` fails when one has no English.
    """


@hookspec
def register_models() -> Sequence[type[Any]]:
    """SQLAlchemy model classes of the plugin (subclasses of ``core.db.base.Base``).

    Called at start-up, after import. Tenant-owned tables must mix in ``core.db.base.TenantOwned`` so both
    isolation locks apply; the host refuses to load a plugin whose table has a ``tenant_id`` column without it.
    """


@hookspec
def migrations_dir() -> Path | None:
    """The folder holding the plugin's Alembic revisions (its own branch).

    The first revision sets ``branch_labels = ("<plugin name>",)`` and ``depends_on = "0001_core"`` (or a
    later core revision); tenant-owned tables call ``core.db.rls.enable_tenant_rls(table)``.
    ``yinling db upgrade`` applies every installed plugin's branch (``upgrade heads``).
    """


@hookspec
def templates_dir() -> Path | None:
    """A folder of Jinja2 templates for the plugin's pages, looked up under the plugin's name."""


@hookspec
def static_dir() -> Path | None:
    """A folder of static files, served under ``/static/plugins/<plugin name>/``."""


@hookspec
def navigation(context: PluginContext) -> Sequence[NavItem] | Awaitable[Sequence[NavItem]]:
    """Navigation entries for the web console in the tenant of ``context``.

    Called per request, only for plugins active in that tenant. Return items the principal may use
    (``context.can(permission)`` tells); an item's ``permission`` is checked by the host as well.
    """


@hookspec
def settings_schema() -> type[BaseModel] | None:
    """A pydantic model of the plugin's per-tenant settings, every field with a default.

    Settings are inherited down the tenant tree: a tenant's effective settings are the defaults, overridden
    by each ancestor's values from the province down, then by its own. Values are validated against this
    model on every change; invalid input answers 422 naming the field.
    """


@hookspec
def register_roles() -> Sequence[Role]:
    """Roles the plugin adds (e.g. 调解员 mediator) with their permissions.

    Permission names should start with the plugin's name (``mediation.case.read``). Grants of these roles
    are made like any other: (user, tenant, role), covering the tenant's subtree.
    """


@hookspec
def on_event(event: DomainEvent, context: EventContext) -> Awaitable[None] | None:
    """React to a domain event written to the outbox in a tenant where the plugin is active.

    Delivered at least once, after the emitting transaction committed; ``context.session`` is a session
    scoped to the event's tenant whose transaction also records the delivery, so writes made through it
    happen exactly once. Raise to have the delivery retried later with backoff; it is never dropped.
    Ignore events you do not know (check ``event.name``).
    """


@hookspec
def register_metrics() -> Sequence[MetricSpec]:
    """Metrics the plugin contributes to reports: id, labels, unit and how they roll up the tree.

    Reports read maintained aggregates, never the plugin's raw rows: whenever a write changes a figure, the
    plugin calls :func:`core.reports.facts.record` (or ``retract``) with :class:`~core.reports.facts.Fact`
    values in the same transaction. Ids are ``"<plugin>.<metric>"``.
    """


@hookspec
def metric_facts(context: PluginContext) -> Iterable[Fact] | AsyncIterator[Fact]:
    """Every fact the plugin's raw rows in ``context.tenant`` imply, recomputed from scratch.

    The same facts the plugin records as it writes, derived again from what is stored now (reversed entries
    cancel out, moved records count where they are now). The suite compares the maintained aggregates with
    these to prove them; ``yinling reports rebuild`` replays them to repair aggregates or to backfill a plugin
    installed after its data existed. ``context.session`` is scoped to the tenant; may be an async generator.
    """


@hookspec
def member_panel(context: PluginContext, member_id: str) -> MemberPanel | Awaitable[MemberPanel | None] | None:
    """A panel for a member's own page (e.g. points balance, mediation roles); ``None`` for nothing.

    Called only for plugins active in the member's tenant, with a session scoped to it.
    """


@hookspec
def demo_data(context: PluginContext) -> Awaitable[None] | None:
    """Seed demo data into ``context.tenant`` (called by ``yinling demo`` for tenants where it is active).

    ``yinling demo`` may run again on the same data directory: seed only what is not there yet.
    """


@hookspec
def on_tenant_enabled(context: PluginContext) -> Awaitable[None] | None:
    """The plugin just became active in ``context.tenant`` (set there or inherited/mandated from above).

    Called in the transaction that changed the activation, e.g. to seed default rules. Data from an earlier
    activation is still there: the host never deletes a plugin's data.
    """


@hookspec
def on_tenant_disabled(context: PluginContext) -> Awaitable[None] | None:
    """The plugin just stopped being active in ``context.tenant``. Its data stays; do not delete it."""
