"""Money forms sent in human time (issue 15, ASVS 5.0 2.4.2): a form that moves money or sets a
rate refuses a submission sent sooner than VAT_MONEY_FORM_MIN_SECONDS after it was served. When
it was served is in the form's key, signed by the server: an edited, borrowed or missing key is
refused like a hurried one. Refused: 422, the form again under a new key, nothing saved, audited.
The repeats the key exists for (a double click, a resend after a crash) still record once."""

from __future__ import annotations

import inspect
import json
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DecimalField

import ledger.forms
from ledger.forms import MoneyForm
from tests.conftest import make_app, sign_in
from tests.ledger.pages import entry_count, minted_key, seed_cash_and_project, withhold
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.config import ConfigurationError
from vat.db import db

MINIMUM = 2
REFUSED = (
    "sent sooner than anyone could fill it in, so nothing was saved. Please check the form and send it again."
)
RECEIPT = "/ledger/donors/1/receipt"
RECEIPT_FIELDS = {
    "pledge_id": "",
    "amount": "1000",
    "currency": "USD",
    "received_on": "2019-01-10",
    "bank_reference": "B-1",
}


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Flask:
    """The tests' app, with the minimum time the tests' settings leave at 0."""
    return make_app(database_url, VAT_JOBS_FOLDER=str(tmp_path / "jobs"), VAT_MONEY_FORM_MIN_SECONDS=MINIMUM)


@pytest.fixture
def seeded(app: Flask, client: FlaskClient, manager) -> None:
    """A donor, cash, a project with a tranche's worth and a withholding, booked at once by the
    client's fund manager while the minimum is off."""
    app.config["VAT_MONEY_FORM_MIN_SECONDS"] = 0
    seed_cash_and_project(client)
    assert withhold(client, "0399/15").status_code == 302
    app.config["VAT_MONEY_FORM_MIN_SECONDS"] = MINIMUM


def refusals(app: Flask) -> list[tuple[int | None, dict]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "form.too_fast"))
        return [(row.actor_id, json.loads(row.detail)) for row in rows]


def served(client: FlaskClient, path: str) -> str:
    return minted_key(client.get(path).get_data(as_text=True))


def test_a_receipt_sent_at_once_is_refused_saves_nothing_is_audited_then_books(
    app, client, manager, seeded, clock
):
    before = entry_count(app)
    key = served(client, RECEIPT)
    clock.shift(MINIMUM - 0.5)
    refused = client.post(RECEIPT, data={**RECEIPT_FIELDS, "key": key})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert REFUSED in page and 'name="amount"' in page  # the form again, with what was typed
    assert entry_count(app) == before
    [(actor, detail)] = refusals(app)
    assert actor == manager.id
    assert 1.5 <= detail.pop("seconds") <= 1.51  # served at a hundredth of a second
    assert detail == {"endpoint": "ledger.record_receipt", "minimum": MINIMUM, "forged": False}

    # The form shown again is served afresh: sent once a person could have read it, it books.
    again = minted_key(page)
    assert again != key
    clock.shift(MINIMUM)
    assert client.post(RECEIPT, data={**RECEIPT_FIELDS, "key": again}).status_code == 302
    assert entry_count(app) == before + 1
    assert len(refusals(app)) == 1


def test_after_the_minimum_a_double_click_and_a_resend_after_a_crash_book_once(
    app, client, manager, seeded, clock
):
    before = entry_count(app)
    key = served(client, RECEIPT)
    clock.shift(MINIMUM)
    first = client.post(RECEIPT, data={**RECEIPT_FIELDS, "key": key})
    second = client.post(RECEIPT, data={**RECEIPT_FIELDS, "key": key})  # the second click, at once
    assert (first.status_code, second.status_code) == (302, 302)
    assert entry_count(app) == before + 1

    # A page left open ten minutes (its first submission lost with a crashed server) still books,
    # once, and its resend ten minutes later still finds the first.
    late = served(client, RECEIPT)
    clock.shift(600)
    fields = {**RECEIPT_FIELDS, "bank_reference": "B-2", "key": late}
    assert client.post(RECEIPT, data=fields).status_code == 302
    clock.shift(600)
    resent = client.post(RECEIPT, data=fields, follow_redirects=True)
    assert "Already recorded" in resent.get_data(as_text=True)
    assert entry_count(app) == before + 2
    assert refusals(app) == []


