"""Organisation-relation transfers (组织关系转接) as a workflow, and the hand-over of a member between tenants.

States::

    requested ──approve──▶ approved ──complete──▶ completed      (direct 直接转接 / negotiated 协商转接)
        │  └───approve (deferred)──▶ deferred                     (原单位兜底管理: the relation stays)
        ├──reject (receiving side, with a reason)──▶ rejected      (also from approved)
        └──cancel (the requester)──▶ cancelled

Who may do what:

* requesting needs ``member.write`` in the member's tenant (the sending tenant): the member must be visible to the
  acting tenant, so a member of another tenant is "not found";
* approving, rejecting and completing need ``transfer.manage`` acting in the *receiving* tenant or above it
  (for a deferral the receiving side is the original unit itself); the requester never decides on his own request;
* cancelling is the requester's, while the request awaits a decision.

Completion is a step of its own, not automatic on approval: approval is the receiving side's decision (接收), and
completion records that the member has reported to the new branch (报到, Qihe's "荣退+报到"); until then the sending
tenant keeps managing the member, and ``pending`` in the statistics counts both waiting states.

Cross-tenant work. Each transfer between two tenants is kept as two copies (see
:mod:`core.orgs.transfer_models`). The request's unit of work is scoped to the acting tenant's subtree, so the
service *widens* that scope, for the few statements that need it, to exactly the two tenants of the transfer
(:func:`_sides`): to write the counterpart copy, to check the target branch, and to hand the member over. The
widening happens inside the request's single transaction (nothing half-written can remain), is restored right after,
and still runs under row-level security with the named tenants only — never the system scope.

Hand-over. Completing a transfer between tenants re-homes the member record under the same id: the receiving
tenant gets the full row (its branch as the formal one), the sending tenant keeps a stub with status
``transferred_out`` and no ID number or phone, so its ledger no longer lists him while its own history (attendance,
plugin ledgers) keeps valid references. Why not ``UPDATE member SET tenant_id``: see :func:`_hand_over`.

History. The audit table is append-only and each entry belongs to one tenant, so the sending tenant keeps its own
entries about the member, and on completion the service appends *copies* of them to the receiving tenant's trail
(marked with ``request_id = "transfer:<id>"``, original times and actors kept, entity key rewritten to the member's
key in the receiving tenant). The receiving side therefore reads the member's whole earlier history through the
ordinary ``…/members/{id}/history`` route, and reads nothing else of the sending tenant. Both trails then record the
hand-over itself (``transfer_out`` in the sending tenant, ``transfer_in`` in the receiving one), and both tenants
keep their copy of the transfer, which shows where the member came from and went to.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, distinct, func, insert, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from core.audit.models import AuditEntry
from core.audit.recorder import REDACTED, arecord
from core.db.base import utcnow
from core.db.scope import widened
from core.errors import ErrorSpec
from core.events.outbox import emit
from core.orgs import service as orgs
from core.orgs.member_accounts import move_with_member
from core.orgs.models import Member, Organization, OrgLevel, Participation
from core.orgs.transfer_models import OPEN_STATUSES, MemberTransfer, TransferKind, TransferStatus
from core.privacy.crypto import mask_id_number
from core.reports.core_facts import member_moved
from core.tenancy.tree import TenantNode, TenantTree

#: The domain event a completed transfer emits (in the sending and, when different, the receiving tenant).
MEMBER_TRANSFERRED = "core.member_transferred"

#: Periods of the statistics are calendar days in China Standard Time (no daylight saving).
REPORTING_TZ = datetime.timezone(datetime.timedelta(hours=8), "CST")

Direction = Literal["outgoing", "incoming", "all"]

TRANSFER_NOT_FOUND = ErrorSpec("transfer.not_found", 404, "找不到该转接申请", "No such transfer")
TARGET_TENANT_NOT_FOUND = ErrorSpec(
    "transfer.target_tenant_not_found",
    422,
    "找不到行政区划代码为 {code} 的接收单位，请核对代码",
    "No tenant with division code {code} to receive the member",
)
TARGET_TENANT_INACTIVE = ErrorSpec(
    "transfer.target_tenant_inactive",
    422,
    "接收单位 {code}（{name}）已停用，不能转入",
    "The receiving tenant {code} ({name}) is inactive",
)
TARGET_ORG_REQUIRED = ErrorSpec(
    "transfer.target_org_required",
    422,
    "{kind_zh}需要填写接收党支部（target_org_id）",
    "A {kind} transfer needs the receiving branch (target_org_id)",
)
TARGET_ORG_INVALID = ErrorSpec(
    "transfer.target_org_invalid",
    422,
    "所选党支部不是 {code}（{name}）在用的党支部，请向接收单位核实支部编号",
    "The target organisation is not an active branch of {code} ({name})",
)
TARGET_SAME_BRANCH = ErrorSpec(
    "transfer.same_branch",
    422,
    "该党员的组织关系已在所选党支部，无需转接",
    "The member already belongs to this branch",
)
DEFERRED_HAS_TARGET = ErrorSpec(
    "transfer.deferred_target",
    422,
    "原单位兜底管理不转移组织关系，请不要填写接收单位或接收党支部",
    "A deferral keeps the relation where it is: give no target tenant or branch",
)
REVIEW_ON_REQUIRED = ErrorSpec(
    "transfer.review_on_required",
    422,
    "原单位兜底管理需要填写复核日期（review_on），届时再评估是否转接",
    "A deferral needs a review date (review_on)",
)
REVIEW_ON_PAST = ErrorSpec(
    "transfer.review_on_past", 422, "复核日期应晚于今天（{today}）", "The review date must be after today ({today})"
)
REVIEW_ON_ONLY_DEFERRED = ErrorSpec(
    "transfer.review_on_only_deferred",
    422,
    "只有原单位兜底管理需要填写复核日期",
    "Only a deferral has a review date",
)
MEMBER_INACTIVE = ErrorSpec(
    "transfer.member_inactive",
    409,
    "{name} 的档案状态为“{status_zh}”，不能办理组织关系转接",
    "{name}'s record has status '{status}' and cannot be transferred",
)
OPEN_TRANSFER = ErrorSpec(
    "transfer.already_open",
    409,
    "{name} 已有一项未办结的转接（{status_zh}，{date} 提交），请先办结或撤回后再申请",
    "{name} already has an open transfer ({status}, requested {date}); finish or cancel it first",
)
SELF_DECISION = ErrorSpec(
    "transfer.self_decision",
    403,
    "不能审批自己提交的转接申请：请由接收单位的其他管理员审批（要撤回请用“撤回”）",
    "You cannot decide on your own transfer request; another administrator of the receiving side must",
)
NOT_RECEIVING_SIDE = ErrorSpec(
    "transfer.not_receiving_side",
    403,
    "只有接收单位 {code}（{name}）或其上级单位的管理员可以{action_zh}这项转接",
    "Only administrators of the receiving tenant {code} ({name}) or above may {action} this transfer",
)
NOT_SENDING_SIDE = ErrorSpec(
    "transfer.not_sending_side",
    403,
    "只有转出单位 {code}（{name}）一方可以{action_zh}这项转接",
    "Only the sending tenant {code} ({name}) may {action} this transfer",
)
NOT_REQUESTER = ErrorSpec(
    "transfer.not_requester",
    403,
    "只有申请人 {name} 可以撤回这项申请；接收方如不同意请用“退回”",
    "Only the requester {name} may cancel this request",
)
BAD_STATE = ErrorSpec(
    "transfer.bad_state",
    409,
    "这项转接当前为“{status_zh}”，不能{action_zh}",
    "This transfer is '{status}' and cannot be {action}",
)
MEMBER_GONE = ErrorSpec(
    "transfer.member_gone",
    409,
    "{name} 的档案已不在转出单位或已不是在册状态，无法交接；请退回这项转接",
    "{name}'s record is no longer active in the sending tenant; reject this transfer",
)
TARGET_ORG_GONE = ErrorSpec(
    "transfer.target_org_gone",
    409,
    "接收党支部“{name}”已停用，无法办结；请退回后重新申请",
    "The receiving branch '{name}' is no longer active; reject and request again",
)
ID_NUMBER_CLASH = ErrorSpec(
    "transfer.id_number_clash",
    409,
    "接收单位已有身份证号为 {masked} 的档案（{name}），请先核对、合并重复档案后再办结",
    "The receiving tenant already holds a record with ID number {masked} ({name}); resolve the duplicate first",
)
PERIOD_ORDER = ErrorSpec(
    "transfer.period_order",
    422,
    "统计起始日期 {start} 晚于截止日期 {end}",
    "The period starts ({start}) after it ends ({end})",
)

_ACTION_ZH = {"approve": "审批同意", "reject": "退回", "cancel": "撤回", "complete": "办结"}
_ACTION_PAST = {"approve": "approved", "reject": "rejected", "cancel": "cancelled", "complete": "completed"}
STEP_ZH = {
    "requested": "提交申请",
    "approved": "接收方同意",
    "completed": "办结转入",
    "rejected": "退回",
    "cancelled": "撤回",
    "deferred": "同意原单位兜底管理",
}


@dataclass(frozen=True)
class Actor:
    """Who acts, and in which tenant (recorded on every step)."""

    user_id: uuid.UUID | None
    username: str
    tenant: TenantNode


@dataclass(frozen=True)
class Side:
    """The acting tenant's subtree, against which "sending" and "receiving" are judged."""

    tenant: TenantNode
    tree: TenantTree

    @property
    def subtree(self) -> frozenset[int]:
        return self.tree.subtree_ids(self.tenant.id)

    def covers(self, tenant_id: int) -> bool:
        return tenant_id in self.subtree


