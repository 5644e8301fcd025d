"""The allegation clock: each step's deadline and where it stands, computed from the rules kept
as data. The rule is written twice, side by side: `clock` in Python for one allegation's page, and
`has_overdue_step` in SQL to find the allegations with an overdue step among many (the advocate's
dashboard); tests/vat/test_clock_twins.py checks that they agree."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, or_, select

from vat.allegations.models import STEP_LABELS, Allegation, ClockRule, Step, TimeLimit, Urgency
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, today


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def rules() -> list[ClockRule]:
    return list(db.session.scalars(select(ClockRule).order_by(ClockRule.position)))


UNITS = ("days", "months")
LONGEST = 3650
Limit = TypeVar("Limit", bound=TimeLimit)


def rule_to_change(kind: type[Limit], step: str, amount: int, unit: str) -> Limit:
    """The rule of `step` (a clock's or the cycle's) whose limit becomes `amount` `unit`, once
    that is a limit a rule may have."""
    rule = db.session.get(kind, step)
    if rule is None:
        raise DomainError(_l("No such step."))
    if unit not in UNITS:
        raise InvalidField("unit", _l("Use days or months."))
    if not 0 < amount <= LONGEST:
        raise InvalidField("amount", _l("Give a limit between 1 and 3650."))
    return rule


@dataclass(frozen=True)
class StepState:
    step: str  # a Step, or a CycleStep (vat.allegations.cycle)
    label: str
    done_on: date | None
    due_on: date | None
    limit: str  # "7 days", "3 months"
    state: str  # done, on_time, late, due, overdue, waiting, not_applicable, not_recorded, done_by
    days: int  # late by / due in / overdue by
    done_by: date | None = None  # state done_by: the date of the next step recorded, a bound

    @property
    def text(self) -> str:
        if self.state == "on_time":
            return "on time"
        if self.state == "late":
            return f"late by {self.days} day{'s' if self.days != 1 else ''}"
        if self.state == "due":
            return f"due in {self.days} day{'s' if self.days != 1 else ''}"
        if self.state == "overdue":
            return f"overdue by {self.days} day{'s' if self.days != 1 else ''}"
        if self.state == "waiting":
            return "waiting for an earlier step"
        if self.state == "not_applicable":
            return "not applicable"
        if self.state == "not_recorded":
            return "not recorded"
        if self.state == "done_by":
            return f"not recorded; done by {self.done_by}"
        return "done"

    @property
    def bad(self) -> bool:
        return self.state in ("late", "overdue")


def _rule_limit(rule: ClockRule, urgency: str) -> tuple[int, str]:
    reduced = (
        rule.reduced_amount is not None
        and rule.reduced_from is not None
        and Urgency(urgency).rank >= Urgency(rule.reduced_from).rank
    )
    return (rule.reduced_amount if reduced else rule.amount) or 0, rule.unit


def clock(
    allegation: Allegation, *, rule_list: Iterable[ClockRule] | None = None, on: date | None = None
) -> list[StepState]:
    """Each step with its deadline and where it stands, from the rules table. A step without a
    date is not overdue when a later step has one (it was done by then: `done_by`) or when the
    record is historical (imported from a tracker that did not keep it: `not_recorded`)."""
    on = on or today()
    by_step = {r.step: r for r in (rule_list if rule_list is not None else rules())}
    states = [
        StepState(Step.RECEIVED, STEP_LABELS[Step.RECEIVED], allegation.received_on, None, "", "done", 0)
        if allegation.received_on
        else StepState(Step.RECEIVED, STEP_LABELS[Step.RECEIVED], None, None, "", "waiting", 0)
    ]
    steps = list(Step)
    for position, step in enumerate(steps[1:], start=1):
        later = [d for d in (allegation.step_date(s) for s in steps[position + 1 :]) if d is not None]
        states.append(_step_state(allegation, step, by_step.get(step.value), min(later, default=None), on))
    return states


def _step_state(
    allegation: Allegation, step: Step, rule: ClockRule | None, next_done: date | None, on: date
) -> StepState:
    """Where `step` stands on `on`; `next_done` is the earliest date of a later step, if any."""
    label, done = STEP_LABELS[step], allegation.step_date(step)
    amount, unit = _rule_limit(rule, allegation.urgency) if rule else (0, "")
    limit = _limit_text(amount, unit) if rule else ""
    applies = [c for c in rule.applies_to.split(",") if c] if rule else []
    if applies and allegation.personnel_category not in applies:
        return StepState(step, label, done, None, "", "not_applicable", 0)
    if done is None and next_done is not None:
        return StepState(step, label, None, None, limit, "done_by", 0, next_done)
    if done is None and allegation.historical:
        return StepState(step, label, None, None, limit, "not_recorded", 0)
    start = allegation.step_date(Step(rule.starts_from)) if rule else None
    if rule is None or start is None:  # done, but when it was due is not known; or waiting
        return StepState(step, label, done, None, limit, "done" if done else "waiting", 0)
    return timed(step, label, done, deadline(start, amount, unit), limit, on)


def timed(step: str, label: str, done: date | None, due: date, limit: str, on: date) -> StepState:
    """A step whose deadline is known: done on time or late, or open and due or overdue on `on`."""
    if done is not None:
        late = (done - due).days
        return StepState(step, label, done, due, limit, "late" if late > 0 else "on_time", late)
    if on <= due:
        return StepState(step, label, None, due, limit, "due", (due - on).days)
    return StepState(step, label, None, due, limit, "overdue", (on - due).days)


def _limit_text(amount: int, unit: str) -> str:
    return f"{amount} {unit if amount != 1 else unit.rstrip('s')}"


def overdue_steps(
    allegation: Allegation, rule_list: list[ClockRule], on: date | None = None
) -> list[StepState]:
    return [s for s in clock(allegation, rule_list=rule_list, on=on) if s.state == "overdue"]


def deadline(start: date, amount: int, unit: str) -> date:
    return add_months(start, amount) if unit == "months" else start + timedelta(days=amount)


def latest_late_start(amount: int, unit: str, on: date) -> date:
    """The latest start whose deadline is already past on `on` (a later start never has an earlier
    deadline, so every start up to this one is late too)."""
    start = add_months(on, -amount) if unit == "months" else on - timedelta(days=amount)
    while deadline(start, amount, unit) >= on:
        start -= timedelta(days=1)
    return start


def has_overdue_step(rule_list: list[ClockRule], on: date) -> ColumnElement[bool]:
    """SQL for "`overdue_steps` is not empty": the same verdict, with each deadline turned into the
    latest start that is late by `on`, so that no date arithmetic runs in SQL (SQLite and
    PostgreSQL add months differently) and a plain comparison of the start column remains."""
    steps = {step.value for step in list(Step)[1:]}
    order = [step.value for step in Step]
    overdue = []
    for rule in rule_list:
        if rule.step not in steps:
            continue
        start = getattr(Allegation, f"{rule.starts_from}_on")
        by_amount: dict[int, list[str]] = {}
        for urgency in Urgency:
            by_amount.setdefault(_rule_limit(rule, urgency)[0], []).append(urgency.value)
        late = [
            and_(Allegation.urgency.in_(urgencies), start <= latest_late_start(amount, rule.unit, on))
            for amount, urgencies in by_amount.items()
        ]
        categories = [c for c in rule.applies_to.split(",") if c]
        applies = [Allegation.personnel_category.in_(categories)] if categories else []
        no_later = [getattr(Allegation, f"{s}_on").is_(None) for s in order[order.index(rule.step) + 1 :]]
        missing = getattr(Allegation, f"{rule.step}_on").is_(None)
        overdue.append(and_(missing, *no_later, Allegation.historical.is_(False), or_(*late), *applies))
    return or_(*overdue) if overdue else false()
