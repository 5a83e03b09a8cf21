"""Exports of the ledger and of the organisation tree: what a bureau prints and files.

Each export covers what the acting user reads (the acting tenant's subtree: a city's export lists its
counties' members), masks ID numbers and phones exactly as the lists do, opens with a title row (tenant,
export date, count), keeps the header frozen and repeated on every printed page, and prints landscape, one
page wide. The ledger streams from the database in batches into a write-only workbook, ciphertext is
decrypted and masked in a worker thread, so a large export neither holds every row in memory nor blocks
the event loop. Every export is audited (who, which filters, how many people).
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import arecord
from core.errors import ErrorSpec
from core.orgs.importing.columns import GENDER_ZH, yes_no
from core.orgs.importing.members import Directory, OrgEntry
from core.orgs.importing.sheets import (
    BORDER,
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    NOTE_FONT,
    TITLE_FONT,
    printable,
    save,
)
from core.orgs.models import BranchKind, HealthClass, Member, Organization, OrgLevel, RetirementType
from core.orgs.service import age_on
from core.privacy.crypto import mask_id_number, mask_phone, ring
from core.tenancy.tree import TenantNode, TenantTree

MAX_EXPORT_ROWS = 50_000  # about 25 s of openpyxl writing on a 2-core machine; more needs filters
BATCH = 2000

EXPORT_TOO_LARGE = ErrorSpec(
    "member_export.too_large",
    422,
    "符合条件的有 {count} 人，超过单次导出上限 {limit} 人：请按单位、党支部或其他条件筛选后分批导出",
    "{count} people match, more than the {limit} one export may hold; narrow the filters and export in parts",
)

STATUS_ZH = {"active": "在册", "transferred_out": "已转出", "deceased": "已去世"}
MASK_NOTE = "身份证号、联系电话已隐去部分数字"

#: (header, width) of the ledger export; the member columns keep the template's names (without hints).
MEMBER_EXPORT: tuple[tuple[str, float], ...] = (
    ("序号", 6),
    ("所属单位", 10),
    ("姓名", 9),
    ("性别", 5),
    ("出生日期", 11),
    ("年龄", 5),
    ("身份证号", 20),
    ("联系电话", 13),
    ("离休/退休", 7),
    ("离退休日期", 11),
    ("原工作单位", 20),
    ("原职级", 10),
    ("是否党员", 6),
    ("入党日期", 11),
    ("健康状况", 12),
    ("特长", 14),
    ("居住社区", 14),
    ("所在党支部", 18),
    ("状态", 6),
    ("备注", 18),
)
ORG_EXPORT: tuple[tuple[str, float], ...] = (
    ("序号", 6),
    ("所属单位", 10),
    ("名称", 24),
    ("层级", 8),
    ("支部类型", 12),
    ("上级组织", 28),
    ("地址", 28),
    ("成立日期", 11),
    ("党员人数", 8),
    ("状态", 8),
)


class _Book:
    """A write-only workbook with a title, a subtitle, a frozen header row, widths and print settings."""

    def __init__(self, sheet_title: str, title: str, subtitle: str, columns: Sequence[tuple[str, float]]) -> None:
        self.workbook = Workbook(write_only=True)
        sheet = self.workbook.create_sheet(sheet_title)
        self.sheet = sheet
        last = get_column_letter(len(columns))
        for position, (_, width) in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(position)].width = width
        sheet.freeze_panes = "A4"
        printable(sheet, title_rows="3:3")
        sheet.merged_cells.add(CellRange(f"A1:{last}1"))
        sheet.merged_cells.add(CellRange(f"A2:{last}2"))
        sheet.row_dimensions[1].height = 30
        sheet.row_dimensions[3].height = 30
        heading = WriteOnlyCell(sheet, title)
        heading.font, heading.alignment = TITLE_FONT, CENTER
        sheet.append([heading])
        note = WriteOnlyCell(sheet, subtitle)
        note.font = NOTE_FONT
        sheet.append([note])
        headers = []
        for header, _ in columns:
            cell = WriteOnlyCell(sheet, header)
            cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
            headers.append(cell)
        sheet.append(headers)
        self.rows = 0
        self.last = last

    def append(self, values: Sequence[Any]) -> None:
        self.sheet.append(values)
        self.rows += 1

    def finish(self) -> bytes:
        if self.rows:
            self.sheet.auto_filter.ref = f"A3:{self.last}{self.rows + 3}"
        return save(self.workbook)


def _subtitle(today: datetime.date, count: int, unit: str, filters: dict[str, Any]) -> str:
    parts = [f"导出日期：{today.isoformat()}", f"共 {count} {unit}"]
    shown = {k: v for k, v in filters.items() if v not in (None, "")}
    if shown:
        parts.append("筛选条件：" + "，".join(f"{k}={v}" for k, v in shown.items()))
    return "　".join(parts)


async def _directories(session: AsyncSession) -> dict[int, Directory]:
    """One :class:`Directory` per tenant of the scope (branch names are unique within a tenant)."""
    rows = await session.execute(
        select(
            Organization.tenant_id,
            Organization.id,
            Organization.name,
            Organization.level,
            Organization.parent_id,
            Organization.is_active,
        )
    )
    grouped: dict[int, list[OrgEntry]] = {}
    for tenant_id, org_id, name, level, parent_id, is_active in rows.tuples():
        grouped.setdefault(tenant_id, []).append(OrgEntry(org_id, name, level, parent_id, is_active))
    return {tenant_id: Directory(entries) for tenant_id, entries in grouped.items()}


class _Names:
    """Display names of organisations, worked out once each."""

    def __init__(self, directories: dict[int, Directory]) -> None:
        self.directories = directories
        self.cache: dict[uuid.UUID, str] = {}

    def __call__(self, tenant_id: int, org_id: uuid.UUID | None) -> str:
        if org_id is None:
            return ""
        if org_id not in self.cache:
            directory = self.directories.get(tenant_id)
            self.cache[org_id] = directory.display(org_id) if directory and org_id in directory.by_id else ""
        return self.cache[org_id]


def _decrypt_mask(token: str | None, mask: Any) -> str:
    if not token:
        return ""
    return str(mask(ring().decrypt(token)) or "")


def _member_rows(
    book: _Book, rows: Sequence[Any], start: int, tree: TenantTree, names: _Names, today: datetime.date
) -> None:
    """Write one batch (in a worker thread: decrypting and masking cost a few microseconds a cell)."""
    for offset, row in enumerate(rows):
        health = HealthClass(row.health_class)
        book.append(
            (
                start + offset,
                tree.nodes[row.tenant_id].name if row.tenant_id in tree.nodes else "",
                row.name,
                GENDER_ZH.get(row.gender, row.gender),
                row.birth_date,
                age_on(row.birth_date, today),
                _decrypt_mask(row.id_cipher, mask_id_number),
                _decrypt_mask(row.phone_cipher, mask_phone),
                RetirementType(row.retirement_type).zh,
                row.retired_on,
                row.former_unit,
                row.former_rank,
                yes_no(row.is_party_member),
                row.party_joined_on,
                health.zh,
                "、".join(row.specialties or []),
                row.residence_community,
                names(row.tenant_id, row.formal_org_id),
                STATUS_ZH.get(row.status, row.status),
                row.notes,
            )
        )


async def export_members(
    session: AsyncSession,
    tenant: TenantNode,
    tree: TenantTree,
    query: Any,
    filters: dict[str, Any],
    today: datetime.date,
) -> tuple[bytes, int]:
    """The members ``query`` (a :func:`core.orgs.service.search_query`) selects, as a workbook."""
    count = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if count > MAX_EXPORT_ROWS:
        raise EXPORT_TOO_LARGE.error(field="filters", count=count, limit=MAX_EXPORT_ROWS)
    names = _Names(await _directories(session))
    title = f"{tenant.name}离退休干部名册"
    book = _Book("名册", title, _subtitle(today, count, "人", filters) + "　" + MASK_NOTE, MEMBER_EXPORT)
    columns = query.with_only_columns(
        Member.tenant_id,
        Member.name,
        Member.gender,
        Member.birth_date,
        type_coerce(Member.id_number, String()).label("id_cipher"),
        type_coerce(Member.phone, String()).label("phone_cipher"),
        Member.retirement_type,
        Member.retired_on,
        Member.former_unit,
        Member.former_rank,
        Member.is_party_member,
        Member.party_joined_on,
        Member.health_class,
        Member.specialties,
        Member.residence_community,
        Member.formal_org_id,
        Member.status,
        Member.notes,
        maintain_column_froms=True,
    ).order_by(Member.tenant_id, Member.name, Member.id)
    result = await session.stream(columns.execution_options(yield_per=BATCH))
    written = 0
    async for batch in result.partitions(BATCH):
        await asyncio.to_thread(_member_rows, book, batch, written + 1, tree, names, today)
        written += len(batch)
    data = await asyncio.to_thread(book.finish)
    await arecord(
        session,
        action="export",
        entity_type="member",
        entity_id=f"{tenant.id},export",
        tenant_id=tenant.id,
        after={"filters": {k: v for k, v in filters.items() if v not in (None, "")}, "rows": written},
    )
    return data, written


async def export_orgs(
    session: AsyncSession, tenant: TenantNode, tree: TenantTree, include_inactive: bool, today: datetime.date
) -> tuple[bytes, int]:
    query = select(Organization)
    if not include_inactive:
        query = query.where(Organization.is_active)
    orgs = (await session.execute(query)).scalars().all()
    counts = {
        (tenant_id, org_id): n
        for tenant_id, org_id, n in (
            await session.execute(
                select(Member.tenant_id, Member.formal_org_id, func.count())
                .where(Member.status == "active", Member.formal_org_id.is_not(None))
                .group_by(Member.tenant_id, Member.formal_org_id)
            )
        ).tuples()
    }
    directories = await _directories(session)
    names = _Names(directories)

    def order(org: Organization) -> tuple[Any, ...]:
        directory = directories.get(org.tenant_id)
        path = directory.paths.get(org.id, (org.name,)) if directory else (org.name,)
        return (tree.nodes[org.tenant_id].code if org.tenant_id in tree.nodes else "", path)

    rows = sorted(orgs, key=order)
    title = f"{tenant.name}离退休干部党组织名册"
    book = _Book("党组织", title, _subtitle(today, len(rows), "个党组织", {}), ORG_EXPORT)
    for number, org in enumerate(rows, start=1):
        kind = BranchKind(org.kind).zh if org.kind else ""
        book.append(
            (
                number,
                tree.nodes[org.tenant_id].name if org.tenant_id in tree.nodes else "",
                org.name,
                OrgLevel(org.level).zh,
                kind,
                names(org.tenant_id, org.parent_id),
                org.address,
                org.founded_on,
                counts.get((org.tenant_id, org.id), 0),
                "在用" if org.is_active else "已停用",
            )
        )
    data = await asyncio.to_thread(book.finish)
    await arecord(
        session,
        action="export",
        entity_type="organization",
        entity_id=f"{tenant.id},export",
        tenant_id=tenant.id,
        after={"rows": len(rows), "include_inactive": include_inactive},
    )
    return data, len(rows)


ERRORS_EXPORT: tuple[tuple[str, float], ...] = (("序号", 6), ("行号", 8), ("列名", 18), ("错误原因", 80))


def import_errors(file_name: str, errors: Sequence[dict[str, Any]], today: datetime.date) -> bytes:
    """The errors of one import, to print or work through (row, column, reason; no personal data)."""
    rows = sorted(errors, key=lambda e: (e.get("row") is not None, e.get("row") or 0))
    book = _Book("错误清单", f"导入错误清单：{file_name}", _subtitle(today, len(rows), "处错误", {}), ERRORS_EXPORT)
    for number, error in enumerate(rows, start=1):
        row = error.get("row")
        book.append(
            (number, row if row is not None else "（整个文件）", error.get("column", ""), error.get("message", ""))
        )
    return book.finish()
