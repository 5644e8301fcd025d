"""Civilian personnel referred for disciplinary action (SG §66, A/72/751): of the substantiated
allegations of 2017 and before against civilians, those against 5 persons were referred to OHRM
and those against 2 to the UN Volunteers programme. Counted per person on the UN page, as the
report counts them; a referral is not a sanction.

The report does not say how the 5 spread over allegations: the rebuilt records choose (one
allegation of 2016 with two of its three alleged perpetrators referred); a referral dated after
the period is not counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.reports.conftest import cells_of
from tests.reports.test_un_followup import PERIOD, YEAR, Records, _report, pack_table
from vat.auth.models import Role, User
from vat.db import db

OHRM = "administrative_action/referred_to_ohrm"
UNV = "administrative_action/referred_to_unv"
OWN = "administrative_action/referred_to_entity"


@pytest.fixture
def rebuilt(app: Flask, make_user: Callable[..., Any]) -> Any:
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        records = Records(db.session.get_one(User, senior.id))
        staff = {"personnel_category": "civilian", "outcome": "substantiated"}
        for _ in range(3):  # 3 staff members, one per allegation
            allegation = records.allegation(YEAR, perpetrators=1, **staff)
            records.step(allegation, "administrative_action", "referred_to_ohrm", date(YEAR, 8, 1))
        # Two of the three staff members of an allegation of 2016; the third is not referred.
        three = records.allegation(2016, perpetrators=3, **staff)
        records.step(three, "administrative_action", "referred_to_ohrm", date(YEAR, 9, 1), "1, 2")
        volunteers = {**staff, "personnel_category": "un_volunteer"}
        for _ in range(2):
            allegation = records.allegation(YEAR, perpetrators=1, **volunteers)
            records.step(allegation, "administrative_action", "referred_to_unv", date(YEAR, 10, 1))
        # An agency's staff member, referred to the agency's own process; and one of 2018.
        agency = records.allegation(YEAR, perpetrators=1, entity_category="agency", **staff)
        records.step(agency, "administrative_action", "referred_to_entity", date(YEAR, 11, 1))
        later = records.allegation(YEAR, perpetrators=1, **staff)
        records.step(later, "administrative_action", "referred_to_ohrm", date(YEAR + 1, 1, 15))
        db.session.commit()
        return senior


def test_referrals_counted_per_person_as_paragraph_66_gives_them(app: Flask, rebuilt: Any) -> None:
    report = _report(app, rebuilt.id)
    persons = cells_of(report.persons)
    assert (persons[(OHRM, "civilian")], persons[(UNV, "civilian")]) == (5, 2)
    assert persons[(OWN, "civilian")] == 1 and persons[(OHRM, "military")] == 0
    # Referred, not yet sanctioned: none of the 2017 allegations counts as sanctioned.
    measures = {m.key: (m.value, m.base) for m in report.measures}
    assert measures["sanctioned"] == (Decimal("0.0"), 7)


def test_the_form_offers_it_and_the_page_export_and_pack_carry_it(
    app: Flask, client: FlaskClient, login: Any, rebuilt: Any
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    with app.app_context():
        records = Records(db.session.get_one(User, rebuilt.id))
        records.numbers = count(100)  # after the fixture's
        allegation = records.allegation(YEAR, personnel_category="civilian", outcome="substantiated")
        db.session.commit()
        base = f"/vat/allegations/{allegation.id}"
    form = client.get(f"{base}/cycle/new?step=administrative_action").get_data(as_text=True)
    assert "referred to the UN Volunteers programme for disciplinary action" in form
    done = client.post(
        f"{base}/cycle/new",
        data={"step": "administrative_action", "measure": "referred_to_ohrm", "dated_on": "2017-12-01"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Step recorded." in done and "referred to OHRM for disciplinary action" in done
    page = client.get(f"/reports/un-report?{PERIOD}").get_data(as_text=True)
    assert "referred to OHRM for disciplinary action" in page
    french = client.get(f"/reports/un-report?{PERIOD}", headers={"Accept-Language": "fr"})
    assert "renvoyé au BGRH pour mesures disciplinaires" in french.get_data(as_text=True)
    csv = client.get(f"/reports/un-report/export.csv?{PERIOD}").get_data(as_text=True)
    assert "referred to the UN Volunteers programme for disciplinary action" in csv
    persons = pack_table(client, "Alleged perpetrators by action")
    ohrm = next(row for row in persons["rows"] if "OHRM" in row[0])
    assert ohrm[persons["header"].index("civilian personnel")] == 6  # the 5 and the form's