# --- scope widening -----------------------------------------------------------------------------------


@asynccontextmanager
async def _sides(session: AsyncSession, *tenant_ids: int) -> AsyncIterator[None]:
    """Let this unit of work read and write ``tenant_ids`` as well, for the block only.

    Used for the counterpart copy of a transfer, the target-branch check and the hand-over; the scope is the
    request's plus exactly the transfer's two tenants (row-level security still applies), and pending writes are
    flushed before it narrows again. On an error the transaction is rolled back by the caller, which also drops
    the transaction-local settings, so only the session's record of the scope is restored then.
    """
    async with widened(session, read=tenant_ids, write=tenant_ids):
        yield


# --- requesting -----------------------------------------------------------------------------------------


def _step(step: str, actor: Actor, now: datetime.datetime, note: str | None = None) -> dict[str, Any]:
    return {
        "step": step,
        "at": now.isoformat(),
        "by": actor.username,
        "by_id": str(actor.user_id) if actor.user_id else None,
        "tenant_code": actor.tenant.code,
        "note": note,
    }


async def _org_name(session: AsyncSession, tenant_id: int, org_id: uuid.UUID | None) -> str | None:
    if org_id is None:
        return None
    return (
        await session.execute(
            select(Organization.name).where(Organization.tenant_id == tenant_id, Organization.id == org_id)
        )
    ).scalar_one_or_none()


