"""A programme with a console page and a member panel, installed only in the browser tests: 老干部风采 (a gallery).

It shows what a third-party programme adds to the console: a menu entry, a page at ``/t/{code}/album/gallery``
(answering 404 where the programme is off) and a panel on each member's timeline (a key figure and dated
entries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting
from core.plugin_host import MemberPanel, NavItem, PluginContext, PluginInfo, hookimpl
from core.web.pages import render_page

PLUGIN = PluginInfo(name="album", version="1.0.0", title_zh="老干部风采", title_en="Veterans' gallery")
HERE = Path(__file__).parent


class GalleryPages(Controller):
    path = "/"

    @get("/gallery", opt={"permission": "tenant.read"})
    async def gallery(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await render_page(request, acting, db_session, "album/gallery.html", plugin="album")


@hookimpl
def register_pages() -> list[Any]:
    return [GalleryPages]


@hookimpl
def templates_dir() -> Path:
    return HERE / "templates"


@hookimpl
def navigation(context: PluginContext) -> list[NavItem]:
    return [NavItem("风采展示", "Gallery", "gallery", "tenant.read", order=50)]


@hookimpl
async def member_panel(context: PluginContext, member_id: str) -> MemberPanel:
    return MemberPanel(
        "老干部风采",
        "Veterans' gallery",
        [
            {"label": "展出作品", "label_en": "Works shown", "value": "3 件"},
            {
                "on": "2025-10-01",
                "text": "书法作品《沁园春·雪》入选国庆展",
                "text_en": "Calligraphy shown at the National Day exhibition",
            },
            {"on": "1990-05-04", "text": "摄影作品获市级奖", "text_en": "Photograph won a city prize"},
        ],
    )
