"""Declarative tenant manifests: ``yinling tenants apply FILE``.

The manifest is a nested tree (see ``tenants/README.md``). Applying it creates missing tenants and renames
changed ones, in one transaction: it is checked whole before anything is written, and any error names the
file, line and field and leaves the database as it was. Applying the same file twice changes nothing.
Tenants absent from the file are left alone (a manifest never deletes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, ErrorSpec, zh_validation_message
from core.tenancy import service
from core.tenancy.models import TenantLevel
from core.tenancy.schemas import DivisionCode, TenantName
from core.tenancy.tree import TenantNode, TenantTree, load_tree

if TYPE_CHECKING:
    from core.plugin_host.host import PluginHost

MANIFEST_INVALID = ErrorSpec(
    "manifest.invalid",
    422,
    "{file} 第 {line} 行，字段 {field}：{reason}",
    "{file} line {line}, field {field}: {reason_en}",
)


class ManifestError(Exception):
    def __init__(self, file: str, line: int, field: str, reason: str, reason_en: str | None = None) -> None:
        self.file, self.line, self.field, self.reason = file, line, field, reason
        self.reason_en = reason_en or reason
        super().__init__(f"{file}:{line}: {field}: {reason}")

    def as_app_error(self) -> AppError:
        return MANIFEST_INVALID.error(
            field=self.field, file=self.file, line=self.line, reason=self.reason, reason_en=self.reason_en
        )


class PluginDirective(BaseModel):
    """What a tenant says about one plugin: its own state, a policy for its subtree, settings overrides."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["enabled", "disabled", "inherit"] | None = None
    policy: Literal["mandate", "forbid", "none"] | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class TenantEntry(BaseModel):
    """One tenant in the manifest; ``children`` nest below it."""

    model_config = ConfigDict(extra="forbid")

    code: DivisionCode
    name: TenantName
    level: TenantLevel | None = None
    plugins: dict[str, PluginDirective | Literal["enabled", "disabled", "inherit"]] = Field(default_factory=dict)
    children: list[dict[str, Any]] = Field(default_factory=list)


@dataclass
class Located:
    """A YAML mapping with the line of each of its keys (1-based)."""

    value: dict[str, Any]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)


class _LineLoader(yaml.SafeLoader):
    """Keeps, for every mapping, the line of the mapping and of each key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__key_lines__"] = {
        str(key_node.value): key_node.start_mark.line + 1
        for key_node, _ in node.value
        if isinstance(key_node, yaml.ScalarNode)
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in {"__line__", "__key_lines__"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@dataclass
class PlannedTenant:
    entry: TenantEntry
    parent_code: str | None
    line: int
    key_lines: dict[str, int]
    plugin_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Manifest:
    file: str
    tenants: list[PlannedTenant]


def load_manifest(path: Path) -> Manifest:
    """Parse and check the shape of a manifest; raise :class:`ManifestError` at the first problem."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(file, 0, "-", f"无法读取文件：{exc.strerror}", f"cannot read: {exc.strerror}") from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise ManifestError(
            file, line, "-", f"YAML 格式错误：{getattr(exc, 'problem', exc)}", "YAML syntax error"
        ) from exc
    if not isinstance(data, dict) or "tenants" not in data:
        raise ManifestError(file, 1, "tenants", "缺少顶层字段 tenants（单位列表）", "missing top-level 'tenants' list")
    version = data.get("version", 1)
    if version != 1:
        raise ManifestError(
            file, data["__key_lines__"].get("version", 1), "version", "只支持 version: 1", "only version 1"
        )
    unknown = set(data) - {"version", "tenants", "__line__", "__key_lines__"}
    if unknown:
        key = sorted(unknown)[0]
        raise ManifestError(file, data["__key_lines__"].get(key, 1), key, "未知的顶层字段", "unknown top-level field")
    roots = data["tenants"]
    if not isinstance(roots, list):
        raise ManifestError(file, data["__key_lines__"]["tenants"], "tenants", "应为列表", "must be a list")
    planned: list[PlannedTenant] = []
    seen: dict[str, int] = {}

    def walk(items: list[Any], parent_code: str | None, list_line: int) -> None:
        for raw in items:
            if not isinstance(raw, dict):
                raise ManifestError(
                    file,
                    list_line,
                    "tenants",
                    "每个单位应为一个映射（code、name …）",
                    "each tenant is a mapping",
                )
            line: int = raw.get("__line__", list_line)
            key_lines: dict[str, int] = raw.get("__key_lines__") or {}
            try:
                entry = TenantEntry.model_validate(_strip(raw))
            except ValidationError as exc:
                first = exc.errors()[0]
                loc = str(first["loc"][0]) if first["loc"] else "-"
                raise ManifestError(
                    file,
                    key_lines.get(loc, line),
                    loc,
                    zh_validation_message(first["type"], first["msg"]),
                    first["msg"],
                ) from exc
            if entry.code in seen:
                raise ManifestError(
                    file,
                    key_lines.get("code", line),
                    "code",
                    f"代码 {entry.code} 在第 {seen[entry.code]} 行已出现过",
                    f"code repeated (first on line {seen[entry.code]})",
                )
            seen[entry.code] = key_lines.get("code", line)
            raw_plugins = raw.get("plugins")
            plugin_lines = raw_plugins.get("__key_lines__", {}) if isinstance(raw_plugins, dict) else {}
            planned.append(PlannedTenant(entry, parent_code, line, key_lines, plugin_lines))
            walk(raw.get("children") or [], entry.code, key_lines.get("children", line))

    walk(roots, None, data["__key_lines__"]["tenants"])
    return Manifest(file=file, tenants=planned)


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    plugin_changes: list[str] = field(default_factory=list)


