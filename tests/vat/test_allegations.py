"""The allegation clock: deadlines from the rules table (seeded by the migration), shortened limits,
steps that apply to some personnel only, and a senior advocate's change of policy taking effect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from vat import audit
from vat.allegations import services
from vat.allegations.clock import add_months, clock
from vat.allegations.clock import rules as clock_rules
from vat.allegations.models import Allegation, ClockRule
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidField

ON = date(2026, 6, 30)


def received(
    reference: str, *, personnel: str = "military_contingent", urgency: str = "normal", **dates: date
) -> Allegation:
    """A CAF allegation (not saved) with the dates of its steps (received_on, assessed_on...)."""
    return Allegation(
        reference=reference, country_code="CAF", personnel_category=personnel, urgency=urgency, **dates
    )


def states(allegation: Allegation, on: date = ON) -> dict[str, str]:
    return {s.step.value: s.text for s in clock(allegation, on=on)}


def test_seeded_rules_hold_the_limits_of_the_oios_report(ctx: Flask) -> None:
    rules = {
        r.step: (r.starts_from, r.amount, r.unit, r.reduced_amount, r.reduced_from) for r in clock_rules()
    }
    assert rules == {
        "assessed": ("received", 7, "days", None, None),
        "referred": ("assessed", 3, "days", None, None),
        "nio_decision": ("referred", 10, "days", 5, "urgent"),
        "investigation_completed": ("referred", 6, "months", 3, "high_priority"),
        "report_submitted": ("investigation_completed", 15, "days", None, None),
    }


def test_each_step_is_on_time_late_due_or_overdue(ctx: Flask) -> None:
    allegation = received(
        "1/26",
        received_on=date(2026, 6, 1),
        assessed_on=date(2026, 6, 8),  # exactly 7 days: on time
        referred_on=date(2026, 6, 20),  # 12 days after assessment: 9 late
    )
    assert states(allegation) == {
        "received": "done",
        "assessed": "on time",
        "referred": "late by 9 days",
        "nio_decision": "due in 0 days",  # 30 June = 20 June + 10
        "investigation_completed": "due in 173 days",  # 20 December
        "report_submitted": "waiting for an earlier step",
    }
    assert states(allegation, ON + timedelta(days=1))["nio_decision"] == "overdue by 1 day"


def test_urgent_and_high_priority_cases_get_the_shortened_limits(ctx: Flask) -> None:
    dates = {
        "received_on": date(2026, 1, 1),
        "assessed_on": date(2026, 1, 2),
        "referred_on": date(2026, 1, 3),
    }
    due = {}
    for urgency in ("normal", "high_priority", "urgent"):
        allegation = received("2/26", urgency=urgency, **dates)
        steps = {s.step.value: s.due_on for s in clock(allegation, on=ON)}
        due[urgency] = (steps["nio_decision"], steps["investigation_completed"])
    assert due["normal"] == (date(2026, 1, 13), date(2026, 7, 3))
    assert due["high_priority"] == (date(2026, 1, 13), date(2026, 4, 3))
    assert due["urgent"] == (date(2026, 1, 8), date(2026, 4, 3))  # urgent is also high priority


def test_the_nio_step_applies_to_military_contingents_only(ctx: Flask) -> None:
    civilian = received("3/26", personnel="civilian", received_on=ON, assessed_on=ON, referred_on=ON)
    assert states(civilian)["nio_decision"] == "not applicable"


def test_month_arithmetic_keeps_to_the_end_of_short_months() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_a_policy_change_moves_every_deadline_and_is_audited(
    ctx: Flask, make_user: Callable[..., Any]
) -> None:
    senior = db.session.get(User, make_user(Role.SENIOR_ADVOCATE, "CAF").id)
    allegation = received("4/26", personnel="civilian", received_on=date(2026, 6, 1))
    assert states(allegation)["assessed"] == "overdue by 22 days"
    services.update_rule(
        actor=senior, step="assessed", amount=1, unit="months", reduced_amount=None, reduced_from=None
    )
    assert states(allegation)["assessed"] == "due in 1 day"
    for bad in (
        {"amount": 0},
        {"unit": "weeks"},
        {"reduced_amount": 9, "reduced_from": "urgent"},
        {"reduced_amount": 1, "reduced_from": "normal"},
    ):
        values = {"amount": 7, "unit": "days", "reduced_amount": None, "reduced_from": None, **bad}
        with pytest.raises(InvalidField):
            services.update_rule(actor=senior, step="assessed", **values)
    event = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "clock_rule.update")
    ).one()
    assert event.object_id == "assessed"


def test_steps_cannot_go_back_in_time_or_into_the_future(ctx: Flask, make_user: Callable[..., Any]) -> None:
    advocate = db.session.get(User, make_user(Role.ADVOCATE, "CAF").id)
    cases = [
        ({"received_on": date(2026, 1, 10), "assessed_on": date(2026, 1, 9)}, "assessed_on"),
        ({"received_on": date.today() + timedelta(days=1)}, "received_on"),
        ({"assessed_on": date(2026, 1, 9)}, "received_on"),
        ({"perpetrator_country": "ZZZ"}, "perpetrator_country"),
        ({"personnel_category": "pirate"}, "personnel_category"),
        ({"sub_type": "unknown-thing"}, "sub_type"),
        ({"actions_taken": "a" * 2001}, "actions_taken"),
    ]
    for values, field in cases:
        with pytest.raises(InvalidField) as refused:
            services.create_allegation(actor=advocate, reference="5/26", country_code="CAF", **values)
        assert refused.value.field == field, values
    created = services.create_allegation(
        actor=advocate, reference="5/26", country_code="CAF", perpetrator_country="bgd"
    )
    assert created.perpetrator_country == "BGD" and created.type == "unknown"
    with pytest.raises(InvalidField, match="exists already"):
        services.create_allegation(actor=advocate, reference="5/26", country_code="CAF")


def test_senior_edits_the_rules_through_the_page(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    assert "Change" in client.get("/vat/allegations/clock-rules").get_data(as_text=True)
    response = client.post(
        "/vat/allegations/clock-rules/investigation_completed",
        data={
            "investigation_completed-amount": "4",
            "investigation_completed-unit": "months",
            "investigation_completed-reduced_amount": "2",
            "investigation_completed-reduced_from": "high_priority",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.get(ClockRule, "investigation_completed")
        assert (rule.amount, rule.reduced_amount) == (4, 2)


def test_allegation_page_shows_the_clock(app: Flask, client: FlaskClient, login: Callable[..., Any]) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, user.id)
        received = date.today() - timedelta(days=30)
        allegation = services.create_allegation(
            actor=actor, reference="0399/15", country_code="CAF", received_on=received
        )
        db.session.commit()
        allegation_id = allegation.id
    page = client.get(f"/vat/allegations/{allegation_id}").get_data(as_text=True)
    assert "overdue by 23 days" in page
    listing = client.get("/vat/allegations/").get_data(as_text=True)
    assert "0399/15" in listing and "overdue by 23 days" in listing
