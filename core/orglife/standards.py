"""The "六好" model-branch scoring (示范党支部创建): the list of items, yearly scores, rankings and publication.

**Which list applies.** A tenant uses its own list when it has one (any rows of ``standard_item``, active or
not); otherwise its nearest ancestor's list; otherwise the platform default below: the six aspects
组织设置好、班子建设好、制度坚持好、作用发挥好、阵地建设好、群众评价好 with indicators drawn from the
Jiangsu, Fengjie and Qihe reports (bonuses worth 100 points in all, and deductions). A tenant starts its own
list by adopting (copying) the one it inherits, then edits it; its subtree inherits the new list from then
on. Ancestors' lists are read through a read-only session scoped to the tenant's lineage (the request's own
session sees only the acting subtree), the same way plugin settings are inherited.

**Scores.** A branch is scored per year against the list that applies to the branch's tenant; each line keeps
a snapshot of its item, so later edits of the list never change past scores. A bonus item earns 0..max points;
a deduction item takes 0..max points off. Items with ``unit_points`` are scored by count (每次扣 2 分) and the
result is capped at the item's max (``capped`` says so); a directly given number above the max is refused.
Total = Σ bonuses − Σ deductions.

**Rankings.** A tenant ranks the scored branches of its subtree for a year (ties share a rank). Publishing
stores the ranking with a threshold; branches at or above it are its model branches (示范党支部 of that
level: a county's, a city's, the province's). Once any tenant has published a year, every score of that year
in its subtree is frozen: edits answer 409. Score edits and publications of a year are serialised (a
transaction-level advisory lock on PostgreSQL), so no edit slips in while a ranking is being published.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.db.scope import TenantScope
from core.errors import AppError, ErrorSpec
from core.orglife.models import (
    BranchScore,
    BranchScoreLine,
    ItemKind,
    RankingEntry,
    RankingPublication,
    StandardItem,
)
from core.orglife.schemas import ScoreIn, StandardItemCreate, StandardItemUpdate
from core.orgs.models import Organization, OrgLevel
from core.tenancy.tree import TenantTree

DEFAULT_THRESHOLD = Decimal(90)
ASPECTS = ("组织设置好", "班子建设好", "制度坚持好", "作用发挥好", "阵地建设好", "群众评价好")
_DEFAULT_NAMESPACE = uuid.UUID("5f0a7f8e-2b4c-4d1e-9a57-6c1e0b7d9a11")
_ONE_DECIMAL = Decimal("0.1")
_RANKING_LOCK_CLASS = 7320  # pg_advisory_xact_lock(class, year): score edits vs. publication of one year

LIST_ALREADY_OWN = ErrorSpec(
    "standards.list_already_own",
    409,
    "本单位已有自己的“六好”评分细则，无需再复制；可直接增改其中的项目",
    "This tenant already has its own list; edit its items directly",
)
LIST_INHERITED = ErrorSpec(
    "standards.list_inherited",
    409,
    "本单位目前沿用{source_zh}的评分细则：请先“复制为本单位细则”，再增改项目",
    "This tenant uses {source} list; adopt it as its own first, then edit",
)
ITEM_NOT_FOUND = ErrorSpec(
    "standards.item_not_found", 404, "找不到该评分项（只能修改本单位自己的细则）", "No such item in this tenant's list"
)
ITEM_DUPLICATE = ErrorSpec(
    "standards.item_duplicate",
    409,
    "“{aspect}”下已有名为“{name}”的评分项",
    "Aspect '{aspect}' already has an item named '{name}'",
)
ITEM_UNIT_OVER_MAX = ErrorSpec(
    "standards.unit_over_max",
    422,
    "每次分值（{unit}）不能大于该项分值上限（{max}）",
    "The points per occurrence ({unit}) exceed the item's maximum ({max})",
)
SCORE_YEAR_INVALID = ErrorSpec(
    "standards.year_invalid", 422, "年度 {year} 无效：只能评 2000 年至今年的年度", "Year {year} is out of range"
)
SCORE_FROZEN = ErrorSpec(
    "standards.score_frozen",
    409,
    "{year} 年度“六好”评比结果已由{publisher}于 {date} 公布，评分已锁定，不能再修改",
    "The {year} ranking was published by {publisher} on {date}; scores are frozen",
)
SCORE_NOT_FOUND = ErrorSpec(
    "standards.score_not_found", 404, "该支部还没有 {year} 年度的评分", "This branch has no score for {year}"
)
SCORE_ITEM_UNKNOWN = ErrorSpec(
    "standards.score_item_unknown",
    422,
    "第 {row} 行：该评分项不在{org}适用的评分细则中，或已停用",
    "Row {row}: the item is not in the list that applies to {org}",
)
SCORE_ITEM_DUPLICATE = ErrorSpec(
    "standards.score_item_duplicate",
    422,
    "第 {row} 行：“{name}”重复评分",
    "Row {row}: '{name}' is scored twice",
)
SCORE_OVER_MAX = ErrorSpec(
    "standards.score_over_max",
    422,
    "第 {row} 行：“{name}”最多{verb} {max} 分，填写的是 {points} 分",
    "Row {row}: '{name}' allows at most {max} points, {points} given",
)
SCORE_NEEDS_VALUE = ErrorSpec(
    "standards.score_needs_value",
    422,
    "第 {row} 行：请为“{name}”填写{what}",
    "Row {row}: give {what_en} for '{name}'",
)
SCORE_NOT_COUNTED = ErrorSpec(
    "standards.score_not_counted",
    422,
    "第 {row} 行：“{name}”不按次数计分，请直接填写分数",
    "Row {row}: '{name}' is not scored by count; give the points",
)
ALREADY_PUBLISHED = ErrorSpec(
    "standards.already_published",
    409,
    "{year} 年度的排名已于 {date} 公布，公布后不能再修改或重新公布",
    "The {year} ranking was already published on {date}; it is frozen",
)
NOTHING_TO_PUBLISH = ErrorSpec(
    "standards.nothing_to_publish",
    422,
    "{year} 年度还没有任何支部的评分，无法公布排名",
    "No branch has a score for {year}; nothing to publish",
)


@dataclass(frozen=True)
class ItemDef:
    id: uuid.UUID
    aspect: str
    name: str
    kind: ItemKind
    max_points: Decimal
    unit_points: Decimal | None
    position: int
    is_active: bool = True
    description: str = ""


def _default(
    position: int, aspect: int, name: str, kind: ItemKind, max_points: str, unit: str | None = None
) -> ItemDef:
    code = f"jiangsu-six-goods/{aspect}/{position}"
    return ItemDef(
        id=uuid.uuid5(_DEFAULT_NAMESPACE, code),
        aspect=ASPECTS[aspect],
        name=name,
        kind=kind,
        max_points=Decimal(max_points),
        unit_points=Decimal(unit) if unit else None,
        position=position,
    )


B, D = ItemKind.BONUS, ItemKind.DEDUCTION
#: The platform default (江苏"六好" with indicators from the reports): bonuses 100 points in all.
DEFAULT_ITEMS: tuple[ItemDef, ...] = (
    _default(10, 0, "按“便于管理、便于活动、便于发挥作用”原则设置支部，应建尽建", B, "5"),
    _default(20, 0, "组织关系转接及时规范（直接转接、协商转接、原单位兜底管理）", B, "5"),
    _default(30, 0, "党小组设置合理，“一方隶属，多重管理”的党员纳入管理", B, "5"),
    _default(40, 0, "党员组织关系长期不转接又不参加活动（每人扣 1 分）", D, "5", "1"),
    _default(110, 1, "支部书记政治素质好、群众威信高、责任心强", B, "5"),
    _default(120, 1, "支委会健全，按期换届，分工明确", B, "5"),
    _default(130, 1, "支部书记参加培训（书记培训班、集训轮训）", B, "5"),
    _default(140, 1, "班子成员违反纪律受到处理（每人次扣 5 分）", D, "10", "5"),
    _default(210, 2, "“三会一课”按期召开、记录完整", B, "10"),
    _default(220, 2, "每月开展主题党日活动", B, "5"),
    _default(230, 2, "重温入党誓词、过“政治生日”等政治仪式", B, "5"),
    _default(240, 2, "落实党员积分管理、记实管理，按季度公示", B, "5"),
    _default(250, 2, "无故未按期开展组织生活（每次扣 2 分）", D, "10", "2"),
    _default(310, 3, "参加志愿服务（政策宣讲、矛盾调解、关心下一代等）", B, "10"),
    _default(320, 3, "建言献策、调研咨询，意见建议被采纳", B, "5"),
    _default(330, 3, "亮身份、树形象，到居住地社区报到服务", B, "5"),
    _default(410, 4, "“六有”达标（有场所、有标识、有设施、有制度、有经费、有活动）", B, "10"),
    _default(420, 4, "用好信息化平台，开展线上学习（“云党课”）", B, "5"),
    _default(510, 5, "党员群众满意度测评", B, "10"),
    _default(520, 5, "群众反映问题经查属实（每件扣 2 分）", D, "10", "2"),
)
DEFAULT_IDS = frozenset(i.id for i in DEFAULT_ITEMS)


@dataclass(frozen=True)
class StandardList:
    """The list that applies to a tenant and where it comes from."""

    source: str  # own | inherited | default
    tenant_id: int | None  # whose list (None: the platform default)
    items: tuple[ItemDef, ...]

    @property
    def active(self) -> dict[uuid.UUID, ItemDef]:
        return {i.id: i for i in self.items if i.is_active}

    @property
    def max_total(self) -> Decimal:
        return sum((i.max_points for i in self.items if i.is_active and i.kind is ItemKind.BONUS), Decimal(0))

    def describe(self, tree: TenantTree) -> tuple[str, str]:
        """(zh, en) naming the list's origin."""
        if self.source == "default" or self.tenant_id is None:
            return "平台默认（江苏“六好”）", "the platform default"
        node = tree.nodes[self.tenant_id]
        if self.source == "own":
            return f"本单位（{node.name}）", f"its own ({node.code})"
        return f"上级单位{node.name}", f"{node.name} ({node.code})'s"


