"""Forms on the user's side (issue 19, item 6): every refusal at once, each on its field, in plain
words; a missing consent offers to record it and comes back to the form with what was typed,
kept server-side behind a random token (never in an address)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import row_count
from tests.vat.conftest import assist, register, registered
from vat import drafts, request_keys
from vat.allegations import services
from vat.auth.models import FormDraft, Role, User
from vat.db import db, utcnow
from vat.inputs import InvalidFields
from vat.victims.models import Assistance, Consent

SERVICE = {
    "service_type": "medical",
    "provider": "Clinique Espoir",
    "status": "in_progress",
    "start_date": "2024-05-02",
    "notes": "Douleurs depuis mars",
}


def errors_by_field(page: str) -> dict[str, str]:
    """Each field shown with an error: its name and the error's words."""
    within = r"(?:(?!</div>).)*?"  # inside the field's own block
    found = re.findall(
        rf'<div class="field has-error">{within}name="([a-z_]+)"{within}<p class="error"[^>]*>([^<]*)</p>',
        page,
        re.S,
    )
    return dict(found)


def test_the_allegation_service_refuses_every_field_at_once(actor: User) -> None:
    with pytest.raises(InvalidFields) as refused:
        services.create_allegation(
            actor=actor, reference="0001/24", country_code="CAF", mission="M!N", perpetrators="0"
        )
    assert {e.field for e in refused.value.errors} == {"mission", "perpetrators"}
    with pytest.raises(InvalidFields) as refused:  # the rules between fields, all at once too
        services.create_allegation(
            actor=actor,
            reference="0001/24",
            country_code="CAF",
            type="exploitation",
            sub_type="rape",
            referred_on=date(2024, 3, 1),
        )
    assert {e.field for e in refused.value.errors} == {"received_on", "sub_type"}


def test_the_allegation_form_shows_each_refusal_on_its_field(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.ADVOCATE, "CAF")
    data = {
        "reference": "0042/24",
        "country_code": "CAF",
        "type": "exploitation",
        "sub_type": "rape",
        "received_on": "2024-03-05",
        "referred_on": "2024-03-01",
        "outcome": "pending",
        "personnel_category": "unknown",
        "perpetrator_country": "",
        "entity_category": "",
        "investigating_entity": "",
        "investigation_status": "",
        "urgency": "normal",
    }
    page = client.post("/vat/allegations/new", data=data).get_data(as_text=True)
    shown = errors_by_field(page)
    assert set(shown) == {"sub_type", "referred_on"}
    assert "sub-types are" in shown["sub_type"] and "cannot come before" in shown["referred_on"]


def test_an_amount_of_zero_says_what_is_wrong(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.FUND_MANAGER, "")
    page = client.post("/ledger/donors/new", data={"kind": "other", "name": "X"})
    assert page.status_code == 302
    donor = page.location.rsplit("/", 1)[-1]
    refused = client.post(
        f"/ledger/donors/{donor}/pledge", data={"amount": "0", "currency": "USD", "pledged_on": ""}
    ).get_data(as_text=True)
    shown = errors_by_field(refused)
    assert shown["amount"].startswith("Give a number above zero")
    assert shown["pledged_on"]  # the date's refusal in the same answer


