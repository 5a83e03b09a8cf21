"""Importing the organisation tree from a sheet (名称, 层级, 支部类型, 上级组织), all or nothing.

Trees are small (hundreds of organisations per county), so this runs in the request's transaction, one
:func:`core.orgs.service.create_org` per row: the tree's own rules (which level sits under which, branch kinds)
and the audit trail apply unchanged. A parent is named like a member's branch (``名称`` or ``上级/名称``) and
may be an organisation already in the tenant or one created by an earlier row. An organisation that already
exists under the same parent with the same level is left as it is, so the same sheet can be uploaded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, ErrorSpec, zh_validation_message
from core.orgs import service
from core.orgs.importing.columns import BRANCH_COLUMNS, KINDS, LEVELS, CellError, cell_text, parse_choice
from core.orgs.importing.members import Directory, OrgEntry, RowError
from core.orgs.importing.sheets import Sheet
from core.orgs.models import BranchKind, OrgLevel
from core.orgs.schemas import OrgCreate

ORG_ROWS_INVALID = ErrorSpec(
    "org_import.rows_invalid",
    422,
    "文件中有 {count} 处错误（涉及 {rows} 行），没有导入任何党组织。请按每处错误的行号、列名和原因修改后重新上传",
    "The file has {count} errors in {rows} rows; nothing was imported. Fix each one and upload again",
)
_FIELD_COLUMN = {"name": "name", "level": "level", "kind": "kind", "parent_id": "parent"}
_PARENT_LEVELS = (OrgLevel.COMMITTEE.value, OrgLevel.GENERAL_BRANCH.value, OrgLevel.BRANCH.value)


@dataclass
class OrgImportResult:
    total: int
    created: int
    existing: int


async def import_orgs(session: AsyncSession, tenant_id: int, sheet: Sheet) -> OrgImportResult:
    """Create the sheet's organisations in ``tenant_id``; raise ``org_import.rows_invalid`` with every error."""
    directory = await Directory.load(session, tenant_id)
    columns = {c.key: c for c in BRANCH_COLUMNS}
    errors: list[RowError] = []
    failed_names: dict[str, int] = {}
    created = existing = 0

    def header(key: str) -> str:
        return sheet.headers.get(key) or columns[key].header

    for number, row in sheet.rows:
        row_errors: list[RowError] = []

        def fail(
            key: str, zh: str, en: str, code: str, row_errors: list[RowError] = row_errors, number: int = number
        ) -> None:
            row_errors.append(RowError(number, header(key), key, code, zh, en))

        name = cell_text(sheet.value(row, "name"))
        parent_text = cell_text(sheet.value(row, "parent"))
        level = kind = None
        if not name:
            fail("name", f"{header('name')}不能为空", "the name is required", "org_import.required")
        try:
            level = parse_choice(sheet.value(row, "level"), LEVELS, "层级", tuple(x.zh for x in OrgLevel))
            if level is None:
                fail("level", f"{header('level')}不能为空", "the level is required", "org_import.required")
        except CellError as exc:
            fail("level", exc.zh, exc.en, "org_import.cell_invalid")
        try:
            kind = parse_choice(sheet.value(row, "kind"), KINDS, "支部类型", tuple(k.zh for k in BranchKind))
        except CellError as exc:
            fail("kind", exc.zh, exc.en, "org_import.cell_invalid")
        parent_id = None
        if parent_text:
            try:
                parent_id = directory.resolve(parent_text, levels=_PARENT_LEVELS, what="上级组织")
            except CellError as exc:
                last = parent_text.replace("／", "/").split("/")[-1].strip()
                if last in failed_names:
                    zh = f"上级组织“{parent_text}”在第 {failed_names[last]} 行，该行有错误"
                    fail(
                        "parent",
                        zh,
                        f"the parent is on row {failed_names[last]}, which has errors",
                        "org_import.parent_failed",
                    )
                else:
                    fail("parent", exc.zh, exc.en, "org.parent_not_found")
        if not row_errors and name and level:
            same = [o for o in directory.by_id.values() if o.name == name and o.parent_id == parent_id]
            if same and same[0].level == level:
                existing += 1
                continue
            if same:
                shown = OrgLevel(same[0].level).zh
                fail(
                    "name",
                    f"同一上级下已有名为“{name}”的{shown}",
                    f"{name!r} already exists as a {same[0].level}",
                    "org_import.name_taken",
                )
            else:
                try:
                    data = OrgCreate(
                        name=name,
                        level=OrgLevel(level),
                        kind=BranchKind(kind) if kind else None,
                        parent_id=str(parent_id) if parent_id else None,
                    )
                    org = await service.create_org(session, tenant_id, data)
                except AppError as exc:
                    key = _FIELD_COLUMN.get(exc.field or "", "name")
                    fail(key, exc.message("zh"), exc.message("en"), exc.code)
                except ValidationError as exc:
                    for error in exc.errors():
                        key = _FIELD_COLUMN.get(str(error["loc"][0]) if error.get("loc") else "", "name")
                        message = zh_validation_message(str(error.get("type", "")), str(error.get("msg", "")))
                        fail(key, f"{header(key)}：{message}", str(error.get("msg", "")), "org_import.field_invalid")
                else:
                    directory.add(OrgEntry(org.id, org.name, org.level, org.parent_id, org.is_active))
                    created += 1
        if row_errors:
            errors.extend(row_errors)
            if name:
                failed_names[name] = number
    if errors:
        details: list[dict[str, Any]] = [e.as_dict() for e in errors]
        raise ORG_ROWS_INVALID.error(
            field="file", details=details, count=len(errors), rows=len({e.row for e in errors})
        )
    return OrgImportResult(total=len(sheet.rows), created=created, existing=existing)
