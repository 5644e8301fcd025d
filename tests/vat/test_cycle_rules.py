"""The accountability cycle's limits are edited on a page (issue 17, item 2): by whoever sets
policy, checked, audited, and followed at once by the cycle's clock; refused to other roles and
without a CSRF token, leaving the rule as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from vat.allegations.cycle import cycle
from vat.allegations.cycle_models import AccountabilityStep, CycleRule
from vat.allegations.cycle_rules import update_cycle_rule
from vat.allegations.models import Allegation
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidField

STEP = "member_state_outcome"


def _rule(app: Flask) -> tuple[int, str, str, bool]:
    with app.app_context():
        rule = db.session.get_one(CycleRule, STEP)
        return rule.amount, rule.unit, rule.applies_to, rule.substantiated_only


def _form(**values: Any) -> dict[str, Any]:
    data = {"amount": "60", "unit": "days", "applies_to": ["formed_police", "military_contingent"]}
    data.update(values)
    return {f"{STEP}-{k}": v for k, v in data.items()}


def test_whoever_sets_policy_changes_a_limit_audited(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    page = client.get("/vat/allegations/cycle-rules").get_data(as_text=True)
    assert "Change a limit" in page and "90 days" in page
    response = client.post(f"/vat/allegations/cycle-rules/{STEP}", data=_form(substantiated_only="y"))
    assert response.status_code == 302
    # Stored in the enum's order, whatever order the form sent.
    assert _rule(app) == (60, "days", "military_contingent,formed_police", True)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle_rule.update")).one()
        assert event.object_id == STEP
    assert "60 days" in client.get("/vat/allegations/cycle-rules").get_data(as_text=True)


def test_the_cycle_follows_the_new_limit(app: Flask, make_user: Callable[..., Any]) -> None:
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        contingent = {"personnel_category": "military_contingent", "perpetrator_country": "PAK"}
        reported = {"received_on": date(2026, 1, 1), "report_submitted_on": date(2026, 2, 1)}
        allegation = Allegation(
            reference="1/17", country_code="CAF", outcome="substantiated", **contingent, **reported
        )
        db.session.add(allegation)
        db.session.flush()
        referral = AccountabilityStep(
            allegation_id=allegation.id,
            step="member_state_referral",
            measure="referred",
            dated_on=date(2026, 2, 5),
        )
        db.session.add(referral)
        db.session.flush()

        def outcome_deadline() -> date | None:
            state = next(s for s in cycle(allegation, [referral], on=date(2026, 12, 1)) if s.step == STEP)
            return state.due_on

        assert outcome_deadline() == date(2026, 5, 6)
        update_cycle_rule(
            actor=db.session.get_one(User, senior.id),
            step=STEP,
            amount=30,
            unit="days",
            applies_to=["military_contingent"],
            substantiated_only=False,
        )
        assert outcome_deadline() == date(2026, 3, 7)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"amount": 0, "unit": "days", "applies_to": []}, "amount"),
        ({"amount": 3651, "unit": "days", "applies_to": []}, "amount"),
        ({"amount": 5, "unit": "weeks", "applies_to": []}, "unit"),
        ({"amount": 5, "unit": "days", "applies_to": ["generals"]}, "applies_to"),
    ],
)
def test_the_service_refuses_a_limit_out_of_bounds(
    app: Flask, make_user: Callable[..., Any], values: dict[str, Any], field: str
) -> None:
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        with pytest.raises(InvalidField) as refused:
            update_cycle_rule(
                actor=db.session.get_one(User, senior.id), step=STEP, substantiated_only=False, **values
            )
        assert refused.value.field == field


def test_a_bad_limit_is_shown_on_the_form_and_changes_nothing(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    before = _rule(app)
    login(Role.SENIOR_ADVOCATE, "CAF")
    response = client.post(f"/vat/allegations/cycle-rules/{STEP}", data=_form(amount="0"))
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert _rule(app) == before
    assert client.post("/vat/allegations/cycle-rules/no_such_step", data=_form()).status_code == 404


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR])
def test_other_roles_may_not_change_a_limit(
    app: Flask, client: FlaskClient, login: Callable[..., Any], role: Role
) -> None:
    before = _rule(app)
    login(role, "CAF" if role is Role.ADVOCATE else "")
    assert client.post(f"/vat/allegations/cycle-rules/{STEP}", data=_form()).status_code == 403
    assert _rule(app) == before


def test_a_change_without_a_csrf_token_is_refused(
    app: Flask, csrf_client: Callable[..., FlaskClient]
) -> None:
    client = csrf_client(Role.SENIOR_ADVOCATE, "CAF")
    before = _rule(app)
    assert client.post(f"/vat/allegations/cycle-rules/{STEP}", data=_form()).status_code == 400
    assert _rule(app) == before
