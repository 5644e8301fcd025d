"""The member-state scorecard (issue 17, item 5): per contributing country, how its part of the
response stands — national-investigator decision times, investigations overdue, results not sent,
sanctions pending, paternity claims waiting on it, and (for those who read the ledger) what was
withheld from it and not yet transferred.

Each allegation's verdicts are those of its page: the allegation clock (vat.allegations.clock) and
the accountability cycle's clock (vat.allegations.cycle), run over the allegations in the viewer's
reach. The claims' waits are the claims report's (vat.reports.claims); the withheld amounts the
ledger's own reconciliation (ledger.reports.withheld). For viewers outside the advocates' scope,
counts from 1 to k − 1 are hidden and an average needs k decisions (docs/reports-privacy.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger.reports import withheld
from vat.allegations import clock, cycle
from vat.allegations.cycle_models import AccountabilityStep, CycleRule, CycleStep
from vat.allegations.models import Allegation, ClockRule, Outcome, Step
from vat.auth.actor import Actor
from vat.claims.history import country_name
from vat.db import db
from vat.reports.claims import waiting_on_member_states
from vat.reports.scope import VictimFilters, place_conditions, sees_rows, threshold

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
    allegations = list(
        db.session.scalars(
            select(Allegation)
            .where(*conditions, Allegation.perpetrator_country.is_not(None))
            .order_by(Allegation.perpetrator_country, Allegation.id)
        )
    )
    clock_rules, cycle_rules = clock.rules(), cycle.rules()
    steps = cycle.steps_for(a.id for a in allegations)
    raw: dict[str, dict[str, int]] = {}
    decision_days: dict[str, list[int]] = {}
    for allegation in allegations:
        country = allegation.perpetrator_country or ""
        counts = raw.setdefault(country, dict.fromkeys((k for k, _ in COUNTS), 0))
        _count(counts, allegation, steps[allegation.id], clock_rules, cycle_rules, today)
        if allegation.referred_on and allegation.nio_decision_on:
            decision_days.setdefault(country, []).append(
                (allegation.nio_decision_on - allegation.referred_on).days
            )
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
        days = decision_days.get(state, [])
        lines.append(
            ScoreLine(
                member_state=state,
                name=country_name(state),
                counts=shown,
                nio_average_days=_average(days) if days and len(days) >= limit else None,
                longest_wait_days=waits[state].longest_days if state in waits else None,
                withheld_outstanding=outstanding.get(state, {}) if reads_ledger else None,
            )
        )
    return Scorecard(lines=lines, threshold=limit, shows_withheld=reads_ledger)


def _count(
    counts: dict[str, int],
    allegation: Allegation,
    steps: Sequence[AccountabilityStep],
    clock_rules: list[ClockRule],
    cycle_rules: list[CycleRule],
    today: date,
) -> None:
    """Add one allegation's verdicts to its member state's counts."""
    counts["allegations"] += 1
    states = {s.step: s.state for s in clock.clock(allegation, rule_list=clock_rules, on=today)}
    counts["nio_late"] += states.get(Step.NIO_DECISION) in ("late", "overdue")
    counts["investigations_overdue"] += states.get(Step.INVESTIGATION_COMPLETED) == "overdue"
    after = {s.step: s.state for s in cycle.cycle(allegation, steps, rule_list=cycle_rules, on=today)}
    outcome = after.get(CycleStep.MEMBER_STATE_OUTCOME)
    counts["results_not_sent"] += outcome in ("due", "overdue")
    counts["results_overdue"] += outcome == "overdue"
    counts["cycle_overdue"] += any(state == "overdue" for state in after.values())
    sanctioned = any(s.step in SANCTIONS for s in steps)
    counts["sanctions_pending"] += (
        allegation.outcome == Outcome.SUBSTANTIATED and not sanctioned and not allegation.historical
    )


def _shown(value: int, limit: int) -> int | None:
    return None if 0 < value < limit else value


def _average(days: list[int]) -> Decimal:
    return (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _outstanding_by_country() -> dict[str, dict[str, Decimal]]:
    """Withheld and not yet transferred, per contributing country and currency: the ledger's figures."""
    found: dict[str, dict[str, Decimal]] = {}
    for (country, currency), amounts in withheld.by_country().items():
        if amounts["outstanding"]:
            found.setdefault(country, {})[currency] = amounts["outstanding"]
    return found


def overdue_cycle_steps(user: Actor, *, today: date | None = None) -> int | None:
    """How many accountability steps are overdue among the allegations in the viewer's reach (the
    dashboard's figure), counted in SQL one rule at a time; hidden from 1 to k − 1 for aggregate
    viewers."""
    today = today or date.today()
    conditions = place_conditions(
        user, VictimFilters(), record=Allegation, record_type="allegation", dated=Allegation.received_on
    )
    rule_list = cycle.rules()
    total = sum(
        int(
            db.session.scalar(
                select(func.count())
                .select_from(Allegation)
                .where(*conditions, cycle.overdue_condition(rule, rule_list, today))
            )
            or 0
        )
        for rule in rule_list
    )
    return _shown(total, 1 if sees_rows(user) else threshold())