def item_def(row: StandardItem) -> ItemDef:
    return ItemDef(
        id=row.id,
        aspect=row.aspect,
        name=row.name,
        kind=ItemKind(row.kind),
        max_points=Decimal(row.max_points),
        unit_points=Decimal(row.unit_points) if row.unit_points is not None else None,
        position=row.position,
        is_active=row.is_active,
        description=row.description,
    )


def _sorted(items: Sequence[ItemDef]) -> tuple[ItemDef, ...]:
    return tuple(sorted(items, key=lambda i: (i.position, i.aspect, i.name)))


@dataclass(frozen=True)
class LineageView:
    """What a tenant inherits: its list and, for a year, the nearest publication that froze its scores."""

    standard: StandardList
    publication: RankingPublication | None


async def lineage_view(database: Database, tree: TenantTree, tenant_id: int, year: int | None = None) -> LineageView:
    """Read the lineage (the tenant and its ancestors) through a read-only session scoped to exactly that."""
    lineage = [n.id for n in tree.lineage(tenant_id)]
    async with database.session(TenantScope.of(lineage, ())) as session:
        rows = (await session.execute(select(StandardItem).where(StandardItem.tenant_id.in_(lineage)))).scalars().all()
        publication = None
        if year is not None:
            publications = (
                (
                    await session.execute(
                        select(RankingPublication).where(
                            RankingPublication.tenant_id.in_(lineage), RankingPublication.year == year
                        )
                    )
                )
                .scalars()
                .all()
            )
            if publications:
                publication = min(publications, key=lambda p: p.published_at)
    by_tenant: dict[int, list[ItemDef]] = {}
    for row in rows:
        by_tenant.setdefault(row.tenant_id, []).append(item_def(row))
    for node_id in reversed(lineage):
        if node_id in by_tenant:
            source = "own" if node_id == tenant_id else "inherited"
            return LineageView(StandardList(source, node_id, _sorted(by_tenant[node_id])), publication)
    return LineageView(StandardList("default", None, DEFAULT_ITEMS), publication)


