"""The tenant's points rules, as the plugin's settings: inherited down the tenant tree, overridable key by key.

The host merges the defaults below with the province's, the city's and the county's own values (each key
replaces the one above it), validates the result against :class:`PointsSettings`, and hands every route and
hook the effective rules. So a province can set the star thresholds for all its counties while a county
replaces its list of items; ``null`` at a level clears that level's override. The defaults follow the
"红岩青松" scheme of Fengjie county and the star-member scheme of the city report (5 aspects, published every
quarter, one-year cycle, stars from 60 points).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

Period = Literal["month", "quarter", "year"]


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    name_zh: str = Field(min_length=1, max_length=32)
    name_en: str = Field(default="", max_length=64)


class Rule(BaseModel):
    """One item: points per event (``per="event"``) or per hour, capped per period; negative for deductions."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=48, pattern=r"^[a-z][a-z0-9_]*$")
    category: str
    name_zh: str = Field(min_length=1, max_length=48)
    name_en: str = Field(default="", max_length=96)
    points: Decimal = Field(ge=-100, le=100, description="每次或每小时的分值；负数为反向扣分")
    per: Literal["event", "hour"] = "event"
    cap: Decimal | None = Field(default=None, ge=0, description="每个周期内本项最多计多少分（扣分项为最多扣多少分）")
    cap_period: Period = "year"
    disqualifies: bool = Field(default=False, description="一票否决：本年度不能评为星级党员")
    events: list[str] = Field(default_factory=list, description="自动计分的事件名，如 mediation.case_settled")
    roles: list[str] = Field(default_factory=list, description="只对事件中这些角色/类型计分；空为全部")
    coins_per_hour: int = Field(default=0, ge=0, le=1000, description="志愿服务每小时存入的时间币（以行储币）")


class HealthRule(BaseModel):
    """How a health class (正常活动 / 适当参加活动 / 不能参加活动) changes crediting and rating."""

    model_config = ConfigDict(extra="forbid")

    scale: Decimal = Field(default=Decimal(1), ge=0, le=5, description="加分乘以该系数")
    exempt_from_rating: bool = Field(default=False, description="免于星级评定（不计为不合格）")


DEFAULT_CATEGORIES = [
    Category(code="org_life", name_zh="参加组织生活", name_en="Organisation life"),
    Category(code="role", name_zh="发挥作用", name_en="Playing a role"),
    Category(code="volunteer", name_zh="志愿服务", name_en="Volunteer service"),
    Category(code="study", name_zh="政治学习", name_en="Political study"),
    Category(code="discipline", name_zh="遵规守纪", name_en="Discipline"),
]

DEFAULT_RULES = [
    Rule(code="meeting", category="org_life", name_zh="参加三会一课", name_en="Attending a meeting",
         points=Decimal(2), cap=Decimal(24), events=["core.attendance_recorded"],
         roles=["branch_congress", "committee", "group", "lecture"]),
    Rule(code="theme_day", category="org_life", name_zh="参加主题党日", name_en="Attending a theme day",
         points=Decimal(2), cap=Decimal(12), events=["core.attendance_recorded"],
         roles=["theme_day", "oath", "political_birthday", "other"]),
    Rule(code="mediation", category="role", name_zh="调解矛盾纠纷", name_en="Settling a dispute",
         points=Decimal(3), cap=Decimal(15), events=["mediation.case_settled", "mediation.case_followed_up"]),
    Rule(code="talent_service", category="role", name_zh="人才服务", name_en="Talent service",
         points=Decimal(3), cap=Decimal(15), events=["talent_pool.service_completed"]),
    Rule(code="education", category="role", name_zh="关心下一代活动", name_en="Youth education activity",
         points=Decimal(2), cap=Decimal(10), events=["education.activity_recorded"]),
    Rule(code="volunteer_hour", category="volunteer", name_zh="志愿服务（每小时）",
         name_en="Volunteer service (per hour)",
         points=Decimal("0.5"), per="hour", cap=Decimal(10), coins_per_hour=10),
    Rule(code="study", category="study", name_zh="参加集中学习", name_en="Group study",
         points=Decimal(1), cap=Decimal(4), cap_period="quarter"),
    Rule(code="absence", category="discipline", name_zh="无故缺席组织生活", name_en="Absent without reason",
         points=Decimal(-2), cap=Decimal(10)),
    Rule(code="improper_speech", category="discipline", name_zh="发表不当言论", name_en="Improper remarks",
         points=Decimal(-10)),
    Rule(code="grave_violation", category="discipline", name_zh="严重违纪（一票否决）",
         name_en="Grave breach of discipline (disqualifies)", points=Decimal(-20), disqualifies=True),
]  # fmt: skip


class PointsSettings(BaseModel):
    """积分规则 and 时间银行 settings of a tenant (every field has a default; inherited down the tree)."""

    base_score: Decimal = Field(default=Decimal(60), ge=0, le=100, description="基础分：每名党员每年起始分")
    categories: list[Category] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES), description="积分方面")
    rules: list[Rule] = Field(default_factory=lambda: list(DEFAULT_RULES), description="积分项目")
    health: dict[str, HealthRule] = Field(
        default_factory=lambda: {
            "normal": HealthRule(),
            "limited": HealthRule(scale=Decimal("1.5")),
            "unable": HealthRule(scale=Decimal(2), exempt_from_rating=True),
        },
        description="按健康与活动类别加分或免于评定",
    )
    star_thresholds: list[Decimal] = Field(
        default_factory=lambda: [Decimal(60), Decimal(70), Decimal(80), Decimal(90), Decimal(96)],
        min_length=1,
        max_length=5,
        description="一星至五星的最低分；低于一星为不合格",
    )
    year_end: Literal["reset", "carry"] = Field(default="reset", description="年度结算后积分清零或结转")
    coins_year_end: Literal["carry", "reset"] = Field(default="carry", description="年度结算后时间币结转或清零")
    coin_balance_cap: int = Field(default=2000, ge=0, le=1_000_000, description="每名党员时间币余额上限")
    allow_cross_county: bool = Field(default=True, description="通存通兑：允许时间币转入本省其他县（区）")

    @model_validator(mode="after")
    def _consistent(self) -> PointsSettings:
        codes = {c.code for c in self.categories}
        seen: set[str] = set()
        for rule in self.rules:
            if rule.category not in codes:
                raise PydanticCustomError("points_rules", f"积分项目“{rule.name_zh}”的方面 {rule.category} 不存在")
            if rule.code in seen:
                raise PydanticCustomError("points_rules", f"积分项目编号 {rule.code} 重复")
            seen.add(rule.code)
        return self

    @field_validator("star_thresholds")
    @classmethod
    def _ascending(cls, value: list[Decimal]) -> list[Decimal]:
        if list(value) != sorted(value):
            raise PydanticCustomError("points_rules", "星级分数线须从低到高排列")
        return value

    def rule(self, code: str) -> Rule | None:
        return next((r for r in self.rules if r.code == code), None)

    def category_name(self, code: str) -> str:
        return next((c.name_zh for c in self.categories if c.code == code), code)

    def health_rule(self, health_class: str | None) -> HealthRule:
        return self.health.get(health_class or "normal") or HealthRule()

    def stars_for(self, score: Decimal) -> int:
        return sum(1 for threshold in self.star_thresholds if score >= threshold)


def effective(values: dict[str, object] | None) -> PointsSettings:
    return PointsSettings.model_validate(values or {})
