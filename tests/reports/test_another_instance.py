"""A change made through one app instance shows in every figure on the very next request to
another instance on the same database (two workers, or two app servers sharing one PostgreSQL):
nothing is kept between requests, in any process."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledger.models import Donor
from tests.conftest import make_app, sign_in, signed_in_client
from tests.reports.test_same_figures import headline
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import assistance, identity, importer


def _number(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.]", "", text))


def _strong(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</(?:strong|td)>', page, re.S)
    assert found is not None, element_id
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def _assistance_total(page: str) -> str:
    footer = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S)
    assert footer is not None
    cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', footer.group(1), re.S)
    return re.sub(r"<[^>]+>", "", cells[-3]).strip()  # the grand total, before the two medians


def figures(senior, manager) -> dict[str, object]:
    """Every figure the two viewers are shown, read through the other instance."""
    dashboard = senior.get("/").get_data(as_text=True)
    victims_report = senior.get("/reports/victims").get_data(as_text=True)
    victims_list = senior.get("/vat/victims").get_data(as_text=True)
    listed = re.search(r"([\d,]+) victims?\.", victims_list)
    assert listed is not None
    return {
        "senior dashboard": headline(dashboard),
        "senior fund balance": _number(_strong(dashboard, "summary-fund-balance")),
        "senior overdue steps": int(_strong(dashboard, "summary-overdue")),
        "manager dashboard": headline(manager.get("/").get_data(as_text=True)),
        "reports landing": headline(manager.get("/reports/").get_data(as_text=True)),
        "victims report": (
            _strong(victims_report, "victims-total"),
            _strong(victims_report, "victims-not-supported"),
        ),
        "victims list": listed.group(1),
        "assistance": _assistance_total(senior.get("/reports/assistance").get_data(as_text=True)),
        "fund report": _number(
            _strong(manager.get("/reports/fund").get_data(as_text=True), "closing-balance")
        ),
    }


@pytest.fixture
def instances(app, database_url, make_user, world):
    """The test's app writes; a second app on the same database serves the senior advocate (CAF
    and COD) and the fund manager."""
    reader = make_app(database_url)
    senior, manager = make_user(Role.SENIOR_ADVOCATE, "CAF, COD"), make_user(Role.FUND_MANAGER, "")
    clients = []
    for user in (senior, manager):
        client = signed_in_client(reader, user)
        clients.append(client)
    return senior, manager, clients


def test_an_import_a_service_and_a_booking_show_at_once_on_another_instance(app, client, instances):
    senior, manager, (senior_client, manager_client) = instances
    before = figures(senior_client, manager_client)
    assert before["senior dashboard"] == ("9", "4", "44.4%")
    assert before["manager dashboard"] == before["reports landing"] == ("9", "suppressed", "")

    with app.test_request_context():  # 1. two victims imported, one with no consent at all; an allegation
        consented = (date.today() - timedelta(days=30)).isoformat()
        rows = (
            "case_code,country_code,mission,consents,consent_date\n"
            f"DRC-2016-0001,COD,MONUSCO,services,{consented}\n"
            "DRC-2016-0002,COD,MONUSCO,,\n"
        )
        actor = db.session.get(User, senior.id)
        report = importer.import_file(
            actor=actor, filename="v.csv", stream=io.BytesIO(rows.encode()), kind="victims"
        )
        assert report.ok, report.errors
        received = (date.today() - timedelta(days=400)).isoformat()
        allegation = f"reference,country_code,mission,received_on\n0001/24,COD,MONUSCO,{received}\n"
        report = importer.import_file(
            actor=actor, filename="a.csv", stream=io.BytesIO(allegation.encode()), kind="allegations"
        )
        assert report.ok, report.errors
        db.session.commit()
    imported = figures(senior_client, manager_client)
    assert imported["senior dashboard"] == imported["manager dashboard"] == ("11", "6", "54.5%")
    assert imported["victims report"] == ("11", "6") and imported["victims list"] == "11"
    assert imported["senior overdue steps"] > before["senior overdue steps"]  # nothing done in 400 days

    with app.test_request_context():  # 2. a service recorded for one of them
        actor = db.session.get(User, senior.id)
        victim = identity.find_by_case_code(actor, "DRC-2016-0001")
        assert victim is not None
        assistance.record_assistance(
            actor=actor,
            victim=victim,
            service_type="psychosocial",
            status="in_progress",
            referral_date=date.today() - timedelta(days=3),
            start_date=date.today() - timedelta(days=1),
        )
        db.session.commit()
    served = figures(senior_client, manager_client)
    assert served["senior dashboard"] == served["manager dashboard"] == ("11", "5", "45.5%")
    assert served["reports landing"] == served["manager dashboard"] and served["victims report"] == (
        "11",
        "5",
    )
    assert int(served["assistance"]) == int(imported["assistance"]) + 1

    with app.app_context():  # 3. a contribution booked through the first instance's form
        donor = db.session.scalar(select(Donor.id).where(Donor.name == "Donor B"))
    sign_in(app, client, manager)
    form = {
        "key": uuid.uuid4().hex,
        "pledge_id": "",
        "amount": "1234.56",
        "currency": "USD",
        "received_on": date.today().isoformat(),
        "bank_reference": "BR-9",
    }
    assert client.post(f"/ledger/donors/{donor}/receipt", data=form).status_code == 302
    booked = figures(senior_client, manager_client)
    assert booked["senior fund balance"] == served["senior fund balance"] + Decimal("1234.56")
    assert booked["fund report"] == served["fund report"] + Decimal("1234.56")
    assert booked["senior dashboard"] == served["senior dashboard"]
