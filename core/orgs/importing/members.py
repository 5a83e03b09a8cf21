"""Every row of an uploaded ledger checked with the member rules, then written in one transaction.

Validation needs the database only twice, both loaded once per file: the tenant's organisations (to turn
``所在党支部`` into a branch) and the blind indexes of the ID numbers already in its ledger. Everything else is
pure and runs in a worker thread, a chunk at a time, so a long file neither blocks the event loop nor hides
its progress. The rules are the ledger's own: the field constraints of :class:`MemberFields` and
:func:`core.orgs.service.check_member_fields`, plus what only a file can get wrong (duplicates inside it).

Writing uses ORM ``add_all`` flushed every :data:`FLUSH_EVERY` rows: SQLAlchemy sends each flush as one
multi-row INSERT, and the audit recorder writes one audit row per member created (ID number and phone
redacted), as for a member entered by hand.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec, zh_validation_message
from core.orgs.importing.columns import (
    GENDERS,
    HEALTH,
    MEMBER_COLUMN_BY_KEY,
    MEMBER_COLUMNS,
    RETIREMENT,
    CellError,
    Column,
    cell_text,
    parse_choice,
    parse_date,
    parse_id_number,
    parse_list,
    parse_phone,
    parse_yes_no,
)
from core.orgs.importing.sheets import Sheet
from core.orgs.models import HealthClass, Member, Organization, OrgLevel, RetirementType
from core.orgs.schemas import MemberFields
from core.orgs.service import MEMBER_DUPLICATE, check_member_fields
from core.privacy.crypto import KeyRing, mask_id_number

FLUSH_EVERY = 1000
VALIDATE_CHUNK = 1000

ROWS_INVALID = ErrorSpec(
    "member_import.rows_invalid",
    422,
    "文件中有 {count} 处错误（涉及 {rows} 行），没有导入任何数据。请按每处错误的行号、列名和原因修改后重新上传；"
    "也可以选择“只导入没有错误的行”",
    "The file has {count} errors in {rows} rows; nothing was imported. Fix each one (row, column, reason) and "
    "upload again, or choose to import only the rows without errors",
)

# The messages of problems only an import can have (the member rules bring their own).
_REQUIRED = ("{header}不能为空", "{header} is required")
_GENDER_NEEDED = (
    "请填写性别（或填写身份证号，性别按身份证号）",
    "Give the sex, or an ID number to take it from",
)
_DUPLICATE_IN_FILE = ("身份证号与第 {others} 行重复", "The ID number repeats on row {others}")
_PHONE = (
    "联系电话格式不正确：手机号为 11 位数字，座机号如 025-84561234",
    "Invalid phone number: 11 digits for a mobile, e.g. 025-84561234 for a landline",
)


@dataclass(frozen=True)
class RowError:
    """One problem: the row as Excel numbers it, the column as the file names it, and why."""

    row: int | None
    column: str
    field: str
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "message": self.zh,
            "message_en": self.en,
        }


@dataclass
class CheckedRow:
    """A row after validation: the fields it sets, where it goes, and what is wrong with it."""

    row: int
    values: dict[str, Any]
    org_id: uuid.UUID | None = None
    org_given: bool = False
    id_number: str | None = None
    index: str | None = None
    gender: str | None = None
    birth_date: datetime.date | None = None
    update_of: uuid.UUID | None = None  # the existing record this row updates (on_duplicate=update)
    errors: list[RowError] = field(default_factory=list)


# --- the tenant's organisations, by name ------------------------------------------------------------------


@dataclass(frozen=True)
class OrgEntry:
    id: uuid.UUID
    name: str
    level: str
    parent_id: uuid.UUID | None
    is_active: bool


_PATH_SEPARATORS = re.compile(r"\s*[/／\\>＞]\s*")


class Directory:
    """The tenant's organisations, to turn what a sheet says (``支部名`` or ``党委名/支部名``) into one of them."""

    def __init__(self, orgs: Iterable[OrgEntry]) -> None:
        self.by_id = {o.id: o for o in orgs}
        self.paths = {o.id: self._path(o) for o in self.by_id.values()}
        self._cache: dict[tuple[str, tuple[str, ...]], uuid.UUID] = {}

    @classmethod
    async def load(cls, session: AsyncSession, tenant_id: int) -> Directory:
        rows = await session.execute(
            select(
                Organization.id, Organization.name, Organization.level, Organization.parent_id, Organization.is_active
            ).where(Organization.tenant_id == tenant_id)
        )
        return cls(OrgEntry(*row) for row in rows)

    def _path(self, org: OrgEntry) -> tuple[str, ...]:
        names = [org.name]
        seen = {org.id}
        parent = org.parent_id
        while parent is not None and parent in self.by_id and parent not in seen:
            seen.add(parent)
            names.append(self.by_id[parent].name)
            parent = self.by_id[parent].parent_id
        return tuple(reversed(names))

    def add(self, org: OrgEntry) -> None:
        """An organisation created while importing the tree (later rows may name it as their parent)."""
        self.by_id[org.id] = org
        self.paths[org.id] = self._path(org)
        self._cache.clear()

    def display(self, org_id: uuid.UUID) -> str:
        """The shortest ``a/b`` that names this organisation alone among those of its level."""
        path = self.paths[org_id]
        level = self.by_id[org_id].level
        for size in range(1, len(path) + 1):
            tail = path[-size:]
            if sum(1 for o, p in self.paths.items() if p[-size:] == tail and self.by_id[o].level == level) == 1:
                return "/".join(tail)
        return "/".join(path)

    def branch_choices(self) -> list[str]:
        """What the template offers in its ``所在党支部`` drop-down: every active branch, unambiguously."""
        branches = [o for o in self.by_id.values() if o.level == OrgLevel.BRANCH.value and o.is_active]
        return [self.display(o.id) for o in sorted(branches, key=lambda o: self.paths[o.id])]

    def resolve(
        self, text: str, *, levels: tuple[str, ...] = (OrgLevel.BRANCH.value,), what: str = "党支部"
    ) -> uuid.UUID:
        """The one active organisation of ``levels`` that ``text`` names; a :class:`CellError` saying why not."""
        segments = tuple(s for s in _PATH_SEPARATORS.split(text.strip()) if s)
        key = ("|".join(levels), segments)
        if key in self._cache:
            return self._cache[key]
        size = len(segments)
        named = [self.by_id[o] for o, path in self.paths.items() if size and path[-size:] == segments]
        fitting = [o for o in named if o.level in levels and o.is_active]
        if len(fitting) == 1:
            self._cache[key] = fitting[0].id
            return fitting[0].id
        if len(fitting) > 1:
            shown = "、".join("/".join(self.paths[o.id]) for o in fitting[:5])
            raise CellError(
                f"本单位有 {len(fitting)} 个名为“{text}”的{what}，请写成“上级组织名/{segments[-1]}”，如：{shown}",
                f"{len(fitting)} organisations are called {text!r}; write 'parent/name', e.g. {shown}",
            )
        if any(o.level in levels for o in named):
            raise CellError(f"{what}“{text}”已停用", f"the organisation {text!r} is deactivated")
        if named:
            level = OrgLevel(named[0].level)
            raise CellError(
                f"“{text}”是{level.zh}，不是{what}" + ("：组织关系只能落在党支部" if what == "党支部" else ""),
                f"{text!r} is a {level.value}, not a {'/'.join(levels)}",
            )
        raise CellError(
            f"本单位没有名为“{text}”的{what}，请先在组织管理中建立，或核对名称",
            f"this tenant has no organisation called {text!r}",
        )


