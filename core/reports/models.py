"""Tables of maintained aggregates. Written only through :mod:`core.reports.facts`; read by roll-ups.

``report_sum`` holds summed facts per tenant, metric and month at the tenant where they happened (a subtree's
figure is the sum of its tenants' rows: no hot rows at the top of the tree). Distinct counts cannot be summed
up the tree (a person active in two counties counts once in their city), so ``report_subject`` keeps who was
counted per period at the tenant *and each ancestor*, and ``report_distinct`` keeps the count beside it.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Date, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base


class ReportSum(Base):
    """Σ of a summed (or level) metric's facts in one tenant and month (``month`` is its first day)."""

    __tablename__ = "report_sum"
    __audited__ = False

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Numeric(20, 4), nullable=False, default=0)


class ReportSubject(Base):
    """One subject (a member, a party…) counted by a distinct-count metric in a tenant's subtree and period.

    ``period`` is ``Y2026``, ``Q2026-4`` or ``M2026-11``; ``n`` is how many live facts name the subject
    there, so a reversal removes the subject only when its last fact goes.
    """

    __tablename__ = "report_subject"
    __audited__ = False

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ReportDistinct(Base):
    """How many subjects have ``n > 0`` for a metric in a tenant's subtree and period."""

    __tablename__ = "report_distinct"
    __audited__ = False

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
