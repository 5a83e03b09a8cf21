"""Reporting periods as the aggregates can answer them: whole months, quarters and years, or a custom run of
whole months. Aggregates are kept per month (and, for distinct counts, per month, quarter and year), so a
custom range must start on a month's first day and end on a month's last; anything else is refused with a
message saying so rather than answered approximately."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from core.errors import ErrorSpec

REPORT_PERIOD_INVALID = ErrorSpec(
    "report.period_invalid",
    422,
    "统计期间“{value}”无法识别：请写成年份（2026）、季度（2026-Q2）、月份（2026-03）或起止月份（2026-01..2026-06）",
    "Period '{value}' is not understood: write a year (2026), a quarter (2026-Q2), a month (2026-03) or a range "
    "of months (2026-01..2026-06)",
)
REPORT_PERIOD_ORDER = ErrorSpec(
    "report.period_order", 422, "起始月份 {start} 晚于截止月份 {end}", "The first month {start} is after the last {end}"
)

_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def _month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _from_index(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ReportPeriod:
    """Months ``first`` to ``last`` (both the first day of their month), and what kind of period that is."""

    kind: str  # year | quarter | month | custom
    first: datetime.date
    last: datetime.date

    @classmethod
    def parse(cls, text: str, *, field: str = "period") -> ReportPeriod:
        value = text.strip()
        try:
            if ".." in value:
                a, b = (part.strip() for part in value.split("..", 1))
                start, end = cls.parse(a, field=field), cls.parse(b, field=field)
                if start.kind != "month" or end.kind != "month":
                    raise REPORT_PERIOD_INVALID.error(field=field, value=text)
                if start.first > end.first:
                    raise REPORT_PERIOD_ORDER.error(field=field, start=a, end=b)
                return cls("custom", start.first, end.first)
            if match := _YEAR.fullmatch(value):
                year = int(match.group(1))
                return cls("year", datetime.date(year, 1, 1), datetime.date(year, 12, 1))
            if match := _QUARTER.fullmatch(value):
                year, quarter = int(match.group(1)), int(match.group(2))
                return cls("quarter", datetime.date(year, 3 * quarter - 2, 1), datetime.date(year, 3 * quarter, 1))
            if match := _MONTH.fullmatch(value):
                first = datetime.date(int(match.group(1)), int(match.group(2)), 1)
                return cls("month", first, first)
        except ValueError:
            pass
        raise REPORT_PERIOD_INVALID.error(field=field, value=text)

    @classmethod
    def current_year(cls, today: datetime.date | None = None) -> ReportPeriod:
        return cls.parse(str((today or datetime.date.today()).year))

    @property
    def end(self) -> datetime.date:
        """The period's last day."""
        return _from_index(_month_index(self.last) + 1) - datetime.timedelta(days=1)

    @property
    def months(self) -> list[datetime.date]:
        return [_from_index(i) for i in range(_month_index(self.first), _month_index(self.last) + 1)]

    @property
    def key(self) -> str | None:
        """The ``report_subject.period`` key of a whole month, quarter or year (``None`` for a custom range)."""
        if self.kind == "year":
            return f"Y{self.first.year}"
        if self.kind == "quarter":
            return f"Q{self.first.year}-{(self.first.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"M{self.first.year}-{self.first.month:02d}"
        return None

    @property
    def label(self) -> str:
        """How a bureau writes it: 2026年, 2026年第四季度, 2026年11月, 2026年1月至6月."""
        if self.kind == "year":
            return f"{self.first.year}年"
        if self.kind == "quarter":
            return f"{self.first.year}年第{'一二三四'[(self.first.month - 1) // 3]}季度"
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        if self.first.year == self.last.year:
            return f"{self.first.year}年{self.first.month}月至{self.last.month}月"
        return f"{self.first.year}年{self.first.month}月至{self.last.year}年{self.last.month}月"

    @property
    def text(self) -> str:
        """The form :meth:`parse` reads back."""
        if self.kind == "year":
            return str(self.first.year)
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.first.year}-{self.first.month:02d}"
        return f"{self.first:%Y-%m}..{self.last:%Y-%m}"

    def previous(self) -> ReportPeriod:
        """The period just before, of the same length (the comparison 同比/环比 baseline)."""
        length = _month_index(self.last) - _month_index(self.first) + 1
        first = _from_index(_month_index(self.first) - length)
        return ReportPeriod(self.kind, first, _from_index(_month_index(first) + length - 1))
