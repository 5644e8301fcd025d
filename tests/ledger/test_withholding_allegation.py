"""A withholding is driven by its allegation (issue 17, item 4): the ledger refuses one for an
unknown or unsubstantiated allegation, or from a country other than the one whose personnel the
allegation concerns; the allegation's page shows what was withheld, transferred, outstanding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.models import Withholding
from ledger.services import withholdings
from tests.conftest import row_count
from tests.ledger.conftest import key
from tests.ledger.pages import withhold
from vat.allegations.models import Allegation
from vat.auth.models import Role
from vat.db import db
from vat.errors import DomainError

pytestmark = pytest.mark.linked_domains


def _allegation(reference: str, outcome: str, contributor: str) -> None:
    db.session.add(
        Allegation(
            reference=reference,
            country_code="CAF",
            mission="MINUSCA",
            personnel_category="military_contingent",
            perpetrator_country=contributor,
            received_on=date(2018, 1, 10),
            outcome=outcome,
            historical=True,
        )
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("reference", "country", "refusal"),
    [
        ("NO-SUCH-ALLEGATION", "ZAF", "No allegation has the reference NO-SUCH-ALLEGATION."),
        ("0002/18", "ZAF", "Allegation 0002/18 is not substantiated"),
        ("0001/18", "ATA", "Allegation 0001/18 concerns personnel of ZAF"),
        ("0001/18", "NPL", "Allegation 0001/18 concerns personnel of ZAF"),
    ],
)
def test_the_ledger_refuses_a_withholding_its_allegation_does_not_support(fund, reference, country, refusal):
    _allegation("0001/18", "substantiated", "ZAF")
    _allegation("0002/18", "pending", "ZAF")
    with pytest.raises(DomainError, match=refusal):
        fund.withhold(reference, country, "1000", date(2019, 2, 1))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Withholding.id))) == 0


def test_a_substantiated_allegation_against_that_country_is_withheld_for(fund):
    _allegation("0001/18", "substantiated", "ZAF")
    withholding = fund.withhold("0001/18", "ZAF", "1000", date(2019, 2, 1))
    assert withholding.amount_minor == 100000


def test_the_form_shows_the_refusal_and_books_nothing(app, client, login):
    login(Role.FUND_MANAGER, "")
    with app.app_context():
        _allegation("0002/18", "pending", "ZAF")
    response = withhold(client, "0002/18")
    assert response.status_code == 422
    assert "Allegation 0002/18 is not substantiated" in response.get_data(as_text=True)
    assert row_count(app, Withholding) == 0


def test_the_allegation_page_shows_withheld_transferred_outstanding(app, client, login, fund):
    _allegation("0001/18", "substantiated", "ZAF")
    fund.contribute("1000")
    withholding = fund.withhold("0001/18", "ZAF", "20000", date(2019, 2, 1))
    fund.transfer(withholding, "15000", date(2019, 4, 1))
    db.session.commit()
    allegation_id = db.session.scalar(select(Allegation.id).where(Allegation.reference == "0001/18"))
    db.session.rollback()  # the request below writes (its session, the audit): no lock held here
    login(Role.SENIOR_ADVOCATE, "CAF")
    page = client.get(f"/vat/allegations/{allegation_id}").get_data(as_text=True)
    assert "Payments withheld" in page
    for figure in ("20,000.00", "15,000.00", "5,000.00"):
        assert figure in page


def test_fund_managers_see_the_withholdings_to_record(app, client, login, fund):
    _allegation("0001/18", "substantiated", "ZAF")
    _allegation("0003/18", "substantiated", "NPL")
    _allegation("0002/18", "pending", "ZAF")
    fund.withhold("0001/18", "ZAF", "1000", date(2019, 2, 1))
    db.session.commit()
    db.session.rollback()
    login(Role.FUND_MANAGER, "")
    page = client.get("/reports/withholdings-to-record").get_data(as_text=True)
    assert "0003/18" in page and "NPL" in page
    assert "0001/18" not in page  # withheld already
    assert "0002/18" not in page  # not substantiated
    assert "/ledger/withholdings/new?allegation=0003/18" in page


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.AUDITOR, Role.ADMIN])
def test_roles_that_do_not_book_cannot_see_the_proposals(client, login, role):
    login(role, "CAF")
    assert client.get("/reports/withholdings-to-record").status_code == 403


def test_the_holding_mission_is_recorded_and_reconciled_per_mission(app, client, login, fund):
    """OIOS §115: which mission holds the money is recorded (the allegation's, unless another is
    given) and the reconciliation shows what each mission holds."""
    from ledger.reports import withheld

    _allegation("0001/18", "substantiated", "ZAF")  # MINUSCA
    _allegation("0003/18", "substantiated", "ZAF")
    fund.contribute("1000")
    first = fund.withhold("0001/18", "ZAF", "20000", date(2019, 2, 1))
    second = withholdings.record_withholding(
        actor=fund.maker,
        key=key(),
        allegation_ref="0003/18",
        country_code="ZAF",
        amount=Decimal("5000"),
        decided_on=date(2019, 2, 2),
        mission="monusco",
    )
    fund.transfer(first, "15000", date(2019, 4, 1))
    db.session.commit()
    assert (first.mission, second.mission) == ("MINUSCA", "MONUSCO")
    figures = withheld.by_mission()
    assert figures[("MINUSCA", "USD")]["outstanding"] == Decimal("5000")
    assert figures[("MONUSCO", "USD")]["outstanding"] == Decimal("5000")
    db.session.rollback()
    login(Role.FUND_MANAGER, "")
    page = client.get("/ledger/withholdings").get_data(as_text=True)
    assert 'id="by-mission"' in page and "MINUSCA" in page and "MONUSCO" in page
