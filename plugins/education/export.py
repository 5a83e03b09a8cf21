"""The activity ledger as an Excel workbook (Chinese headers): what a bureau files with its yearly report.

Covers what the acting user reads (the subtree), for a date range; counsellors are named as the lists name them
(members by name, volunteers masked); children appear only as counts. A second sheet totals the range by kind.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.tenancy.tree import TenantNode, TenantTree
from plugins.education import service
from plugins.education.models import Activity, ActivityCounsellor, Counsellor, Station
from plugins.education.schemas import KIND_ZH

MAX_ROWS = 20_000
EXPORT_TOO_LARGE = ErrorSpec(
    "education.export_too_large",
    422,
    "这段时间共有 {count} 场活动，超过单次导出上限 {limit} 场：请缩短起止日期后分批导出",
    "{count} activities in this range, more than the {limit} one export may hold; export a shorter range",
)
COLUMNS: tuple[tuple[str, float], ...] = (
    ("序号", 6),
    ("所属单位", 10),
    ("活动日期", 11),
    ("活动名称", 26),
    ("活动类型", 12),
    ("辅导站", 24),
    ("时长（分钟）", 8),
    ("辅导员", 22),
    ("学生人次", 8),
    ("家长人次", 8),
    ("教师人次", 8),
)
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")


async def export_activities(
    session: AsyncSession,
    tenant: TenantNode,
    tree: TenantTree,
    since: datetime.date,
    until: datetime.date,
) -> tuple[bytes, int]:
    base = select(Activity).where(Activity.status == "recorded", Activity.held_on >= since, Activity.held_on <= until)
    count = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    if count > MAX_ROWS:
        raise EXPORT_TOO_LARGE.error(field="since", count=count, limit=MAX_ROWS)
    rows = (await session.execute(base.order_by(Activity.held_on, Activity.id))).scalars().all()
    ids = [r.id for r in rows]
    stations = dict((await session.execute(select(Station.id, Station.name))).tuples().all())
    leaders: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if ids:
        for activity_id, counsellor_id in (
            await session.execute(
                select(ActivityCounsellor.activity_id, ActivityCounsellor.counsellor_id).where(
                    ActivityCounsellor.activity_id.in_(ids)
                )
            )
        ).tuples():
            leaders[activity_id].append(counsellor_id)
    wanted = {c for cs in leaders.values() for c in cs}
    counsellors = (
        (await session.execute(select(Counsellor).where(Counsellor.id.in_(wanted)))).scalars().all() if wanted else []
    )
    names = {v.row.id: v.name for v in await service.counsellor_views(session, counsellors)}
    data = await asyncio.to_thread(_workbook, tenant, tree, since, until, rows, stations, leaders, names)
    return data, len(rows)


def _workbook(
    tenant: TenantNode,
    tree: TenantTree,
    since: datetime.date,
    until: datetime.date,
    rows: Sequence[Activity],
    stations: dict[uuid.UUID, str],
    leaders: dict[uuid.UUID, list[uuid.UUID]],
    names: dict[uuid.UUID, str],
) -> bytes:
    book = Workbook()
    sheet: Any = book.active
    sheet.title = "活动台账"
    sheet.append(
        [f"{tenant.name}校外教育辅导站活动台账（{since.isoformat()} 至 {until.isoformat()}），共 {len(rows)} 场"]
    )
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([name for name, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for n, r in enumerate(rows, start=1):
        node = tree.nodes.get(r.tenant_id)
        sheet.append(
            [
                n,
                node.name if node else str(r.tenant_id),
                r.held_on,
                r.title,
                KIND_ZH[r.kind],
                stations.get(r.station_id, ""),
                r.duration_minutes,
                "、".join(names.get(c, "") for c in sorted(leaders.get(r.id, []))),
                r.students,
                r.parents,
                r.teachers,
            ]
        )
        sheet.cell(row=sheet.max_row, column=3).number_format = "yyyy-mm-dd"
        total = totals[r.kind]
        total[0] += 1
        total[1] += r.duration_minutes
        total[2] += r.students
        total[3] += r.parents
        total[4] += r.teachers
    for position, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    summary: Any = book.create_sheet("按类型汇总")
    summary.append(["活动类型", "场次", "时长（分钟）", "学生人次", "家长人次", "教师人次"])
    for cell in summary[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for kind, label in KIND_ZH.items():
        if kind in totals:
            summary.append([label, *totals[kind]])
    summary.append(["合计", *(sum(t[i] for t in totals.values()) for i in range(5))])
    for cell in summary[summary.max_row]:
        cell.font = Font(bold=True)
    for position, width in enumerate((16, 8, 12, 10, 10, 10), start=1):
        summary.column_dimensions[get_column_letter(position)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
