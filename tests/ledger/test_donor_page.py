"""A donor's page and the receipt form at any number of pledges: the donor's figures, a page of
its pledges and receipts newest first, and a choice of the oldest pledges still open."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from flask_babel import refresh

from ledger.models import Donor, Entry, Pledge
from ledger.reports import donor_figures
from ledger.services import contributions
from ledger.views import contributions as contribution_pages
from tests.ledger.conftest import Fund, key
from vat.auth.models import Role
from vat.db import db


def pledge(fund: Fund, donor: Donor, amount: str, on: date, reference: str) -> Pledge:
    return contributions.record_pledge(
        actor=fund.maker,
        key=key(),
        donor=donor,
        currency="USD",
        amount=D(amount),
        pledged_on=on,
        reference=reference,
    )


def receive(fund: Fund, donor: Donor, amount: str, on: date, reference: str, against: Pledge | None) -> None:
    fund.receive(donor, amount, on, pledge=against, bank_reference=reference)


def withdraw(fund: Fund, withdrawn: Pledge) -> None:
    entry = db.session.get(Entry, withdrawn.entry_id)
    fund.reverse(entry, on=date.today(), reason="x")


@pytest.fixture
def norway(fund: Fund) -> Donor:
    """Four pledges: P-1 fully received, P-2 partly, P-3 withdrawn, P-4 untouched; three receipts."""
    donor = fund.donor("NOR")
    first = pledge(fund, donor, "100", date(2019, 1, 1), "P-1")
    second = pledge(fund, donor, "200", date(2019, 1, 2), "P-2")
    withdraw(fund, pledge(fund, donor, "300", date(2019, 1, 3), "P-3"))
    pledge(fund, donor, "400", date(2019, 1, 4), "P-4")
    receive(fund, donor, "100", date(2019, 2, 1), "B-1", first)
    receive(fund, donor, "50", date(2019, 2, 2), "B-2", second)
    receive(fund, donor, "25", date(2019, 2, 3), "B-3", None)
    fund.contribute("999", donor=fund.donor("SWE"))  # another donor's: never shown
    db.session.commit()
    return donor


def test_a_page_of_pledges_newest_first_with_what_is_received_and_outstanding(norway):
    first = donor_figures.donor_pledges(norway, page=1, per_page=3)
    assert (first.total, first.has_next) == (4, True)
    assert [
        (row["pledge"].reference, row["received"], row["outstanding"], row["reversed"]) for row in first.items
    ] == [("P-4", D(0), D(400), False), ("P-3", D(0), D(0), True), ("P-2", D(50), D(150), False)]
    second = donor_figures.donor_pledges(norway, page=2, per_page=3)
    assert [row["pledge"].reference for row in second.items] == ["P-1"] and not second.has_next
    assert (second.items[0]["received"], second.items[0]["outstanding"]) == (D(100), D(0))


def test_a_page_of_receipts_newest_first(norway):
    first = donor_figures.donor_receipts(norway, page=1, per_page=2)
    assert [(r.bank_reference, value, reversed_) for r, value, reversed_ in first.items] == [
        ("B-3", D(25), False),
        ("B-2", D(50), False),
    ]
    assert (first.total, first.pages) == (3, 2)
    second = donor_figures.donor_receipts(norway, page=2, per_page=2)
    assert [r.bank_reference for r, _, _ in second.items] == ["B-1"]


def test_open_pledges_are_the_oldest_with_something_outstanding(norway):
    assert [(p.reference, outstanding) for p, outstanding in donor_figures.open_pledges(norway, limit=5)] == [
        ("P-2", D(150)),
        ("P-4", D(400)),
    ]
    assert [p.reference for p, _ in donor_figures.open_pledges(norway, limit=1)] == ["P-2"]


def test_the_donor_page_shows_its_figures_and_a_page_of_each_list(norway, client, login, monkeypatch):
    monkeypatch.setattr(contribution_pages, "LIST_PAGE", 2)
    login(Role.FUND_MANAGER, "")

    first = client.get(f"/ledger/donors/{norway.id}").get_data(as_text=True)
    # Pledged 100 + 200 + 400 (P-3 withdrawn), received 175 with the unpledged 25, outstanding 550.
    assert "US$700.00" in first and "US$175.00" in first and "US$550.00" in first
    assert "US$999.00" not in first
    assert "P-4" in first and "P-3" in first and "P-2" not in first
    assert "B-3" in first and "B-2" in first and "B-1" not in first
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get(f"/ledger/donors/{norway.id}?page=2").get_data(as_text=True)
    assert "P-2" in second and "P-1" in second and "P-4" not in second
    assert "B-1" in second and "B-3" not in second and "US$700.00" in second
    third = client.get(f"/ledger/donors/{norway.id}?page=3").get_data(as_text=True)
    assert "No pledges on this page." in third and "No receipts on this page." in third


def test_a_donor_without_pledges_or_receipts(fund, client, login):
    donor = fund.donor("FIN")
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    page = client.get(f"/ledger/donors/{donor.id}").get_data(as_text=True)
    assert "No pledges." in page and "No receipts." in page and "Page 1 of" not in page


def test_the_receipt_form_offers_the_oldest_open_pledges_first_chosen(norway, client, login, monkeypatch):
    login(Role.FUND_MANAGER, "")
    path = f"/ledger/donors/{norway.id}/receipt"
    form = client.get(path).get_data(as_text=True)
    assert "USD 150.00 outstanding" in form and "USD 400.00 outstanding" in form
    assert form.count("outstanding</option>") == 2  # not P-1 (received) nor P-3 (withdrawn)
    [open_pledge] = [p for p, _ in donor_figures.open_pledges(norway, limit=1)]
    assert f'<option selected value="{open_pledge.id}">' in form
    assert "oldest pledges not yet fully received" not in form

    monkeypatch.setattr(contribution_pages, "OPEN_PLEDGES_OFFERED", 1)
    bounded = client.get(path).get_data(as_text=True)
    assert "USD 150.00 outstanding" in bounded and "USD 400.00 outstanding" not in bounded
    assert "Only the 1 oldest pledges not yet fully received are listed." in bounded
    refresh()  # the locale the earlier requests cached in the app context this fixture keeps
    french = client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "USD 150,00" in french and "150.00" not in french  # the reader's way (issue 19, item 3)


def test_a_member_state_donor_is_named_in_the_readers_language(fund, client, login):
    """Issue 19, item 1: the donor keeps its English name as its key; pages name it the reader's way."""
    donor = fund.donor("NOR")
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    french = {"Accept-Language": "fr"}
    listing = client.get("/ledger/donors", headers=french).get_data(as_text=True)
    page = client.get(f"/ledger/donors/{donor.id}", headers=french).get_data(as_text=True)
    assert "<bdi>Norvège</bdi>" in listing and "<bdi>Norvège</bdi>" in page
    assert "Norway" not in listing and "Norway" not in page
