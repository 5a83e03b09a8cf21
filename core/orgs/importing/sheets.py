"""Reading an uploaded workbook safely, and the look of the workbooks the platform writes.

An upload has been sniffed as a real .xlsx before it gets here (:mod:`core.storage.sniff`). Reading still
guards against what a small zip can unpack into, finds the header row wherever the bureau put it (a title
row above it is common), and keeps every row's number as Excel shows it, so errors point at the right line.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core.errors import ErrorSpec
from core.orgs.importing.columns import Column, cell_text, normalise_header

IMPORT_UNREADABLE = ErrorSpec(
    "import.unreadable",
    422,
    "无法读取这个 Excel 文件，它可能已损坏：请在 Excel 中打开确认无误，另存为 .xlsx 后再上传",
    "The Excel file cannot be read and may be damaged; open it in Excel, save it as .xlsx and upload again",
)
IMPORT_UNPACKED_TOO_LARGE = ErrorSpec(
    "import.unpacked_too_large",
    413,
    "文件解压后超过 {limit_mb} MB，请拆分成几个文件分批导入",
    "The file unpacks to more than {limit_mb} MB; split it into several files",
)
IMPORT_NO_HEADER = ErrorSpec(
    "import.no_header",
    422,
    "没有找到表头：前 {scan} 行中应有一行列名，至少包括“{required}”。请下载导入模板，按模板填写后再上传",
    "No header row: one of the first {scan} rows must name the columns, at least {required!r}. "
    "Download the import template and fill it in",
)
IMPORT_DUPLICATE_COLUMN = ErrorSpec(
    "import.duplicate_column",
    422,
    "“{header}”列出现了不止一次（第 {first} 列和第 {second} 列），请删除多余的一列后再上传",
    "The column {header!r} appears more than once (columns {first} and {second}); delete the extra one",
)
IMPORT_NO_ROWS = ErrorSpec(
    "import.no_rows",
    422,
    "文件中没有要导入的数据：表头下面是空的",
    "The file holds no rows to import: nothing below the header",
)
IMPORT_TOO_MANY_ROWS = ErrorSpec(
    "import.too_many_rows",
    422,
    "一个文件最多导入 {limit} 行，这个文件超过了，请拆分成几个文件分批导入",
    "A file may hold at most {limit} rows; split it into several files",
)

HEADER_SCAN_ROWS = 10
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")


@dataclass
class Sheet:
    """The rows of the sheet that holds the ledger, each with its row number as Excel shows it."""

    title: str
    header_row: int
    index: dict[str, int]  # column key -> position in the row
    headers: dict[str, str]  # column key -> header as written in the file
    ignored: list[str]  # headers that mean nothing to the import
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    read_seconds: float = 0.0

    def value(self, row: tuple[Any, ...], key: str) -> Any:
        position = self.index.get(key)
        if position is None or position >= len(row):
            return None
        return row[position]


def check_unpacked_size(data: bytes, limit: int = MAX_UNPACKED_BYTES) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise IMPORT_UNREADABLE.error(field="file") from exc
    if total > limit:
        raise IMPORT_UNPACKED_TOO_LARGE.error(field="file", limit_mb=limit // (1024 * 1024))


def estimate_rows(data: bytes, stop_after: int) -> int:
    """Rows of the largest worksheet, counted from its XML without building cells (cheap even for 50,000
    rows); counting stops past ``stop_after``. Used to decide between the request and the background."""
    check_unpacked_size(data)
    best = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if not _WORKSHEET.match(info.filename):
                continue
            count, tail = 0, b""
            with archive.open(info) as handle:
                while count <= stop_after:
                    chunk = handle.read(1 << 20)
                    if not chunk:
                        break
                    window = tail + chunk
                    count += len(_ROW_TAG.findall(window)) - len(_ROW_TAG.findall(tail))
                    tail = window[-64:]
            best = max(best, count)
    return best


def _map_headers(cells: Sequence[Any], columns: Sequence[Column]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for position, raw in enumerate(cells):
        name = normalise_header(raw)
        if not name:
            continue
        column = next((c for c in columns if name in c.names), None)
        if column is None:
            ignored.append(cell_text(raw))
            continue
        if column.key in index:
            raise IMPORT_DUPLICATE_COLUMN.error(
                field="file", header=column.header, first=index[column.key] + 1, second=position + 1
            )
        index[column.key] = position
        headers[column.key] = cell_text(raw)
    return index, headers, ignored


def read_sheet(data: bytes, columns: Sequence[Column], *, max_rows: int) -> Sheet:
    """The first worksheet whose header names the required column; blank rows are left out."""
    started = time.perf_counter()
    check_unpacked_size(data)
    required = next(c for c in columns if c.required)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise IMPORT_UNREADABLE.error(field="file") from exc
    try:
        for worksheet in workbook.worksheets:
            if hasattr(worksheet, "reset_dimensions"):
                worksheet.reset_dimensions()  # a wrong <dimension> written by another program must not cut rows
            rows = worksheet.iter_rows(values_only=True)
            sheet: Sheet | None = None
            for number, cells in enumerate(rows, start=1):
                if sheet is None:
                    if number > HEADER_SCAN_ROWS:
                        break
                    if any(normalise_header(c) in required.names for c in cells):
                        index, headers, ignored = _map_headers(cells, columns)
                        sheet = Sheet(str(worksheet.title), number, index, headers, ignored)
                    continue
                if not any(cell_text(c) for c in cells):
                    continue
                if len(sheet.rows) >= max_rows:
                    raise IMPORT_TOO_MANY_ROWS.error(field="file", limit=max_rows)
                sheet.rows.append((number, tuple(cells)))
            if sheet is not None:
                if not sheet.rows:
                    raise IMPORT_NO_ROWS.error(field="file")
                sheet.read_seconds = time.perf_counter() - started
                return sheet
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile, OSError) as exc:
        raise IMPORT_UNREADABLE.error(field="file") from exc
    finally:
        workbook.close()
    raise IMPORT_NO_HEADER.error(field="file", scan=HEADER_SCAN_ROWS, required=required.header)


# --- the look of what the platform writes ------------------------------------------------------------------

THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FONT = Font(name="宋体", bold=True, size=11)
HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
REQUIRED_FONT = Font(name="宋体", bold=True, size=11, color="C00000")
TITLE_FONT = Font(name="黑体", bold=True, size=16)
BODY_FONT = Font(name="宋体", size=11)
NOTE_FONT = Font(name="宋体", size=10, color="595959")
EXAMPLE_FONT = Font(name="宋体", size=11, italic=True, color="808080")
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def set_widths(worksheet: Any, widths: Iterable[float]) -> None:
    for position, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(position)].width = width


def printable(worksheet: Any, *, title_rows: str | None = None) -> None:
    """Landscape A4, fitted to one page wide (as many pages tall as needed), header repeated on each page."""
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = 9  # A4
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_options.horizontalCentered = True
    worksheet.page_margins.left = worksheet.page_margins.right = 0.4
    worksheet.page_margins.top = worksheet.page_margins.bottom = 0.5
    if title_rows:
        worksheet.print_title_rows = title_rows


def save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
