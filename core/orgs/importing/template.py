"""The import templates: the data sheet (headers, drop-down lists, an example row), an explanation sheet.

The member template is made for one tenant: its ``所在党支部`` drop-down lists that tenant's branches, and
the example row uses its division code. The example row is recognised and left out on import, so a template
filled in below it uploads cleanly.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from core.orgs import idcard
from core.orgs.importing.columns import BRANCH_COLUMNS, MEMBER_COLUMNS, Column
from core.orgs.importing.sheets import (
    BODY_FONT,
    BORDER,
    CENTER,
    EXAMPLE_FONT,
    HEADER_FILL,
    HEADER_FONT,
    NOTE_FONT,
    REQUIRED_FONT,
    TITLE_FONT,
    WRAP,
    printable,
    save,
    set_widths,
)
from core.tenancy.tree import TenantNode

DATA_SHEET = "党员名册"
BRANCH_SHEET = "党组织"
HELP_SHEET = "填写说明"
LISTS_SHEET = "选项"
EXAMPLE_NAME = "王建国"
EXAMPLE_NOTE = "示例行：导入时自动跳过，可以删除"
#: Rows that get drop-down lists and formats (the import accepts up to ``MAX_ROWS``; more rows work, untyped).
TEMPLATE_ROWS = 5000
DATE_FORMAT = "yyyy-mm-dd"


def _header(sheet: Worksheet, columns: Sequence[Column], row: int = 1) -> None:
    for position, column in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=position, value=column.header)
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = CENTER
        comment = Comment(("必填。" if column.required else "") + column.help_zh, "银龄")
        comment.width, comment.height = 260, 110
        cell.comment = comment
    sheet.row_dimensions[row].height = 42
    set_widths(sheet, [c.width for c in columns])


def _formats(sheet: Worksheet, columns: Sequence[Column]) -> None:
    for position, column in enumerate(columns, start=1):
        dimension = sheet.column_dimensions[get_column_letter(position)]
        if column.as_text:
            dimension.number_format = "@"
        elif column.kind == "date":
            dimension.number_format = DATE_FORMAT


def _lists(sheet: Worksheet, lists: Worksheet, columns: Sequence[Column], extra: dict[str, list[str]]) -> None:
    """A drop-down for every column with fixed choices (kept on a hidden sheet: no 255-character limit)."""
    list_column = 0
    for position, column in enumerate(columns, start=1):
        choices = list(column.choices) or extra.get(column.key, [])
        if not choices:
            continue
        list_column += 1
        letter = get_column_letter(list_column)
        lists.cell(row=1, column=list_column, value=column.header)
        for offset, choice in enumerate(choices, start=2):
            lists.cell(row=offset, column=list_column, value=choice)
        source = f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${len(choices) + 1}"
        strict = bool(column.choices)  # branches may also be written as 党委名/支部名
        validation = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if strict else "warning",
            errorTitle=f"{column.header.split('（')[0]}填写有误",
            error=column.help_zh[:225],
            showInputMessage=True,
            promptTitle=column.header.split("（")[0][:32],
            prompt=column.help_zh[:250],
        )
        sheet.add_data_validation(validation)
        target = get_column_letter(position)
        validation.add(f"{target}2:{target}{TEMPLATE_ROWS + 1}")


def _id_length(sheet: Worksheet, columns: Sequence[Column]) -> None:
    position = next(i for i, c in enumerate(columns, start=1) if c.key == "id_number")
    letter = get_column_letter(position)
    validation = DataValidation(
        type="textLength",
        operator="equal",
        formula1="18",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="身份证号位数不对",
        error="身份证号应为 18 位（最后一位可以是 X）",
        showInputMessage=True,
        promptTitle="身份证号",
        prompt="18 位，最后一位可以是 X；本列是文本格式，请勿改成数字",
    )
    sheet.add_data_validation(validation)
    validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")


def _help_sheet(
    workbook: Workbook, title: str, notes: Sequence[str], columns: Sequence[Column], extra: dict[str, list[str]]
) -> None:
    sheet = workbook.create_sheet(HELP_SHEET)
    sheet.cell(row=1, column=1, value=title).font = TITLE_FONT
    row = 2
    for note in notes:
        sheet.cell(row=row, column=1, value=note).font = NOTE_FONT
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        sheet.cell(row=row, column=1).alignment = WRAP
        sheet.row_dimensions[row].height = 30
        row += 1
    row += 1
    for position, header in enumerate(("列名", "是否必填", "填写要求", "可选的值"), start=1):
        cell = sheet.cell(row=row, column=position, value=header)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
    header_row = row
    for column in columns:
        row += 1
        choices = list(column.choices) or extra.get(column.key, [])
        values = (column.header, "必填" if column.required else "选填", column.help_zh, "、".join(choices))
        for position, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=position, value=value)
            cell.font, cell.border, cell.alignment = BODY_FONT, BORDER, WRAP
    set_widths(sheet, (30, 10, 60, 40))
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    printable(sheet, title_rows=f"{header_row}:{header_row}")


def member_template(tenant: TenantNode, branches: list[str], today: datetime.date) -> bytes:
    """The member ledger template for one tenant; ``branches`` are its branches as the import accepts them."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    lists = workbook.create_sheet(LISTS_SHEET)
    extra = {"branch": branches}
    _header(sheet, MEMBER_COLUMNS)
    _formats(sheet, MEMBER_COLUMNS)
    _lists(sheet, lists, MEMBER_COLUMNS, extra)
    _id_length(sheet, MEMBER_COLUMNS)
    birth = datetime.date(1948, 3, 15)
    prefix = tenant.code if len(tenant.code) == 6 and tenant.code.isdigit() else "320102"
    example: dict[str, str | datetime.date] = {
        "name": EXAMPLE_NAME,
        "gender": "男",
        "birth_date": birth,
        "id_number": idcard.make(prefix, birth, 31, "male"),
        "phone": "13812345678",
        "retirement_type": "退休",
        "retired_on": datetime.date(2008, 3, 31),
        "former_unit": "市财政局",
        "former_rank": "正处级",
        "is_party_member": "是",
        "party_joined_on": datetime.date(1972, 7, 1),
        "health_class": "正常活动",
        "specialties": "书法、法律",
        "residence_community": "梅园新村社区",
        "branch": branches[0] if branches else "",
        "notes": EXAMPLE_NOTE,
    }
    for position, column in enumerate(MEMBER_COLUMNS, start=1):
        cell = sheet.cell(row=2, column=position, value=example.get(column.key) or None)
        cell.font, cell.border = EXAMPLE_FONT, BORDER
        if column.kind == "date":
            cell.number_format = DATE_FORMAT
        elif column.as_text:
            cell.number_format = "@"
    sheet.freeze_panes = "B2"
    printable(sheet, title_rows="1:1")
    lists.sheet_state = "hidden"
    no_branches = (
        "本单位还没有建立党支部：“所在党支部”一列请先空着，在组织管理中建立党支部后再补填。"
        if not branches
        else f"“所在党支部”可以从下拉列表中选择（本单位共 {len(branches)} 个党支部）。"
    )
    notes = (
        f"单位：{tenant.name}（{tenant.code}）　模板生成日期：{today.isoformat()}",
        "第 1 行是表头，请勿修改列名；从第 3 行起每行填一人。第 2 行是示例，导入时自动跳过，也可以删除。",
        "只有“姓名”必填（红色列名）；填了身份证号的，出生日期和性别可以不填，系统按身份证号填写。",
        "日期写成 1948-03-15；身份证号和联系电话两列是文本格式，请勿改成数字格式。" + no_branches,
        "上传后先校验所有行：只要有一处错误就不导入任何数据，并列出每处错误的行号、列名和原因；"
        "也可以选择只导入没有错误的行。一个文件最多 50000 行，超过 2000 行的在后台导入，可查看进度。",
        "身份证号已在本单位档案中的，按“重复”报错；选择“更新已有档案”时则用本表内容更新该档案（空白单元格不改动）。",
    )
    _help_sheet(workbook, "党员名册（一人一档）导入模板填写说明", notes, MEMBER_COLUMNS, extra)
    workbook.move_sheet(HELP_SHEET, offset=-1)
    workbook.active = 0
    return save(workbook)


