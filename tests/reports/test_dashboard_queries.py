"""The dashboard reads the kept summaries (issue 14, item 1): the same, small number of SQL
statements whatever the amount of data, and none over the rows the summaries are kept from."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask

from ledger.models import ProjectFocus
from tests.ledger.conftest import Fund
from tests.statements import counting
from tests.vat.conftest import assist
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity
from vat.victims.consents import record_consent

BOUND = 40  # statements for the whole request: session, user, the figures
SOURCE_TABLES = ("vat_assistance", "vat_fund_payment", "ledger_project_payment", "ledger_project_beneficiary")


def dashboard_statements(app: Flask, client: Any) -> list[str]:
    with counting(app) as sent:
        page = client.get("/")
    assert page.status_code == 200 and 'id="summary-fund-balance"' in page.get_data(as_text=True)
    return list(sent)


def more_of_everything(app: Flask, manager_id: int, advocate_id: int) -> None:
    """Thirty victims, their services, direct support, a project whose tranche pays three."""
    on = date.today() - timedelta(days=3)
    with app.test_request_context():
        advocate = db.session.get_one(User, advocate_id)
        manager = db.session.get_one(User, manager_id)
        codes = []
        for n in range(30):
            victim = identity.register_victim(actor=advocate, country_code="CAF", mission="MINUSCA")
            record_consent(
                actor=advocate, victim=victim, purpose="services", given_on=on, method="written", version="1"
            )
            assist(advocate, victim, "completed" if n % 2 else "referred", on)
            codes.append(victim.case_code)
        fund = Fund(manager)
        fund.contribute("50000", on)
        for code in codes[:5]:
            fund.pay(code, "100.00", on, purpose="rent")
        project = fund.project(
            "9000",
            on,
            until=on + timedelta(days=300),
            focus=ProjectFocus.DIRECT_SUPPORT,
            case_codes=codes[5:10],
        )
        fund.disburse(project, "3000", on, victim_payments=[(c, Decimal("500")) for c in codes[5:8]])
        db.session.commit()


def test_the_dashboard_sends_the_same_few_statements_whatever_the_data(
    app: Flask, client: Any, login: Any, make_user: Any, world: Any
) -> None:
    manager = login(Role.FUND_MANAGER, "")
    advocate = make_user(Role.SENIOR_ADVOCATE, "CAF")
    client.get("/")  # the first request of a session loads what every request then has
    before = dashboard_statements(app, client)
    more_of_everything(app, manager.id, advocate.id)
    after = dashboard_statements(app, client)
    assert len(after) == len(before) <= BOUND
    read = [sql for sql in after if any(table in sql for table in SOURCE_TABLES)]
    assert read == []
