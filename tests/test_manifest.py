"""Tenant manifests: idempotent, all or nothing, errors with file, line and field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.cli import main
from core.db.scope import TenantScope
from core.demo import demo_manifest_path
from core.platform import Platform
from core.tenancy.manifest import ManifestError, apply_manifest, load_manifest
from core.tenancy.models import Tenant


async def tenant_rows(platform: Platform) -> list[tuple[str, str, str, bool]]:
    async with platform.database.session(TenantScope.system()) as session:
        rows = (await session.execute(select(Tenant).order_by(Tenant.code))).scalars().all()
        return [(r.code, r.name, r.path, r.is_active) for r in rows]


async def test_applying_twice_gives_the_same_state(pg_platform: Platform) -> None:
    manifest = load_manifest(demo_manifest_path())
    async with pg_platform.database.session(TenantScope.system()) as session:
        first = await apply_manifest(session, manifest)
    state = await tenant_rows(pg_platform)
    async with pg_platform.database.session(TenantScope.system()) as session:
        second = await apply_manifest(session, manifest)
    assert len(first.created) == 8 and first.renamed == []
    assert second.created == [] and second.renamed == [] and len(second.unchanged) == 8
    assert await tenant_rows(pg_platform) == state


async def test_a_rename_in_the_file_renames_and_nothing_else(pg_platform: Platform, tmp_path: Path) -> None:
    async with pg_platform.database.session(TenantScope.system()) as session:
        await apply_manifest(session, load_manifest(demo_manifest_path()))
    changed = tmp_path / "renamed.yaml"
    changed.write_text(
        demo_manifest_path().read_text(encoding="utf-8").replace("丹阳市", "丹阳市（县级市）"),
        encoding="utf-8",
    )
    async with pg_platform.database.session(TenantScope.system()) as session:
        report = await apply_manifest(session, load_manifest(changed))
    assert report.renamed == ["321181"] and report.created == []


def big_manifest(bad_line: int) -> str:
    """A valid province with many counties, except that the tenant on ``bad_line`` sits under a county."""
    lines = ["version: 1", "tenants:", '  - code: "320000"', "    name: 江苏省", "    children:"]
    lines += ['      - code: "320100"', "        name: 南京市", "        children:"]
    n = 1
    while len(lines) + 2 < bad_line:
        lines += [f'          - code: "3201{n:02d}"', f"            name: 区{n}"]
        n += 1
    if len(lines) + 2 > bad_line:
        lines.insert(2, "# padding")
    lines += ["            children:", '              - code: "320198"', "                name: 错误县"]
    return "\n".join(lines) + "\n"


async def test_an_error_on_line_40_leaves_nothing_of_lines_1_to_39(pg_platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(big_manifest(40), encoding="utf-8")
    assert path.read_text(encoding="utf-8").splitlines()[40 - 1].strip() == '- code: "320198"'
    with pytest.raises(ManifestError) as caught:
        async with pg_platform.database.session(TenantScope.system()) as session:
            await apply_manifest(session, load_manifest(path))
    error = caught.value
    assert (error.file, error.line, error.field) == (str(path), 40, "parent_code")
    assert "市级或省级" in error.reason
    assert await tenant_rows(pg_platform) == []


async def test_a_failure_while_writing_rolls_everything_back(pg_platform: Platform) -> None:
    manifest = load_manifest(demo_manifest_path())

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with pg_platform.database.session(TenantScope.system()) as session:
            await apply_manifest(session, manifest)
            raise Boom
    assert await tenant_rows(pg_platform) == []


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ("version: 1\ntenants:\n  - code: 320000\n    name: [unclosed\n", 5, "-", "YAML"),
        ('version: 1\ntenants:\n  - code: "32000"\n    name: 江苏省\n', 3, "code", "格式不正确"),
        (
            'version: 1\ntenants:\n  - code: "320000"\n    name: 江苏省\n    colour: red\n',
            5,
            "colour",
            "不允许",
        ),
        ('version: 1\ntenants:\n  - code: "320000"\n', 3, "name", "必填"),
        (
            'version: 1\ntenants:\n  - code: "320000"\n    name: 甲\n  - code: "320000"\n    name: 乙\n',
            5,
            "code",
            "第 3 行",
        ),
        ("tenant:\n  - code: x\n", 1, "tenants", "tenants"),
        ('version: 1\ntenants:\n  - code: "320100"\n    name: 南京市\n', 3, "parent_code", "上级"),
    ],
)
async def test_malformed_manifests_name_file_line_and_field(
    pg_platform: Platform, tmp_path: Path, text: str, line: int, field: str, fragment: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        async with pg_platform.database.session(TenantScope.system()) as session:
            await apply_manifest(session, load_manifest(path))
    assert (caught.value.line, caught.value.field) == (line, field), caught.value
    assert fragment in caught.value.reason
    async with pg_platform.database.session(TenantScope.system()) as session:
        assert (await session.execute(select(func.count()).select_from(Tenant))).scalar() == 0


def test_cli_apply_reports_and_refuses_bad_files(pg_urls: dict[str, str], tmp_path: Path, monkeypatch: Any) -> None:
    # The CLI runs as the migration role, policed by the same RLS with system scope.
    monkeypatch.setenv("YINLING_DATABASE_URL", pg_urls["owner"])
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text(big_manifest(12), encoding="utf-8")
    result = runner.invoke(main, ["tenants", "apply", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:12: parent_code:" in result.output and "未做任何修改" in result.output
    result = runner.invoke(main, ["tenants", "apply", str(demo_manifest_path())])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["tenants", "apply", str(demo_manifest_path())])
    assert "未变 unchanged 8" in again.output
    assert os.environ["YINLING_DATABASE_URL"] == pg_urls["owner"]


PLUGINS_MANIFEST = """version: 1
tenants:
  - code: "320000"
    name: 江苏省
    plugins:
      sample: {policy: mandate, settings: {points_per_event: 4}}
    children:
      - code: "320100"
        name: 南京市
        children:
          - code: "320102"
            name: 玄武区
            plugins:
              sample:
                settings: {label: 玄武}