def branch_template(tenant: TenantNode, today: datetime.date) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = BRANCH_SHEET
    lists = workbook.create_sheet(LISTS_SHEET)
    _header(sheet, BRANCH_COLUMNS)
    _lists(sheet, lists, BRANCH_COLUMNS, {})
    sheet.freeze_panes = "A2"
    printable(sheet, title_rows="1:1")
    lists.sheet_state = "hidden"
    notes = (
        f"单位：{tenant.name}（{tenant.code}）　模板生成日期：{today.isoformat()}",
        "第 1 行是表头，请勿修改列名；从第 2 行起每行填一个党组织。上级组织须写在下级前面（或已在系统中建立）。",
        "例：第 2 行 “老干部党委｜党委｜｜”，第 3 行 “梅园社区支部｜党支部｜社区支部｜老干部党委”，"
        "第 4 行 “第一党小组｜党小组｜｜老干部党委/梅园社区支部”。",
        "已有同名、同上级的组织不会重复建立。只要有一处错误就不导入任何数据，并列出每处错误的行号、列名和原因。",
    )
    _help_sheet(workbook, "党组织导入模板填写说明", notes, BRANCH_COLUMNS, {})
    workbook.move_sheet(HELP_SHEET, offset=-1)
    workbook.active = 0
    return save(workbook)
