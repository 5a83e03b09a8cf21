"""The columns of the ledger's sheets and how a cell becomes a value (and a value a cell).

One definition serves the template (headers, explanations, drop-down lists), the import (which header means
which field, what a cell may hold) and the export (the same headers, in the same order).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.datetime import from_excel

from core.orgs.models import BranchKind, HealthClass, OrgLevel, RetirementType


class CellError(ValueError):
    """A cell that cannot become a value: ``zh``/``en`` say why, for a person to fix it."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(en)


@dataclass(frozen=True)
class Column:
    """One column: ``key`` (a ``MemberFields`` field, or ``branch``), its header and how to fill it in."""

    key: str
    header: str
    help_zh: str
    width: float
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text | date | choice | list
    choices: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    as_text: bool = False  # kept as text in Excel (ID numbers: Excel would turn 18 digits into 3.20102E+17)
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "names", frozenset({normalise_header(self.header), *map(normalise_header, self.aliases)})
        )


_PARENS = re.compile(r"[(（][^)）]*[)）]")
_SPACES = re.compile(r"[\s\u3000]+")


def normalise_header(raw: Any) -> str:
    """``" 健康状况（正常活动/…） *"`` → ``"健康状况"``: no spaces, no required-marks, no parenthesised hints."""
    if raw is None:
        return ""
    text = _SPACES.sub("", str(raw)).replace("*", "").replace("＊", "")
    return _PARENS.sub("", text)


YES = ("是", "否")
GENDERS = {"男": "male", "女": "female", "男性": "male", "女性": "female", "male": "male", "female": "female"}
GENDER_ZH = {"male": "男", "female": "女"}
RETIREMENT = {t.zh: t.value for t in RetirementType} | {t.value: t.value for t in RetirementType}
HEALTH = {h.zh: h.value for h in HealthClass} | {h.value: h.value for h in HealthClass}
_TRUE = {"是", "党员", "中共党员", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "非党员", "群众", "n", "no", "false", "0", "×"}

MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "必填，最多 64 个字。", 10, ("名字",), required=True, max_length=64),
    Column(
        "gender",
        "性别",
        "男 或 女。填了身份证号的可以不填（按身份证号）。",
        6,
        kind="choice",
        choices=("男", "女"),
    ),
    Column(
        "birth_date",
        "出生日期",
        "日期，如 1948-03-15。填了身份证号的可以不填；填了则须与身份证号一致。",
        12,
        ("出生年月日",),
        kind="date",
    ),
    Column(
        "id_number",
        "身份证号",
        "18 位，最后一位可以是 X。本列已设为文本格式，请勿改成数字格式，否则 Excel 会把后几位变成 0。"
        "同一单位内不能重复。",
        21,
        ("身份证号码", "公民身份号码", "身份证"),
        as_text=True,
    ),
    Column(
        "phone",
        "联系电话",
        "手机号 11 位，或座机号如 025-84561234。",
        14,
        ("电话", "手机", "手机号", "手机号码", "联系方式"),
        as_text=True,
    ),
    Column(
        "retirement_type",
        "离休/退休",
        "离休 或 退休；不填按退休。",
        9,
        ("离退休", "离休退休", "离退休类别", "离退休类型"),
        kind="choice",
        choices=tuple(t.zh for t in RetirementType),
    ),
    Column(
        "retired_on",
        "离退休日期",
        "日期，如 2008-03-31；不能早于出生日期，不能晚于今天。",
        12,
        ("离退休时间",),
        kind="date",
    ),
    Column("former_unit", "原工作单位", "最多 128 个字。", 24, ("原单位",), max_length=128),
    Column("former_rank", "原职级", "如 正处级、副厅级；最多 64 个字。", 12, ("职级", "原职务"), max_length=64),
    Column("is_party_member", "是否党员", "是 或 否；不填按是。", 9, ("党员",), kind="choice", choices=YES),
    Column(
        "party_joined_on",
        "入党日期",
        "日期，如 1972-07-01；不能早于出生日期，不能晚于今天。",
        12,
        ("入党时间",),
        kind="date",
    ),
    Column(
        "health_class",
        "健康状况（正常活动/适当参加活动/不能参加活动）",
        "正常活动、适当参加活动、不能参加活动 三选一；不填按正常活动。",
        16,
        ("健康与活动类别", "活动类别"),
        kind="choice",
        choices=tuple(h.zh for h in HealthClass),
    ),
    Column(
        "specialties",
        "特长（用、分隔）",
        "多项用“、”分隔，如 书法、法律；每项最多 32 个字。",
        18,
        kind="list",
    ),
    Column("residence_community", "居住社区", "最多 128 个字。", 16, ("社区", "现居住社区"), max_length=128),
    Column(
        "branch",
        "所在党支部",
        "组织关系所在的党支部，须是本单位已建立的党支部（可从下拉列表选择）；"
        "不同党委下有同名支部时写成“党委名/支部名”。可以不填。",
        22,
        ("党支部", "所在支部", "组织关系所在支部", "组织关系所在党支部"),
    ),
    Column("notes", "备注", "最多 2000 个字。", 20, max_length=2000),
)
MEMBER_COLUMN_BY_KEY = {c.key: c for c in MEMBER_COLUMNS}

