"""Gathering a case for its documents: the agreement (tenant template or the shipped one) and the 卷宗.

Both documents carry the parties' full personal data, so producing one is recorded in the audit log as a
reveal, like opening the member ledger's ID numbers.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.recorder import arecord
from core.errors import ErrorSpec
from core.storage.base import ObjectStore
from core.tenancy.tree import TenantTree
from plugins.mediation import documents, files, metrics, service
from plugins.mediation.models import Case, CaseMediator, Mediator, Party, Room, Step

NOT_SETTLED = ErrorSpec(
    "mediation.not_settled",
    409,
    "案件当前为“{status_zh}”：调解成功后才能生成调解协议书",
    "The case is '{status}': an agreement is made only for a settled case",
)


async def gather(session: AsyncSession, tree: TenantTree, case: Case, *, with_files: bool = False,
                 storage: ObjectStore | None = None) -> documents.CaseInfo:  # fmt: skip
    room = (
        await session.execute(select(Room).where(Room.tenant_id == case.tenant_id, Room.id == case.room_id))
    ).scalar_one()
    parties = (
        await session.execute(
            select(Party)
            .where(Party.tenant_id == case.tenant_id, Party.case_id == case.id)
            .order_by(Party.side, Party.created_at, Party.id)
        )
    ).scalars()
    links = await session.execute(
        select(CaseMediator.mediator_id, CaseMediator.lead).where(
            CaseMediator.tenant_id == case.tenant_id, CaseMediator.case_id == case.id
        )
    )
    linked = {mediator_id: lead for mediator_id, lead in links.tuples()}  # noqa: C416 - dict(result) reads it as a mapping
    mediators: list[tuple[Mediator, str]] = [
        (m, n) for m, n in await service.mediators_of(session, [case.room_id]) if m.id in linked
    ]
    mediators.sort(key=lambda pair: not linked.get(pair[0].id))
    steps = (
        await session.execute(
            select(Step).where(Step.tenant_id == case.tenant_id, Step.case_id == case.id).order_by(Step.seq)
        )
    ).scalars()
    attachments: list[dict[str, object]] = []
    if with_files:
        for attachment, stored in await files.attachments_of(session, case):
            if attachment.kind == "dossier":
                continue
            content = None
            if storage is not None and stored.content_type.startswith("image/"):
                with contextlib.suppress(Exception):  # a file the store cannot give is listed, not embedded
                    content = await storage.get(stored.key)
            attachments.append(
                {
                    "kind": attachment.kind,
                    "caption": attachment.caption,
                    "name": stored.original_name,
                    "type": stored.content_type,
                    "content": content,
                }
            )
    return documents.CaseInfo(
        number=case.number,
        tenant_name=tree.nodes[case.tenant_id].name,
        room_name=room.name,
        case_type_zh=metrics.TYPE_ZH[case.case_type][0],
        title=case.title,
        description=case.description,
        status_zh=service.STATUS_ZH.get(case.status, case.status),
        received_on=case.received_on,
        outcome_on=case.outcome_on,
        parties=[
            documents.PartyInfo(
                side=p.side,
                kind=p.kind,
                name=p.name,
                gender=p.gender,
                representative=p.representative,
                id_number=p.id_number,
                phone=p.phone,
                address=p.address,
            )
            for p in parties
        ],
        mediators=[name for _, name in mediators],
        agreement=dict(case.agreement or {}),
        steps=[
            {
                "seq": s.seq,
                "action": s.action,
                "action_zh": service.ACTION_ZH.get(s.action, s.action),
                "kind": (s.details or {}).get("record_kind"),
                "on": s.occurred_on,
                "note": s.note,
                "actor": s.actor,
            }
            for s in steps
            if not (s.details or {}).get("undone") and s.action != "undo"
        ],
        attachments=attachments,
    )


async def _audit(session: AsyncSession, case: Case, document: str) -> None:
    await arecord(
        session,
        action="reveal",
        entity_type="mediation_case",
        entity_id=f"{case.tenant_id},{case.id}",
        tenant_id=case.tenant_id,
        after={"document": document, "number": case.number},
    )


async def agreement_for(session: AsyncSession, storage: ObjectStore, tree: TenantTree, case: Case) -> bytes:
    if case.settled_on is None or case.status == "voided":
        raise NOT_SETTLED.error(
            field="case_id", status=case.status, status_zh=service.STATUS_ZH.get(case.status, case.status)
        )
    found = await files.template_in_force(session, tree, case.tenant_id)
    template = await storage.get(found[1].key) if found else documents.default_template()
    info = await gather(session, tree, case)
    await _audit(session, case, "agreement")
    return documents.agreement_docx(template, info)


async def dossier_for(session: AsyncSession, storage: ObjectStore, tree: TenantTree, case: Case) -> bytes:
    info = await gather(session, tree, case, with_files=True, storage=storage)
    await _audit(session, case, "dossier")
    return documents.dossier_docx(info)
