"""Every refusal of a victim's record forms in one answer, each on its own field (issue 19,
item 6): services, communications, needs, feedback and providers check all their fields first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import row_count
from tests.vat.conftest import registered
from tests.vat.test_forms_on_the_users_side import errors_by_field
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidFields
from vat.victims import family
from vat.victims.models import Assistance, Communication, Feedback, Need, Provider, Victim


def later() -> str:
    """A day ahead, read when the test runs."""
    return (date.today() + timedelta(days=30)).isoformat()


def test_a_service_shows_every_refusal_on_its_field(app: Flask, client: FlaskClient, own_victim: int) -> None:
    data = {
        "service_type": "medical",
        "status": "referred",
        "funding_source": "unknown",
        "start_date": later(),
        "end_date": later(),
        "cost": "120",
        "currency": "ZZZ",
    }
    page = client.post(f"/vat/victims/{own_victim}/assistance/new", data=data).get_data(as_text=True)
    shown = errors_by_field(page)
    assert set(shown) == {"start_date", "end_date", "currency"}
    assert "future" in shown["start_date"] and "future" in shown["end_date"]
    assert row_count(app, Assistance) == 0


def test_a_cost_refused_still_asks_for_its_currency(app: Flask, client: FlaskClient, own_victim: int) -> None:
    data = {"service_type": "medical", "status": "referred", "cost": "1e14", "referral_date": later()}
    shown = errors_by_field(
        client.post(f"/vat/victims/{own_victim}/assistance/new", data=data).get_data(as_text=True)
    )
    assert set(shown) == {"cost", "currency", "referral_date"}
    assert "too large" in shown["cost"] and "currency" in shown["currency"]


def test_a_communication_shows_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    victim_id = registered(app, login(Role.ADVOCATE, "CAF").id, consents=[])  # no consent to contact
    data = {"occurred_on": later(), "channel": "phone", "by_whom": "Awa"}
    page = client.post(f"/vat/victims/{victim_id}/communications/new", data=data).get_data(as_text=True)
    assert set(errors_by_field(page)) == {"occurred_on"}
    # The missing consent in the same answer, with the link that records it (and comes back).
    assert "consent to be contacted" in page and "purpose=contact" in page
    assert row_count(app, Communication) == 0


def test_a_need_and_a_feedback_show_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, own_victim: int
) -> None:
    service = {"service_type": "medical", "status": "referred"}
    assert client.post(f"/vat/victims/{own_victim}/assistance/new", data=service).status_code == 302
    with app.app_context():
        service_id = db.session.scalar(select(func.max(Assistance.id)))
    data = {"need_type": "legal", "status": "met", "reason": "no_funds", "assessed_on": later()}
    shown = errors_by_field(
        client.post(f"/vat/victims/{own_victim}/needs/new", data=data).get_data(as_text=True)
    )
    assert set(shown) == {"reason", "assessed_on"}
    data = {"satisfaction": "unsure", "complaint_text": "Rude", "follow_up_on": later(), "given_on": later()}
    page = client.post(f"/vat/victims/{own_victim}/assistance/{service_id}/feedback/new", data=data)
    shown = errors_by_field(page.get_data(as_text=True))
    assert set(shown) == {"complaint", "follow_up_needed", "given_on"}
    assert "Tick the complaint box" in shown["complaint"] and "future" in shown["given_on"]
    assert row_count(app, Need) == row_count(app, Feedback) == 0


def test_a_provider_shows_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    data = {
        "name": "Clinique Espoir",
        "country_code": "CAF",
        "availability": "available",
        "availability_on": later(),
    }
    shown = errors_by_field(client.post("/vat/providers/new", data=data).get_data(as_text=True))
    assert set(shown) == {"service_types", "availability_on"}
    assert "at least one service" in shown["service_types"]
    assert row_count(app, Provider) == 0


def test_a_child_refuses_every_field_at_once(app: Flask, login: Callable[..., Any]) -> None:
    """The form offers only its sexes and lengths (the service alone refuses a birth date ahead):
    the service, called directly as the importer does, refuses every field at once."""
    user_id = login(Role.ADVOCATE, "CAF").id
    victim_id = registered(app, user_id)
    with app.test_request_context():
        victim = db.session.get_one(Victim, victim_id)
        with pytest.raises(InvalidFields) as refused:
            family.add_child(
                actor=db.session.get_one(User, user_id),
                victim=victim,
                birth_date=date.today() + timedelta(days=30),
                sex="x",
                notes="n" * 5001,
            )
        assert {e.field for e in refused.value.errors} == {"birth_date", "sex", "notes"}
        db.session.rollback()
