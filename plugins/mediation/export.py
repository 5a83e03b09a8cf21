"""The case register (调解案件登记台账) as an Excel workbook with Chinese headers: the cases the caller may see,
without personal data beyond the parties' names (ID numbers and phones never leave through an export)."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.mediation import metrics, service
from plugins.mediation.models import Case, Party, Room
from plugins.mediation.schemas import MediationSettings

HEADERS = ("案号", "调解室", "纠纷类型", "来源", "案由", "当事人", "受理日期", "调解期限", "当前环节", "结果日期",
           "调解成功日期", "转交去向", "回访日期", "司法确认日期", "期限状态")  # fmt: skip
SOURCE_ZH = {"walk_in": "来访", "referral": "移交", "petition": "信访"}
REFERRAL_ZH = {"court": "人民法院", "committee": "人民调解委员会", "department": "有关部门"}
LIMIT_ZH = {"ok": "期限内", "due_soon": "即将到期", "overdue": "已超期", "closed": "已办结"}
MAX_ROWS = 20_000


async def workbook(session: AsyncSession, cases: Sequence[Case], settings: MediationSettings) -> bytes:
    rooms = {r.id: r.name for r in (await session.execute(select(Room))).scalars()}
    names: dict[object, list[str]] = defaultdict(list)
    ids = [c.id for c in cases]
    for start in range(0, len(ids), 1000):
        rows = await session.execute(
            select(Party.case_id, Party.name).where(Party.case_id.in_(ids[start : start + 1000])).order_by(Party.side)
        )
        for case_id, name in rows.tuples():
            names[case_id].append(name)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "调解案件登记台账"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for case in cases:
        limit = service.time_limit(case, settings)
        referral = REFERRAL_ZH.get(case.referred_to or "", "")
        sheet.append(
            [
                case.number,
                rooms.get(case.room_id, ""),
                metrics.TYPE_ZH[case.case_type][0],
                SOURCE_ZH.get(case.source, case.source),
                case.title,
                "、".join(names.get(case.id, [])),
                case.received_on,
                case.deadline,
                service.STATUS_ZH.get(case.status, case.status),
                case.outcome_on,
                case.settled_on,
                f"{referral} {case.referred_to_name}".strip(),
                case.followed_up_on,
                case.confirmed_on,
                LIMIT_ZH[limit.state],
            ]
        )
    for column, width in zip(
        "ABCDEFGHIJKLMNO", (22, 20, 12, 8, 30, 24, 12, 12, 10, 12, 12, 20, 12, 12, 10), strict=True
    ):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.column in (7, 8, 10, 11, 13, 14):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