def _virtual_tree(
    tree: TenantTree, planned: PlannedTenant, level: TenantLevel, parent: TenantNode | None
) -> TenantTree:
    """Add a not-yet-written tenant to the in-memory tree so the rest of the file is checked against it."""
    fake_id = -(len(tree.nodes) + 1)
    node = TenantNode(
        id=fake_id,
        code=planned.entry.code,
        name=planned.entry.name,
        level=level,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{fake_id}/",
        is_active=True,
    )
    return TenantTree.build([*tree.nodes.values(), node])


def check_against(tree: TenantTree, manifest: Manifest) -> None:
    """Check every placement in the manifest against the database's tree before writing anything."""
    for planned in manifest.tenants:
        entry = planned.entry
        level = entry.level or TenantLevel.from_code(entry.code)
        existing = tree.find(entry.code)
        where = planned.key_lines.get("code", planned.line)
        if existing is not None:
            current_parent = tree.nodes.get(existing.parent_id) if existing.parent_id is not None else None
            current_parent_code = current_parent.code if current_parent else None
            if current_parent_code != planned.parent_code:
                err = service.PARENT_CHANGE.error(
                    code=entry.code, old=current_parent_code or "-", new=planned.parent_code or "-"
                )
                raise ManifestError(manifest.file, where, "code", err.message("zh"), err.message("en"))
            if existing.level is not level:
                raise ManifestError(
                    manifest.file,
                    planned.key_lines.get("level", where),
                    "level",
                    f"单位 {entry.code} 已登记为{existing.level.zh}，不能改为{level.zh}",
                    f"{entry.code} is already a {existing.level.value}",
                )
            continue
        try:
            service.check_placement(tree, entry.code, level, planned.parent_code)
        except AppError as err:
            raise ManifestError(
                manifest.file,
                planned.key_lines.get(err.field or "code", where),
                err.field or "code",
                err.message("zh"),
                err.message("en"),
            ) from err
        parent = tree.find(planned.parent_code) if planned.parent_code else None
        tree = _virtual_tree(tree, planned, level, parent)


def check_plugins(manifest: Manifest, host: PluginHost | None) -> None:
    """Every plugin named must be installed (reported at its line)."""
    for planned in manifest.tenants:
        for name in planned.entry.plugins:
            if host is None or name not in host.plugins:
                line = planned.plugin_lines.get(name, planned.key_lines.get("plugins", planned.line))
                raise ManifestError(
                    manifest.file,
                    line,
                    f"plugins.{name}",
                    f"没有安装名为 {name} 的插件（工作项目）",
                    f"no plugin named {name} is installed",
                )


async def apply_plugins(session: AsyncSession, manifest: Manifest, host: PluginHost, report: ApplyReport) -> None:
    from core.plugin_host import service as plugins
    from core.plugin_host.activation import load_snapshot

    tree = await load_tree(session)
    for planned in manifest.tenants:
        tenant = tree.get(planned.entry.code)
        for name, raw in planned.entry.plugins.items():
            directive = raw if isinstance(raw, PluginDirective) else PluginDirective(state=raw)
            line = planned.plugin_lines.get(name, planned.key_lines.get("plugins", planned.line))
            snapshot = await load_snapshot(session)
            own = snapshot.own(tenant.id, name)
            wanted_state = None if directive.state in (None, "inherit") else directive.state
            wanted_policy = None if directive.policy in (None, "none") else directive.policy
            try:
                if (
                    own is None
                    or (directive.state is not None and own.state != wanted_state)
                    or (directive.policy is not None and own.policy != wanted_policy)
                ):
                    await plugins.change_activation(
                        session,
                        host,
                        tree,
                        tenant,
                        name,
                        state=directive.state,
                        policy=directive.policy,
                        actor="manifest",
                        snapshot=snapshot,
                    )
                    report.plugin_changes.append(f"{tenant.code}:{name}")
                if directive.settings and any(
                    (own.settings if own else {}).get(k) != v for k, v in directive.settings.items()
                ):
                    await plugins.change_settings(
                        session,
                        host,
                        tree,
                        tenant,
                        name,
                        directive.settings,
                        actor="manifest",
                        snapshot=await load_snapshot(session),
                    )
                    report.plugin_changes.append(f"{tenant.code}:{name}:settings")
            except AppError as err:
                raise ManifestError(
                    manifest.file, line, f"plugins.{name}", err.message("zh"), err.message("en")
                ) from err


async def apply_manifest(session: AsyncSession, manifest: Manifest, host: PluginHost | None = None) -> ApplyReport:
    """Apply in the caller's transaction (system scope); the caller commits, or rolls back on any exception."""
    tree = await load_tree(session)
    check_against(tree, manifest)
    check_plugins(manifest, host)
    report = ApplyReport()
    for planned in manifest.tenants:
        entry = planned.entry
        existing = tree.find(entry.code)
        if existing is None:
            await service.create_tenant(
                session, tree, service.NewTenant(entry.code, entry.name, planned.parent_code, entry.level)
            )
            report.created.append(entry.code)
            tree = await load_tree(session)
        elif existing.name != entry.name:
            row = await service.get_row(session, entry.code)
            row.name = entry.name
            await session.flush()
            report.renamed.append(entry.code)
            tree = await load_tree(session)
        else:
            report.unchanged.append(entry.code)
    if host is not None and any(p.entry.plugins for p in manifest.tenants):
        await apply_plugins(session, manifest, host, report)
    return report
