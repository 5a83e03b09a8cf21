"""Ranking experts for a demand, with a reason for every point given.

Five factors, 100 points in all:

* field (40): the demand's field is one of the expert's fields;
* skills (30): words of the demand's title and description (tokenised with jieba) that the expert's skills share;
* distance (15): how far the expert's tenant is from the demand's in the tenant tree (same county, a county of
  the same city, further); an expert unwilling to travel scores nothing here outside his own county;
* availability (10): available now, or busy;
* load (5): fewer open assignments is better, relative to the tenant's ``max_load``.

jieba is imported and its dictionary loaded the first time text is tokenised, never at import time.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plugins.talent_pool.schemas import AVAILABILITY_ZH, ScorePart

WEIGHTS = {"field": 40.0, "skills": 30.0, "distance": 15.0, "availability": 10.0, "load": 5.0}
#: Words of the domain jieba should keep whole.
DOMAIN_WORDS = (
    "果树修剪",
    "病虫害防治",
    "水稻种植",
    "大棚蔬菜",
    "茶叶种植",
    "电子商务",
    "乡村振兴",
    "中医药",
    "慢性病",
    "财务管理",
    "企业管理",
    "法律咨询",
    "矛盾调解",
    "课外辅导",
    "红色教育",
    "非遗传承",
    "水产养殖",
    "畜牧养殖",
    "土壤改良",
    "机械维修",
)
STOPWORDS = frozenset(
    (
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "对",
        "为",
        "是",
        "有",
        "等",
        "需要",
        "希望",
        "帮助",
        "进行",
        "开展",
        "一些",
        "一个",
        "问题",
        "方面",
        "相关",
        "提供",
        "指导",
        "我们",
        "他们",
        "村里",
        "今年",
        "明年",
        "目前",
        "情况",
        "工作",
        "主要",
        "一下",
        "请",
        "能",
        "会",
        "要",
        "把",
        "给",
        "让",
        "从",
        "到",
        "以",
        "并",
        "也",
        "都",
        "很",
    )
)
_TOKEN_OK = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_init_lock = threading.Lock()


@functools.cache
def _jieba() -> Any:
    """Import jieba and load its dictionary once per process (lazily: the first matching request pays ~1 s)."""
    with _init_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jieba's regexes predate Python 3.12's escapes
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
        for word in DOMAIN_WORDS:
            jieba.add_word(word, freq=20000)
        return jieba


def tokens(texts: Iterable[str]) -> set[str]:
    """Meaningful words of Chinese (and Latin) text: jieba's search-mode cut, without stop words or single
    characters (a single 树 or 病 matches far too much)."""
    jieba = _jieba()
    out: set[str] = set()
    for text in texts:
        if not text:
            continue
        for word in jieba.cut_for_search(text):
            word = word.strip().lower()
            if len(word) < 2 or word in STOPWORDS or not _TOKEN_OK.search(word):
                continue
            out.add(word)
    return out


@dataclass(frozen=True)
class ExpertView:
    """What matching knows of an expert: for another county's expert, exactly the shareable projection."""

    expert_id: Any
    member_id: Any
    tenant_id: int
    name: str
    fields: tuple[str, ...]
    skills: tuple[str, ...]
    availability: str
    willing_to_travel: bool
    load: int


def tree_distance(path_a: str, path_b: str) -> int:
    """Edges between two tenants in the tree, from their stored paths (``/1/4/9/``)."""
    a = [p for p in path_a.strip("/").split("/") if p]
    b = [p for p in path_b.strip("/").split("/") if p]
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return (len(a) - common) + (len(b) - common)


def score(
    expert: ExpertView, *, field: str, demand_words: set[str], distance: int, max_load: int
) -> tuple[float, list[ScorePart]]:
    parts: list[ScorePart] = []

    if field in expert.fields:
        parts.append(ScorePart(factor="field", points=WEIGHTS["field"], max_points=WEIGHTS["field"],
                               reason=f"领域相符：{field}", reason_en=f"field matches: {field}"))  # fmt: skip
    else:
        parts.append(ScorePart(factor="field", points=0, max_points=WEIGHTS["field"],
                               reason=f"领域不同（专家领域：{'、'.join(expert.fields) or '未填'}）",
                               reason_en="different field"))  # fmt: skip

    skill_words = tokens(expert.skills)
    # A skill also counts when the demand text contains it whole (short skills jieba may split differently).
    shared = sorted(demand_words & skill_words)
    ratio = min(1.0, len(shared) / 3)
    points = round(WEIGHTS["skills"] * ratio, 1)
    if shared:
        reason = f"专长与需求相关的词：{'、'.join(shared[:6])}"
        reason_en = f"skills share {len(shared)} word(s) with the demand: {', '.join(shared[:6])}"
    else:
        reason, reason_en = "专长与需求描述没有共同的词", "no skill word appears in the demand"
    parts.append(ScorePart(factor="skills", points=points, max_points=WEIGHTS["skills"], reason=reason,
                           reason_en=reason_en))  # fmt: skip

    if distance == 0:
        d_points, reason, reason_en = WEIGHTS["distance"], "本县（区）专家", "expert of the demand's own county"
    elif not expert.willing_to_travel:
        d_points, reason, reason_en = 0.0, "不在本地且不愿外出服务", "lives elsewhere and does not travel"
    elif distance <= 2:
        d_points, reason, reason_en = 8.0, "同一市内的专家", "expert of the same city"
    else:
        d_points, reason, reason_en = 4.0, "外市专家，路途较远", "expert of another city"
    parts.append(ScorePart(factor="distance", points=d_points, max_points=WEIGHTS["distance"], reason=reason,
                           reason_en=reason_en))  # fmt: skip

    a_points = WEIGHTS["availability"] if expert.availability == "available" else 4.0
    parts.append(ScorePart(factor="availability", points=a_points, max_points=WEIGHTS["availability"],
                           reason=AVAILABILITY_ZH.get(expert.availability, expert.availability),
                           reason_en=expert.availability))  # fmt: skip

    free = max(0.0, 1 - expert.load / max_load)
    l_points = round(WEIGHTS["load"] * free, 1)
    parts.append(ScorePart(factor="load", points=l_points, max_points=WEIGHTS["load"],
                           reason=f"手头有 {expert.load} 项服务任务（上限 {max_load}）",
                           reason_en=f"{expert.load} open assignment(s) of at most {max_load}"))  # fmt: skip
    return round(sum(p.points for p in parts), 1), parts