def test_an_edited_borrowed_or_missing_key_is_refused(app, client, manager, make_user, seeded, clock):
    before = entry_count(app)
    key = served(client, RECEIPT)
    earlier = f"{int(key[:10], 16) - 360000:010x}" + key[10:]  # served an hour earlier, it says
    pledge_key = served(client, "/ledger/donors/1/pledge")  # another form's
    other = app.test_client()
    sign_in(app, other, make_user(Role.FUND_MANAGER, ""))
    others_key = served(other, RECEIPT)  # another fund manager's
    clock.shift(MINIMUM + 1)
    for forged in (earlier, pledge_key, others_key, uuid.uuid4().hex, None):
        fields = RECEIPT_FIELDS if forged is None else {**RECEIPT_FIELDS, "key": forged}
        response = client.post(RECEIPT, data=fields)
        assert response.status_code == 422, forged
        assert REFUSED in response.get_data(as_text=True)
    assert entry_count(app) == before
    events = refusals(app)
    assert [(actor, detail["forged"]) for actor, detail in events] == [(manager.id, True)] * 4 + [
        (manager.id, False)  # no key: the form minted one as it was sent, 0 seconds before
    ]
    # The genuine key, untouched, goes through.
    assert client.post(RECEIPT, data={**RECEIPT_FIELDS, "key": key}).status_code == 302
    assert entry_count(app) == before + 1


MONEY_PAGES = [
    "/ledger/donors/1/pledge",
    RECEIPT,
    "/ledger/withholdings/new",
    "/ledger/withholdings/1/transfer",
    "/ledger/projects/new",
    "/ledger/projects/1/disburse",
    "/ledger/projects/1/release",
    "/ledger/direct-support/new",
    "/ledger/envelopes/new",
    "/ledger/entries/1",
    "/ledger/rates",
    "/ledger/rates/import",
    "/ledger/import",
]


@pytest.mark.parametrize("path", MONEY_PAGES)
def test_every_money_form_refuses_a_submission_sent_at_once(app, client, manager, seeded, clock, path):
    page = path.removesuffix("/import") if path.endswith("rates/import") else path
    html = client.get(page).get_data(as_text=True)
    before = entry_count(app)
    key = minted_key(html[html.index(f'action="{path}"') :] if f'action="{path}"' in html else html)
    refused = client.post(path, data={"key": key})
    assert refused.status_code == 422
    assert REFUSED in refused.get_data(as_text=True)
    [(actor, detail)] = refusals(app)
    assert actor == manager.id and detail["endpoint"].startswith("ledger.") and detail["forged"] is False
    # The same empty form sent in human time is only invalid (200, shown again): the 422 was the time's.
    clock.shift(MINIMUM)
    assert client.post(path, data={"key": key}).status_code == 200
    assert entry_count(app) == before


def test_every_ledger_form_with_an_amount_or_a_rate_is_a_money_form():
    forms = [
        cls
        for _, cls in inspect.getmembers(ledger.forms, inspect.isclass)
        if issubclass(cls, FlaskForm) and cls.__module__ == "ledger.forms" and "Filter" not in cls.__name__
    ]
    with_amounts = {
        cls.__name__
        for cls in forms
        if any(getattr(field, "field_class", None) is DecimalField for field in vars(cls).values())
    }
    assert with_amounts <= {cls.__name__ for cls in forms if issubclass(cls, MoneyForm)}
    assert {"ReleaseForm", "ReversalForm", "RatesFileForm", "LedgerImportForm"} <= {
        cls.__name__ for cls in forms if issubclass(cls, MoneyForm)
    }


def test_wrong_role_and_missing_csrf_are_refused_as_before(app, database_url, make_user, seeded, clock):
    reader = app.test_client()
    sign_in(app, reader, make_user(Role.AUDITOR, ""))
    assert reader.post(RECEIPT, data=RECEIPT_FIELDS).status_code == 403
    guarded = make_app(database_url, VAT_MONEY_FORM_MIN_SECONDS=MINIMUM, WTF_CSRF_ENABLED=True)
    manager = guarded.test_client()
    sign_in(guarded, manager, make_user(Role.FUND_MANAGER, ""))
    key = minted_key(manager.get(RECEIPT).get_data(as_text=True))
    clock.shift(MINIMUM)
    assert manager.post(RECEIPT, data={**RECEIPT_FIELDS, "key": key}).status_code == 400  # no token
    assert manager.post(RECEIPT, data=RECEIPT_FIELDS).status_code == 400  # nor token nor key
    assert refusals(app) == []


def test_a_negative_minimum_refuses_to_start(database_url):
    with pytest.raises(ConfigurationError, match="VAT_MONEY_FORM_MIN_SECONDS"):
        make_app(database_url, VAT_MONEY_FORM_MIN_SECONDS=-1)
