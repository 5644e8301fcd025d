"""Needs and feedback pages through the test client: assess a need, record a service that meets
it, record the victim's feedback; another victim's record, no CSRF. Wrong roles and other scopes
on every one of these routes: tests/vat/test_views.py (generated from the URL map) and the
authorization matrix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import row_count
from tests.vat.conftest import assist, contact, register
from vat.auth.models import Role, User
from vat.db import db
from vat.victims.models import Feedback, Need


@pytest.fixture
def file(app: Flask, make_user: Callable[..., Any], today: date) -> dict[str, int]:
    """A CAF victim with a service and a case update, and another CAF victim with a service."""
    owner = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, owner.id)
        victim, other = register(actor), register(actor)
        service, others = assist(actor, victim, service_type="legal"), assist(actor, other)
        update = contact(actor, victim, today)
        db.session.commit()
        return {"victim": victim.id, "service": service.id, "update": update.id, "others": others.id}


def test_assess_record_a_service_and_give_feedback(
    app: Flask, client: FlaskClient, login: Callable[..., Any], file: dict[str, int], today: date
) -> None:
    login(Role.ADVOCATE, "CAF")
    victim = file["victim"]
    assert "Assess a need" in client.get(f"/vat/victims/{victim}").get_data(as_text=True)
    form = client.get(f"/vat/victims/{victim}/needs/new?need_type=medical").get_data(as_text=True)
    assert '<option selected value="medical">' in form
    response = client.post(
        f"/vat/victims/{victim}/needs/new",
        data={
            "need_type": "medical",
            "status": "unmet",
            "reason": "no_funds",
            "note": "Needs follow-up care",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#needs")
    page = client.get(f"/vat/victims/{victim}").get_data(as_text=True)
    assert "Need medical: unmet" in page and "no funds" in page and "Needs follow-up care" in page
    assert "Needs unmet or partly met (1)" in client.get("/vat/attention?all=1").get_data(as_text=True)

    response = client.post(
        f"/vat/victims/{victim}/assistance/new",
        data={
            "service_type": "medical",
            "provider": "Clinique Espoir",
            "status": "completed",
            "referral_date": (today - timedelta(days=9)).isoformat(),
            "start_date": (today - timedelta(days=8)).isoformat(),
            "end_date": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        need = db.session.scalar(select(Need).where(Need.victim_id == victim))
        service_id = max(s.id for s in need.victim.services)
        assert (need.status, need.reason) == ("met", None)

    feedback_page = client.get(f"/vat/victims/{victim}/assistance/{service_id}/feedback/new")
    assert "About the medical service (Clinique Espoir)." in feedback_page.get_data(as_text=True)
    response = client.post(
        f"/vat/victims/{victim}/assistance/{service_id}/feedback/new",
        data={
            "satisfaction": "not_satisfied",
            "complaint": "y",
            "complaint_text": "Turned away twice",
            "follow_up_needed": "y",
            "follow_up_on": (today + timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#services")
    response = client.post(
        f"/vat/victims/{victim}/communications/{file['update']}/feedback/new",
        data={"satisfaction": "satisfied"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#communications")
    page = client.get(f"/vat/victims/{victim}").get_data(as_text=True)
    assert "not satisfied" in page and "Turned away twice" in page and "Need medical" not in page
    assert "Needs unmet or partly met (0)" in client.get("/vat/attention?all=1").get_data(as_text=True)


def test_the_list_filters_victims_with_a_need_not_met(
    app: Flask, client: FlaskClient, login: Callable[..., Any], file: dict[str, int]
) -> None:
    login(Role.ADVOCATE, "CAF")
    client.post(
        f"/vat/victims/{file['victim']}/needs/new", data={"need_type": "shelter", "status": "partly_met"}
    )
    with app.app_context():
        codes = dict(db.session.execute(select(Need.victim_id, Need.need_type)).all())
    assert codes == {file["victim"]: "shelter"}
    listed = client.get("/vat/victims?needs_not_met=y").get_data(as_text=True)
    everyone = client.get("/vat/victims").get_data(as_text=True)
    assert listed.count('href="/vat/victims/') < everyone.count('href="/vat/victims/')
    assert f'href="/vat/victims/{file["victim"]}"' in listed


def test_refusals_are_shown_on_the_form(
    client: FlaskClient, login: Callable[..., Any], file: dict[str, int]
) -> None:
    login(Role.ADVOCATE, "CAF")
    response = client.post(
        f"/vat/victims/{file['victim']}/needs/new",
        data={"need_type": "legal", "status": "met", "reason": "no_funds"},
    )
    assert response.status_code == 422
    assert "Give a reason only for a need unmet or partly met." in response.get_data(as_text=True)
    response = client.post(
        f"/vat/victims/{file['victim']}/assistance/{file['service']}/feedback/new",
        data={"satisfaction": "unsure", "complaint_text": "Rude"},
    )
    assert response.status_code == 422
    assert "Tick the complaint box" in response.get_data(as_text=True)


def test_another_victims_service_or_update_is_not_found(
    app: Flask, client: FlaskClient, login: Callable[..., Any], file: dict[str, int]
) -> None:
    login(Role.ADVOCATE, "CAF")
    other_victim_service = f"/vat/victims/{file['victim']}/assistance/{file['others']}/feedback/new"
    assert client.get(other_victim_service).status_code == 404
    assert client.post(other_victim_service, data={"satisfaction": "satisfied"}).status_code == 404
    missing = f"/vat/victims/{file['victim']}/communications/999999/feedback/new"
    assert client.post(missing, data={"satisfaction": "satisfied"}).status_code == 404
    assert row_count(app, Feedback) == 0


def test_csrf_is_required(app: Flask, csrf_client: Callable[..., FlaskClient], file: dict[str, int]) -> None:
    client = csrf_client(Role.ADVOCATE, "CAF")
    victim = file["victim"]
    assert (
        client.post(
            f"/vat/victims/{victim}/needs/new", data={"need_type": "legal", "status": "unmet"}
        ).status_code
        == 400
    )
    path = f"/vat/victims/{victim}/assistance/{file['service']}/feedback/new"
    assert client.post(path, data={"satisfaction": "satisfied"}).status_code == 400
    with app.app_context():
        saved = (
            db.session.scalar(select(func.count(Need.id))),
            db.session.scalar(select(func.count(Feedback.id))),
        )
    assert saved == (0, 0)
