"""The services' refusals reach the user in the user's language (they are lazy strings, translated
when shown), placeholders and nested labels included; without a request they stay English."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from ledger.services import months
from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.claims.models import ClaimStep
from vat.claims.pipeline import illegal_move
from vat.db import db
from vat.errors import DomainError

DONOR_NAME_REFUSAL = {
    "en": "Give the donor's name.",
    "fr": "Indiquez le nom du donateur.",
    "zh": "请填写捐助方名称。",
}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("language", sorted(DONOR_NAME_REFUSAL))
def test_a_ledger_refusal_is_shown_in_the_readers_language(client, login, language):
    login(Role.FUND_MANAGER, "")
    response = client.post(
        "/ledger/donors/new",
        data={"kind": "other", "name": "  "},
        headers={"Accept-Language": language},
    )
    assert response.status_code == 422  # the form again, with the refusal
    page = _text(response)
    assert DONOR_NAME_REFUSAL[language] in page
    if language != "en":
        assert DONOR_NAME_REFUSAL["en"] not in page


def test_a_case_refusal_with_a_translated_value_is_flashed_in_french(app, client, login):
    advocate = login(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, advocate.id)
        victim_id = register(actor, consents=[], sex="female", name="Test Person").id
        db.session.commit()
    client.post("/language", data={"language": "fr"})
    response = client.post(
        f"/vat/victims/{victim_id}/status", data={"status": "active"}, follow_redirects=True
    )
    flashed = re.findall(r'<p class="flash flash-error" role="status">(.*?)</p>', _text(response))
    assert flashed == ["Le dossier est déjà au statut «\u00a0actif\u00a0»."]  # and no identity in it


def test_a_refusal_raised_outside_a_request_is_english_and_translates_when_shown(app, make_user):
    manager = make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        actor = db.session.get(User, manager.id)
        with pytest.raises(DomainError) as refused:
            months.set_rate(
                actor=actor, currency="USD", month=date(2026, 1, 1), rate=Decimal("1"), source="UN"
            )
        assert str(refused.value) == "The US dollar is the fund's currency: its rate is always 1."
        with app.test_request_context(), force_locale("zh"):
            assert str(refused.value) == "美元是基金的记账货币：其汇率始终为 1。"


def test_a_message_built_from_other_messages_is_translated_whole(app):
    claim = SimpleNamespace(current_step=ClaimStep.CLOSED)  # from closed, only reopening is allowed
    refusal = illegal_move(claim, ClaimStep.PAYING)
    with app.test_request_context(), force_locale("fr"):
        closed, paying = str(ClaimStep.CLOSED.label), str(ClaimStep.PAYING.label)
        assert str(refusal) == (
            f"Une demande à l'étape «\u00a0{closed}\u00a0» ne peut pas passer à «\u00a0{paying}\u00a0». "
            "Étapes suivantes possibles\u00a0: aucune (rouvrez-la d'abord)."
        )


ENGINE_REFUSALS = {
    "en": "Not enough cash: the fund holds US$0.00.",
    "fr": "Trésorerie insuffisante : le fonds détient 0,00 dollars des États-Unis.",
    "zh": "现金不足：基金持有 0.00 美元。",
}


@pytest.mark.parametrize("language", sorted(ENGINE_REFUSALS))
def test_the_posting_engines_refusals_are_translated_too(app, language):
    """Issue 19, item 1: the engine's own refusals (not only the services') in fr and zh."""
    from ledger import refusals

    with app.test_request_context(headers={"Accept-Language": language}), force_locale(language):
        assert str(refusals.not_enough_cash(Decimal("0"))) == ENGINE_REFUSALS[language]
        month = {"en": "January 2019", "fr": "janvier 2019", "zh": "2019年1月"}[language]
        assert str(refusals.closed_month(date(2019, 1, 5))).startswith(month)
