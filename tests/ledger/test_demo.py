"""The demo history: the scale of DOMAIN.md, booked through the services, and it verifies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.models import Donor, Project
from ledger.reports import statements, subledgers, withheld
from ledger.services import contributions, grants
from ledger.verify import verify
from seeding.demo import seed_demo
from seeding.demo_ledger import PLEDGES, seed_ledger_demo
from vat.auth.models import User
from vat.db import db
from vat.inputs import today


@pytest.mark.linked_domains
def test_demo_history_is_at_the_scale_of_the_fund_and_verifies(ctx):
    assert seed_demo() is not None  # users, then the ledger's history
    db.session.commit()
    assert seed_ledger_demo() is False  # once only
    assert verify().problem is None
    statement = statements.fund_statement()
    withheld_total = sum(value for _, value in statement.withheld_income)
    assert withheld_total == Decimal("600000")
    assert Decimal("2400000") < statement.total_income < Decimal("2700000")
    assert db.session.scalar(select(func.count(Donor.id))) == len(PLEDGES) == 20
    projects = db.session.scalars(select(Project)).all()
    assert len(projects) == 12 and {p.country_code for p in projects} == {"COD", "CAF", "LBR"}
    assert sorted(p.status for p in projects).count("completed") == 3
    assert grants.fund_position()["available"] > 0
    assert withheld.reconciliation().ties
    assert not any(c["difference"] for c in subledgers.subledger_checks())
    # Issue 19, item 7: the rates reach this month, so a booking in euros today works.
    germany = db.session.scalars(select(Donor).where(Donor.country_code == "DEU")).one()
    maker = db.session.scalars(select(User).where(User.username == "omar.fund")).one()
    receipt = contributions.record_receipt(
        actor=maker,
        key="today-in-euros",
        donor=germany,
        amount=Decimal("1000"),
        currency="EUR",
        received_on=today(),
        bank_reference="BNK-TODAY",
    )
    assert receipt.entry_id is not None