# --- the tenant's own list ----------------------------------------------------------------------------------


async def _own_items(session: AsyncSession, tenant_id: int) -> list[StandardItem]:
    return list(
        (await session.execute(select(StandardItem).where(StandardItem.tenant_id == tenant_id))).scalars().all()
    )


async def adopt(session: AsyncSession, database: Database, tree: TenantTree, tenant_id: int) -> None:
    """Copy the list the tenant inherits into its own rows, to edit from there."""
    if await _own_items(session, tenant_id):
        raise LIST_ALREADY_OWN.error()
    inherited = (await lineage_view(database, tree, tenant_id)).standard
    for item in inherited.items:
        session.add(
            StandardItem(
                tenant_id=tenant_id,
                aspect=item.aspect,
                name=item.name,
                description=item.description,
                kind=item.kind.value,
                max_points=item.max_points,
                unit_points=item.unit_points,
                position=item.position,
                is_active=item.is_active,
            )
        )
    await session.flush()


async def _require_own(
    session: AsyncSession, database: Database, tree: TenantTree, tenant_id: int
) -> list[StandardItem]:
    own = await _own_items(session, tenant_id)
    if not own:
        zh, en = (await lineage_view(database, tree, tenant_id)).standard.describe(tree)
        raise LIST_INHERITED.error(source_zh=zh, source=en)
    return own


