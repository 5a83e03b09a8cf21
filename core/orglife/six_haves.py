"""The "六有" checklist of a branch (有场所、有标识、有设施、有制度、有经费、有活动) and its evidence.

Each item is met or not, with a note; photos (or scanned documents) prove it. The bytes go to object storage
under the branch tenant's prefix (folder ``orglife/evidence``) and get a :class:`~core.storage.models.StoredFile`
row; the evidence row references that row by a composite key. Files are only ever handed out as short-lived
signed links. Completion is a rate recomputed from two sums (items met / active branches × 6), never an
average of rates, so it rolls up the tenant tree correctly.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorSpec
from core.orglife.models import BranchSixHave, SixHaveEvidence, SixHaveItem
from core.orgs.models import Organization, OrgLevel
from core.storage.base import ObjectStore
from core.storage.models import StoredFile
from core.storage.sniff import describe_type, sniff

EVIDENCE_FOLDER = "orglife/evidence"
EVIDENCE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})
ITEMS = tuple(SixHaveItem)

BRANCH_NOT_FOUND = ErrorSpec("six_haves.branch_not_found", 404, "找不到该党支部", "No such branch")
NOT_A_BRANCH = ErrorSpec(
    "six_haves.not_a_branch",
    422,
    "“六有”清单只适用于党支部，{name}是{level_zh}",
    "The six-haves checklist is for branches; {name} is a {level}",
)
ITEM_UNKNOWN = ErrorSpec(
    "six_haves.item_unknown",
    404,
    "没有“{item}”这一项；“六有”是：{items_zh}",
    "No item '{item}'; the six are: {items}",
)
EVIDENCE_NOT_FOUND = ErrorSpec("six_haves.evidence_not_found", 404, "找不到该证明材料", "No such evidence")
EVIDENCE_TYPE = ErrorSpec(
    "six_haves.evidence_type",
    415,
    "证明材料只能是照片（JPG、PNG、WebP）或 PDF 扫描件，这个文件是{detected_zh}",
    "Evidence must be a photo (JPG, PNG, WebP) or a scanned PDF; this file is {detected_en}",
)
EVIDENCE_FILE_MISSING = ErrorSpec(
    "six_haves.evidence_file_missing",
    422,
    "请在表单字段 file 中选择要上传的照片",
    "Choose the photo to upload in the form field 'file'",
)


def parse_item(value: str) -> SixHaveItem:
    try:
        return SixHaveItem(value)
    except ValueError:
        raise ITEM_UNKNOWN.error(
            field="item",
            item=value,
            items_zh="、".join(f"{i.value}（{i.zh}）" for i in ITEMS),
            items=", ".join(i.value for i in ITEMS),
        ) from None


async def branch_of(session: AsyncSession, org_id: uuid.UUID) -> Organization:
    """A branch the session may read (the acting subtree)."""
    org = (await session.execute(select(Organization).where(Organization.id == org_id))).scalar_one_or_none()
    if org is None:
        raise BRANCH_NOT_FOUND.error(field="org_id")
    if org.level != OrgLevel.BRANCH.value:
        level = OrgLevel(org.level)
        raise NOT_A_BRANCH.error(field="org_id", name=org.name, level=level.value, level_zh=level.zh)
    return org


@dataclass
class ItemState:
    item: SixHaveItem
    row: BranchSixHave | None
    evidence: list[tuple[SixHaveEvidence, StoredFile]] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return bool(self.row and self.row.met)


async def checklist(session: AsyncSession, org: Organization) -> list[ItemState]:
    rows = (
        await session.execute(
            select(BranchSixHave).where(BranchSixHave.tenant_id == org.tenant_id, BranchSixHave.org_id == org.id)
        )
    ).scalars()
    states = {i.value: ItemState(i, None) for i in ITEMS}
    for row in rows:
        states[row.item].row = row
    evidence = await session.execute(
        select(SixHaveEvidence, StoredFile)
        .join(
            StoredFile,
            and_(StoredFile.tenant_id == SixHaveEvidence.tenant_id, StoredFile.id == SixHaveEvidence.file_id),
        )
        .where(SixHaveEvidence.tenant_id == org.tenant_id, SixHaveEvidence.org_id == org.id)
        .order_by(SixHaveEvidence.created_at, SixHaveEvidence.id)
    )
    for ev, stored in evidence.tuples():
        states[ev.item].evidence.append((ev, stored))
    return list(states.values())


async def _row(session: AsyncSession, org: Organization, item: SixHaveItem, actor: str) -> BranchSixHave:
    row = (
        await session.execute(
            select(BranchSixHave).where(
                BranchSixHave.tenant_id == org.tenant_id,
                BranchSixHave.org_id == org.id,
                BranchSixHave.item == item.value,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = BranchSixHave(
            tenant_id=org.tenant_id, org_id=org.id, item=item.value, met=False, note="", checked_by=actor
        )
        session.add(row)
        await session.flush()
    return row


async def set_item(
    session: AsyncSession, org: Organization, item: SixHaveItem, *, met: bool, note: str, actor: str
) -> BranchSixHave:
    row = await _row(session, org, item, actor)
    row.met = met
    row.note = note.strip()
    row.checked_by = actor
    await session.flush()
    return row


async def add_evidence(
    session: AsyncSession,
    storage: ObjectStore,
    org: Organization,
    tenant_code: str,
    item: SixHaveItem,
    *,
    content: bytes,
    filename: str,
    declared_type: str | None,
    caption: str,
    actor: str,
) -> tuple[SixHaveEvidence, StoredFile]:
    """Store the photo under the branch tenant's prefix and record it; nothing stays behind on failure."""
    detected = sniff(content)
    if content and detected.mime not in EVIDENCE_TYPES:
        detected_zh, detected_en = describe_type(detected.mime)
        raise EVIDENCE_TYPE.error(field="file", detected_zh=detected_zh, detected_en=detected_en)
    row = await _row(session, org, item, actor)
    stored = await storage.put(
        tenant_code, content, filename=filename, declared_type=declared_type, folder=EVIDENCE_FOLDER
    )
    try:
        file_row = StoredFile(
            tenant_id=org.tenant_id,
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=stored.content_type,
            original_name=stored.original_name,
            folder=EVIDENCE_FOLDER,
            uploaded_by=actor,
        )
        session.add(file_row)
        await session.flush()
        evidence = SixHaveEvidence(
            tenant_id=org.tenant_id,
            org_id=org.id,
            item=row.item,
            file_id=file_row.id,
            caption=caption.strip()[:200],
            uploaded_by=actor,
        )
        session.add(evidence)
        await session.flush()
    except Exception:
        with contextlib.suppress(Exception):
            await storage.delete(stored.key)
        raise
    return evidence, file_row


