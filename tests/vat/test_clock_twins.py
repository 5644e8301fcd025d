"""The allegation clock is written twice (vat/allegations/clock.py): `overdue_steps` in Python and
`has_overdue_step` in SQL. One property: for any allegations, rules and day, SQL finds exactly the
allegations the Python clock says have an overdue step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from vat.allegations import clock
from vat.allegations.models import Allegation, ClockRule, Urgency
from vat.db import db

STEPS = ("received", "assessed", "referred", "nio_decision", "investigation_completed", "report_submitted")
# Steps a few days apart, or a limit's length in days or months apart (7, 3 months, 6 months...).
GAPS = st.one_of(st.sampled_from([0, 3, 7, 8, 11, 30, 31, 92, 184, 185]), st.integers(0, 400))


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


# Month ends and the days around them: where adding months clamps (31 August + 6 months).
DAYS = st.builds(
    lambda end, shift: end + timedelta(days=shift),
    st.builds(_month_end, st.integers(2025, 2028), st.integers(1, 12)),
    st.integers(-3, 3),
)


def day_near(data: st.DataObject, deadlines: list[date]) -> date:
    """Mostly the day before, of or after a deadline: where the twins could disagree."""
    near = st.sampled_from(deadlines).flatmap(
        lambda due: st.integers(-1, 1).map(lambda shift: due + timedelta(days=shift))
    )
    return data.draw(st.one_of(near, DAYS) if deadlines else DAYS, label="on")


@st.composite
def allegation_steps(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(DAYS)
    dates: dict[str, date | None] = {}
    for step in STEPS:
        done = step == "received" or draw(st.booleans())
        dates[f"{step}_on"] = day if done else None
        day += timedelta(days=draw(GAPS))
    return {
        "personnel_category": draw(st.sampled_from(["military_contingent", "civilian", "formed_police"])),
        "urgency": draw(st.sampled_from([u.value for u in Urgency])),
        "historical": draw(st.booleans()),
        **dates,
    }


def _other_rules(rules: dict[str, ClockRule]) -> None:
    """Limits in months, a shortened limit in days and steps for some personnel only."""
    rules["assessed"].amount, rules["assessed"].unit = 1, "months"
    rules["assessed"].reduced_amount, rules["assessed"].reduced_from = 1, "urgent"
    rules["referred"].reduced_amount, rules["referred"].reduced_from = 1, "high_priority"
    rules["report_submitted"].applies_to = "civilian,formed_police"
    rules["investigation_completed"].starts_from = "received"


def twins_agree(
    allegations: st.SearchStrategy[Any],
    compare: Callable[[list[Any], str, st.DataObject], int],
    examples: int,
) -> None:
    """Runs `compare(allegations, rules_kind, data)` on drawn examples, each in a savepoint rolled
    back after it; `compare` answers how many allegations it found overdue, and some must be."""
    overdue_found = []

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same examples on every run: "some must be overdue" cannot flake
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        allegations=st.lists(allegations, min_size=1, max_size=8),
        rules_kind=st.sampled_from(["as seeded", "other", "none"]),
        data=st.data(),
    )
    def agree(allegations: list[Any], rules_kind: str, data: st.DataObject) -> None:
        savepoint = db.session.begin_nested()
        try:
            overdue_found.append(compare(allegations, rules_kind, data))
        finally:
            savepoint.rollback()

    agree()
    assert sum(overdue_found) > 0  # the property compared something


def test_sql_finds_the_allegations_the_clock_says_are_overdue(ctx: Flask) -> None:
    def compare(allegations: list[dict[str, Any]], rules_kind: str, data: st.DataObject) -> int:
        rows = [Allegation(reference=f"{n}/26", country_code="CAF", **v) for n, v in enumerate(allegations)]
        db.session.add_all(rows)
        rules = {r.step: r for r in db.session.scalars(select(ClockRule))}
        if rules_kind == "other":
            _other_rules(rules)
        db.session.flush()
        rule_list = [] if rules_kind == "none" else clock.rules()
        deadlines = [s.due_on for a in rows for s in clock.clock(a, rule_list=rule_list) if s.due_on]
        on = day_near(data, deadlines)
        overdue = clock.has_overdue_step(rule_list, on)
        found = set(db.session.scalars(select(Allegation.id).where(overdue)))
        computed = {a.id for a in rows if clock.overdue_steps(a, rule_list, on)}
        assert found == computed
        return len(computed)

    twins_agree(allegation_steps(), compare, 200)
