"""Account names are shown in the reader's language (issue 19, item 1): stored in English by the
migration, translated at display by their code."""

from __future__ import annotations

import pytest

from tests.ledger.pages import seed_cash_and_project
from vat.auth.models import Role


@pytest.mark.parametrize(
    ("language", "cash", "kind"),
    [("en", "Cash at bank", "asset"), ("fr", "Trésorerie en banque", "actif"), ("zh", "银行存款", "资产")],
)
def test_the_trial_balance_names_accounts_in_the_readers_language(app, client, login, language, cash, kind):
    login(Role.FUND_MANAGER, "")
    seed_cash_and_project(client)
    client.post("/language", data={"language": language})
    page = client.get("/ledger/trial-balance", headers={"Accept-Language": language}).get_data(as_text=True)
    assert f"1000 {cash}" in page and f"<td>{kind}</td>" in page
    journal = client.get("/ledger/journal").get_data(as_text=True)
    assert f"1000 {cash}" in journal
