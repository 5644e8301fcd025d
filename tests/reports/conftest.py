"""A small hand-made world with known answers, for every report test.

Victims (CAF unless noted):
  CAR-2020-0001 female minor, 2020: medical completed (referred 03-01, started 03-11), psychosocial
                referred; one contact 10 days ago, one 200 days ago          → supported
  CAR-2020-0002 female adult, 2020: legal declined                          → not supported
  CAR-2020-0003 female adult, 2020: nothing                                 → not supported
  CAR-2021-0004 male minor, 2021: direct support US$250 (and US$100 paid, then reversed) → supported
  CAR-2021-0005 female adult, 2021: listed by project P1, paid US$500 by it → supported
  CAR-2021-0006 female adult, 2021: listed by P1 and paid US$500 by it; education in progress,
                trust-fund project, US$120 not booked in the ledger        → supported
  CAR-2021-0007 female adult, 2021: shelter not available                   → not supported
  DRC-2021-0001 (COD) female adult, 2021: material completed               → supported
  DRC-2021-0002 (COD) female adult, 2021: nothing                          → not supported
All but CAR-2020-0003 and DRC-2021-0002 consented to aggregate reporting.

Ledger (USD): Norway pledges 5,000 (01-05) and pays 3,000 of it (01-20); Donor B gives 2,000
unpledged (02-01); NPL withheld 800 (02-10), 500 transferred (03-01); project P1 approved 1,500
(02-15), 1,000 disbursed (03-10), 500 of it to each of its two beneficiaries, with 13% programme
support cost (130); direct support 250 (03-15); 100 more (03-16) reversed (03-17).
The fund's payments to victims are recorded on the victims' side row by row too, and the support
summaries rebuilt from them at the end, as after an import run outside the app.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

import pytest

import vat
from ledger.models import DonorKind, Entry, ProjectFocus
from ledger.services import contributions, victim_support
from tests.ledger.conftest import Fund
from vat.allegations.models import (
    Allegation,
    EntityCategory,
    InvestigatingEntity,
    InvestigationStatus,
    Outcome,
)
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.suppression import SuppressedTable
from vat.victims import assistance, service_tally, support_summary
from vat.victims.models import Assistance, Communication, Consent, FundPayment, Victim

CAF, COD = {"country_code": "CAF", "mission": "MINUSCA"}, {"country_code": "COD", "mission": "MONUSCO"}
VICTIMS = [
    # case code, place, sex, age group, registered
    ("CAR-2020-0001", CAF, "female", "minor", date(2020, 3, 1)),
    ("CAR-2020-0002", CAF, "female", "adult", date(2020, 4, 1)),
    ("CAR-2020-0003", CAF, "female", "adult", date(2020, 5, 1)),
    ("CAR-2021-0004", CAF, "male", "minor", date(2021, 1, 10)),
    ("CAR-2021-0005", CAF, "female", "adult", date(2021, 1, 11)),
    ("CAR-2021-0006", CAF, "female", "adult", date(2021, 1, 12)),
    ("CAR-2021-0007", CAF, "female", "adult", date(2021, 1, 13)),
    ("DRC-2021-0001", COD, "female", "adult", date(2021, 2, 1)),
    ("DRC-2021-0002", COD, "female", "adult", date(2021, 2, 2)),
]
NOT_CONSENTING = {"CAR-2020-0003", "DRC-2021-0002"}
TRUST_FUND_COST = {"cost": Decimal("120.00"), "currency": "USD", "funding_source": "trust_fund_project"}
SERVICES = [
    # case code, type, status, referred, started, ended, cost
    ("CAR-2020-0001", "medical", "completed", date(2020, 3, 1), date(2020, 3, 11), date(2020, 4, 1), {}),
    ("CAR-2020-0001", "psychosocial", "referred", date(2020, 3, 5), None, None, {}),
    ("CAR-2020-0002", "legal", "declined", date(2020, 5, 1), None, None, {}),
    ("CAR-2021-0006", "education", "in_progress", date(2021, 2, 1), date(2021, 2, 20), None, TRUST_FUND_COST),
    ("CAR-2021-0007", "shelter", "not_available", date(2021, 2, 1), None, None, {}),
    ("DRC-2021-0001", "material", "completed", date(2021, 2, 3), date(2021, 2, 3), date(2021, 2, 3), {}),
]


def csv_rows(text: str) -> list[list[str]]:
    """A CSV export's rows, without the byte-order mark written for Excel."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def cells_of(table: SuppressedTable | None, *, nonzero: bool = False) -> dict[tuple[str, str], int | None]:
    """A report table's cells by (row, column), None where hidden; with `nonzero`, only the cells
    shown and not zero."""
    assert table is not None
    cells = {
        (row, column): value
        for row, values in zip(table.row_labels, table.cells, strict=True)
        for column, value in zip(table.column_labels, values, strict=True)
    }
    return {key: value for key, value in cells.items() if value} if nonzero else cells


def classified_at_random(rng: random.Random) -> dict[str, str | None]:
    """An allegation's outcome, and its entity category, investigating entity and investigation
    status, drawn by `rng`; each of the three may be left not recorded (None)."""

    def recorded_or_not(kind: type[Enum]) -> str | None:
        return rng.choice([*(member.value for member in kind), None])

    return {
        "entity_category": recorded_or_not(EntityCategory),
        "investigating_entity": recorded_or_not(InvestigatingEntity),
        "investigation_status": recorded_or_not(InvestigationStatus),
        "outcome": rng.choice([outcome.value for outcome in Outcome]),
    }