# --- validating rows (pure: no database) ------------------------------------------------------------------


@dataclass
class Validation:
    """What validating a file needs besides its rows: loaded once, read by every chunk."""

    sheet: Sheet
    directory: Directory
    existing: dict[str, tuple[uuid.UUID, str]]  # blind index -> (member id, name) already in the ledger
    keys: KeyRing
    update_existing: bool = False
    today: datetime.date = field(default_factory=datetime.date.today)
    example: tuple[str, str] | None = None  # (name, notes) of the template's example row, skipped

    def header(self, key: str) -> str:
        return self.sheet.headers.get(key) or MEMBER_COLUMN_BY_KEY[key].header


def _cell_value(column: Column, raw: Any) -> Any:
    key = column.key
    if key == "id_number":
        return parse_id_number(raw) or None
    if key == "phone":
        return parse_phone(raw) or None
    if column.kind == "date":
        return parse_date(raw)
    if key == "gender":
        return parse_choice(raw, GENDERS, column.header, ("男", "女"))
    if key == "retirement_type":
        return parse_choice(raw, RETIREMENT, column.header, tuple(t.zh for t in RetirementType))
    if key == "health_class":
        return parse_choice(raw, HEALTH, "健康状况", tuple(h.zh for h in HealthClass))
    if key == "is_party_member":
        return parse_yes_no(raw, column.header)
    if key == "specialties":
        return parse_list(raw) or None
    return cell_text(raw) or None


