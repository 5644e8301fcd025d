"""The accountability cycle's pages: the allegation page shows it, the forms record a step and a
letter (audited), Needs attention and the member state's log show them; wrong role, other scope
and a missing CSRF token are refused and record nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import row_count, sign_in
from tests.vat.conftest import register, reported
from vat import audit
from vat.allegations.cycle_models import AccountabilityStep
from vat.auth.models import Role, User
from vat.claims.models import Letter
from vat.db import db
from vat.victims import outcomes


@pytest.fixture
def case(app: Flask, make_user: Callable[..., Any]) -> dict[str, Any]:
    """A substantiated CAF allegation against a Pakistani contingent, reported 120 days ago, and a
    victim the advocate returned with it registered and linked to it."""
    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        actor = db.session.get_one(User, advocate.id)
        allegation = reported("0042/26", received_on=date.today() - timedelta(days=210))
        victim = register(actor, advocate_id=actor.id)
        outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
        db.session.commit()
        return {"allegation": allegation.id, "advocate": advocate}


def step_form(step: str = "interim_measure", measure: str = "suspension") -> dict[str, str]:
    """The cycle form's fields for a step taken today."""
    return {"step": step, "measure": measure, "dated_on": date.today().isoformat()}


def test_an_advocate_records_the_cycle_and_sees_it(
    app: Flask, client: FlaskClient, case: dict[str, Any]
) -> None:
    sign_in(app, client, case["advocate"])
    base = f"/vat/allegations/{case['allegation']}"
    page = client.get(base).get_data(as_text=True)
    assert "Accountability after the report" in page and "overdue by" in page
    attention = client.get("/vat/attention").get_data(as_text=True)
    assert "Overdue accountability steps (2)" in attention  # the sanction and the referral
    form = client.get(f"{base}/cycle/new?step=administrative_action").get_data(as_text=True)
    assert "repatriation and ban" in form and "imprisonment" not in form
    refused = client.post(f"{base}/cycle/new", data=step_form("administrative_action", "imprisonment"))
    assert refused.status_code == 200 and "Choose a measure listed for this step." in refused.get_data(
        as_text=True
    )
    done = client.post(
        f"{base}/cycle/new",
        data=step_form("administrative_action", "repatriation_and_ban"),
        follow_redirects=True,
    )
    shown = done.get_data(as_text=True)
    assert "Step recorded." in shown and "repatriation and ban from future operations" in shown
    letter = client.post(
        f"{base}/letters/new",
        data={
            "direction": "sent",
            "dated_on": (date.today() - timedelta(days=12)).isoformat(),
            "channel": "note_verbale",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Correspondence recorded." in letter and "Waiting on PAK for 12 days." in letter
    log = client.get("/vat/allegations/correspondence?member_state=PAK").get_data(as_text=True)
    assert "0042/26" in log and '<td class="num">12</td>' in log
    assert "Overdue accountability steps (1)" in client.get("/vat/attention").get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(
            select(audit.AuditEvent.action).where(audit.AuditEvent.action.like("allegation.%"))
        ).all()
    assert actions.count("allegation.cycle_step") == 1 and actions.count("allegation.letter") == 1
    french = client.get(base, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Responsabilité après le rapport" in french


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR])
def test_roles_without_case_editing_are_refused(
    app: Flask, client: FlaskClient, login: Callable[..., Any], case: dict[str, Any], role: Role
) -> None:
    login(role, "CAF")
    base = f"/vat/allegations/{case['allegation']}"
    assert client.get(f"{base}/cycle/new").status_code == 403
    assert client.post(f"{base}/cycle/new", data=step_form()).status_code == 403
    assert client.post(f"{base}/letters/new", data={"direction": "sent"}).status_code == 403
    assert client.get("/vat/allegations/correspondence?member_state=PAK").status_code == 403
    assert row_count(app, AccountabilityStep) == 0


def test_another_scope_gets_not_found(
    app: Flask, client: FlaskClient, login: Callable[..., Any], case: dict[str, Any]
) -> None:
    login(Role.ADVOCATE, "COD")
    base = f"/vat/allegations/{case['allegation']}"
    assert client.get(f"{base}/cycle/new").status_code == 404
    assert client.post(f"{base}/cycle/new", data=step_form()).status_code == 404
    letter = {"direction": "sent", "dated_on": date.today().isoformat(), "channel": "email"}
    assert client.post(f"{base}/letters/new", data=letter).status_code == 404
    assert "0042/26" not in client.get("/vat/allegations/correspondence?member_state=PAK").get_data(
        as_text=True
    )
    assert (row_count(app, AccountabilityStep), row_count(app, Letter)) == (0, 0)


def test_csrf_is_required(app: Flask, csrf_client: Callable[..., FlaskClient], case: dict[str, Any]) -> None:
    client = csrf_client(case["advocate"])
    base = f"/vat/allegations/{case['allegation']}"
    assert client.post(f"{base}/cycle/new", data=step_form()).status_code == 400
    letter = {"direction": "sent", "dated_on": date.today().isoformat(), "channel": "email"}
    assert client.post(f"{base}/letters/new", data=letter).status_code == 400
    assert (row_count(app, AccountabilityStep), row_count(app, Letter)) == (0, 0)
