"""What a plugin's console page needs from the core: the shell around it and its own translations.

A plugin page handler (see the ``register_pages`` hook) ends with::

    return await render_page(request, acting, db_session, "points/ledger.html", plugin="points", rows=rows)

and its template starts with ``{% extends "console/base.html" %}``. The context carries the shell (tenant,
breadcrumbs, switcher, navigation, 长辈版 preferences, language), ``_`` answering from the plugin's catalogue
first and the core's after, and ``fmt_date`` / ``fmt_num`` in the page's language.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, platform_of
from core.web.console import shell
from core.web.i18n import translations


@cache
def _catalogue(folder: Path, lang: str) -> gettext.NullTranslations | None:
    po = folder / lang / "LC_MESSAGES" / "messages.po"
    if lang == "zh" or not po.is_file():
        return None
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def plugin_translations(folder: Path | None, lang: str) -> gettext.NullTranslations:
    """The plugin's catalogue for ``lang`` falling back to the core's (a fresh object: fallbacks chain)."""
    core = translations(lang)
    own = _catalogue(folder, lang) if folder is not None else None
    if own is None:
        return core
    combined = Translations()
    combined._catalog = dict(getattr(core, "_catalog", {}))
    combined._catalog.update(getattr(own, "_catalog", {}))
    return combined


async def render_page(
    request: Request[Any, Any, Any],
    acting: Acting,
    session: AsyncSession,
    template: str,
    *,
    plugin: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A console page in the shell; ``plugin`` selects that plugin's translations for ``_``."""
    page = await shell(request, acting, session)
    if plugin is not None:
        folder = platform_of(request).plugins.translation_dirs().get(plugin)
        page["_"] = plugin_translations(folder, page["lang"]).gettext
    return Template(template_name=template, context={**page, **context}, status_code=status_code)
