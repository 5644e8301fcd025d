"""The accountability cycle's clock: each limited step after the report, its deadline and where it
stands, from the rules kept as data (vat_cycle_rule). Written twice, side by side like the
allegation clock (vat.allegations.clock): `cycle` in Python for one allegation's page, and
`overdue_condition` / `has_overdue_cycle_step` in SQL for many (Needs attention, the dashboard,
the member-state scorecard); tests/vat/test_cycle_twins.py checks that they agree.

The same bounds as the clock: a step without a date is not overdue when a step that starts from it
has one (`done_by`), nor on a historical record (`not_recorded`); a referral recorded as "none"
(decided without referring) meets its own limit and starts nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, false, or_, select

from vat.allegations.clock import StepState, deadline, latest_late_start, timed
from vat.allegations.cycle_models import NOT_REFERRED, AccountabilityStep, CycleRule
from vat.allegations.models import Allegation, Outcome, Step
from vat.db import db
from vat.inputs import today

CLOCK_STEPS = frozenset(s.value for s in Step)


def rules() -> list[CycleRule]:
    return list(db.session.scalars(select(CycleRule).order_by(CycleRule.position)))


def steps_for(allegation_ids: Iterable[int]) -> dict[int, list[AccountabilityStep]]:
    """The recorded steps of these allegations, oldest first, in one query (run even for none, so
    that a page's count of statements does not depend on the data)."""
    ids = list(allegation_ids)
    found: dict[int, list[AccountabilityStep]] = {i: [] for i in ids}
    for step in db.session.scalars(
        select(AccountabilityStep)
        .where(AccountabilityStep.allegation_id.in_(ids))
        .order_by(AccountabilityStep.dated_on, AccountabilityStep.id)
    ):
        found[step.allegation_id].append(step)
    return found


def _categories(rule: CycleRule) -> list[str]:
    return [c for c in rule.applies_to.split(",") if c]


def _successors(rule: CycleRule, rule_list: Sequence[CycleRule]) -> list[str]:
    return [r.step for r in rule_list if r.starts_from == rule.step]


def _start(allegation: Allegation, steps: Sequence[AccountabilityStep], starts_from: str) -> date | None:
    if starts_from in CLOCK_STEPS:
        return allegation.step_date(Step(starts_from))
    return min(
        (s.dated_on for s in steps if s.step == starts_from and s.measure != NOT_REFERRED), default=None
    )


def cycle(
    allegation: Allegation,
    steps: Sequence[AccountabilityStep],
    *,
    rule_list: Sequence[CycleRule] | None = None,
    on: date | None = None,
) -> list[StepState]:
    """Each limited step of the cycle with its deadline and where it stands on `on`."""
    on = on or today()
    rule_list = list(rule_list if rule_list is not None else rules())
    return [_state(allegation, steps, rule, _successors(rule, rule_list), on) for rule in rule_list]


def _state(
    allegation: Allegation, steps: Sequence[AccountabilityStep], rule: CycleRule, later: list[str], on: date
) -> StepState:
    name = rule.step
    done = min((s.dated_on for s in steps if s.step == name), default=None)
    limit = f"{rule.amount} {rule.unit if rule.amount != 1 else rule.unit.rstrip('s')}"
    categories = _categories(rule)
    if categories and allegation.personnel_category not in categories:
        return StepState(name, name, done, None, "", "not_applicable", 0)
    if done is None and rule.substantiated_only and allegation.outcome != Outcome.SUBSTANTIATED:
        return StepState(name, name, None, None, limit, "not_applicable", 0)
    next_done = min((s.dated_on for s in steps if s.step in later), default=None)
    if done is None and next_done is not None:
        return StepState(name, name, None, None, limit, "done_by", 0, next_done)
    if done is None and allegation.historical:
        return StepState(name, name, None, None, limit, "not_recorded", 0)
    start = _start(allegation, steps, rule.starts_from)
    if start is None:
        return StepState(name, name, done, None, limit, "done" if done else "waiting", 0)
    return timed(name, name, done, deadline(start, rule.amount, rule.unit), limit, on)


def overdue_cycle_steps(
    allegation: Allegation,
    steps: Sequence[AccountabilityStep],
    rule_list: Sequence[CycleRule],
    on: date | None = None,
) -> list[StepState]:
    return [s for s in cycle(allegation, steps, rule_list=rule_list, on=on) if s.state == "overdue"]


def _recorded(*names: str, latest: date | None = None, starting: bool = False) -> ColumnElement[bool]:
    """An allegation has a step of one of `names` (dated up to `latest`; one that starts the next
    step's limit, i.e. not recorded as "none", if `starting`)."""
    conditions: list[ColumnElement[bool]] = [AccountabilityStep.step.in_(names)]
    if latest is not None:
        conditions.append(AccountabilityStep.dated_on <= latest)
    if starting:
        conditions.append(AccountabilityStep.measure != NOT_REFERRED)
    # Not correlated: read once per statement and probed per allegation (PostgreSQL hashes it),
    # where an EXISTS inside a CASE ran once per allegation for each step named.
    return Allegation.id.in_(select(AccountabilityStep.allegation_id).where(*conditions))


def overdue_condition(rule: CycleRule, rule_list: Sequence[CycleRule], on: date) -> ColumnElement[bool]:
    """SQL for "this rule's step is overdue on `on`", the deadline turned into the latest start
    that is late (as vat.allegations.clock.has_overdue_step does), so no date arithmetic runs in SQL."""
    return open_condition(rule, rule_list, started_by=latest_late_start(rule.amount, rule.unit, on))


def open_condition(
    rule: CycleRule, rule_list: Sequence[CycleRule], *, started_by: date | None = None
) -> ColumnElement[bool]:
    """SQL for "this rule's step is due or overdue" (`cycle`'s states): started (by `started_by`
    if given), not done nor done by a later step, applicable, and not a historical record."""
    latest = started_by
    if rule.starts_from in CLOCK_STEPS:
        start = getattr(Allegation, f"{rule.starts_from}_on")
        started: ColumnElement[bool] = start.is_not(None) if latest is None else start <= latest
    else:
        started = _recorded(rule.starts_from, latest=latest, starting=True)
    conditions = [~_recorded(rule.step), Allegation.historical.is_(False), started]
    later = _successors(rule, rule_list)
    if later:
        conditions.append(~_recorded(*later))
    if categories := _categories(rule):
        conditions.append(Allegation.personnel_category.in_(categories))
    if rule.substantiated_only:
        conditions.append(Allegation.outcome == Outcome.SUBSTANTIATED)
    return and_(*conditions)


def has_overdue_cycle_step(rule_list: Sequence[CycleRule], on: date) -> ColumnElement[bool]:
    """SQL for "`overdue_cycle_steps` is not empty"."""
    overdue = [overdue_condition(rule, rule_list, on) for rule in rule_list]
    return or_(*overdue) if overdue else false()
