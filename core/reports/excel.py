"""A roll-up as an .xlsx a bureau can print: Chinese headers, units, the subtree's total and a row per child.

Landscape A4, fitted to one page wide, the header rows repeated on every printed page, numbers right-aligned
with thousands separators, rates as percentages, the previous period beside each figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core.plugin_host.declarations import Aggregation, MetricSpec
from core.reports.rollup import Rollup, Values

THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
TOTAL_FILL = PatternFill("solid", fgColor="F3F3F3")


def _cell_value(spec: MetricSpec, value: float | None) -> float | int | None:
    if value is None:
        return None
    if spec.aggregation is Aggregation.RATE:
        return round(value, 4)
    return int(value) if float(value).is_integer() else round(value, 2)


def _format(spec: MetricSpec) -> str:
    return "0.0%" if spec.aggregation is Aggregation.RATE else "#,##0.##"


def rollup_workbook(result: Rollup, specs: Sequence[MetricSpec], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "汇总"
    columns = 1 + 2 * len(specs)
    sheet.cell(row=1, column=1, value=title).font = Font(size=14, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(columns, 1))
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    sheet.cell(
        row=2, column=1, value=f"统计期间：{result.period.label}　对比期间：{result.previous_period.label}"
    ).font = Font(size=10)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(columns, 1))

    sheet.cell(row=3, column=1, value="单位")
    sheet.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    for i, spec in enumerate(specs):
        col = 2 + 2 * i
        unit = "" if spec.aggregation is Aggregation.RATE else f"（{spec.unit_zh}）"
        sheet.cell(row=3, column=col, value=f"{spec.label_zh}{unit}")
        sheet.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 1)
        sheet.cell(row=4, column=col, value="本期")
        sheet.cell(row=4, column=col + 1, value="上期")
    for row in (3, 4):
        for col in range(1, columns + 1):
            cell = sheet.cell(row=row, column=col)
            cell.font = Font(bold=True)
            cell.fill = HEAD_FILL
            cell.border = BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def write(row: int, name: str, values: Values, previous: Values, *, total: bool) -> None:
        sheet.cell(row=row, column=1, value=name)
        for i, spec in enumerate(specs):
            for offset, source in ((0, values), (1, previous)):
                figure = sheet.cell(row=row, column=2 + 2 * i + offset, value=_cell_value(spec, source.get(spec.id)))
                figure.number_format = _format(spec)
        for col in range(1, columns + 1):
            cell = sheet.cell(row=row, column=col)
            cell.border = BOX
            if total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL

    row = 5
    for child in result.children:
        write(row, child.node.name, child.values, child.previous, total=False)
        row += 1
    write(row, f"合计（{result.node.name}）", result.total.values, result.total.previous, total=True)
    row += 2
    sheet.cell(row=row, column=1, value="说明：比率由分子、分母分别汇总后计算，不对下级比率求平均。").font = Font(
        size=9
    )

    sheet.column_dimensions["A"].width = 22
    for col in range(2, columns + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 12
    sheet.freeze_panes = "B5"
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is not None:
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
