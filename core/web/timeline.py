"""A member's own page (个人时间轴): one timeline of the person across the core and every programme active in
the member's tenant. The core adds the record (joined the party, retired, committee posts, transfers,
organisation life attended); each active plugin adds its ``member_panel``: key figures (shown as cards) and
timeline entries (merged with everyone else's by date). Built for a phone and for someone over seventy:
one column, large type, newest first.

Two doors lead to the same page: officials who may read the ledger (``member.read``) open anyone's at
``/t/{code}/members/{id}/timeline``; a retired cadre whose account is linked to their record (账号关联, see
:mod:`core.orgs.member_accounts`) opens their own at ``/t/{code}/me`` (我的主页) with only the ``member`` role.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, current_principal, platform_of, provide_acting
from core.identity.roles import MEMBER_READ, TENANT_READ
from core.orglife.models import Attendance, Meeting, MeetingKind
from core.orgs import service
from core.orgs.member_accounts import NOT_LINKED, own_member
from core.orgs.models import CommitteePosition, CommitteeSeat, Member, Organization, RetirementType
from core.orgs.transfer_models import MemberTransfer, TransferKind, TransferStatus
from core.plugin_host import service as plugins
from core.plugin_host.activation import effective_settings
from core.plugin_host.declarations import MemberPanel, PluginContext
from core.plugin_host.settings import plugin_defaults
from core.web.console import shell

logger = logging.getLogger(__name__)
CORE_SOURCE = ("党员档案", "Member record")
ATTENDANCE_ZH = {"present": "参加", "absent": "缺席", "excused": "请假未参加"}
ATTENDANCE_EN = {"present": "Attended", "absent": "Missed", "excused": "Excused from"}


@dataclass(frozen=True)
class Entry:
    on: datetime.date
    text_zh: str
    text_en: str
    source_zh: str
    source_en: str


@dataclass(frozen=True)
class Figure:
    label_zh: str
    label_en: str
    value: str
    source_zh: str
    source_en: str


def _date(raw: Any) -> datetime.date | None:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def compose(panels: list[tuple[str, str, MemberPanel]]) -> tuple[list[Figure], list[Entry]]:
    """Split every panel's items into key figures and timeline entries; entries of all panels merged by date,
    newest first (ties keep the panels' order). ``panels`` holds (source zh, source en, panel)."""
    figures: list[Figure] = []
    entries: list[Entry] = []
    for source_zh, source_en, panel in panels:
        for item in panel.items:
            if not isinstance(item, dict):
                continue
            if "on" in item:
                on = _date(item.get("on"))
                if on is None or not item.get("text"):
                    continue
                text = str(item["text"])
                entries.append(Entry(on, text, str(item.get("text_en") or text), source_zh, source_en))
            elif "label" in item and "value" in item:
                label = str(item["label"])
                figures.append(
                    Figure(label, str(item.get("label_en") or label), str(item["value"]), source_zh, source_en)
                )
    entries.sort(key=lambda e: e.on, reverse=True)  # stable: same-day entries keep their order
    return figures, entries


async def core_panel(session: AsyncSession, member: Member, tree: Any) -> MemberPanel:
    """The core's part of the timeline: the record, committee posts, transfers and organisation life."""
    items: list[dict[str, Any]] = []
    today = datetime.date.today()
    if member.party_joined_on:
        years = service.age_on(member.party_joined_on, today)
        items.append({"label": "党龄", "label_en": "Years in the Party", "value": f"{years} 年"})
        items.append(
            {"on": member.party_joined_on.isoformat(), "text": "加入中国共产党", "text_en": "Joined the Party"}
        )
    if member.retired_on:
        retirement = RetirementType(member.retirement_type)
        english = "Retired" if retirement is RetirementType.TUIXIU else "Retired (lixiu)"
        items.append({"on": member.retired_on.isoformat(), "text": retirement.zh, "text_en": english})
    seats = await session.execute(
        select(CommitteeSeat, Organization.name)
        .join(
            Organization,
            (Organization.tenant_id == CommitteeSeat.tenant_id) & (Organization.id == CommitteeSeat.org_id),
        )
        .where(CommitteeSeat.member_id == member.id)
    )
    for seat, org_name in seats.tuples():
        position = CommitteePosition(seat.position)
        items.append(
            {
                "on": seat.since.isoformat(),
                "text": f"任{org_name}{position.zh}",
                "text_en": f"Became {position.value.replace('_', ' ')} of {org_name}",
            }
        )
        if seat.until:
            items.append(
                {
                    "on": seat.until.isoformat(),
                    "text": f"卸任{org_name}{position.zh}",
                    "text_en": f"Left the post of {position.value.replace('_', ' ')} of {org_name}",
                }
            )
    seen: set[uuid.UUID] = set()
    transfers = await session.execute(
        select(MemberTransfer).where(MemberTransfer.member_id == member.id).order_by(MemberTransfer.requested_at)
    )
    for t in transfers.scalars():
        if t.id in seen:
            continue
        seen.add(t.id)
        origin, target = tree.nodes[t.from_tenant_id].name, tree.nodes[t.to_tenant_id].name
        kind, status = TransferKind(t.kind), TransferStatus(t.status)
        items.append(
            {
                "on": t.requested_at.date().isoformat(),
                "text": f"申请组织关系转接（{kind.zh}）：{origin} → {target}",
                "text_en": f"Transfer requested ({kind.value}): {origin} → {target}",
            }
        )
        if t.closed_at is not None:
            items.append(
                {
                    "on": t.closed_at.date().isoformat(),
                    "text": f"组织关系转接{status.zh}",
                    "text_en": f"Transfer {status.value}",
                }
            )
    marks = await session.execute(
        select(Attendance.status, Meeting.held_on, Meeting.kind, Meeting.title)
        .join(Meeting, (Meeting.tenant_id == Attendance.tenant_id) & (Meeting.id == Attendance.meeting_id))
        .where(Attendance.member_id == member.id, Meeting.cancelled_at.is_(None))
    )
    attended_this_year = 0
    for mark, held_on, raw_kind, title in marks.tuples():
        meeting_kind = MeetingKind(raw_kind)
        if mark == "present" and held_on.year == today.year:
            attended_this_year += 1
        items.append(
            {
                "on": held_on.isoformat(),
                "text": f"{ATTENDANCE_ZH.get(mark, mark)}{meeting_kind.zh}：{title}",
                "text_en": f"{ATTENDANCE_EN.get(mark, mark)} {meeting_kind.value.replace('_', ' ')}: {title}",
            }
        )
    items.insert(
        0, {"label": "今年参加组织生活", "label_en": "Organisation life this year", "value": f"{attended_this_year} 次"}
    )
    return MemberPanel(CORE_SOURCE[0], CORE_SOURCE[1], items, order=0)


async def timeline_page(
    request: Request[Any, Any, Any], acting: Acting, db_session: AsyncSession, member: Member, *, own: bool
) -> Template:
    """The page of one person: the core's panel and those of every programme active in the member's tenant."""
    tree = acting.tree
    home = tree.nodes[member.tenant_id]
    panels: list[tuple[str, str, MemberPanel]] = []
    core = await core_panel(db_session, member, tree)
    panels.append((core.title_zh, core.title_en, core))
    platform = platform_of(request)
    snapshot = await platform.activation.get(platform.database)
    effective = plugins.effective_in(platform.plugins, tree, snapshot, home.id)
    principal = current_principal(request)
    plugin_panels: list[MemberPanel] = []
    for name in sorted(n for n, eff in effective.items() if eff.active):
        values, _ = effective_settings(tree, snapshot, home.id, name, plugin_defaults(platform.plugins, name))
        context = PluginContext(
            plugin=name,
            tenant=home,
            tree=tree,
            session=db_session,
            settings=values,
            principal=principal,
            roles=platform.roles,
        )
        try:
            async with db_session.begin_nested():  # a failing panel must not spoil the others
                answers = await platform.plugins.acall_each(
                    "member_panel", only=[name], context=context, member_id=str(member.id)
                )
        except Exception:  # the page shows what the other panels have
            logger.exception("member panel of %s failed", name)
            continue
        plugin_panels.extend(p for _n, p in answers if isinstance(p, MemberPanel))
    for panel in sorted(plugin_panels, key=lambda p: p.order):
        panels.append((panel.title_zh, panel.title_en, panel))
    figures, entries = compose(panels)
    page = await shell(request, acting, db_session)
    out_member = {
        "id": str(member.id),
        "name": member.name,
        "age": service.age_on(member.birth_date, datetime.date.today()),
        "tenant": home.name,
    }
    return Template(
        template_name="console/timeline.html",
        context={
            **page,
            "m": out_member,
            "figures": figures,
            "entries": entries,
            "sources": [(zh, en) for zh, en, _p in panels],
            "own": own,
        },
    )


class MemberTimelinePages(Controller):
    path = "/t/{tenant_code:str}/members"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/{member_id:uuid}/timeline", opt={"permission": MEMBER_READ, "page": True})
    async def timeline(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        member_id: FromPath[uuid.UUID],
    ) -> Template:
        member = await service.get_member(db_session, member_id)  # outside the subtree: 404
        return await timeline_page(request, acting, db_session, member, own=False)


class OwnPage(Controller):
    """我的主页: the signed-in retired cadre's own timeline; ``tenant.read`` is all it needs (the member role)."""

    path = "/t/{tenant_code:str}/me"
    include_in_schema = False
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}  # noqa: RUF012

    @get("/", opt={"permission": TENANT_READ, "page": True})
    async def own(
        self,
        request: Request[Any, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
    ) -> Template | Redirect:
        principal = current_principal(request)
        link = principal.member if principal else None
        if link is not None and link.tenant_id != acting.tenant.id and link.tenant_id in acting.tree.nodes:
            home = acting.tree.nodes[link.tenant_id]
            if principal is not None and principal.acts_in(acting.tree, home.id):
                return Redirect(f"/t/{home.code}/me")
        member = await own_member(db_session, principal) if link and link.tenant_id == acting.tenant.id else None
        if member is None:  # the error page says whom to ask
            raise NOT_LINKED.error()
        return await timeline_page(request, acting, db_session, member, own=True)
