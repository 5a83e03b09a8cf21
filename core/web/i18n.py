"""Languages of the console: Chinese first (the source strings are Chinese), English from a Babel catalogue.

Templates call ``_("首页")``; with English selected the catalogue in ``core/web/translations/en`` answers
"Home". The language comes from ``?lang=``, then the ``lang`` cookie (set by the switcher), then
``Accept-Language``. Dates and numbers follow the language's conventions through Babel.
"""

from __future__ import annotations

import datetime
import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from core.errors import request_language

TRANSLATIONS = Path(__file__).parent / "translations"
SUPPORTED = ("zh", "en")
BABEL_LOCALE = {"zh": "zh_Hans_CN", "en": "en"}


def negotiate(request: Any) -> str:
    """The same choice error messages make (:func:`core.errors.request_language`)."""
    return request_language(request)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue for ``lang`` (Chinese is the source language: no catalogue needed)."""
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if lang == "zh" or not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def format_date(value: datetime.date | None, lang: str) -> str:
    if value is None:
        return ""
    return babel_format_date(value, format="long", locale=BABEL_LOCALE[lang])


def format_number(value: float | int, lang: str) -> str:
    return format_decimal(value, locale=BABEL_LOCALE[lang])
