"""The member-state scorecard (issue 17, item 5): per contributing country, how its part of the
response stands — national-investigator decision times, investigations overdue, results not sent,
sanctions pending, paternity claims waiting on it, and (for those who read the ledger) what was
withheld from it and not yet transferred.

Each allegation's verdicts are those of its page, counted in SQL by the twins of the allegation
clock (vat.allegations.clock, through vat.reports.clock.step_states) and of the accountability
cycle's clock (vat.allegations.cycle), over the allegations in the viewer's reach; no allegation
is loaded (tests/reports/test_member_states.py compares them with the Python clocks). The claims'
waits are the claims report's (vat.reports.claims); the withheld amounts the ledger's kept
balances of the withheld receivable (ledger.reports.withheld). For viewers outside the
advocates' scope, counts from 1 to k − 1 are hidden and an average needs k decisions
(docs/reports-privacy.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select, true

from ledger.reports import withheld
from vat.allegations import clock, cycle, cycle_counts
from vat.allegations.cycle_models import AccountabilityStep, CycleStep
from vat.allegations.models import Allegation, Outcome, Step
from vat.auth.actor import Actor
from vat.auth.policy import scope_filter
from vat.db import db
from vat.inputs import country_label
from vat.reports.claims import waiting_on_member_states
from vat.reports.clock import opened_outside_scope, step_states
from vat.reports.scope import VictimFilters, place_conditions, sees_rows, threshold
from vat.reports.sql import days_between

# The counted columns, in the page's and the export's order.
COUNTS = (
    ("allegations", _l("allegations")),
    ("nio_late", _l("national investigator decisions late or overdue")),
    ("investigations_overdue", _l("investigations overdue")),
    ("results_not_sent", _l("results not sent")),
    ("results_overdue", _l("results overdue")),
    ("sanctions_pending", _l("sanctions pending")),
    ("cycle_overdue", _l("accountability steps overdue")),
    ("claims_waiting", _l("paternity claims waiting on it")),
)
SANCTIONS = (CycleStep.ADMINISTRATIVE_ACTION.value, CycleStep.MEMBER_STATE_OUTCOME.value)


@dataclass
class ScoreLine:
    member_state: str
    name: str
    counts: dict[str, int | None] = field(default_factory=dict)  # None: suppressed
    nio_average_days: Decimal | None = None  # referred → decision; None: none, or too few to show
    longest_wait_days: int | None = None  # the paternity claim waiting longest on it
    withheld_outstanding: dict[str, Decimal] | None = None  # per currency; None: not for this viewer


@dataclass(frozen=True)
class Scorecard:
    lines: list[ScoreLine]
    threshold: int
    shows_withheld: bool


def scorecard(user: Actor, *, reads_ledger: bool, today: date | None = None) -> Scorecard:
    today = today or date.today()
    limit = 1 if sees_rows(user) else threshold()
    conditions = place_conditions(
        user, VictimFilters(), record=Allegation, record_type="allegation", dated=Allegation.received_on
    )
    raw: dict[str, dict[str, int]] = {}
    decision_days: dict[str, tuple[int, int]] = {}  # the days' sum and how many decisions
    for country, counts, days, decisions in _verdicts(conditions, today):
        raw[country] = counts
        decision_days[country] = (days, decisions)
    waits = {line.member_state: line for line in waiting_on_member_states(user, VictimFilters(), today=today)}
    for state, wait in waits.items():
        raw.setdefault(state, dict.fromkeys((k for k, _ in COUNTS), 0))["claims_waiting"] = wait.waiting or 0
    outstanding = _outstanding_by_country() if reads_ledger else {}
    for state in outstanding:
        raw.setdefault(state, dict.fromkeys((k for k, _ in COUNTS), 0))
    lines = []
    for state in sorted(raw):
        shown: dict[str, int | None] = {k: _shown(v, limit) for k, v in raw[state].items()}
        if state in waits:  # suppressed by the claims report's own rule, so the two agree
            shown["claims_waiting"] = waits[state].waiting
        days, decisions = decision_days.get(state, (0, 0))
        lines.append(
            ScoreLine(
                member_state=state,
                name=country_label(state),
                counts=shown,
                nio_average_days=_average(days, decisions) if decisions and decisions >= limit else None,
                longest_wait_days=waits[state].longest_days if state in waits else None,
                withheld_outstanding=outstanding.get(state, {}) if reads_ledger else None,
            )
        )
    return Scorecard(lines=lines, threshold=limit, shows_withheld=reads_ledger)


def _verdicts(
    conditions: list[ColumnElement[bool]], today: date
) -> list[tuple[str, dict[str, int], int, int]]:
    """Per contributing country, each count and the national investigators' decision days (sum
    and number), in one query: the SQL twins of the allegation's page (the clock report's step
    states, vat.reports.clock.step_states; the cycle's vat.allegations.cycle.open_condition and
    overdue_condition), so that no allegation is loaded."""
    clock_rules = {r.step: r for r in clock.rules()}
    cycle_rules = cycle.rules()
    outcome_rule = next((r for r in cycle_rules if r.step == CycleStep.MEMBER_STATE_OUTCOME), None)

    def clock_state(step: Step, *states: str) -> ColumnElement[bool]:
        rule = clock_rules.get(step.value)
        if rule is None:
            return false()
        found = step_states(rule, today)
        return or_(*(found[state] for state in states))

    sanctioned = exists().where(
        AccountabilityStep.allegation_id == Allegation.id, AccountabilityStep.step.in_(SANCTIONS)
    )
    decided = and_(Allegation.referred_on.is_not(None), Allegation.nio_decision_on.is_not(None))
    verdicts: dict[str, ColumnElement[bool]] = {
        "allegations": true(),
        "nio_late": clock_state(Step.NIO_DECISION, "late", "overdue"),
        "investigations_overdue": clock_state(Step.INVESTIGATION_COMPLETED, "overdue"),
        "results_not_sent": cycle.open_condition(outcome_rule, cycle_rules) if outcome_rule else false(),
        "results_overdue": cycle.overdue_condition(outcome_rule, cycle_rules, today)
        if outcome_rule
        else false(),
        "sanctions_pending": and_(
            Allegation.outcome == Outcome.SUBSTANTIATED, ~sanctioned, Allegation.historical.is_(False)
        ),
        "cycle_overdue": cycle.has_overdue_cycle_step(cycle_rules, today),
    }

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(
            Allegation.perpetrator_country,
            *(counted(v) for v in verdicts.values()),
            func.coalesce(
                func.sum(case((decided, days_between(Allegation.nio_decision_on, Allegation.referred_on)))), 0
            ),
            counted(decided),
        )
        .where(*conditions, Allegation.perpetrator_country.is_not(None))
        .group_by(Allegation.perpetrator_country)
    )
    found = []
    for country, *figures in db.session.execute(query):
        counts = dict.fromkeys((k for k, _ in COUNTS), 0)
        counts.update({key: int(n) for key, n in zip(verdicts, figures[: len(verdicts)], strict=True)})
        found.append((country or "", counts, int(figures[-2]), int(figures[-1])))
    return found


def _shown(value: int, limit: int) -> int | None:
    return None if 0 < value < limit else value


def _average(days: int, decisions: int) -> Decimal:
    return (Decimal(days) / decisions).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _outstanding_by_country() -> dict[str, dict[str, Decimal]]:
    """Withheld and not yet transferred, per contributing country and currency: the ledger's
    kept balances (ledger.reports.withheld.outstanding_by_country)."""
    found: dict[str, dict[str, Decimal]] = {}
    for (country, currency), outstanding in withheld.outstanding_by_country().items():
        found.setdefault(country, {})[currency] = outstanding
    return found


def overdue_cycle_steps(user: Actor, *, today: date | None = None) -> int | None:
    """How many accountability steps are overdue among the allegations in the viewer's reach (the
    dashboard's figure), read from the counts the allegations keep (vat.allegations.cycle_counts);
    hidden from 1 to k − 1 for aggregate viewers."""
    today = today or date.today()
    row = cycle_counts.counts.c
    total = cycle_counts.overdue([scope_filter(user, row.country_code, row.mission)], today)
    if outside := opened_outside_scope(user):
        total += cycle_counts.overdue_on(cycle_counts.counted(allegation_ids=outside), today)
    return _shown(total, 1 if sees_rows(user) else threshold())
