"""Excel export of the expert list (Chinese headers), for the bureau's own ledgers and reports. No personal data
beyond what the list shows (name, age, fields, skills, title, availability, standing)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from plugins.talent_pool.schemas import AVAILABILITY_ZH, ProfileOut

HEADERS = ("姓名", "年龄", "专业领域", "专长", "职称", "服务时间", "愿意外出", "状态", "入库日期", "下次复审")
STATUS_ZH = {"pending": "待审核", "admitted": "已入库", "rejected": "未通过", "retired": "已退出"}


def experts_workbook(rows: list[ProfileOut], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "专家名录"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for p in rows:
        sheet.append(
            [
                p.name,
                p.age,
                "、".join(p.fields),
                "、".join(p.skills),
                p.title,
                AVAILABILITY_ZH.get(p.availability, p.availability),
                "是" if p.willing_to_travel else "否",
                STATUS_ZH.get(p.status, p.status),
                p.admitted_on.isoformat() if p.admitted_on else "",
                p.next_review_on.isoformat() if p.next_review_on else "",
            ]
        )
    for column, width in zip("ABCDEFGHIJ", (10, 6, 18, 30, 14, 10, 8, 8, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
