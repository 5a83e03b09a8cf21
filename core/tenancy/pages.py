"""Console page of the tenant's subtree (下级单位): every unit below, with its members, and for each the
programmes in effect there and why; links switch into a unit or open its programmes page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, platform_of, provide_acting
from core.identity.roles import TENANT_READ
from core.orgs.models import Member
from core.plugin_host import service as plugins
from core.web.console import shell

LEVEL_ZH = {"province": "省", "city": "市", "county": "县（市、区）"}


class TenantPages(Controller):
    path = "/t/{tenant_code:str}/tenants"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"permission": TENANT_READ, "page": True})
    async def subtree(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        tree = acting.tree
        platform = platform_of(request)
        snapshot = await platform.activation.get(platform.database)
        counted = await db_session.execute(
            select(Member.tenant_id, func.count()).where(Member.status == "active").group_by(Member.tenant_id)
        )
        members = {tenant_id: n for tenant_id, n in counted.tuples()}  # noqa: C416
        context = await shell(request, acting, db_session)
        lang = context["lang"]
        subtree = tree.subtree_ids(acting.tenant.id)
        depth0 = acting.tenant.path.count("/")
        units = []
        for node in tree.walk():
            if node.id not in subtree or node.id == acting.tenant.id:
                continue
            effective = plugins.effective_in(platform.plugins, tree, snapshot, node.id)
            programmes = [
                {
                    "title": platform.plugins.title(name)[0 if lang == "zh" else 1],
                    "active": eff.active,
                    "reason": eff.reason_zh if lang == "zh" else eff.reason_en,
                }
                for name, eff in sorted(effective.items())
            ]
            units.append(
                {
                    "node": node,
                    "depth": min(node.path.count("/") - depth0 - 1, 3),
                    "level": LEVEL_ZH.get(str(node.level), str(node.level)) if lang == "zh" else str(node.level),
                    "members": sum(members.get(i, 0) for i in tree.subtree_ids(node.id)),
                    "programmes": programmes,
                    "active_count": sum(1 for p in programmes if p["active"]),
                }
            )
        return Template(template_name="console/tenants.html", context={**context, "units": units})
