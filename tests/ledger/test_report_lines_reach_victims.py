"""A partner's per-beneficiary lines reach the victims they name (issue 18, items 1 and 5): in the
import's transaction each line is recorded on its victim as support received, the victim counts
as supported and their summary holds the US cents reported; the victim page's timeline shows the
line; `flask figures verify` agrees, and names a line the victims' records lost."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from tests.conftest import signed_in_client
from tests.ledger.test_report_lines import csv, do_import, project, schedule  # noqa: F401  (fixture)
from vat.auth.models import Role
from vat.db import db
from vat.reports import fund_money
from vat.victims import support_summary
from vat.victims.models import SupportSummary, Victim
from vat.victims.partner_support import PartnerSupport

LINES = ("CAR-2017-0042,cash,300.00,2019-04-02", "CAR-2017-0042,Medical,0,", "CAR-2017-0043,shelter,150.5,")


def victim(code: str) -> Victim:
    return db.session.scalars(select(Victim).where(Victim.case_code == code)).one()


def summary(code: str) -> SupportSummary:
    return db.session.get_one(SupportSummary, victim(code).id, populate_existing=True)


def test_each_line_is_support_received_by_its_victim(fund, project):  # noqa: F811
    assert not summary("CAR-2017-0042").supported and not summary("CAR-2017-0043").supported
    report = schedule(fund, project)
    do_import(fund, report, csv(*LINES))
    recorded = db.session.scalars(select(PartnerSupport).order_by(PartnerSupport.id)).all()
    assert [(r.victim_id, r.support, r.amount_minor, r.usd_minor) for r in recorded] == [
        (victim("CAR-2017-0042").id, "cash", 30000, 30000),
        (victim("CAR-2017-0042").id, "medical", 0, 0),
        (victim("CAR-2017-0043").id, "shelter", 15050, 15050),
    ]
    assert {r.reported_on for r in recorded} == {date(2019, 8, 1)} and recorded[0].provided_on == date(
        2019, 4, 2
    )
    first, second = summary("CAR-2017-0042"), summary("CAR-2017-0043")
    assert (first.supported, first.reported_usd_minor, first.project_usd_minor) == (True, 30000, 0)
    assert (second.supported, second.reported_usd_minor) == (True, 15050)
    assert support_summary.differences() == [] and fund_money.differences() == []

    # The victims' records losing a line is a difference the check names.
    db.session.execute(delete(PartnerSupport).where(PartnerSupport.usd_minor == 15050))
    found = fund_money.differences()
    assert any("CAR-2017-0043 partner-reported support is US$150.50 in the ledger" in f for f in found)
    assert any("1 partner report lines are not recorded" in f for f in found)
    assert any("CAR-2017-0043 supported is True, should be False" in f for f in support_summary.differences())


def test_a_medical_line_of_no_money_is_support_too(fund, project):  # noqa: F811
    do_import(fund, schedule(fund, project), csv("CAR-2017-0043,medical,0,"))
    row = summary("CAR-2017-0043")
    assert (row.supported, row.reported_usd_minor) == (True, 0)
    assert fund_money.differences() == []


def test_a_refused_file_records_nothing_for_any_victim(fund, project):  # noqa: F811
    from ledger.services.beneficiary_lines import LinesRefused

    with pytest.raises(LinesRefused):
        do_import(fund, schedule(fund, project), csv(LINES[0], "COD-2018-0007,cash,10,"))
    db.session.rollback()
    assert db.session.scalars(select(PartnerSupport)).all() == []
    assert not summary("CAR-2017-0042").supported


def test_the_victim_page_shows_the_reported_support(app, fund, project, make_user):  # noqa: F811
    do_import(fund, schedule(fund, project), csv(*LINES))
    victim_id = victim("CAR-2017-0042").id
    db.session.commit()
    client = signed_in_client(app, make_user(Role.ADVOCATE, "CAF"))
    page = client.get(f"/vat/victims/{victim_id}").get_data(as_text=True)
    assert "An implementing partner reported cash support (project 1)" in page
    assert "An implementing partner reported medical support (project 1)" in page
    assert "$300.00" in page
    assert "No assistance received yet" not in page