@dataclass(frozen=True)
class World:
    fund_manager_id: int
    today: date


def exported(client, fmt: str = "csv", *, deidentified: bool = False, **query):
    """The per-victim export as the report's button runs it: the start page's form posted (the job
    runs inside the POST in Huey's immediate mode), then the job's file; the file's response."""
    kind = "download-deidentified" if deidentified else "download"
    page = client.get(f"/reports/victims/{kind}.{fmt}", query_string=query).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)" id="start-export"', page)
    assert action, page
    started = client.post(action.group(1).replace("&amp;", "&"))
    assert started.status_code == 303, started.headers.get("Location")
    return client.get(started.headers["Location"] + "/file")


@pytest.fixture
def world(app, make_user) -> World:
    # The data set is inserted row by row, services included; the app's link that records a
    # direct-support payment as an assistance row is off while it is built (it is tested in ledger).
    victim_support.direct_support_paid.disconnect(vat._without_sender(assistance.record_trust_fund_support))
    try:
        return _build_world(app, make_user)
    finally:
        vat.connect_domains()


def add_victims(rows) -> dict[str, Victim]:
    """Victims made from rows of (case code, place, sex, age group, registered), added to the
    session; by case code."""
    victims = {}
    for code, place, sex, age, registered in rows:
        victims[code] = Victim(case_code=code, sex=sex, age_group=age, registered_on=registered, **place)
        db.session.add(victims[code])
    return victims


def _build_world(app, make_user) -> World:
    manager = make_user(Role.FUND_MANAGER, "")
    today = date.today()
    with app.app_context():
        actor = db.session.get(User, manager.id)
        victims = add_victims(VICTIMS)
        for code, victim in victims.items():
            if code not in NOT_CONSENTING:
                given_on = victim.registered_on
                victim.consents.append(
                    Consent(purpose="aggregate_reporting", given_on=given_on, method="written", version="1")
                )
        for code, service_type, status, referred, started, ended, cost in SERVICES:
            victims[code].services.append(
                Assistance(
                    service_type=service_type,
                    status=status,
                    referral_date=referred,
                    start_date=started,
                    end_date=ended,
                    **cost,
                )
            )
        for days_ago in (10, 200):
            db.session.add(
                Communication(
                    victim=victims["CAR-2020-0001"],
                    occurred_on=today - timedelta(days=days_ago),
                    channel="phone",
                    by_whom="advocate",
                    case_update_given=True,
                )
            )
        db.session.flush()

        usd = "USD"
        fund = Fund(actor)
        norway = fund.donor("NOR")
        other = contributions.create_donor(actor=actor, name="Donor B", kind=DonorKind.OTHER)
        pledge = fund.pledge(norway, "5000.00", date(2021, 1, 5))
        fund.receive(norway, "3000.00", date(2021, 1, 20), pledge=pledge, bank_reference="BR-1")
        fund.receive(other, "2000.00", date(2021, 2, 1), bank_reference="BR-2")
        # The ledger withholds only for a substantiated allegation against the same country.
        db.session.add(
            Allegation(
                reference="0399/15",
                **CAF,
                perpetrator_country="NPL",
                received_on=date(2015, 6, 1),
                outcome="substantiated",
                historical=True,
            )
        )
        withholding = fund.withhold("0399/15", "NPL", "800.00", date(2021, 2, 10))
        fund.transfer(withholding, "500.00", date(2021, 3, 1), reference="TR-1")
        terms = {"title": "P1", "focus": ProjectFocus.DIRECT_SUPPORT, "planned_start": date(2021, 3, 1)}
        beneficiaries = ["CAR-2021-0005", "CAR-2021-0006"]
        project = fund.project(
            "1500.00", date(2021, 2, 15), until=date(2021, 12, 31), case_codes=beneficiaries, **terms
        )
        paid_to = [(code, Decimal("500.00")) for code in beneficiaries]
        fund.disburse(project, "1000.00", date(2021, 3, 10), reference="T-1", victim_payments=paid_to)
        paid = fund.pay(
            "CAR-2021-0004", "250.00", date(2021, 3, 15), purpose="school fees", country_code="CAF"
        )
        mistaken = fund.pay(
            "CAR-2021-0004", "100.00", date(2021, 3, 16), purpose="duplicate", country_code="CAF"
        )
        fund.reverse(db.session.get_one(Entry, mistaken.entry_id), date(2021, 3, 17), "paid twice")
        for code, source, entry_id, usd_minor, reversed_ in (
            ("CAR-2021-0004", "direct", paid.entry_id, 25000, False),
            ("CAR-2021-0004", "direct", mistaken.entry_id, 10000, True),
        ):
            db.session.add(
                FundPayment(
                    victim_id=victims[code].id,
                    source=source,
                    ledger_entry_id=entry_id,
                    project_id=project.id if source == "project" else None,
                    currency=usd,
                    amount_minor=usd_minor,
                    usd_minor=usd_minor,
                    paid_on=date(2021, 3, 15),
                    reversed=reversed_,
                )
            )
        db.session.flush()
        support_summary.rebuild()
        service_tally.rebuild()
        db.session.commit()
    return World(manager.id, today)