async def get_evidence(
    session: AsyncSession, org: Organization, item: SixHaveItem, evidence_id: uuid.UUID
) -> tuple[SixHaveEvidence, StoredFile]:
    found = (
        await session.execute(
            select(SixHaveEvidence, StoredFile)
            .join(
                StoredFile,
                and_(StoredFile.tenant_id == SixHaveEvidence.tenant_id, StoredFile.id == SixHaveEvidence.file_id),
            )
            .where(
                SixHaveEvidence.id == evidence_id,
                SixHaveEvidence.tenant_id == org.tenant_id,
                SixHaveEvidence.org_id == org.id,
                SixHaveEvidence.item == item.value,
            )
        )
    ).one_or_none()
    if found is None:
        raise EVIDENCE_NOT_FOUND.error(field="evidence_id")
    return found[0], found[1]


async def delete_evidence(
    session: AsyncSession, storage: ObjectStore, org: Organization, item: SixHaveItem, evidence_id: uuid.UUID
) -> None:
    evidence, stored = await get_evidence(session, org, item, evidence_id)
    await session.delete(evidence)
    await session.delete(stored)
    await session.flush()
    await storage.delete(stored.key)


# --- completion ----------------------------------------------------------------------------------------------


@dataclass
class Completion:
    """Sums for one tenant (or, added up, a subtree)."""

    branches: int = 0
    complete: int = 0
    met_by_item: dict[str, int] = field(default_factory=lambda: {i.value: 0 for i in ITEMS})

    @property
    def items_met(self) -> int:
        return sum(self.met_by_item.values())

    @property
    def items_total(self) -> int:
        return self.branches * len(ITEMS)

    @property
    def rate(self) -> float | None:
        return round(self.items_met / self.items_total, 4) if self.items_total else None

    def add(self, other: Completion) -> None:
        self.branches += other.branches
        self.complete += other.complete
        for key, value in other.met_by_item.items():
            self.met_by_item[key] += value


def _active_branch_join() -> ColumnElement[bool]:
    return and_(
        Organization.tenant_id == BranchSixHave.tenant_id,
        Organization.id == BranchSixHave.org_id,
        Organization.is_active,
        Organization.level == OrgLevel.BRANCH.value,
    )


async def completion_by_tenant(session: AsyncSession, tenant_ids: Collection[int]) -> dict[int, Completion]:
    """Active branches, items met and fully compliant branches, per tenant (current state)."""
    ids = sorted(set(tenant_ids))
    out = {t: Completion() for t in ids}
    if not ids:
        return out
    branches = await session.execute(
        select(Organization.tenant_id, func.count())
        .where(Organization.tenant_id.in_(ids), Organization.is_active, Organization.level == OrgLevel.BRANCH.value)
        .group_by(Organization.tenant_id)
    )
    for tenant_id, count in branches.tuples():
        out[tenant_id].branches = count
    met = await session.execute(
        select(BranchSixHave.tenant_id, BranchSixHave.item, func.count())
        .join(Organization, _active_branch_join())
        .where(BranchSixHave.tenant_id.in_(ids), BranchSixHave.met)
        .group_by(BranchSixHave.tenant_id, BranchSixHave.item)
    )
    for tenant_id, item, count in met.tuples():
        out[tenant_id].met_by_item[item] = count
    full = (
        select(BranchSixHave.tenant_id.label("tenant_id"), BranchSixHave.org_id)
        .join(Organization, _active_branch_join())
        .where(BranchSixHave.tenant_id.in_(ids), BranchSixHave.met)
        .group_by(BranchSixHave.tenant_id, BranchSixHave.org_id)
        .having(func.count() == len(ITEMS))
        .subquery()
    )
    complete = await session.execute(select(full.c.tenant_id, func.count()).group_by(full.c.tenant_id))
    for tenant_id, count in complete.tuples():
        out[tenant_id].complete = count
    return out