def _check_unit(max_points: Decimal, unit: Decimal | None) -> None:
    if unit is not None and unit > max_points:
        raise ITEM_UNIT_OVER_MAX.error(field="unit_points", unit=points_text(unit), max=points_text(max_points))


async def create_item(
    session: AsyncSession, database: Database, tree: TenantTree, tenant_id: int, data: StandardItemCreate
) -> StandardItem:
    own = await _require_own(session, database, tree, tenant_id)
    if any(i.aspect == data.aspect and i.name == data.name for i in own):
        raise ITEM_DUPLICATE.error(field="name", aspect=data.aspect, name=data.name)
    _check_unit(data.max_points, data.unit_points)
    position = data.position if data.position is not None else max((i.position for i in own), default=0) + 10
    item = StandardItem(
        tenant_id=tenant_id,
        aspect=data.aspect,
        name=data.name,
        description=data.description,
        kind=data.kind.value,
        max_points=data.max_points,
        unit_points=data.unit_points,
        position=position,
        is_active=True,
    )
    session.add(item)
    await session.flush()
    return item


async def update_item(
    session: AsyncSession, tenant_id: int, item_id: uuid.UUID, data: StandardItemUpdate
) -> StandardItem:
    own = await _own_items(session, tenant_id)
    item = next((i for i in own if i.id == item_id), None)
    if item is None:
        raise ITEM_NOT_FOUND.error(field="item_id")
    given = data.model_dump(exclude_unset=True)
    aspect = given.get("aspect") or item.aspect
    name = given.get("name") or item.name
    if any(i.id != item.id and i.aspect == aspect and i.name == name for i in own):
        raise ITEM_DUPLICATE.error(field="name", aspect=aspect, name=name)
    max_points = Decimal(given.get("max_points") or item.max_points)
    unit = given.get("unit_points", item.unit_points)
    _check_unit(max_points, Decimal(unit) if unit is not None else None)
    for key in ("aspect", "name", "description", "max_points", "position", "is_active"):
        if given.get(key) is not None:
            setattr(item, key, given[key])
    if "unit_points" in given:
        item.unit_points = given["unit_points"]
    if data.kind is not None:
        item.kind = data.kind.value
    await session.flush()
    return item


# --- scores ----------------------------------------------------------------------------------------------


def check_year(year: int) -> None:
    if not 2000 <= year <= datetime.date.today().year:
        raise SCORE_YEAR_INVALID.error(field="year", year=year)


