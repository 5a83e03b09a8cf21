"""Keep the console's English catalogue in step with the Chinese source strings.

    uv run python scripts/i18n.py          # add new strings to core/web/translations/en/.../messages.po
    uv run python scripts/i18n.py --check  # fail when a string has no English (the test suite runs this)

Templates and Python call ``_("中文原文")``; Babel reads and writes the catalogue.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parent.parent / "core" / "web"
PO = WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]


def source_strings() -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, keywords={"_": None}, options_map={"templates/**.html": {"encoding": "utf-8"}}
    ):
        if isinstance(message, str):
            found.setdefault(message, []).append((filename, lineno))
    return found


def load() -> Catalog:
    if PO.is_file():
        with PO.open("rb") as handle:
            return read_po(handle, locale="en")
    return Catalog(locale="en", project="yinling")


def main() -> int:
    strings = source_strings()
    catalog = load()
    missing = [m for m in strings if not (catalog.get(m) and catalog.get(m).string)]
    if "--check" in sys.argv:
        for message in missing:
            print(f"no English for {message!r} ({strings[message][0][0]}:{strings[message][0][1]})")
        return 1 if missing else 0
    for message, places in strings.items():
        if catalog.get(message) is None:
            catalog.add(message, "", locations=places)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_output=False)
    print(f"{len(strings)} strings, {len(missing)} without English: fill them in {PO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
