"""``yinling plugins list`` (installed plugins, hooks, failures, where enabled) and ``yinling plugin new``
(a package that imports, validates, loads into the host and passes its own tests)."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

import core.plugin_host.host as host_module
from core.cli import main
from core.db.base import metadata
from core.platform import Platform
from core.plugin_host import PluginInfo
from core.plugin_host.host import PluginHost
from tests.support import token


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


# --- plugins list ----------------------------------------------------------------------------------


async def test_plugins_list_shows_the_example_with_its_hooks_and_where_it_is_enabled(
    client: httpx.AsyncClient, pg_platform: Platform, world: dict[str, Any], pg_urls: dict[str, str]
) -> None:
    headers = await token(client, "xw-admin")
    response = await client.put("/api/v1/t/320102/plugins/visits", headers=headers, json={"state": "enabled"})
    assert response.status_code == 200, response.text

    env = {"YINLING_DATABASE_URL": pg_urls["app"]}
    # The command runs its own event loop: give it a thread.
    result = await asyncio.to_thread(invoke, "plugins", "list", "--json", env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["database"] == {"ok": True, "error": None}
    assert report["failures"] == []
    visits = next(p for p in report["plugins"] if p["name"] == "visits")
    assert (visits["version"], visits["title_zh"], visits["title_en"]) == ("0.1.0", "走访慰问", "Visits and care")
    assert visits["source"] == "entry point visits = yinling_visits"
    assert {"register_routes", "register_models", "migrations_dir", "on_event", "settings_schema"} <= set(
        visits["hooks"]
    )
    assert visits["activation"] == [
        {"tenant_code": "320102", "tenant_name": "玄武区", "state": "enabled", "policy": None, "settings": {}}
    ]
    assert [(a["tenant_code"], a["source"], a["reason_zh"]) for a in visits["active_in"]] == [
        ("320102", "set_here", "本单位已开通")
    ]

    text = await asyncio.to_thread(invoke, "plugins", "list", env=env)
    assert text.exit_code == 0
    assert "visits 0.1.0  走访慰问 / Visits and care" in text.output
    assert "on_event" in text.output and "开通于 active in: 320102 玄武区（本单位已开通）" in text.output


def test_plugins_list_without_a_database_still_lists_the_plugins(tmp_path: Path) -> None:
    result = invoke("plugins", "list", "--json", env={"YINLING_DATABASE_URL": "", "YINLING_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert "visits" in {p["name"] for p in report["plugins"]}
    assert report["database"]["ok"] is False and "yinling db upgrade" in report["database"]["error"]
    assert not (tmp_path / "yinling.db").exists()  # listing does not create a database


def test_plugins_list_reports_a_plugin_that_failed_to_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = host_module.entry_points

    def with_a_broken_one(group: str) -> list[EntryPoint]:
        return [*real(group=group), EntryPoint("broken", "yinling_no_such_module", group)]

    monkeypatch.setattr(host_module, "entry_points", with_a_broken_one)
    env = {"YINLING_DATABASE_URL": "", "YINLING_DATA_DIR": str(tmp_path)}
    result = invoke("plugins", "list", "--json", env=env)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["failures"] == [
        {
            "source": "entry point broken = yinling_no_such_module",
            "reason": "import failed: ModuleNotFoundError: No module named 'yinling_no_such_module'",
        }
    ]
    assert "visits" in {p["name"] for p in report["plugins"]}
    text = invoke("plugins", "list", env=env)
    assert (
        text.exit_code == 1 and "加载失败 / failed to load:" in text.output and "yinling_no_such_module" in text.output
    )


# --- plugin new ------------------------------------------------------------------------------------


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Path]:
    """``yinling plugin new elder_uni`` in tmp_path; afterwards its module and table leave this process."""
    tables = set(metadata.tables)
    result = invoke(
        "plugin",
        "new",
        "elder_uni",
        "--dir",
        str(tmp_path),
        "--title-zh",
        "老年大学",
        "--title-en",
        "Elderly university",
    )
    assert result.exit_code == 0, result.output
    package = tmp_path / "yinling-elder-uni"
    assert f"已生成插件 / plugin created: {package}" in result.output
    sys.path.insert(0, str(package))
    try:
        yield package
    finally:
        sys.path.remove(str(package))
        for name in [m for m in sys.modules if m == "yinling_elder_uni" or m.startswith("yinling_elder_uni.")]:
            del sys.modules[name]
        for name in set(metadata.tables) - tables:
            metadata.remove(metadata.tables[name])


def test_plugin_new_generates_a_package_the_host_loads(generated: Path) -> None:
    assert sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "tests/test_elder_uni.py",
        "yinling_elder_uni/__init__.py",
        "yinling_elder_uni/migrations/0001_elder_uni.py",
    ]
    pyproject = (generated / "pyproject.toml").read_text()
    assert '[project.entry-points."yinling.plugins"]\nelder_uni = "yinling_elder_uni"' in pyproject
    migration = (generated / "yinling_elder_uni/migrations/0001_elder_uni.py").read_text()
    assert 'branch_labels: str | Sequence[str] | None = ("elder_uni",)' in migration
    assert 'enable_tenant_rls("elder_uni_note")' in migration

    module = importlib.import_module("yinling_elder_uni")
    assert isinstance(module.PLUGIN, PluginInfo)
    assert (module.PLUGIN.name, module.PLUGIN.title_zh, module.PLUGIN.title_en) == (
        "elder_uni",
        "老年大学",
        "Elderly university",
    )
    host = PluginHost()
    host.load([("test", lambda: module)])
    assert host.failures == []
    assert set(host.plugins["elder_uni"].hooks) == {
        "register_routes",
        "register_models",
        "migrations_dir",
        "register_roles",
        "navigation",
    }
    assert [r.name for r in host.roles()] == ["elder_uni_officer"]
    assert host.migration_dirs() == [generated / "yinling_elder_uni" / "migrations"]
    routes = host.routes()["elder_uni"]
    assert [c.__name__ for c in routes] == ["NoteController"]


def test_the_generated_test_passes(generated: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "ignore::DeprecationWarning"],
        cwd=generated,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Bad-Name", "plugin name 'Bad-Name' must match ^[a-z][a-z0-9_]{1,31}$"),
        ("x", "plugin name 'x' must match"),
        ("9lives", "须以小写字母开头"),
        ("core", "plugin name 'core' is reserved by the core"),
        ("visits", "a plugin named 'visits' is already installed (yinling_visits)"),
    ],
)
def test_plugin_new_refuses_a_bad_name(tmp_path: Path, name: str, says: str) -> None:
    result = CliRunner().invoke(main, ["plugin", "new", name, "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert says in result.output
    assert list(tmp_path.iterdir()) == []


def test_plugin_new_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "yinling-elder-uni").mkdir()
    result = CliRunner().invoke(main, ["plugin", "new", "elder_uni", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "exists already; nothing was written" in result.output
    bad_title = CliRunner().invoke(main, ["plugin", "new", "elder_uni2", "--dir", str(tmp_path), "--title-en", 'a"b'])
    assert bad_title.exit_code == 2 and "title_en must be 1-32 characters" in bad_title.output
