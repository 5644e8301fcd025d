"""The member-state scorecard counts in SQL (vat.reports.member_states._verdicts) what each
allegation's page says in Python (vat.allegations.clock.clock and vat.allegations.cycle.cycle).
One property: for any allegations, recorded steps, rules and day, every count and every national
investigators' average is the one the Python clocks give, allegation by allegation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from flask import Flask
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tests.vat.test_clock_twins import STEPS, day_near, twins_agree
from tests.vat.test_clock_twins import _other_rules as other_clock_rules
from tests.vat.test_cycle_twins import _other_rules as other_cycle_rules
from tests.vat.test_cycle_twins import allegation_with_steps, save_with_steps
from vat.allegations import clock, cycle
from vat.allegations.cycle_models import CycleRule, CycleStep
from vat.allegations.models import Allegation, ClockRule, Outcome, Step, Urgency
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.member_states import SANCTIONS, scorecard

COUNTED = (
    "allegations",
    "nio_late",
    "investigations_overdue",
    "results_not_sent",
    "results_overdue",
    "sanctions_pending",
    "cycle_overdue",
)


@st.composite
def contingent_allegation(draw: st.DrawFn) -> dict[str, Any]:
    drawn = draw(allegation_with_steps())
    # Often stopped part-way, so that open steps (due, overdue) are common.
    for step in STEPS[draw(st.integers(2, len(STEPS))) :]:
        drawn["columns"][f"{step}_on"] = None
    drawn["columns"]["perpetrator_country"] = draw(st.sampled_from(["PAK", "NPL", None]))
    drawn["columns"]["urgency"] = draw(st.sampled_from([u.value for u in Urgency]))
    return drawn


def expected(allegations: list[Allegation], on: date) -> dict[str, dict[str, Any]]:
    """The counts the allegations' pages give, per contributing country, and the decision days."""
    clock_rules, cycle_rules = clock.rules(), cycle.rules()
    steps = cycle.steps_for(a.id for a in allegations)
    lines: dict[str, dict[str, Any]] = {}
    for allegation in allegations:
        if allegation.perpetrator_country is None:
            continue
        line = lines.setdefault(allegation.perpetrator_country, {**dict.fromkeys(COUNTED, 0), "days": []})
        states = {s.step: s.state for s in clock.clock(allegation, rule_list=clock_rules, on=on)}
        after = {
            s.step: s.state
            for s in cycle.cycle(allegation, steps[allegation.id], rule_list=cycle_rules, on=on)
        }
        outcome = after.get(CycleStep.MEMBER_STATE_OUTCOME)
        sanctioned = any(s.step in SANCTIONS for s in steps[allegation.id])
        line["allegations"] += 1
        line["nio_late"] += states.get(Step.NIO_DECISION) in ("late", "overdue")
        line["investigations_overdue"] += states.get(Step.INVESTIGATION_COMPLETED) == "overdue"
        line["results_not_sent"] += outcome in ("due", "overdue")
        line["results_overdue"] += outcome == "overdue"
        line["cycle_overdue"] += "overdue" in after.values()
        line["sanctions_pending"] += (
            allegation.outcome == Outcome.SUBSTANTIATED and not sanctioned and not allegation.historical
        )
        if allegation.referred_on and allegation.nio_decision_on:
            line["days"].append((allegation.nio_decision_on - allegation.referred_on).days)
    return lines


@pytest.fixture
def advocate(app: Flask, make_user: Any) -> Iterator[User]:
    user_id = make_user(Role.ADVOCATE, "CAF").id
    with app.test_request_context():
        yield db.session.get_one(User, user_id)


def test_the_scorecard_counts_in_sql_what_the_pages_say(advocate: User) -> None:
    def compare(allegations: list[dict[str, Any]], rules_kind: str, data: st.DataObject) -> int:
        rows = save_with_steps(allegations)
        if rules_kind == "other":
            other_clock_rules({r.step: r for r in db.session.scalars(select(ClockRule))})
            other_cycle_rules({r.step: r for r in db.session.scalars(select(CycleRule))})
        elif rules_kind == "none":
            db.session.execute(delete(ClockRule))
            db.session.execute(delete(CycleRule))
        db.session.flush()
        steps = cycle.steps_for(a.id for a in rows)
        deadlines = [s.due_on for a in rows for s in clock.clock(a) if s.due_on]
        deadlines += [s.due_on for a in rows for s in cycle.cycle(a, steps[a.id]) if s.due_on]
        on = day_near(data, sorted(deadlines, reverse=True))  # the latest first: many steps overdue by then
        wanted = expected(rows, on)
        card = {line.member_state: line for line in scorecard(advocate, reads_ledger=False, today=on).lines}
        assert set(card) == set(wanted)
        for state, line in wanted.items():
            assert {k: card[state].counts[k] for k in COUNTED} == {k: line[k] for k in COUNTED}
            days = line["days"]
            average = (
                (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1"), ROUND_HALF_UP) if days else None
            )
            assert card[state].nio_average_days == average
        return sum(
            line["nio_late"] + line["results_not_sent"] + line["cycle_overdue"] for line in wanted.values()
        )

    twins_agree(contingent_allegation(), compare, 150)
