"""The mediation metrics, and the facts a case or a room implies.

Dimension convention (so that every figure rolls up the tenant tree as a plain sum):

* ``mediation.cases_received`` / ``cases_settled`` / ``cases_concluded`` are the totals;
* ``mediation.<figure>.<case type>`` splits them by type (``mediation.cases_received.neighbour`` …);
* ``mediation.<figure>.room_<room kind>`` splits them by the kind of room (``…room_petition_room`` …);
* ``mediation.settlement_rate[.<dimension>]`` is a RATE of ``cases_settled`` over ``cases_concluded`` (cases
  with an outcome: settled, failed or referred), never an average of rates;
* ``mediation.average_days_to_settle`` is a RATE of ``settle_days_total`` over ``cases_settled``.

Rooms themselves are created by tenants at run time and so cannot each be a declared metric: a single room's
figures are shown by the plugin's own statistics (one tenant's rooms), the province report uses room kinds.

Every figure is a function of a case's stored state (:func:`case_facts`): each write records the difference
between the facts before and after it, so corrections, undone steps, voided cases and late entries keep the
aggregates equal to a recount (:func:`core.reports.facts` never edits in place).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from core.plugin_host import Aggregation, MetricSpec
from core.reports.facts import Fact
from plugins.mediation.models import CASE_TYPES, ROOM_KINDS, Case, Mediator, Room

TYPE_ZH = {
    "neighbour": ("邻里纠纷", "neighbour disputes"),
    "family": ("家庭纠纷", "family disputes"),
    "marriage": ("婚姻纠纷", "marriage disputes"),
    "property": ("房产物业纠纷", "property disputes"),
    "labour": ("劳动纠纷", "labour disputes"),
    "petition": ("信访事项", "petitions"),
    "other": ("其他纠纷", "other disputes"),
}
ROOM_KIND_ZH = {
    "mediation_room": ("调解室", "mediation rooms"),
    "petition_room": ("民生信访室", "petition rooms"),
    "family_centre": ("婚姻家庭辅导中心", "family counselling centres"),
    "other": ("其他调解场所", "other rooms"),
}

RECEIVED = "mediation.cases_received"
SETTLED = "mediation.cases_settled"
CONCLUDED = "mediation.cases_concluded"
RATE = "mediation.settlement_rate"
PETITIONS_RECEIVED = "mediation.petitions_received"
PETITIONS_RESOLVED = "mediation.petitions_resolved"
PEOPLE_SERVED = "mediation.people_served"
FOLLOWED_UP = "mediation.cases_followed_up"
SETTLE_DAYS = "mediation.settle_days_total"
AVERAGE_DAYS = "mediation.average_days_to_settle"
ROOMS = "mediation.rooms"
MEDIATORS = "mediation.mediators"

OPEN_STATUSES = frozenset({"intake", "investigating", "mediating"})


def dimensions(case_type: str, room_kind: str) -> tuple[str, ...]:
    return ("", f".{case_type}", f".room_{room_kind}")


def is_petition(case: Case) -> bool:
    return case.source == "petition" or case.case_type == "petition"


def case_facts(case: Case, room_kind: str, persons: int) -> list[Fact]:
    """The facts a case implies now (nothing for a voided one)."""
    if case.status == "voided":
        return []
    dims = dimensions(case.case_type, room_kind)
    out = [Fact(RECEIVED + d, case.received_on) for d in dims]
    if persons:
        out.append(Fact(PEOPLE_SERVED, case.received_on, persons))
    petition = is_petition(case)
    if petition:
        out.append(Fact(PETITIONS_RECEIVED, case.received_on))
    if case.outcome_on is not None:
        out += [Fact(CONCLUDED + d, case.outcome_on) for d in dims]
    if case.settled_on is not None:
        out += [Fact(SETTLED + d, case.settled_on) for d in dims]
        out.append(Fact(SETTLE_DAYS, case.settled_on, max((case.settled_on - case.received_on).days, 0)))
        if petition:
            out.append(Fact(PETITIONS_RESOLVED, case.settled_on))
    if case.followed_up_on is not None:
        out.append(Fact(FOLLOWED_UP, case.followed_up_on))
    return out


def room_facts(room: Room) -> list[Fact]:
    out = [Fact(ROOMS, room.opened_on)]
    if room.closed_on is not None:
        out.append(Fact(ROOMS, room.closed_on, -1))
    return out


def mediator_facts(mediator: Mediator) -> list[Fact]:
    out = [Fact(MEDIATORS, mediator.since)]
    if mediator.until is not None:
        out.append(Fact(MEDIATORS, mediator.until, -1))
    return out


def difference(before: Iterable[Fact], after: Iterable[Fact]) -> list[Fact]:
    """The facts to record so that aggregates holding ``before`` hold ``after`` (summed facts only)."""
    acc: dict[tuple[str, datetime.date], float] = defaultdict(float)
    for fact in after:
        acc[(fact.metric, fact.on)] += fact.value
    for fact in before:
        acc[(fact.metric, fact.on)] -= fact.value
    return [Fact(metric, on, value) for (metric, on), value in sorted(acc.items()) if value]


def _triple(suffix: str, zh: str, en: str) -> list[MetricSpec]:
    return [
        MetricSpec(RECEIVED + suffix, f"受理{zh}", f"{en.capitalize()} received", "件", "cases"),
        MetricSpec(SETTLED + suffix, f"调解成功{zh}", f"{en.capitalize()} settled", "件", "cases"),
        MetricSpec(CONCLUDED + suffix, f"调结{zh}", f"{en.capitalize()} concluded", "件", "cases"),
        MetricSpec(
            RATE + suffix,
            f"{zh}调解成功率",
            f"Settlement rate ({en})",
            "%",
            "%",
            aggregation=Aggregation.RATE,
            numerator=SETTLED + suffix,
            denominator=CONCLUDED + suffix,
        ),
    ]


def metric_specs() -> list[MetricSpec]:
    specs = _triple("", "纠纷", "cases")
    for case_type in CASE_TYPES:
        zh, en = TYPE_ZH[case_type]
        specs += _triple(f".{case_type}", zh, en)
    for kind in ROOM_KINDS:
        zh, en = ROOM_KIND_ZH[kind]
        specs += _triple(f".room_{kind}", f"（{zh}）", f"cases in {en}")
    specs += [
        MetricSpec(PETITIONS_RECEIVED, "受理信访事项", "Petitions received", "件", "petitions"),
        MetricSpec(PETITIONS_RESOLVED, "化解信访事项", "Petitions resolved", "件", "petitions"),
        MetricSpec(PEOPLE_SERVED, "服务群众", "People served", "人次", "people"),
        MetricSpec(FOLLOWED_UP, "回访案件", "Cases followed up", "件", "cases"),
        MetricSpec(SETTLE_DAYS, "调解成功用时合计", "Days to settle (total)", "天", "days"),
        MetricSpec(
            AVERAGE_DAYS,
            "平均调解用时",
            "Average time to settle",
            "天",
            "days",
            aggregation=Aggregation.RATE,
            numerator=SETTLE_DAYS,
            denominator=SETTLED,
        ),
        MetricSpec(ROOMS, "调解室", "Mediation rooms", "个", "rooms", aggregation=Aggregation.LEVEL),
        MetricSpec(MEDIATORS, "在岗调解员", "Mediators serving", "人", "mediators", aggregation=Aggregation.LEVEL),
    ]
    return specs
