"""The core modules a plugin may import: the public API, each with what it is for.

A plugin that imports anything else of the core reaches into internals that may change without notice; the
test ``tests/test_plugin_host.py::test_plugins_import_only_the_public_core_api`` holds the built-in plugins and
the example to this list, and ``docs/plugins.md`` (section "公开接口 · The public API") documents every entry.
"""

from __future__ import annotations

PUBLIC_API: dict[str, str] = {
    "core.plugin_host": "hookimpl, PluginInfo, NavItem, MetricSpec, MemberPanel, PluginContext, programme_states",
    "core.errors": "ErrorSpec / AppError (stable code + Chinese message), request_language, zh_validation_message",
    "core.db.base": "Base, Entity, TenantOwned, utcnow: the tables of a plugin",
    "core.db.rls": "enable_tenant_rls / disable_tenant_rls in a plugin's migrations",
    "core.db.scope": "TenantScope, widened(session, read=…, write=…): stepping outside the acting scope, briefly",
    "core.identity.access": "Acting, provide_acting, current_principal, platform_of in routes and pages",
    "core.identity.roles": "Role and the core's permission names",
    "core.identity.principal": "Principal and MemberLink (principal.member: the person's own record)",
    "core.identity.models": "User, to look an account up by username (read only)",
    "core.orgs.models": "Member, Organization and their enums (read; the ledger is written through the core)",
    "core.orgs.member_accounts": "own_member(session, principal) and NOT_LINKED for pages of the person themself",
    "core.orgs.idcard": "checking and reading Chinese ID numbers",
    "core.tenancy.tree": "TenantTree, TenantNode",
    "core.tenancy.models": "TenantLevel",
    "core.events.outbox": "emit(session, …): a domain event in the same transaction as the change",
    "core.events.types": "DomainEvent, EventContext for on_event",
    "core.reports.facts": "Fact, record, retract, record_sync, month_of, period_keys: keeping report aggregates",
    "core.reports.models": "ReportSum, ReportDistinct: reading the maintained aggregates (never writing them)",
    "core.storage.base": "the object store of the platform (upload, signed download)",
    "core.storage.models": "StoredFile",
    "core.storage.sniff": "what an upload really is, by its bytes",
    "core.privacy.crypto": "EncryptedText for personal data, mask_id_number / mask_phone",
    "core.audit.recorder": "arecord: an audit entry for what the ORM does not see",
    "core.web.pages": "render_page: a console page in the platform's shell",
    "core.platform": "Platform (the type of platform_of(request))",
}