LEVELS = {level.zh: level.value for level in OrgLevel} | {level.value: level.value for level in OrgLevel}
KINDS = {k.zh: k.value for k in BranchKind} | {k.value: k.value for k in BranchKind} | {"社区“家门口”支部": "community"}

BRANCH_COLUMNS: tuple[Column, ...] = (
    Column(
        "name", "名称", "必填，最多 128 个字；同一上级组织下不能重名。", 24, ("组织名称", "党组织名称"), required=True
    ),
    Column(
        "level",
        "层级",
        "党委、党总支、党支部、党小组 四选一。",
        10,
        ("组织层级", "类别"),
        kind="choice",
        choices=tuple(level.zh for level in OrgLevel),
        required=True,
    ),
    Column(
        "kind",
        "支部类型",
        "党支部填写：原单位支部、社区支部、社团支部、联合党支部；其他层级不填。",
        12,
        ("类型",),
        kind="choice",
        choices=tuple(k.zh for k in BranchKind),
    ),
    Column(
        "parent",
        "上级组织",
        "上级党组织的名称（本单位已有的，或本表中写在前面的）；重名时写成“党委名/支部名”。党委可以不填。",
        24,
        ("上级党组织", "上级"),
    ),
)


# --- cells to values ------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def cell_text(value: Any) -> str:
    """Any cell as trimmed text (whole numbers without ``.0``; dates as ``YYYY-MM-DD``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def parse_date(value: Any) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        # A date cell formatted as "General" shows Excel's serial day number (17607 is 1948-03-15).
        return (from_excel(value) if isinstance(value, float) else from_excel(float(value))).date()
    text = cell_text(value)
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                raise CellError(f"日期“{text}”不存在", f"the date {text!r} does not exist") from None
    raise CellError(
        f"日期格式不正确：“{text}”，请写成 1948-03-15 这样的完整日期",
        f"unrecognised date {text!r}; write a full date such as 1948-03-15",
    )


def parse_id_number(value: Any) -> str:
    """The ID number as text; a number Excel has rounded (``3.20102E+17``) cannot be recovered."""
    if isinstance(value, float) and abs(value) >= 1e15:
        raise CellError(
            "身份证号被 Excel 当成了数字，后几位已经丢失：请把本列设为“文本”格式后重新填写",
            "Excel stored the ID number as a number and lost its last digits; format the column as text",
        )
    return cell_text(value).replace(" ", "").upper()


def parse_phone(value: Any) -> str:
    """Digits as typed, without the spaces people put in (``138 1234 5678``)."""
    return re.sub(r"[\s\u3000]+", "", cell_text(value))


def parse_choice(value: Any, allowed: dict[str, str], header: str, shown: tuple[str, ...]) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    found = allowed.get(text) or allowed.get(text.lower())
    if found is None:
        raise CellError(
            f"“{text}”不是可选的值；{header}只能填：{'、'.join(shown)}",
            f"{text!r} is not allowed; {header} takes one of: {', '.join(shown)}",
        )
    return found


def parse_yes_no(value: Any, header: str) -> bool | None:
    text = cell_text(value).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"“{cell_text(value)}”不是可选的值；{header}只能填：是、否", f"{header} takes 是 or 否")


_LIST_SEPARATORS = re.compile(r"[、，,;；\n]+")


def parse_list(value: Any) -> list[str]:
    return [item.strip() for item in _LIST_SEPARATORS.split(cell_text(value)) if item.strip()]


def yes_no(value: bool) -> str:
    return "是" if value else "否"