async def lock_year(session: AsyncSession, year: int) -> None:
    """Serialise score edits and publications of one year (PostgreSQL; a no-op elsewhere)."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:c, :y)"), {"c": _RANKING_LOCK_CLASS, "y": year})


def _frozen_error(tree: TenantTree, publication: RankingPublication, year: int) -> AppError:
    publisher = tree.nodes[publication.tenant_id]
    return SCORE_FROZEN.error(
        field="year", year=year, publisher=publisher.name, date=publication.published_at.date().isoformat()
    )


def points_text(value: Decimal) -> str:
    """5, 4.5 — not 5.0 or 1E+1."""
    return f"{Decimal(value).normalize():f}"


def _q(value: Decimal) -> Decimal:
    return value.quantize(_ONE_DECIMAL)


async def score_branch(
    session: AsyncSession,
    database: Database,
    tree: TenantTree,
    org: Organization,
    year: int,
    data: ScoreIn,
    actor: str,
) -> BranchScore:
    check_year(year)
    await lock_year(session, year)
    view = await lineage_view(database, tree, org.tenant_id, year)
    if view.publication is not None:
        raise _frozen_error(tree, view.publication, year)
    active = view.standard.active
    lines: list[BranchScoreLine] = []
    seen: set[uuid.UUID] = set()
    for row, line in enumerate(data.lines, start=1):
        field = f"lines[{row - 1}]"
        try:
            item_id = uuid.UUID(line.item_id)
        except ValueError:
            item_id = uuid.UUID(int=0)
        item = active.get(item_id)
        if item is None:
            raise SCORE_ITEM_UNKNOWN.error(field=f"{field}.item_id", row=row, org=org.name)
        if item_id in seen:
            raise SCORE_ITEM_DUPLICATE.error(field=f"{field}.item_id", row=row, name=item.name)
        seen.add(item_id)
        capped = False
        if line.count is not None:
            if item.unit_points is None:
                raise SCORE_NOT_COUNTED.error(field=f"{field}.count", row=row, name=item.name)
            raw = item.unit_points * line.count
            points, capped = min(raw, item.max_points), raw > item.max_points
        elif line.points is not None:
            if line.points > item.max_points:
                raise SCORE_OVER_MAX.error(
                    field=f"{field}.points",
                    row=row,
                    name=item.name,
                    verb="扣" if item.kind is ItemKind.DEDUCTION else "得",
                    max=points_text(item.max_points),
                    points=points_text(line.points),
                )
            points = line.points
        else:
            what, what_en = ("次数", "a count") if item.unit_points is not None else ("分数", "the points")
            raise SCORE_NEEDS_VALUE.error(field=f"{field}.points", row=row, name=item.name, what=what, what_en=what_en)
        lines.append(
            BranchScoreLine(
                tenant_id=org.tenant_id,
                org_id=org.id,
                year=year,
                item_id=item.id,
                aspect=item.aspect,
                name=item.name,
                kind=item.kind.value,
                max_points=item.max_points,
                unit_points=item.unit_points,
                position=item.position,
                count=line.count,
                points=_q(points),
                capped=capped,
                note=line.note,
            )
        )
    bonus = sum((ln.points for ln in lines if ln.kind == ItemKind.BONUS.value), Decimal(0))
    deduction = sum((ln.points for ln in lines if ln.kind == ItemKind.DEDUCTION.value), Decimal(0))
    score = (
        await session.execute(
            select(BranchScore).where(
                BranchScore.tenant_id == org.tenant_id, BranchScore.org_id == org.id, BranchScore.year == year
            )
        )
    ).scalar_one_or_none()
    if score is None:
        score = BranchScore(tenant_id=org.tenant_id, org_id=org.id, year=year)
        session.add(score)
    else:
        # Through the ORM, one row at a time, so that the audit trail records what each line was.
        for old_line in (await get_score(session, org, year))[1]:
            await session.delete(old_line)
        await session.flush()
    zh, _en = view.standard.describe(tree)
    score.bonus, score.deduction, score.total = _q(bonus), _q(deduction), _q(bonus - deduction)
    score.list_source = zh[:160]
    score.comment = data.comment
    score.scored_by = actor
    score.scored_at = datetime.datetime.now(datetime.UTC)
    await session.flush()
    session.add_all(lines)
    await session.flush()
    return score


async def get_score(session: AsyncSession, org: Organization, year: int) -> tuple[BranchScore, list[BranchScoreLine]]:
    score = (
        await session.execute(
            select(BranchScore).where(
                BranchScore.tenant_id == org.tenant_id, BranchScore.org_id == org.id, BranchScore.year == year
            )
        )
    ).scalar_one_or_none()
    if score is None:
        raise SCORE_NOT_FOUND.error(field="year", year=year)
    lines = (
        (
            await session.execute(
                select(BranchScoreLine)
                .where(
                    BranchScoreLine.tenant_id == org.tenant_id,
                    BranchScoreLine.org_id == org.id,
                    BranchScoreLine.year == year,
                )
                .order_by(BranchScoreLine.position, BranchScoreLine.name)
            )
        )
        .scalars()
        .all()
    )
    return score, list(lines)


# --- rankings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    rank: int
    org_id: uuid.UUID
    org_name: str
    tenant_id: int
    total: Decimal
    is_model: bool


def _rank(rows: Sequence[tuple[uuid.UUID, str, int, Decimal]], threshold: Decimal) -> list[Ranked]:
    ordered = sorted(rows, key=lambda r: (-r[3], r[1], str(r[0])))
    out: list[Ranked] = []
    for position, (org_id, name, tenant_id, total) in enumerate(ordered, start=1):
        rank = out[-1].rank if out and out[-1].total == total else position
        out.append(Ranked(rank, org_id, name, tenant_id, Decimal(total), Decimal(total) >= threshold))
    return out


async def live_ranking(
    session: AsyncSession, tree: TenantTree, tenant_id: int, year: int, threshold: Decimal
) -> tuple[list[Ranked], int]:
    """The scored branches of the subtree, ranked, and how many active branches have no score."""
    ids = sorted(tree.subtree_ids(tenant_id))
    rows = await session.execute(
        select(BranchScore.org_id, Organization.name, BranchScore.tenant_id, BranchScore.total)
        .join(
            Organization,
            (Organization.tenant_id == BranchScore.tenant_id) & (Organization.id == BranchScore.org_id),
        )
        .where(BranchScore.tenant_id.in_(ids), BranchScore.year == year)
    )
    ranked = _rank(list(rows.tuples()), threshold)
    branches = (
        await session.execute(
            select(func.count())
            .select_from(Organization)
            .where(Organization.tenant_id.in_(ids), Organization.is_active, Organization.level == OrgLevel.BRANCH.value)
        )
    ).scalar_one()
    scored_active = len({r.org_id for r in ranked})
    return ranked, max(branches - scored_active, 0)


async def publication_of(session: AsyncSession, tenant_id: int, year: int) -> RankingPublication | None:
    return (
        await session.execute(
            select(RankingPublication).where(RankingPublication.tenant_id == tenant_id, RankingPublication.year == year)
        )
    ).scalar_one_or_none()


async def published_ranking(session: AsyncSession, tenant_id: int, year: int) -> list[Ranked]:
    rows = await session.execute(
        select(RankingEntry, Organization.name)
        .join(
            Organization,
            (Organization.tenant_id == RankingEntry.tenant_id) & (Organization.id == RankingEntry.org_id),
        )
        .where(RankingEntry.publisher_tenant_id == tenant_id, RankingEntry.year == year)
        .order_by(RankingEntry.rank, Organization.name)
    )
    return [Ranked(e.rank, e.org_id, name, e.tenant_id, Decimal(e.total), e.is_model) for e, name in rows.tuples()]


async def publish(
    session: AsyncSession,
    tree: TenantTree,
    tenant_id: int,
    year: int,
    threshold: Decimal,
    actor: str,
) -> tuple[RankingPublication, list[Ranked]]:
    check_year(year)
    await lock_year(session, year)
    existing = await publication_of(session, tenant_id, year)
    if existing is not None:
        raise ALREADY_PUBLISHED.error(field="year", year=year, date=existing.published_at.date().isoformat())
    ranked, _unscored = await live_ranking(session, tree, tenant_id, year, threshold)
    if not ranked:
        raise NOTHING_TO_PUBLISH.error(field="year", year=year)
    publication = RankingPublication(
        tenant_id=tenant_id,
        year=year,
        threshold=threshold,
        branches=len(ranked),
        model_branches=sum(1 for r in ranked if r.is_model),
        published_by=actor,
        published_at=datetime.datetime.now(datetime.UTC),
    )
    session.add(publication)
    await session.flush()
    session.add_all(
        RankingEntry(
            tenant_id=r.tenant_id,
            publisher_tenant_id=tenant_id,
            year=year,
            org_id=r.org_id,
            rank=r.rank,
            total=r.total,
            is_model=r.is_model,
        )
        for r in ranked
    )
    await session.flush()
    return publication, ranked