def _pydantic_message(error: Any, header: str) -> tuple[str, str]:
    location = error.get("loc", ())
    kind = str(error.get("type", ""))
    english = str(error.get("msg", ""))
    if location and location[0] == "phone":
        return _PHONE
    zh = zh_validation_message(kind, english)
    if len(location) > 1 and isinstance(location[1], int):
        return f"{header}第 {location[1] + 1} 项：{zh}", f"{header} item {location[1] + 1}: {english}"
    return f"{header}：{zh}", f"{header}: {english}"


def is_example(row: tuple[Any, ...], validation: Validation) -> bool:
    if validation.example is None:
        return False
    name, notes = validation.example
    sheet = validation.sheet
    return cell_text(sheet.value(row, "name")) == name and cell_text(sheet.value(row, "notes")) == notes


def check_row(number: int, row: tuple[Any, ...], validation: Validation) -> CheckedRow:
    """One row: cells to values, the field constraints, the member rules, the branch, the ledger's IDs."""
    sheet = validation.sheet
    checked = CheckedRow(number, {})
    failed: set[str] = set()

    def fail(key: str, zh: str, en: str, code: str) -> None:
        failed.add(key)
        checked.errors.append(RowError(number, validation.header(key), key, code, zh, en))

    branch_text = ""
    for column in MEMBER_COLUMNS:
        if column.key not in sheet.index:
            continue
        raw = sheet.value(row, column.key)
        try:
            value = _cell_value(column, raw)
        except CellError as exc:
            fail(column.key, exc.zh, exc.en, "member_import.cell_invalid")
            continue
        if column.key == "branch":
            branch_text = value or ""
        elif value is not None:
            checked.values[column.key] = value
    if "name" not in checked.values and "name" not in failed:
        header = validation.header("name")
        fail("name", _REQUIRED[0].format(header=header), _REQUIRED[1].format(header=header), "member_import.required")

    try:
        MemberFields.model_validate(checked.values)
    except ValidationError as exc:
        for problem in exc.errors():
            key = str(problem["loc"][0]) if problem.get("loc") else "name"
            if key in failed:
                continue
            zh, en = _pydantic_message(problem, validation.header(key))
            fail(key, zh, en, "member_import.field_invalid")

    rules = check_member_fields(checked.values, today=validation.today)
    for error in rules.errors:
        key = error.field or "name"
        if key in failed:
            continue
        failed.add(key)
        checked.errors.append(
            RowError(number, validation.header(key), key, error.code, error.message("zh"), error.message("en"))
        )
    checked.birth_date = rules.birth_date
    if rules.card is not None:
        checked.id_number = rules.card.number
        checked.index = validation.keys.blind_index(rules.card.number)
    checked.gender = checked.values.get("gender") or (rules.card.gender if rules.card else None)
    if checked.gender is None and "gender" not in failed and "id_number" not in failed:
        fail("gender", *_GENDER_NEEDED, "member_import.gender_required")

    if branch_text:
        checked.org_given = True
        try:
            checked.org_id = validation.directory.resolve(branch_text)
        except CellError as exc:
            fail("branch", exc.zh, exc.en, "member.org_invalid")

    if checked.index is not None and checked.index in validation.existing:
        member_id, name = validation.existing[checked.index]
        if validation.update_existing:
            checked.update_of = member_id
        else:
            masked = mask_id_number(checked.id_number) or ""
            duplicate = MEMBER_DUPLICATE.error(field="id_number", masked=masked, name=name)
            checked.errors.append(
                RowError(
                    number,
                    validation.header("id_number"),
                    "id_number",
                    duplicate.code,
                    duplicate.message("zh"),
                    duplicate.message("en"),
                )
            )
    return checked


def check_rows(rows: Sequence[tuple[int, tuple[Any, ...]]], validation: Validation) -> tuple[list[CheckedRow], int]:
    """A chunk of rows (run in a worker thread); the second value counts example rows left out."""
    out: list[CheckedRow] = []
    examples = 0
    for number, row in rows:
        if is_example(row, validation):
            examples += 1
            continue
        out.append(check_row(number, row, validation))
    return out, examples


