"""Console pages for tenant administrators: the programmes of a tenant (switched on or off here, with the
reason each is in its state) and the audit log of the tenant's subtree."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.models import AuditEntry
from core.db.engine import after_commit
from core.errors import AppError, request_language
from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.roles import AUDIT_READ, PLUGIN_MANAGE, TENANT_READ
from core.plugin_host import service as plugins
from core.web.console import page_of, shell

PAGE_SIZE = 50
ACTIONS_ZH = {"create": "新增", "update": "修改", "delete": "删除", "reveal": "查看个人信息"}


class AdminPages(Controller):
    path = "/t/{tenant_code:str}"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @get("/programmes", opt={"permission": TENANT_READ, "page": True})
    async def programmes(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        changed: FromQuery[str | None] = None,
        problem: FromQuery[str | None] = None,
    ) -> Template:
        platform = platform_of(request)
        snapshot = await platform.activation.get(platform.database)
        effective = plugins.effective_in(platform.plugins, acting.tree, snapshot, acting.tenant.id)
        rows = []
        for name, loaded in sorted(platform.plugins.plugins.items()):
            eff, own = effective[name], snapshot.own(acting.tenant.id, name)
            rows.append(
                {
                    "name": name,
                    "title_zh": loaded.info.title_zh,
                    "title_en": loaded.info.title_en,
                    "active": eff.active,
                    "reason_zh": eff.reason_zh,
                    "reason_en": eff.reason_en,
                    "own_state": own.state if own else None,
                }
            )
        principal = current_principal(request)
        can_manage = principal is not None and principal.can(
            acting.tree, platform.roles, acting.tenant.id, PLUGIN_MANAGE
        )
        context = await shell(request, acting, db_session)
        notice = None
        if changed in platform.plugins.plugins:
            title = platform.plugins.title(changed)
            notice = f"已更新“{title[0]}”" if context["lang"] == "zh" else f"“{title[1]}” updated"
        return Template(
            template_name="console/programmes.html",
            context={**context, "programmes": rows, "can_manage": can_manage, "notice": notice, "problem": problem},
        )

    @post("/programmes/{plugin:str}", opt={"permission": PLUGIN_MANAGE, "page": True}, status_code=303)
    async def switch(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        plugin: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect:
        from urllib.parse import quote

        platform = platform_of(request)
        state = data.get("state")
        if state not in ("enabled", "disabled", "inherit"):
            return Redirect(f"/t/{acting.tenant.code}/programmes", status_code=303)
        principal = current_principal(request)
        try:
            async with db_session.begin_nested():
                await plugins.change_activation(
                    db_session,
                    platform.plugins,
                    acting.tree,
                    acting.tenant,
                    plugin,
                    state=state,  # type: ignore[arg-type]
                    policy=None,
                    actor=principal.username if principal else "system",
                    snapshot=await platform.activation.fresh(platform.database),
                )
        except AppError as exc:
            lang = request_language(request)
            return Redirect(f"/t/{acting.tenant.code}/programmes?problem={quote(exc.message(lang))}", status_code=303)
        after_commit(db_session, platform.activation.invalidate)
        return Redirect(f"/t/{acting.tenant.code}/programmes?changed={quote(plugin)}", status_code=303)

    @get("/audit", opt={"permission": AUDIT_READ, "page": True})
    async def audit(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        page: FromQuery[int] = 1,
    ) -> Template:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        listing = await page_of(db_session, query, page, PAGE_SIZE)
        rows, total, page, pages = listing.rows, listing.total, listing.page, listing.pages
        context = await shell(request, acting, db_session)
        lang = context["lang"]
        entries = []
        for row in rows:
            after, before = row.after or {}, row.before or {}
            keys = [k for k in (after or before) if k not in {"created_at", "updated_at", "id", "tenant_id"}][:4]
            changes = (
                "；".join(f"{k}: {before.get(k, '')} → {after.get(k, '')}" for k in keys)
                if row.action == "update"
                else ""
            )
            entries.append(
                {
                    "at": row.at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    "actor": row.actor_name,
                    "action": ACTIONS_ZH.get(row.action, row.action) if lang == "zh" else row.action,
                    "entity": row.entity_type,
                    "changes": changes,
                }
            )
        return Template(
            template_name="console/audit.html",
            context={**context, "entries": entries, "total": total, "page": page, "pages": pages},
        )
