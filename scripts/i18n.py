"""Keep the English catalogues in step with the Chinese source strings: the console's and each plugin's.

    uv run python scripts/i18n.py                  # add new strings to every catalogue (core and plugins)
    uv run python scripts/i18n.py --check          # fail when a string has no English (the test suite runs this)
    uv run python scripts/i18n.py --plugin points  # only that plugin's catalogue

Templates and Python call ``_("中文原文")``; Babel reads and writes the catalogues. The core's strings live in
``core/web`` with the catalogue in ``core/web/translations``; a plugin's strings are everything in its package
and its catalogue is in the folder its ``translations_dir`` hook names.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parent.parent / "core" / "web"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]


def source_strings(root: Path) -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), METHODS, keywords={"_": None}, options_map={"templates/**.html": {"encoding": "utf-8"}}
    ):
        if isinstance(message, str):
            found.setdefault(message, []).append((filename, lineno))
    return found


def catalogues() -> dict[str, tuple[Path, Path]]:
    """name -> (source folder, translations folder): the core's and every installed plugin's that has one."""
    from core.plugin_host.host import PluginHost

    out = {"core": (WEB, WEB / "translations")}
    host = PluginHost.discover()
    for name, folder in host.translation_dirs().items():
        out[name] = (Path(host.plugins[name].module.__file__ or folder).parent, folder)
    return out


def load(po: Path) -> Catalog:
    if po.is_file():
        with po.open("rb") as handle:
            return read_po(handle, locale="en")
    return Catalog(locale="en", project="yinling")


def sync(name: str, source: Path, translations: Path, check: bool) -> int:
    po = translations / "en" / "LC_MESSAGES" / "messages.po"
    strings = source_strings(source)
    catalog = load(po)
    missing = [m for m in strings if not (catalog.get(m) and catalog.get(m).string)]
    if check:
        for message in missing:
            print(f"[{name}] no English for {message!r} ({strings[message][0][0]}:{strings[message][0][1]})")
        return len(missing)
    for message, places in strings.items():
        if catalog.get(message) is None:
            catalog.add(message, "", locations=places)
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_output=False)
    print(f"[{name}] {len(strings)} strings, {len(missing)} without English: fill them in {po}")
    return 0


def main() -> int:
    check = "--check" in sys.argv
    only = sys.argv[sys.argv.index("--plugin") + 1] if "--plugin" in sys.argv else None
    missing = 0
    for name, (source, translations) in catalogues().items():
        if only is None or name == only:
            missing += sync(name, source, translations, check)
    return 1 if check and missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
