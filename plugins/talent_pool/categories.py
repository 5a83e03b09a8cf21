"""The province-wide classification of expertise (全省统一专业分类) that reports count experts by.

A tenant edits its own list of fields (setting ``fields``): a county may add 水利 or 非遗传承, rename one, drop
another. Reports cannot declare a metric per tenant-chosen word, and a province cannot add up words that differ
from county to county, so every field maps to one category of a fixed classification: the twelve fields the
pool is seeded with (the reports' "12个领域") and 其他. A field named like a category belongs to it; any other
field belongs to the category the tenant gives it in the setting ``field_categories`` (``{"水利": "engineering"}``),
else to 其他. Each category is one ``LEVEL`` metric, ``talent_pool.experts.<code>``, declared once for everyone.

An admitted expert counts once in each category their fields fall in (an expert of 农业 and 科技 counts in
both; two fields of the same category count once), so the categories may add up to more than the experts.
Which categories an expert counts in is kept as spans (:class:`~plugins.talent_pool.models.ExpertCategory`):
opened when the expert is admitted or a field moves them into a category, closed when they leave it or the
pool, each dated the day it happened; the report facts are those spans' openings and closings.

Codes are part of the metric ids: never rename one; a new category needs a new metric and a new code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

METRIC_PREFIX = "talent_pool.experts."


@dataclass(frozen=True)
class Category:
    code: str
    title_zh: str
    title_en: str

    @property
    def metric(self) -> str:
        return metric_id(self.code)


OTHER = "other"

#: The classification, in the order reports list it. The first twelve are also the fields a pool is seeded with.
CATEGORIES: tuple[Category, ...] = (
    Category("education", "教育", "Education"),
    Category("medicine", "医疗卫生", "Medicine and health"),
    Category("agriculture", "农业", "Agriculture"),
    Category("technology", "科技", "Science and technology"),
    Category("law", "法律", "Law"),
    Category("economics", "经济管理", "Economics and management"),
    Category("culture", "文化艺术", "Culture and arts"),
    Category("engineering", "工程建设", "Engineering and construction"),
    Category("party_building", "党建宣传", "Party building and publicity"),
    Category("social_work", "社会工作", "Social work"),
    Category("ecology", "生态环保", "Ecology and environment"),
    Category("sports_health", "体育健康", "Sports and fitness"),
    Category(OTHER, "其他", "Other"),
)
BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
BY_TITLE: dict[str, Category] = {c.title_zh: c for c in CATEGORIES}
ORDER: dict[str, int] = {c.code: i for i, c in enumerate(CATEGORIES)}


def metric_id(code: str) -> str:
    return f"{METRIC_PREFIX}{code}"


def choices_text() -> str:
    """ "教育（education）、医疗卫生（medicine）…" for error messages."""
    return "、".join(f"{c.title_zh}（{c.code}）" for c in CATEGORIES)


def normalise(value: str) -> str | None:
    """A category's code from its code or its Chinese title; ``None`` when it is neither."""
    text = value.strip()
    if text in BY_CODE:
        return text
    found = BY_TITLE.get(text)
    return found.code if found else None


def category_of(field: str, mapping: Mapping[str, str]) -> str:
    """The category a tenant's field counts in: the tenant's word for it, else the category of that name, else 其他."""
    chosen = mapping.get(field)
    if chosen in BY_CODE:
        return str(chosen)
    same = BY_TITLE.get(field)
    return same.code if same else OTHER


def categories_of(fields: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    """The categories an expert with ``fields`` counts in, once each, in the classification's order."""
    return sorted({category_of(f, mapping) for f in fields}, key=ORDER.__getitem__)
