"""Excel exports with Chinese headers: the ranking (for 公示 and 评优) and a year's ledger."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.orgs.models import Member
from plugins.points.models import Entry

RANKING_HEADERS = ("排名", "姓名", "所在支部", "本年加减分", "总分", "星级", "评定结果")
LEDGER_HEADERS = (
    "日期",
    "姓名",
    "类型",
    "方面",
    "项目",
    "分值",
    "时长（小时）",
    "来源",
    "录入人",
    "审核人",
    "代录人",
    "代录原因",
    "本人同意",
    "备注",
)
KIND_ZH = {
    "event": "自动计分",
    "manual": "人工申报",
    "reversal": "冲销",
    "carry": "上年结转",
    "transfer_in": "转入",
    "transfer_out": "转出",
}


def _book(title: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for index, header in enumerate(headers, start=1):
        values = [len(str(row[index - 1] or "")) + 2 for row in rows if len(row) >= index]
        width = max([len(str(header)) * 2, *values])
        sheet.column_dimensions[get_column_letter(index)].width = min(width, 40)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ranking_workbook(rows: list[dict[str, Any]], title: str) -> bytes:
    return _book(
        title,
        RANKING_HEADERS,
        [
            (r["rank"], r["member_name"], r["branch"], float(r["points"]), float(r["score"]),
             "★" * r["stars"] if r["stars"] else "", r["rating_zh"])
            for r in rows
        ],
    )  # fmt: skip


async def ledger_workbook(session: AsyncSession, year: int) -> bytes:
    rows = (
        await session.execute(
            select(Entry, Member.name)
            .outerjoin(Member, (Member.tenant_id == Entry.tenant_id) & (Member.id == Entry.member_id))
            .where(Entry.year == year)
            .order_by(Entry.on_date, Entry.id)
        )
    ).all()
    return _book(
        f"{year} 年度积分台账",
        LEDGER_HEADERS,
        [
            (e.on_date, name or "", KIND_ZH.get(e.kind, e.kind), e.category, e.rule_code, float(e.points),
             float(e.hours) if e.hours is not None else None, e.source, e.entered_by, e.approved_by or "",
             e.proxy_by or "", e.proxy_reason or "", e.consent_note or "", e.note)
            for e, name in rows
        ],
    )  # fmt: skip
