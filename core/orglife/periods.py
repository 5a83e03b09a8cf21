"""A reporting period: a closed range of days, written the way bureaus speak of them ("2025", "2025-Q2",
"2025-03", or two dates)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from core.errors import ErrorSpec

PERIOD_INVALID = ErrorSpec(
    "period.invalid",
    422,
    "统计期间“{value}”无法识别：请写成年份（2025）、季度（2025-Q2）、月份（2025-03）或起止日期",
    "Period '{value}' is not understood: write a year (2025), a quarter (2025-Q2), a month (2025-03) or two dates",
)
PERIOD_ORDER = ErrorSpec(
    "period.order", 422, "起始日期 {start} 晚于截止日期 {end}", "The start date {start} is after the end date {end}"
)

_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = datetime.date(year, 3 * quarter - 2, 1)
        return cls(first, _month_end(year, 3 * quarter))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(datetime.date(year, month, 1), _month_end(year, month))

    @classmethod
    def between(cls, start: datetime.date, end: datetime.date, *, field: str = "date_from") -> Period:
        if start > end:
            raise PERIOD_ORDER.error(field=field, start=start.isoformat(), end=end.isoformat())
        return cls(start, end)

    @classmethod
    def parse(cls, text: str, *, field: str = "period") -> Period:
        value = text.strip()
        try:
            if match := _YEAR.fullmatch(value):
                return cls.year(int(match.group(1)))
            if match := _QUARTER.fullmatch(value):
                return cls.quarter(int(match.group(1)), int(match.group(2)))
            if match := _MONTH.fullmatch(value):
                return cls.month(int(match.group(1)), int(match.group(2)))
        except ValueError:
            pass
        raise PERIOD_INVALID.error(field=field, value=text)

    @property
    def years(self) -> range:
        return range(self.start.year, self.end.year + 1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, datetime.date) and self.start <= day <= self.end


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def resolve_period(period: str | None, date_from: datetime.date | None, date_to: datetime.date | None) -> Period | None:
    """The period of a list filter: ``period`` shorthand, or ``date_from``/``date_to`` (either may be open)."""
    if period:
        return Period.parse(period)
    if date_from is None and date_to is None:
        return None
    return Period.between(date_from or datetime.date.min, date_to or datetime.date.max)