async def _open_transfer_of(session: AsyncSession, tenant_id: int, member_id: uuid.UUID) -> MemberTransfer | None:
    return (
        await session.execute(
            select(MemberTransfer).where(
                MemberTransfer.tenant_id == tenant_id,
                MemberTransfer.from_tenant_id == tenant_id,
                MemberTransfer.member_id == member_id,
                MemberTransfer.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
    ).scalar_one_or_none()


def _open_error(member: Member, open_transfer: MemberTransfer) -> Exception:
    status = TransferStatus(open_transfer.status)
    return OPEN_TRANSFER.error(
        field="member_id",
        name=member.name,
        status=status.value,
        status_zh=status.zh,
        date=open_transfer.requested_at.astimezone(REPORTING_TZ).date().isoformat(),
    )


async def _target_branch(session: AsyncSession, target: TenantNode, raw_id: str) -> Organization:
    """The receiving branch: an active 党支部 of the target tenant (read under a scope widened to that tenant)."""
    invalid = TARGET_ORG_INVALID.error(field="target_org_id", code=target.code, name=target.name)
    try:
        org_id = uuid.UUID(str(raw_id))
    except ValueError:
        raise invalid from None
    async with _sides(session, target.id):
        org = (
            await session.execute(
                select(Organization).where(Organization.tenant_id == target.id, Organization.id == org_id)
            )
        ).scalar_one_or_none()
    if org is None or not org.is_active or org.level != OrgLevel.BRANCH.value:
        raise invalid
    return org


async def target_branches(session: AsyncSession, target: TenantNode) -> list[Organization]:
    """The active 党支部 of a target tenant a transfer may name (read under a scope widened to that tenant), for
    the requester to choose from; names only matter, nothing about their members is read."""
    async with _sides(session, target.id):
        rows = await session.execute(
            select(Organization)
            .where(
                Organization.tenant_id == target.id,
                Organization.is_active,
                Organization.level == OrgLevel.BRANCH.value,
            )
            .order_by(Organization.name)
        )
        return list(rows.scalars().all())


async def request_transfer(
    session: AsyncSession,
    side: Side,
    actor: Actor,
    *,
    member_id: str,
    kind: TransferKind,
    target_tenant_code: str | None,
    target_org_id: str | None,
    reason: str,
    review_on: datetime.date | None,
) -> MemberTransfer:
    """Open a transfer of a member visible to the acting tenant; returns the copy the acting side reads."""
    member_uuid = orgs.parse_uuid(member_id, orgs.MEMBER_NOT_FOUND, "member_id")
    assert member_uuid is not None
    member = await orgs.get_member(session, member_uuid)  # another tenant's member is simply not found
    if member.status != "active":
        status_zh = {"transferred_out": "已转出", "deceased": "已去世"}.get(member.status, member.status)
        raise MEMBER_INACTIVE.error(field="member_id", name=member.name, status=member.status, status_zh=status_zh)
    existing = await _open_transfer_of(session, member.tenant_id, member.id)
    if existing is not None:
        raise _open_error(member, existing)

    tree = side.tree
    origin = tree.nodes[member.tenant_id]
    from_org_name = await _org_name(session, origin.id, member.formal_org_id)
    today = datetime.datetime.now(REPORTING_TZ).date()
    if kind is TransferKind.DEFERRED:
        if target_tenant_code or target_org_id:
            raise DEFERRED_HAS_TARGET.error(field="target_org_id" if target_org_id else "target_tenant_code")
        if review_on is None:
            raise REVIEW_ON_REQUIRED.error(field="review_on")
        if review_on <= today:
            raise REVIEW_ON_PAST.error(field="review_on", today=today.isoformat())
        target, to_org_id, to_org_name = origin, member.formal_org_id, from_org_name
    else:
        if review_on is not None:
            raise REVIEW_ON_ONLY_DEFERRED.error(field="review_on")
        if not target_org_id:
            raise TARGET_ORG_REQUIRED.error(field="target_org_id", kind=kind.value, kind_zh=kind.zh)
        if target_tenant_code and target_tenant_code != origin.code:
            found = tree.find(target_tenant_code)
            if found is None:
                raise TARGET_TENANT_NOT_FOUND.error(field="target_tenant_code", code=target_tenant_code)
            if not found.is_active:
                raise TARGET_TENANT_INACTIVE.error(field="target_tenant_code", code=found.code, name=found.name)
            target = found
        else:
            target = origin
        org = await _target_branch(session, target, target_org_id)
        if target.id == origin.id and org.id == member.formal_org_id:
            raise TARGET_SAME_BRANCH.error(field="target_org_id")
        to_org_id, to_org_name = org.id, org.name

    now = utcnow()
    common: dict[str, Any] = {
        "id": uuid7(),
        "member_id": member.id,
        "kind": kind.value,
        "status": TransferStatus.REQUESTED.value,
        "from_tenant_id": origin.id,
        "to_tenant_id": target.id,
        "to_org_name": to_org_name,
        "member_name": member.name,
        "member_gender": member.gender,
        "member_birth_year": member.birth_date.year,
        "member_id_masked": mask_id_number(member.id_number),
        "reason": reason,
        "review_on": review_on,
        "requested_at": now,
        "requested_by_id": actor.user_id,
        "requested_by": actor.username,
    }
    step = _step("requested", actor, now, reason)
    sending = MemberTransfer(
        tenant_id=origin.id,
        from_org_id=member.formal_org_id,
        from_org_name=from_org_name,
        to_org_id=to_org_id if target.id == origin.id else None,
        steps=[step],
        **common,
    )
    session.add(sending)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request for the same member won the unique index
        raise OPEN_TRANSFER.error(
            field="member_id", name=member.name, status="requested", status_zh="待审批", date=today.isoformat()
        ) from None
    if target.id != origin.id:
        async with _sides(session, target.id):
            receiving = MemberTransfer(
                tenant_id=target.id, from_org_id=None, from_org_name=None, to_org_id=to_org_id, steps=[step], **common
            )
            session.add(receiving)
    return sending


# --- deciding ----------------------------------------------------------------------------------------------


@asynccontextmanager
async def _locked(session: AsyncSession, transfer_id: uuid.UUID) -> AsyncIterator[list[MemberTransfer]]:
    """Every copy of a transfer the acting tenant can see, locked, under a scope widened to its two tenants."""
    visible = (
        await session.execute(
            select(MemberTransfer.from_tenant_id, MemberTransfer.to_tenant_id).where(MemberTransfer.id == transfer_id)
        )
    ).first()
    if visible is None:
        raise TRANSFER_NOT_FOUND.error(field="transfer_id")
    async with _sides(session, visible.from_tenant_id, visible.to_tenant_id):
        query = (
            select(MemberTransfer)
            .where(MemberTransfer.id == transfer_id)
            .order_by(MemberTransfer.tenant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        copies = list((await session.execute(query)).scalars().all())
        yield copies


def _require_receiving(side: Side, transfer: MemberTransfer, action: str) -> None:
    if not side.covers(transfer.to_tenant_id):
        to = side.tree.nodes[transfer.to_tenant_id]
        raise NOT_RECEIVING_SIDE.error(code=to.code, name=to.name, action=action, action_zh=_ACTION_ZH[action])


def _require_sending(side: Side, transfer: MemberTransfer, action: str) -> None:
    if not side.covers(transfer.from_tenant_id):
        origin = side.tree.nodes[transfer.from_tenant_id]
        raise NOT_SENDING_SIDE.error(code=origin.code, name=origin.name, action=action, action_zh=_ACTION_ZH[action])


def _require_status(transfer: MemberTransfer, allowed: Sequence[TransferStatus], action: str) -> None:
    status = TransferStatus(transfer.status)
    if status not in allowed:
        raise BAD_STATE.error(
            status=status.value, status_zh=status.zh, action=_ACTION_PAST[action], action_zh=_ACTION_ZH[action]
        )


def _require_other_person(actor: Actor, transfer: MemberTransfer) -> None:
    if actor.user_id is not None and actor.user_id == transfer.requested_by_id:
        raise SELF_DECISION.error()


def _advance(
    copies: list[MemberTransfer],
    status: TransferStatus,
    actor: Actor,
    now: datetime.datetime,
    note: str | None,
    *,
    closes: bool,
) -> None:
    step = _step(status.value, actor, now, note)
    for copy in copies:
        copy.status = status.value
        copy.steps = [*copy.steps, step]  # a new list, so the change is seen (and audited)
        if closes:
            copy.closed_at = now


def _acting_copy(copies: list[MemberTransfer], side: Side) -> MemberTransfer:
    """The copy to answer with: the sending copy when the acting tenant may read it, else the receiving one."""
    for copy in copies:
        if copy.is_sending_copy and side.covers(copy.tenant_id):
            return copy
    return next(c for c in copies if side.covers(c.tenant_id))


async def approve(
    session: AsyncSession, side: Side, actor: Actor, transfer_id: uuid.UUID, note: str | None
) -> MemberTransfer:
    """The receiving side agrees (接收); a deferral ends here in status ``deferred`` and the member stays put."""
    async with _locked(session, transfer_id) as copies:
        transfer = copies[0]
        _require_receiving(side, transfer, "approve")
        _require_other_person(actor, transfer)
        _require_status(transfer, [TransferStatus.REQUESTED], "approve")
        deferred = transfer.kind == TransferKind.DEFERRED.value
        status = TransferStatus.DEFERRED if deferred else TransferStatus.APPROVED
        _advance(copies, status, actor, utcnow(), note, closes=deferred)
    return _acting_copy(copies, side)


async def reject(
    session: AsyncSession, side: Side, actor: Actor, transfer_id: uuid.UUID, reason: str
) -> MemberTransfer:
    """The receiving side refuses, with a reason (also after approval, when the member never reported)."""
    async with _locked(session, transfer_id) as copies:
        transfer = copies[0]
        _require_receiving(side, transfer, "reject")
        _require_other_person(actor, transfer)
        _require_status(transfer, [TransferStatus.REQUESTED, TransferStatus.APPROVED], "reject")
        for copy in copies:
            copy.decision_note = reason
        _advance(copies, TransferStatus.REJECTED, actor, utcnow(), reason, closes=True)
    return _acting_copy(copies, side)


async def cancel(
    session: AsyncSession, side: Side, actor: Actor, transfer_id: uuid.UUID, note: str | None
) -> MemberTransfer:
    """The requester withdraws a request that awaits a decision."""
    async with _locked(session, transfer_id) as copies:
        transfer = copies[0]
        _require_sending(side, transfer, "cancel")
        if actor.user_id is None or actor.user_id != transfer.requested_by_id:
            raise NOT_REQUESTER.error(name=transfer.requested_by)
        _require_status(transfer, [TransferStatus.REQUESTED], "cancel")
        _advance(copies, TransferStatus.CANCELLED, actor, utcnow(), note, closes=True)
    return _acting_copy(copies, side)


async def complete(
    session: AsyncSession, side: Side, actor: Actor, transfer_id: uuid.UUID, note: str | None
) -> MemberTransfer:
    """The member has reported to the new branch (报到): hand the record over and close the transfer.

    Within one tenant the member's formal branch changes. Between tenants the member row itself moves (see
    :func:`_hand_over`). Either way ``core.member_transferred`` is emitted in each tenant involved, so the plugins
    active there (points balances follow the member) can react on their side.
    """
    async with _locked(session, transfer_id) as copies:
        transfer = copies[0]
        _require_receiving(side, transfer, "complete")
        _require_status(transfer, [TransferStatus.APPROVED], "complete")
        receiving = next(c for c in copies if c.is_receiving_copy)
        await _hand_over(session, transfer, receiving.to_org_id, receiving.to_org_name or "")
        _advance(copies, TransferStatus.COMPLETED, actor, utcnow(), note, closes=True)
        await session.flush()
        tree = side.tree
        origin, target = tree.nodes[transfer.from_tenant_id], tree.nodes[transfer.to_tenant_id]
        payload = {
            "member_id": str(transfer.member_id),
            "transfer_id": str(transfer.id),
            "kind": transfer.kind,
            "from_tenant_id": origin.id,
            "from_tenant_code": origin.code,
            "to_tenant_id": target.id,
            "to_tenant_code": target.code,
            "to_org_id": str(receiving.to_org_id) if receiving.to_org_id else None,
        }
        if origin.id == target.id:
            await emit(
                session,
                tenant_id=origin.id,
                name=MEMBER_TRANSFERRED,
                payload={**payload, "side": "internal"},
                source="core",
            )
        else:
            await emit(
                session,
                tenant_id=origin.id,
                name=MEMBER_TRANSFERRED,
                payload={**payload, "side": "outgoing"},
                source="core",
            )
            await emit(
                session,
                tenant_id=target.id,
                name=MEMBER_TRANSFERRED,
                payload={**payload, "side": "incoming"},
                source="core",
            )
    return _acting_copy(copies, side)


async def _hand_over(
    session: AsyncSession, transfer: MemberTransfer, to_org_id: uuid.UUID | None, to_org_name: str
) -> None:
    """Move the member's formal relation to the receiving branch; between tenants, hand the record over.

    Runs under the scope :func:`_locked` widened to the transfer's two tenants. Within one tenant only
    ``formal_org_id`` changes. Between tenants the record is *re-homed*, keeping its id:

    1. the member must still be active in the sending tenant, the branch active in the receiving one, and the
       receiving tenant must not hold another record with the same ID number (unique per tenant);
    2. the member's participations in the sending tenant's branches end (deleted; the ORM audits each);
    3. the member's audit entries are copied into the receiving tenant's trail (see the module docstring);
    4. the receiving tenant gets the member row — same ``id``, every field, ``tenant_id`` of the receiving tenant,
       the receiving branch as ``formal_org_id``, status ``active`` (a record the member left there on an earlier
       transfer is revived instead);
    5. the sending tenant's row stays as a stub with status ``transferred_out`` and without the ID number and
       phone: ledgers list active members by default, so the sending tenant no longer lists him, while its own
       history (meeting attendance, plugin ledgers, the transfer record) keeps a valid reference — those rows carry
       ``(tenant_id, member_id)`` foreign keys that would forbid changing the key of the row in place, and a
       distributed database (Citus, by ``tenant_id``) cannot move a row between shards by ``UPDATE`` either;
    6. both writes are explicit statements (the ORM's flush guard refuses a row whose ``tenant_id`` changes, by
       design, and nothing here changes one), checked by row-level security against the two tenants, and audited
       explicitly as ``transfer_in`` in the receiving tenant and ``transfer_out`` in the sending one.
    """
    origin_id, target_id = transfer.from_tenant_id, transfer.to_tenant_id
    member = (
        await session.execute(select(Member).where(Member.tenant_id == origin_id, Member.id == transfer.member_id))
    ).scalar_one_or_none()
    if member is None or member.status != "active":
        raise MEMBER_GONE.error(field="member_id", name=transfer.member_name)
    org = None
    if to_org_id is not None:
        org = (
            await session.execute(
                select(Organization).where(Organization.tenant_id == target_id, Organization.id == to_org_id)
            )
        ).scalar_one_or_none()
    if org is None or not org.is_active or org.level != OrgLevel.BRANCH.value:
        raise TARGET_ORG_GONE.error(name=to_org_name)

    if origin_id == target_id:
        member.formal_org_id = org.id
        redundant = await session.execute(
            select(Participation).where(
                Participation.tenant_id == origin_id,
                Participation.member_id == member.id,
                Participation.org_id == org.id,
            )
        )
        for participation in redundant.scalars():
            await session.delete(participation)
        await session.flush()
        return

    earlier = (
        await session.execute(select(Member).where(Member.tenant_id == target_id, Member.id == member.id))
    ).scalar_one_or_none()
    if earlier is not None and earlier.status == "active":  # cannot happen through transfers; never overwrite
        raise ID_NUMBER_CLASH.error(field="member_id", masked=mask_id_number(earlier.id_number), name=earlier.name)
    if member.id_number_index:
        clash = (
            await session.execute(
                select(Member).where(
                    Member.tenant_id == target_id,
                    Member.id_number_index == member.id_number_index,
                    Member.id != member.id,
                )
            )
        ).scalar_one_or_none()
        if clash is not None:
            raise ID_NUMBER_CLASH.error(field="member_id", masked=mask_id_number(member.id_number), name=clash.name)

    participations = await session.execute(
        select(Participation).where(Participation.tenant_id == origin_id, Participation.member_id == member.id)
    )
    for participation in participations.scalars():
        await session.delete(participation)
    await session.flush()

    await _carry_history(session, transfer, origin_id, target_id)

    now = utcnow()
    record = member.column_values()
    old_org_id = member.formal_org_id
    record.update(tenant_id=target_id, formal_org_id=org.id, status="active", updated_at=now)
    session.expunge(member)
    if earlier is not None:
        session.expunge(earlier)
        revive = {k: v for k, v in record.items() if k not in {"tenant_id", "id", "created_at"}}
        await session.execute(
            update(Member)
            .where(Member.tenant_id == target_id, Member.id == member.id)
            .values(**revive)
            .execution_options(synchronize_session=False)
        )
    else:
        await session.execute(insert(Member).values(**record))
    await session.execute(
        update(Member)
        .where(Member.tenant_id == origin_id, Member.id == member.id)
        .values(status="transferred_out", id_number=None, id_number_index=None, phone=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await move_with_member(session, member.id, origin_id, target_id)  # the account link and its role follow
    # These statements bypass the ORM's flush listener: the member-count aggregates move explicitly.
    await member_moved(session, origin_id, target_id, now.date())
    moved = {"tenant_id": target_id, "formal_org_id": org.id, "status": "active", "transfer_id": transfer.id}
    await arecord(
        session,
        action="transfer_in",
        entity_type="member",
        entity_id=f"{target_id},{member.id}",
        tenant_id=target_id,
        before={"tenant_id": origin_id, "formal_org_id": old_org_id, "status": "active"},
        after=moved,
    )
    await arecord(
        session,
        action="transfer_out",
        entity_type="member",
        entity_id=f"{origin_id},{member.id}",
        tenant_id=origin_id,
        before={"status": "active", "id_number": REDACTED, "phone": REDACTED},
        after={**moved, "status": "transferred_out", "id_number": None, "phone": None},
    )


async def _carry_history(session: AsyncSession, transfer: MemberTransfer, origin_id: int, target_id: int) -> None:
    """Append copies of the member's audit entries of the sending tenant to the receiving tenant's trail.

    Entries the receiving trail already holds (a member coming back carries copies of its own entries) are
    recognised by time, action and actor and not copied twice.
    """

    def entries(tenant_id: int) -> Any:
        return (
            select(AuditEntry)
            .where(
                AuditEntry.tenant_id == tenant_id,
                AuditEntry.entity_type == "member",
                AuditEntry.entity_id == f"{tenant_id},{transfer.member_id}",
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        )

    present = {(e.at, e.action, e.actor_name) for e in (await session.execute(entries(target_id))).scalars()}
    copies = [
        {
            "id": uuid7(),
            "tenant_id": target_id,
            "at": row.at,
            "actor_id": row.actor_id,
            "actor_name": row.actor_name,
            "action": row.action,
            "entity_type": row.entity_type,
            "entity_id": f"{target_id},{transfer.member_id}",
            "before": row.before,
            "after": row.after,
            "request_id": f"transfer:{transfer.id}",
        }
        for row in (await session.execute(entries(origin_id))).scalars()
        if (row.at, row.action, row.actor_name) not in present
    ]
    if copies:
        connection = await session.connection()
        await connection.execute(insert(AuditEntry), copies)


# --- reading ---------------------------------------------------------------------------------------------------


def _one_copy_each(side: Side) -> ColumnElement[bool]:
    """Each transfer once: its sending copy when the acting subtree holds it, else the receiving copy."""
    subtree = sorted(side.subtree)
    return or_(
        MemberTransfer.tenant_id == MemberTransfer.from_tenant_id,
        MemberTransfer.from_tenant_id.not_in(subtree),
    )


def direction_of(side: Side, transfer: MemberTransfer) -> str:
    sends, receives = side.covers(transfer.from_tenant_id), side.covers(transfer.to_tenant_id)
    if sends and receives:
        return "internal"
    return "outgoing" if sends else "incoming"


def list_query(side: Side, *, direction: Direction, status: TransferStatus | None, kind: TransferKind | None) -> Any:
    subtree = sorted(side.subtree)
    query = select(MemberTransfer).where(_one_copy_each(side))
    if direction == "outgoing":
        query = query.where(MemberTransfer.from_tenant_id.in_(subtree))
    elif direction == "incoming":
        query = query.where(MemberTransfer.to_tenant_id.in_(subtree))
    if status is not None:
        query = query.where(MemberTransfer.status == status.value)
    if kind is not None:
        query = query.where(MemberTransfer.kind == kind.value)
    return query


async def get_transfer(session: AsyncSession, side: Side, transfer_id: uuid.UUID) -> MemberTransfer:
    transfer = (
        await session.execute(select(MemberTransfer).where(MemberTransfer.id == transfer_id, _one_copy_each(side)))
    ).scalar_one_or_none()
    if transfer is None:
        raise TRANSFER_NOT_FOUND.error(field="transfer_id")
    return transfer


@dataclass(frozen=True)
class TransferCounts:
    requested: int
    completed: int
    rejected: int
    cancelled: int
    pending: int
    deferred: int
    incoming: int
    outgoing: int
    internal: int

    @property
    def rate_denominator(self) -> int:
        return self.requested - self.cancelled

    @property
    def rate(self) -> float | None:
        """Completed over requested-and-not-cancelled: a ratio of two sums, never an average of rates."""
        return self.completed / self.rate_denominator if self.rate_denominator > 0 else None


async def stats(session: AsyncSession, side: Side, start: datetime.date, end: datetime.date) -> TransferCounts:
    """Counts of the transfers *requested* in ``[start, end]`` (China Standard Time days), by their status now.

    Over the acting subtree, each transfer once (both copies share its id, hence ``count(DISTINCT id)``).
    ``requested`` counts transfers that move a relation (direct and negotiated), split into
    completed + rejected + cancelled + pending (requested or approved) and into incoming + outgoing + internal
    relative to the subtree (a transfer between two counties of a city is internal to the city). Deferrals
    (原单位兜底管理) keep the relation where it is: ``deferred`` counts those granted, apart from ``requested``
    and outside the rate, ``completed / (requested − cancelled)``.
    """
    if start > end:
        raise PERIOD_ORDER.error(field="from", start=start.isoformat(), end=end.isoformat())
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=REPORTING_TZ)
    stop = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=REPORTING_TZ)
    subtree = sorted(side.subtree)
    t = MemberTransfer
    moves = t.kind != TransferKind.DEFERRED.value
    sends, receives = t.from_tenant_id.in_(subtree), t.to_tenant_id.in_(subtree)

    def count(*conditions: ColumnElement[bool]) -> Any:
        return func.count(distinct(case((and_(*conditions), t.id))))

    def status_is(*statuses: TransferStatus) -> ColumnElement[bool]:
        return t.status.in_([s.value for s in statuses])

    query = select(
        count(moves),
        count(moves, status_is(TransferStatus.COMPLETED)),
        count(moves, status_is(TransferStatus.REJECTED)),
        count(moves, status_is(TransferStatus.CANCELLED)),
        count(moves, status_is(*OPEN_STATUSES)),
        count(t.kind == TransferKind.DEFERRED.value, status_is(TransferStatus.DEFERRED)),
        count(moves, receives, not_(sends)),
        count(moves, sends, not_(receives)),
        count(moves, sends, receives),
    ).where(t.requested_at >= begin, t.requested_at < stop, or_(sends, receives))
    row = (await session.execute(query)).one()
    return TransferCounts(*(int(v) for v in row))
