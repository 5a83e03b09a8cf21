"""Scans, photos and generated documents of a case, kept in object storage like the core's 六有 evidence:
validated and sniffed by :class:`core.storage.base.ObjectStore`, recorded as a ``stored_file`` of the case's
tenant, linked to the case by a ``mediation_attachment`` row, and handed out only as short-lived signed links.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.scope import widened
from core.errors import ErrorSpec
from core.storage.base import ObjectStore
from core.storage.models import StoredFile
from core.tenancy.tree import TenantTree
from plugins.mediation.models import AgreementTemplate, Attachment, Case
from plugins.mediation.schemas import AttachmentOut

CASE_FOLDER = "mediation/cases"
TEMPLATE_FOLDER = "mediation/templates"

ATTACHMENT_NOT_FOUND = ErrorSpec("mediation.attachment_not_found", 404, "找不到该材料", "No such attachment")
FILE_MISSING = ErrorSpec(
    "mediation.file_missing",
    422,
    "请选择要上传的文件（表单字段 file）",
    "Choose the file to upload (form field 'file')",
)
KIND_UNKNOWN = ErrorSpec(
    "mediation.attachment_kind_unknown",
    422,
    "材料类别不对：可选 {kinds}",
    "Unknown kind of material; one of {kinds}",
)


async def store(
    session: AsyncSession,
    storage: ObjectStore,
    *,
    tenant_id: int,
    tenant_code: str,
    content: bytes,
    filename: str,
    declared_type: str | None,
    folder: str,
    actor: str,
) -> StoredFile:
    """Put the bytes in object storage and record them; nothing stays behind when the record fails."""
    stored = await storage.put(tenant_code, content, filename=filename, declared_type=declared_type, folder=folder)
    try:
        row = StoredFile(
            tenant_id=tenant_id,
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=stored.content_type,
            original_name=stored.original_name,
            folder=folder,
            uploaded_by=actor,
        )
        session.add(row)
        await session.flush()
    except Exception:
        with contextlib.suppress(Exception):
            await storage.delete(stored.key)
        raise
    return row


async def attach(
    session: AsyncSession,
    storage: ObjectStore,
    case: Case,
    tenant_code: str,
    *,
    content: bytes,
    filename: str,
    declared_type: str | None,
    kind: str,
    caption: str,
    actor: str,
) -> tuple[Attachment, StoredFile]:
    file_row = await store(
        session,
        storage,
        tenant_id=case.tenant_id,
        tenant_code=tenant_code,
        content=content,
        filename=filename,
        declared_type=declared_type,
        folder=CASE_FOLDER,
        actor=actor,
    )
    try:
        attachment = Attachment(
            tenant_id=case.tenant_id,
            case_id=case.id,
            file_id=file_row.id,
            kind=kind,
            caption=caption.strip()[:200],
            uploaded_by=actor,
        )
        session.add(attachment)
        await session.flush()
    except Exception:
        with contextlib.suppress(Exception):
            await storage.delete(file_row.key)
        raise
    return attachment, file_row


def attachment_out(attachment: Attachment, stored: StoredFile, url: str | None = None) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        case_id=attachment.case_id,
        kind=attachment.kind,
        caption=attachment.caption,
        name=stored.original_name,
        size=stored.size,
        content_type=stored.content_type,
        uploaded_by=attachment.uploaded_by,
        uploaded_at=attachment.created_at,
        download_url=url,
    )


async def attachments_of(session: AsyncSession, case: Case) -> list[tuple[Attachment, StoredFile]]:
    query = (
        select(Attachment, StoredFile)
        .join(StoredFile, and_(StoredFile.tenant_id == Attachment.tenant_id, StoredFile.id == Attachment.file_id))
        .where(Attachment.tenant_id == case.tenant_id, Attachment.case_id == case.id)
        .order_by(Attachment.created_at, Attachment.id)
    )
    return [(a, f) for a, f in (await session.execute(query)).tuples()]


async def get_attachment(session: AsyncSession, case: Case, attachment_id: uuid.UUID) -> tuple[Attachment, StoredFile]:
    query = (
        select(Attachment, StoredFile)
        .join(StoredFile, and_(StoredFile.tenant_id == Attachment.tenant_id, StoredFile.id == Attachment.file_id))
        .where(Attachment.tenant_id == case.tenant_id, Attachment.case_id == case.id, Attachment.id == attachment_id)
    )
    found = (await session.execute(query)).first()
    if found is None:
        raise ATTACHMENT_NOT_FOUND.error(field="attachment_id")
    return found[0], found[1]


async def template_of(session: AsyncSession, tenant_id: int) -> tuple[AgreementTemplate, StoredFile] | None:
    query = (
        select(AgreementTemplate, StoredFile)
        .join(
            StoredFile,
            and_(StoredFile.tenant_id == AgreementTemplate.tenant_id, StoredFile.id == AgreementTemplate.file_id),
        )
        .where(AgreementTemplate.tenant_id == tenant_id, AgreementTemplate.kind == "agreement")
    )
    found = (await session.execute(query)).first()
    return (found[0], found[1]) if found else None


async def template_in_force(
    session: AsyncSession, tree: TenantTree, tenant_id: int
) -> tuple[AgreementTemplate, StoredFile, int] | None:
    """The tenant's own template, else the nearest ancestor's (a city's template serves its counties, as the
    core's work-report template does); with the tenant it comes from. ``None``: the shipped one.

    The ancestors' rows lie outside the acting subtree, so reads are widened to exactly the lineage for this
    one query and narrowed again at once; writes are never widened.
    """
    lineage = [node.id for node in tree.lineage(tenant_id)]
    async with widened(session, read=lineage):
        rows = (
            await session.execute(
                select(AgreementTemplate, StoredFile)
                .join(
                    StoredFile,
                    and_(
                        StoredFile.tenant_id == AgreementTemplate.tenant_id, StoredFile.id == AgreementTemplate.file_id
                    ),
                )
                .where(AgreementTemplate.tenant_id.in_(lineage), AgreementTemplate.kind == "agreement")
            )
        ).all()
    by_tenant = {template.tenant_id: (template, stored) for template, stored in rows}
    for candidate in reversed(lineage):  # nearest first
        if candidate in by_tenant:
            template, stored = by_tenant[candidate]
            return template, stored, candidate
    return None


async def replace_template(
    session: AsyncSession, tenant_id: int, file_row: StoredFile, actor: str
) -> AgreementTemplate:
    current = await session.get(AgreementTemplate, (tenant_id, "agreement"))
    if current is None:
        current = AgreementTemplate(tenant_id=tenant_id, kind="agreement", file_id=file_row.id, uploaded_by=actor)
        session.add(current)
    current.file_id = file_row.id
    current.uploaded_by = actor
    current.uploaded_on = datetime.date.today()
    await session.flush()
    return current
