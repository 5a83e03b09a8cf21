"""``yinling plugin new NAME``: a small, working plugin package to start from.

The package has a ``pyproject.toml`` with the ``yinling.plugins`` entry point, a module declaring ``PLUGIN``
with one tenant-owned table, three routes and a few hooks, a first Alembic revision on the plugin's own
branch (row-level security on), a fast test that needs no database server, and a README. The templates are
in ``scaffold_template/`` next to this module (``string.Template`` placeholders such as ``${name}``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from string import Template

import core
from core.plugin_host.declarations import PluginInfo
from core.plugin_host.host import ENTRY_POINT_GROUP, _check_info

TEMPLATE_DIR = Path(__file__).parent / "scaffold_template"

#: template (relative to :data:`TEMPLATE_DIR`) → file in the new package (``str.format`` with the values)
FILES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("README.md.tmpl", "README.md"),
    ("package/__init__.py.tmpl", "{package}/__init__.py"),
    ("package/migrations/0001_name.py.tmpl", "{package}/migrations/0001_{name}.py"),
    ("tests/test_name.py.tmpl", "tests/test_{name}.py"),
)

_TITLE = re.compile(r"^[^\"'\\\n\r$]{1,32}$")


class ScaffoldError(ValueError):
    """The plugin cannot be generated as asked; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class Scaffolded:
    path: Path
    name: str
    package: str
    files: tuple[Path, ...]


def check_name(name: str) -> None:
    """The host's own rules for a plugin name, and no clash with a plugin already installed."""
    problem = _check_info(PluginInfo(name=name, version="0.1.0", title_zh=name, title_en=name))
    if problem:
        raise ScaffoldError(
            f"插件名 {name!r} 不可用：须以小写字母开头，只含小写字母、数字和下划线，共 2–32 个字符，"
            f"且不能是核心保留的名字 / {problem}"
        )
    installed = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name in installed:
        raise ScaffoldError(
            f"已经安装了名为 {name!r} 的插件（{installed[name]}），请换一个名字 / "
            f"a plugin named {name!r} is already installed ({installed[name]}); choose another name"
        )


def _check_title(title: str, which: str) -> None:
    if not _TITLE.match(title):
        raise ScaffoldError(
            f"{which} 须为 1–32 个字符，不含引号、反斜杠、$ 或换行 / "
            f"{which} must be 1-32 characters without quotes, backslashes, $ or line breaks"
        )


def scaffold(name: str, directory: Path, *, title_zh: str | None = None, title_en: str | None = None) -> Scaffolded:
    """Write the package ``yinling-<name>`` into ``directory``; refuse to overwrite anything."""
    check_name(name)
    title_en = title_en or name.replace("_", " ").capitalize()
    _check_title(title_en, "title_en")
    title_zh = title_zh or title_en
    _check_title(title_zh, "title_zh")
    package = f"yinling_{name}"
    dist = f"yinling-{name.replace('_', '-')}"
    target = directory / dist
    if target.exists():
        raise ScaffoldError(f"{target} 已存在，未做任何修改 / {target} exists already; nothing was written")
    values = {
        "name": name,
        "package": package,
        "dist": dist,
        "cls": "".join(part.capitalize() for part in name.split("_")),
        "title_zh": title_zh,
        "title_en": title_en,
        "core_version": core.__version__,
        "date": datetime.date.today().isoformat(),
    }
    written: list[Path] = []
    for template, output in FILES:
        text = Template((TEMPLATE_DIR / template).read_text(encoding="utf-8")).substitute(values)
        path = target / output.format(**values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return Scaffolded(path=target, name=name, package=package, files=tuple(written))
