"""The allegation clock: for each step, how many allegations met its limit, missed it or are
open within it or overdue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)

from vat.allegations import clock_counts, step_counts
from vat.allegations.clock import rules
from vat.allegations.models import Allegation, ClockRule, Step, Urgency
from vat.auth.actor import Actor
from vat.auth.models import Role
from vat.auth.policy import glass_granted, scope_filter
from vat.db import db
from vat.reports.scope import VictimFilters, place_conditions, sees_rows, threshold
from vat.reports.sql import days_between, dialect
from vat.reports.suppression import suppress_line
from vat.victims.labels import step_label, vat_label

CLOCK_STATES = [
    ("on_time", _l("on time")),
    ("late", _l("late")),
    ("due", _l("open, within the limit")),
    ("overdue", _l("open, overdue")),
    ("waiting", _l("waiting for an earlier step")),
    ("done", _l("done, its start not recorded")),
    ("done_by", _l("not recorded, done by a later step")),
    ("not_recorded", _l("not recorded (historical record)")),
    ("not_applicable", _l("not applicable")),
]


@dataclass(frozen=True)
class ClockRow:
    step: str
    label: str
    limit: str
    counts: list[int | None]  # in CLOCK_STATES order; None: suppressed
    allegations: int
    average_days: Decimal | None  # completed steps, from the step they are counted from


@dataclass(frozen=True)
class ClockReport:
    rows: list[ClockRow]
    allegations: int
    threshold: int


def _deadline(start: Any, amount: ColumnElement[Any], unit: str) -> ColumnElement[Any]:
    """`start` plus `amount` days or calendar months (clamped to the month's end, like the
    allegations service's add_months), in SQL."""
    amount = cast(amount, Integer)
    if dialect() == "postgresql":
        if unit == "months":
            return cast(start + func.make_interval(0, amount), Date)
        return start + amount
    if unit == "months":
        plain = func.date(start, literal("+") + cast(amount, String) + literal(" months"))
        month_end = func.date(
            start, "start of month", literal("+") + cast(amount + 1, String) + literal(" months"), "-1 day"
        )
        return func.min(plain, month_end)
    return func.date(start, literal("+") + cast(amount, String) + literal(" days"))


def _after(step: str) -> list[Step]:
    steps = list(Step)
    return steps[steps.index(Step(step)) + 1 :]


def _limit_text(rule: ClockRule) -> str:
    unit = vat_label(rule.unit)
    text = f"{rule.amount} {unit}"
    if rule.reduced_amount is not None and rule.reduced_from:
        urgency = vat_label(Urgency(rule.reduced_from).value)
        reduced = _(
            "%(amount)s %(unit)s if %(urgency)s or more urgent",
            amount=rule.reduced_amount,
            unit=unit,
            urgency=urgency,
        )
        text += f" ({reduced})"
    return text


def _rule_parts(rule: ClockRule) -> tuple[Any, Any, ColumnElement[Any], ColumnElement[bool], bool]:
    """A rule's step date, the date it is counted from, its deadline, whether it applies to an
    allegation, and whether it names the personnel categories it applies to, in SQL."""
    done = getattr(Allegation, f"{rule.step}_on")
    start = getattr(Allegation, f"{rule.starts_from}_on")
    amount: ColumnElement[Any] = literal(rule.amount)
    if rule.reduced_amount is not None and rule.reduced_from:
        urgent = [u.value for u in Urgency if u.rank >= Urgency(rule.reduced_from).rank]
        amount = case((Allegation.urgency.in_(urgent), rule.reduced_amount), else_=rule.amount)
    categories = [c for c in rule.applies_to.split(",") if c]
    applies = Allegation.personnel_category.in_(categories) if categories else literal(True)
    return done, start, _deadline(start, amount, rule.unit), applies, bool(categories)


def _later(rule: ClockRule) -> ColumnElement[bool]:
    """As vat.allegations.clock does: a later step's date bounds this one; a historical record
    without it has it "not recorded"."""
    later_dates = [getattr(Allegation, f"{s.value}_on").is_not(None) for s in _after(rule.step)]
    return or_(*later_dates) if later_dates else false()


def step_states(rule: ClockRule, today: date) -> dict[str, ColumnElement[bool]]:
    """Where a rule's step stands on `today`, as SQL conditions on an allegation: the states of
    vat.allegations.clock.clock, one condition each (the member-state scorecard's counts)."""
    done, start, due, applies, by_category = _rule_parts(rule)
    started = and_(applies, start.is_not(None))
    later = _later(rule)
    missing = and_(applies, done.is_(None))
    open_ = and_(missing, ~later, Allegation.historical.is_(False))
    return {
        "on_time": and_(started, done.is_not(None), done <= due),
        "late": and_(started, done.is_not(None), done > due),
        "due": and_(started, open_, literal(today, Date) <= due),
        "overdue": and_(started, open_, literal(today, Date) > due),
        "waiting": and_(start.is_(None), open_),
        "done": and_(applies, start.is_(None), done.is_not(None)),
        "done_by": and_(missing, later),
        "not_recorded": and_(missing, ~later, Allegation.historical.is_(True)),
        "not_applicable": ~applies if by_category else literal(False),
    }


def step_state(rule: ClockRule, today: date) -> ColumnElement[str | None]:
    """`step_states` as one expression: the name of the state a rule's step is in on `today`.
    The states exclude each other, so one CASE tells them apart, in an order that reads the
    deadline (several date functions) at most twice an allegation, not once per state."""
    done, start, due, applies, by_category = _rule_parts(rule)
    today_ = literal(today, Date)
    return case(
        (~applies if by_category else false(), "not_applicable"),
        (and_(done.is_not(None), start.is_(None)), "done"),
        (and_(done.is_not(None), done <= due), "on_time"),
        (and_(done.is_not(None), done > due), "late"),
        (done.is_not(None), None),  # no deadline: in no state, as in step_states
        (_later(rule), "done_by"),
        (Allegation.historical.is_(True), "not_recorded"),
        (start.is_(None), "waiting"),
        (today_ <= due, "due"),
        (today_ > due, "overdue"),
        else_=None,
    )


def clock_report(user: Actor, filters: VictimFilters, *, today: date | None = None) -> ClockReport:
    """For each step of the allegation clock: how many allegations met the limit, missed it, are
    open within it or overdue; the average days taken against the prescribed limit. Fund managers
    and auditors get each line suppressed (small counts hidden, with a complement)."""
    today = today or date.today()
    conditions = place_conditions(
        user, filters, record=Allegation, record_type="allegation", dated=Allegation.received_on
    )
    limit = 1 if sees_rows(user) else threshold()
    rule_list = list(db.session.scalars(select(ClockRule).order_by(ClockRule.position)))
    # One pass over the allegations for every step: each allegation's state in each step, and the
    # days a completed step took, grouped by the states (outside, by name, for PostgreSQL).
    columns: list[ColumnElement[Any]] = []
    for number, rule in enumerate(rule_list):
        done, start, _due, applies, _by_category = _rule_parts(rule)
        completed = and_(applies, start.is_not(None), done.is_not(None))
        columns.append(step_state(rule, today).label(f"state_{number}"))
        columns.append(case((completed, days_between(done, start)), else_=None).label(f"days_{number}"))
    per_allegation = select(*columns, literal(1).label("one")).where(*conditions).subquery()
    states = [per_allegation.c[f"state_{n}"] for n in range(len(rule_list))]
    days = [func.sum(per_allegation.c[f"days_{n}"]) for n in range(len(rule_list))]
    counts: list[Counter[str]] = [Counter() for _ in rule_list]
    days_taken = [0] * len(rule_list)
    total = 0
    for found in db.session.execute(
        select(*states, *days, func.count(per_allegation.c.one)).group_by(*states)
    ):
        n = int(found[-1])
        total += n
        for number in range(len(rule_list)):
            counts[number][found[number]] += n
            days_taken[number] += int(found[len(rule_list) + number] or 0)
    rows = []
    for number, rule in enumerate(rule_list):
        line = [counts[number][k] for k, _ in CLOCK_STATES]
        finished = counts[number]["on_time"] + counts[number]["late"]
        rows.append(
            ClockRow(
                step=rule.step,
                label=step_label(rule.step),
                limit=_limit_text(rule),
                counts=suppress_line(line, threshold=limit),
                allegations=total,
                average_days=(
                    (Decimal(days_taken[number]) / finished).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                    if finished and finished >= limit
                    else None
                ),
            )
        )
    return ClockReport(rows=rows, allegations=total, threshold=limit)


def overdue_steps(user: Actor, *, today: date) -> int | None:
    """The dashboard's figure: the clock report's overdue column added up (each step's line
    suppressed as there; None when one is hidden), read from the counts the allegations keep
    (vat.allegations.clock_counts) instead of running the clock over every allegation in reach."""
    row = clock_counts.counts.c
    found = clock_counts.states_by_step([scope_filter(user, row.country_code, row.mission)], today)
    for step, states in _opened_by_breaking_the_glass(user, today).items():
        found.setdefault(step, Counter()).update(states)
    limit = 1 if sees_rows(user) else threshold()
    overdue_at = [k for k, _ in CLOCK_STATES].index("overdue")
    total = 0
    for rule in rules():
        states = found.get(rule.step, Counter())
        shown = suppress_line([states[k] for k, _ in CLOCK_STATES], threshold=limit)[overdue_at]
        if shown is None:
            return None
        total += shown
    return total


def _opened_by_breaking_the_glass(user: Actor, today: date) -> dict[str, Counter[str]]:
    """A senior advocate's allegations outside their scope, opened by breaking the glass (the kept
    counts are per place): counted by the same definition."""
    outside = opened_outside_scope(user)
    if not outside:
        return {}
    return clock_counts.states_on(clock_counts.counted(allegation_ids=outside), today)


def opened_outside_scope(user: Actor) -> list[int]:
    """The allegations outside a senior advocate's places that they opened by breaking the glass
    (none for other roles): what the counts kept per place leave out of their reach."""
    if Role(user.role) is not Role.SENIOR_ADVOCATE:
        return []
    mission = func.coalesce(Allegation.mission, step_counts.NO_MISSION)  # as the counts' key has it
    return list(
        db.session.scalars(
            select(Allegation.id).where(
                Allegation.id.in_(glass_granted(user, "allegation")),
                not_(scope_filter(user, Allegation.country_code, mission)),
            )
        )
    )
