"""The accountability cycle's clock is written twice (vat/allegations/cycle.py): `overdue_cycle_steps`
in Python and `has_overdue_cycle_step` / `overdue_condition` in SQL. One property: for any
allegations, recorded steps, rules and day, SQL finds exactly the allegations (and, rule by rule,
the steps) the Python clock says are overdue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from hypothesis import strategies as st
from sqlalchemy import select

from tests.vat.test_clock_twins import DAYS, GAPS, STEPS, day_near, twins_agree
from vat.allegations import cycle
from vat.allegations.cycle_models import MEASURES, AccountabilityStep, CycleRule, CycleStep
from vat.allegations.models import Allegation
from vat.db import db

KINDS = [s.value for s in CycleStep]


@st.composite
def allegation_with_steps(draw: st.DrawFn) -> dict[str, Any]:
    day = first = draw(DAYS)
    dates: dict[str, date | None] = {}
    for name in STEPS:
        dates[f"{name}_on"] = day if name == "received" or draw(st.booleans()) else None
        day += timedelta(days=draw(GAPS))
    steps = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(KINDS))
        measure = draw(st.sampled_from(MEASURES[kind]))
        steps.append((kind, measure, first + timedelta(days=draw(GAPS))))
    return {
        "columns": {
            "personnel_category": draw(st.sampled_from(["military_contingent", "civilian", "formed_police"])),
            "outcome": draw(st.sampled_from(["pending", "substantiated", "unsubstantiated"])),
            "historical": draw(st.booleans()),
            **dates,
        },
        "steps": steps,
    }


def _other_rules(rules: dict[str, CycleRule]) -> None:
    """Limits in days where they were months, a rule for everyone, one not only for substantiated."""
    rules["administrative_action"].amount, rules["administrative_action"].unit = 31, "days"
    rules["member_state_referral"].applies_to = ""
    rules["criminal_referral"].substantiated_only = False
    rules["member_state_outcome"].amount, rules["member_state_outcome"].unit = 3, "months"


def save_with_steps(allegations: list[dict[str, Any]]) -> list[Allegation]:
    """Drawn allegations saved, with their recorded steps."""
    rows = [
        Allegation(reference=f"{n}/26", country_code="CAF", **v["columns"]) for n, v in enumerate(allegations)
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row, values in zip(rows, allegations, strict=True):
        db.session.add_all(
            AccountabilityStep(allegation_id=row.id, step=kind, measure=measure, dated_on=on)
            for kind, measure, on in values["steps"]
        )
    return rows


def test_sql_finds_the_steps_the_cycle_says_are_overdue(ctx: Flask) -> None:
    def compare(allegations: list[dict[str, Any]], rules_kind: str, data: st.DataObject) -> int:
        rows = save_with_steps(allegations)
        rules = {r.step: r for r in db.session.scalars(select(CycleRule))}
        if rules_kind == "other":
            _other_rules(rules)
        db.session.flush()
        rule_list = [] if rules_kind == "none" else cycle.rules()
        steps = cycle.steps_for(a.id for a in rows)
        deadlines = [
            s.due_on for a in rows for s in cycle.cycle(a, steps[a.id], rule_list=rule_list) if s.due_on
        ]
        on = day_near(data, deadlines)
        found = set(
            db.session.scalars(select(Allegation.id).where(cycle.has_overdue_cycle_step(rule_list, on)))
        )
        computed = {a.id for a in rows if cycle.overdue_cycle_steps(a, steps[a.id], rule_list, on)}
        assert found == computed
        for rule in rule_list:  # and rule by rule, as the dashboard counts them
            by_rule = set(
                db.session.scalars(select(Allegation.id).where(cycle.overdue_condition(rule, rule_list, on)))
            )
            assert by_rule == {
                a.id
                for a in rows
                if any(s.step == rule.step for s in cycle.overdue_cycle_steps(a, steps[a.id], rule_list, on))
            }
        return len(computed)

    twins_agree(allegation_with_steps(), compare, 150)
