"""The clock report reads every step in one pass (vat.reports.clock.step_state, one CASE per
step): each allegation falls in exactly the state the scorecard's conditions (step_states) give
it, and the report's averages are the SQL average of the days its completed steps took."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from tests.reports.test_clock import ALLEGATIONS, TODAY
from vat.allegations.models import Allegation, ClockRule
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.clock import clock_report, step_state, step_states
from vat.reports.scope import VictimFilters
from vat.reports.sql import days_between

D = date
MORE = [
    # done with no start recorded; done by a later step; historical and not recorded; waiting
    dict(reference="0005/21", personnel_category="civilian", received_on=None, assessed_on=D(2021, 2, 1)),
    dict(
        reference="0006/21", personnel_category="civilian", received_on=D(2021, 1, 4),
        referred_on=D(2021, 1, 20),
    ),
    dict(reference="0007/15", personnel_category="formed_police", received_on=D(2015, 3, 2), historical=True),
    dict(reference="0008/21", personnel_category="military_expert", received_on=D(2021, 6, 29)),
    # a month's deadline clamped to the month's end, on the day and the day after
    dict(
        reference="0009/21", personnel_category="military_contingent", urgency="urgent",
        received_on=D(2021, 1, 31), assessed_on=D(2021, 1, 31), referred_on=D(2021, 1, 31),
        nio_decision_on=D(2021, 2, 5), investigation_completed_on=D(2021, 4, 30),
    ),
]  # fmt: skip


def _add_allegations(app):
    with app.app_context():
        for values in [*ALLEGATIONS, *MORE]:
            db.session.add(Allegation(country_code="CAF", mission="MINUSCA", **values))
        db.session.commit()


def test_one_state_per_allegation_as_the_conditions_say(app):
    _add_allegations(app)
    with app.app_context():
        rules = list(db.session.scalars(select(ClockRule).order_by(ClockRule.position)))
        assert rules
        for on in (TODAY, D(2021, 2, 1), D(2021, 8, 1)):
            for rule in rules:
                conditions = step_states(rule, on)
                named = db.session.execute(
                    select(
                        Allegation.reference,
                        step_state(rule, on),
                        *(case((condition, 1), else_=0) for condition in conditions.values()),
                    )
                ).all()
                for reference, state, *flags in named:
                    held = [name for name, flag in zip(conditions, flags, strict=True) if flag]
                    assert held == ([state] if state else []), (rule.step, reference, on)


def test_averages_are_the_days_of_the_completed_steps(app, make_user):
    _add_allegations(app)
    uid = make_user(Role.SENIOR_ADVOCATE, "CAF").id
    with app.app_context():
        report = clock_report(db.session.get(User, uid), VictimFilters(), today=TODAY)
        assert report.allegations == len(ALLEGATIONS) + len(MORE)
        for rule, row in zip(
            db.session.scalars(select(ClockRule).order_by(ClockRule.position)), report.rows, strict=True
        ):
            states = step_states(rule, TODAY)
            done, start = (getattr(Allegation, f"{step}_on") for step in (rule.step, rule.starts_from))
            completed = states["on_time"] | states["late"]
            average = db.session.scalar(select(func.avg(case((completed, days_between(done, start))))))
            expected = (
                None
                if average is None
                else Decimal(str(average)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            )
            assert row.average_days == expected, rule.step