"""


async def test_the_plugins_section_sets_activation_and_settings_idempotently(
    pg_platform: Platform, tmp_path: Path
) -> None:
    from core.plugin_host.activation import effective_settings, load_snapshot, resolve
    from core.tenancy.tree import load_tree

    path = tmp_path / "plugins.yaml"
    path.write_text(PLUGINS_MANIFEST, encoding="utf-8")
    async with pg_platform.database.session(TenantScope.system()) as session:
        first = await apply_manifest(session, load_manifest(path), pg_platform.plugins)
    assert first.plugin_changes == [
        "320000:sample",
        "320000:sample:settings",
        "320102:sample",
        "320102:sample:settings",
    ]
    async with pg_platform.database.session(TenantScope.system()) as session:
        second = await apply_manifest(session, load_manifest(path), pg_platform.plugins)
        tree = await load_tree(session)
        snapshot = await load_snapshot(session)
    assert second.plugin_changes == [] and second.created == []
    county = tree.get("320102").id
    assert resolve(tree, snapshot, county, {"sample": ()})["sample"].reason_en == "mandated by 320000"
    values, origin = effective_settings(tree, snapshot, county, "sample", {"points_per_event": 1, "label": "示例"})
    assert values == {"points_per_event": 4, "label": "玄武"}
    assert origin == {"points_per_event": "320000", "label": "320102"}


@pytest.mark.parametrize(
    ("replace", "field", "fragment"),
    [
        ("sample: {policy: mandate, settings: {points_per_event: 4}}", "plugins.ghost", "没有安装名为 ghost"),
        ("sample: {policy: forbid}", "plugins.sample", "320000"),
        ("sample: {policy: mandate, settings: {points_per_event: 400}}", "plugins.sample", "不能大于 100"),
    ],
)
async def test_bad_plugin_directives_name_the_line_and_apply_nothing(
    pg_platform: Platform, tmp_path: Path, replace: str, field: str, fragment: str
) -> None:
    text = PLUGINS_MANIFEST
    if field == "plugins.ghost":
        text = text.replace("sample:\n                settings: {label: 玄武}", "ghost: enabled")
    elif "forbid" in replace:
        text = text.replace("sample: {policy: mandate, settings: {points_per_event: 4}}", replace).replace(
            "sample:\n                settings: {label: 玄武}", "sample: enabled"
        )
    else:
        text = text.replace("sample: {policy: mandate, settings: {points_per_event: 4}}", replace)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        async with pg_platform.database.session(TenantScope.system()) as session:
            await apply_manifest(session, load_manifest(path), pg_platform.plugins)
    assert caught.value.field == field and fragment in caught.value.reason, caught.value
    assert caught.value.line in (6, 14)
    assert await tenant_rows(pg_platform) == []