def test_a_missing_consent_is_recorded_and_the_form_comes_back_with_its_values(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    victim_id = registered(app, user.id, consents=[])
    form_url = f"/vat/victims/{victim_id}/assistance/new"
    refused = client.post(form_url, data=SERVICE)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    # Both consents at once, each with a link that records it; the typed values are not in them.
    links = re.findall(r'href="([^"]*/consents/new[^"]*)"', page)
    assert len(links) == 2 and "consent to receive services" in page and "Clinique Espoir" in page
    assert all("Clinique" not in link and "Douleurs" not in link for link in links)
    referral = next(link.replace("&amp;", "&") for link in links if "purpose=referral" in link)
    token = parse_qs(urlsplit(referral).query)["draft"][0]
    with app.app_context():
        assert db.session.scalar(select(func.count(Assistance.id))) == 0
        assert "Douleurs" not in db.session.scalar(
            select(func.cast(FormDraft.fields, db.String))
        )  # encrypted
    consent_page = client.get(referral).get_data(as_text=True)
    assert '<option selected value="referral">' in consent_page and 'value="Clinique Espoir"' in consent_page
    for purpose in ("referral", "services"):
        back = client.post(
            f"/vat/victims/{victim_id}/consents/new?draft={token}",
            data={
                "purpose": purpose,
                "given_on": "2024-05-01",
                "method": "written",
                "version": "1",
                "recipient": "Clinique Espoir" if purpose == "referral" else "",
            },
        )
        assert back.status_code == 302 and back.location == f"{form_url}?draft={token}"
    again = client.get(back.location).get_data(as_text=True)
    assert "Douleurs depuis mars</textarea>" in again and 'value="Clinique Espoir"' in again
    assert '<option selected value="in_progress">' in again
    assert client.post(f"{form_url}?draft={token}", data=SERVICE).status_code == 302  # as the page posts
    assert row_count(app, FormDraft) == 0  # recorded: the draft is gone
    assert row_count(app, Consent) == 2
    assert row_count(app, Assistance) == 1


def test_a_draft_is_only_its_owners_and_only_for_its_form(
    client: FlaskClient, drafted_for_its_owner: Callable[..., tuple[int, str, str]]
) -> None:
    victim_id, form_url, token = drafted_for_its_owner("assistance", SERVICE, "Douleurs")
    child_form = f"/vat/victims/{victim_id}/children/new?draft={token}"
    assert "Douleurs" not in client.get(child_form).get_data(as_text=True)
    assert "Douleurs" not in client.get(f"{form_url}?draft=forged").get_data(as_text=True)


def test_the_round_trip_is_refused_to_other_roles_and_without_csrf(
    app: Flask,
    make_user: Callable[..., Any],
    login: Callable[..., Any],
    client: FlaskClient,
    csrf_client: Callable[..., FlaskClient],
) -> None:
    victim_id = registered(app, make_user(Role.ADVOCATE, "CAF").id, consents=[])
    path = f"/vat/victims/{victim_id}/assistance/new"
    login(Role.FUND_MANAGER, "")
    assert client.post(path, data=SERVICE).status_code == 403
    assert csrf_client(Role.ADVOCATE, "CAF").post(path, data=SERVICE).status_code == 400
    assert row_count(app, FormDraft) == 0


def test_drafts_past_their_time_are_forgotten_daily(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    victim_id = registered(app, user.id, consents=[])
    page = client.post(f"/vat/victims/{victim_id}/assistance/new", data=SERVICE).get_data(as_text=True)
    token = re.search(r"draft=([A-Za-z0-9_-]+)", page).group(1)  # type: ignore[union-attr]
    with app.app_context():
        request_keys.prune_expired()  # a fresh draft stays
        assert db.session.scalar(select(func.count(FormDraft.id))) == 1
        db.session.execute(
            db.update(FormDraft).values(created_at=utcnow() - drafts.KEPT_FOR - timedelta(minutes=1))
        )
        db.session.commit()
    assert "Douleurs" not in client.get(f"/vat/victims/{victim_id}/assistance/new?draft={token}").get_data(
        as_text=True
    )
    with app.app_context():
        request_keys.prune_expired()
        assert db.session.scalar(select(func.count(FormDraft.id))) == 0


def test_a_service_cost_far_beyond_its_types_usual_needs_confirming(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        advocate = db.session.get(User, user.id)
        victim = register(advocate)
        for _ in range(5):
            assist(advocate, victim, cost=Decimal("100"), currency="USD")
        db.session.commit()
        victim_id = victim.id
    form_url = f"/vat/victims/{victim_id}/assistance/new"
    costly = {"service_type": "medical", "status": "referred", "cost": "5000", "currency": "USD"}
    refused = client.post(form_url, data=costly).get_data(as_text=True)
    shown = errors_by_field(refused)
    assert "more than 10 times the usual costs of this type of service in USD" in shown["cost"]
    assert 'name="amount_confirmed"' in refused
    assert client.post(form_url, data={**costly, "amount_confirmed": "y"}).status_code == 302
    other_type = {**costly, "service_type": "psychosocial"}  # none costed yet: nothing to compare with
    assert client.post(form_url, data=other_type).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Assistance.id))) == 7
        usual_id = db.session.scalar(select(func.min(Assistance.id)))
        costly_id = db.session.scalar(
            select(Assistance.id).where(Assistance.cost_minor == 500000, Assistance.service_type == "medical")
        )
    # An edit that raises a cost far beyond the usual asks the same question; one that keeps a
    # cost already confirmed does not ask it again.
    raised = client.post(f"/vat/victims/{victim_id}/assistance/{usual_id}", data=costly)
    assert "more than 10 times the usual" in errors_by_field(raised.get_data(as_text=True))["cost"]
    with app.app_context():
        assert db.session.get_one(Assistance, usual_id).cost == 100
    kept = client.post(
        f"/vat/victims/{victim_id}/assistance/{costly_id}",
        data={**costly, "status": "in_progress", "start_date": date.today().isoformat()},
    )
    assert kept.status_code == 302


def test_registering_a_victim_refuses_every_field_at_once(actor: User) -> None:
    with pytest.raises(InvalidFields) as refused:
        register(actor, mission="M!N", sex="robot", name="x" * 500, date_of_birth=date(1850, 1, 1))
    assert {e.field for e in refused.value.errors} == {"mission", "sex", "name", "date_of_birth"}
