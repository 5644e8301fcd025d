"""The allegation clock raises no false alarm (issue 17, item 3): a later step's date bounds the
earlier ones, a recorded step is never "waiting", and steps without a date on a historical
record are "not recorded". Known answers, checked in Python and by the SQL twin."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from vat.allegations import clock
from vat.allegations.models import Allegation
from vat.db import db

ON = date(2026, 12, 1)


def _states(ctx: Flask, **values: object) -> tuple[dict[str, str], bool]:
    """Each step's state, and whether the SQL twin finds the allegation overdue."""
    allegation = Allegation(reference="1/26", country_code="CAF", personnel_category="civilian", **values)
    db.session.add(allegation)
    db.session.flush()
    rule_list = clock.rules()
    states = {s.step.value: s.state for s in clock.clock(allegation, rule_list=rule_list, on=ON)}
    found = db.session.scalar(select(Allegation.id).where(clock.has_overdue_step(rule_list, ON)))
    return states, found == allegation.id


def test_a_referral_date_without_an_assessment_date_is_no_alarm(ctx):
    states, overdue = _states(ctx, received_on=date(2026, 10, 5), referred_on=date(2026, 10, 20))
    assert states["assessed"] == "done_by"  # was "overdue" forever
    assert states["referred"] == "done"  # was "waiting for an earlier step"
    assert states["investigation_completed"] == "due"  # counted from the referral
    assert not overdue


def test_without_later_steps_a_missing_assessment_is_overdue(ctx):
    states, overdue = _states(ctx, received_on=date(2026, 1, 5))
    assert states["assessed"] == "overdue" and overdue


def test_a_historical_record_without_step_dates_is_not_recorded_not_overdue(ctx):
    states, overdue = _states(ctx, received_on=date(2015, 3, 2), historical=True)
    assert {states[s] for s in ("assessed", "referred", "investigation_completed")} == {"not_recorded"}
    assert not overdue


def test_the_bound_is_the_earliest_later_date(ctx):
    allegation = Allegation(
        reference="2/26",
        country_code="CAF",
        received_on=date(2026, 1, 5),
        investigation_completed_on=date(2026, 5, 1),
        report_submitted_on=date(2026, 6, 1),
    )
    db.session.add(allegation)
    db.session.flush()
    assessed = next(s for s in clock.clock(allegation, on=ON) if s.step.value == "assessed")
    assert (assessed.state, assessed.done_by) == ("done_by", date(2026, 5, 1))
    assert not assessed.bad
