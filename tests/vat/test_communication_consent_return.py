"""A communication to a victim needs their consent to contact (issue 19, item 6): without it the
form offers to record it and comes back with what was typed (kept server-side, vat.drafts), as
the service form does; every other refusal is shown on its field in the same answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import row_count, sign_in
from tests.vat.conftest import registered
from tests.vat.test_forms_on_the_users_side import errors_by_field
from vat.auth.models import FormDraft, Role
from vat.db import db
from vat.victims.models import Communication, Consent

SUMMARY = "Appel sur la suite du dossier"


def call() -> dict[str, str]:
    """A call made yesterday, the day read when the test runs."""
    return {
        "occurred_on": (date.today() - timedelta(days=1)).isoformat(),
        "channel": "phone",
        "summary": SUMMARY,
    }


def test_the_consent_to_contact_is_recorded_and_the_communication_comes_back(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    victim_id = registered(app, login(Role.ADVOCATE, "CAF").id, consents=[])
    form_url = f"/vat/victims/{victim_id}/communications/new"
    later = (date.today() + timedelta(days=30)).isoformat()
    refused = client.post(form_url, data={**call(), "language": "Sango", "next_update_due": "2000-01-01"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert set(errors_by_field(page)) == {"next_update_due"}  # the other refusal, on its field
    links = re.findall(r'href="([^"]*/consents/new[^"]*)"', page)
    assert len(links) == 1 and "purpose=contact" in links[0] and "Sango" not in links[0]
    token = parse_qs(urlsplit(links[0].replace("&amp;", "&")).query)["draft"][0]
    assert row_count(app, Communication) == 0
    with app.app_context():
        assert SUMMARY not in db.session.scalar(select(func.cast(FormDraft.fields, db.String)))
    consent_page = client.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert '<option selected value="contact">' in consent_page
    back = client.post(
        f"/vat/victims/{victim_id}/consents/new?draft={token}",
        data={"purpose": "contact", "given_on": "2024-05-01", "method": "written", "version": "1"},
    )
    assert back.status_code == 302 and back.location == f"{form_url}?draft={token}"
    again = client.get(back.location).get_data(as_text=True)
    assert f"{SUMMARY}</textarea>" in again and 'value="Sango"' in again
    assert '<option selected value="phone">' in again
    data = {**call(), "language": "Sango", "next_update_due": later}
    assert client.post(f"{form_url}?draft={token}", data=data).status_code == 302
    assert row_count(app, FormDraft) == 0  # recorded: the draft is gone
    assert row_count(app, Consent) == 1 and row_count(app, Communication) == 1


def test_the_round_trip_keeps_each_draft_to_its_owner(
    drafted_for_its_owner: Callable[..., tuple[int, str, str]],
) -> None:
    drafted_for_its_owner("communications", call(), SUMMARY)


def test_the_communication_form_stays_refused_to_other_roles_scopes_and_without_csrf(
    app: Flask, make_user: Callable[..., Any], csrf_client: Callable[..., FlaskClient]
) -> None:
    client = app.test_client()
    victim_id = registered(app, make_user(Role.ADVOCATE, "CAF").id, consents=[])
    form_url = f"/vat/victims/{victim_id}/communications/new"
    sign_in(app, client, make_user(Role.FUND_MANAGER, ""))
    assert client.get(form_url).status_code == 403 and client.post(form_url, data=call()).status_code == 403
    sign_in(app, client, make_user(Role.ADVOCATE, "COD"))
    assert client.get(form_url).status_code == 404 and client.post(form_url, data=call()).status_code == 404
    guarded = csrf_client(Role.ADVOCATE, "CAF")
    assert guarded.post(form_url, data=call()).status_code == 400
    assert row_count(app, FormDraft) == 0 and row_count(app, Communication) == 0