def mark_duplicates_in_file(rows: Sequence[CheckedRow], header: str) -> None:
    """The same ID number on several rows: each of them says which others (no row wins by position)."""
    by_index: dict[str, list[CheckedRow]] = {}
    for row in rows:
        if row.index is not None:
            by_index.setdefault(row.index, []).append(row)
    for group in by_index.values():
        if len(group) < 2:
            continue
        for row in group:
            others = "、".join(str(o.row) for o in group if o is not row)
            row.errors.append(
                RowError(
                    row.row,
                    header,
                    "id_number",
                    "member_import.duplicate_in_file",
                    _DUPLICATE_IN_FILE[0].format(others=others),
                    _DUPLICATE_IN_FILE[1].format(others=others),
                )
            )


# --- writing (one transaction, the caller's) ----------------------------------------------------------------

_SIMPLE = (
    "name",
    "phone",
    "retired_on",
    "former_unit",
    "former_rank",
    "is_party_member",
    "party_joined_on",
    "residence_community",
    "notes",
)


def _changes(row: CheckedRow) -> dict[str, Any]:
    """The column values a row sets, the way :func:`core.orgs.service.apply_member_fields` sets them."""
    values = row.values
    out = {key: values[key] for key in _SIMPLE if key in values}
    if row.id_number is not None:
        out["id_number"], out["id_number_index"] = row.id_number, row.index
    if row.birth_date is not None:
        out["birth_date"] = row.birth_date
    if row.gender is not None:
        out["gender"] = row.gender
    for key in ("retirement_type", "health_class"):
        if key in values:
            out[key] = values[key]
    if "specialties" in values:
        specialties = list(dict.fromkeys(values["specialties"]))
        out["specialties"], out["specialties_text"] = specialties, " ".join(specialties)
    if row.org_given:
        out["formal_org_id"] = row.org_id
    return out


_DEFAULTS: dict[str, Any] = {
    "retirement_type": RetirementType.TUIXIU.value,
    "former_unit": "",
    "former_rank": "",
    "is_party_member": True,
    "health_class": HealthClass.NORMAL.value,
    "specialties_text": "",
    "residence_community": "",
    "status": "active",
    "notes": "",
}


def new_member(tenant_id: int, row: CheckedRow) -> Member:
    """One constructor call (each attribute set once: this runs 10,000 times for a large file)."""
    return Member(tenant_id=tenant_id, **(_DEFAULTS | {"specialties": [], "extra": {}} | _changes(row)))


def update_member(member: Member, row: CheckedRow) -> None:
    """Set what the row gives (blank cells leave the record as it is); unchanged values are no change."""
    for key, value in _changes(row).items():
        if key == "id_number":
            continue  # the record was found by this very number
        if getattr(member, key) != value:
            setattr(member, key, value)


Progress = Callable[[int], Awaitable[None]]


async def write_rows(
    session: AsyncSession, tenant_id: int, rows: Sequence[CheckedRow], progress: Progress
) -> tuple[int, int]:
    """Create (and, with ``on_duplicate=update``, update) the members of clean rows; (created, updated)."""
    creates = [r for r in rows if r.update_of is None]
    updates = [r for r in rows if r.update_of is not None]
    done = 0
    for start in range(0, len(creates), FLUSH_EVERY):
        chunk = creates[start : start + FLUSH_EVERY]
        session.add_all([new_member(tenant_id, r) for r in chunk])
        await session.flush()
        session.expunge_all()  # the rows are written and audited: keep memory flat on long files
        done += len(chunk)
        await progress(done)
    for start in range(0, len(updates), FLUSH_EVERY):
        chunk = updates[start : start + FLUSH_EVERY]
        ids = [r.update_of for r in chunk]
        found = {
            m.id: m
            for m in (
                await session.execute(select(Member).where(Member.tenant_id == tenant_id, Member.id.in_(ids)))
            ).scalars()
        }
        for row in chunk:
            assert row.update_of is not None
            member = found.get(row.update_of)
            if member is not None:
                update_member(member, row)
        await session.flush()
        session.expunge_all()
        done += len(chunk)
        await progress(done)
    return len(creates), len(updates)


async def load_existing(session: AsyncSession, tenant_id: int) -> dict[str, tuple[uuid.UUID, str]]:
    """The blind indexes of the ID numbers already in the tenant's ledger (one query, no decryption)."""
    rows = await session.execute(
        select(Member.id_number_index, Member.id, Member.name).where(
            Member.tenant_id == tenant_id, Member.id_number_index.is_not(None)
        )
    )
    return {index: (member_id, name) for index, member_id, name in rows.tuples() if index}
