"""The Secretary-General's figures on earlier years' allegations and on persons sanctioned (SG
§65–66, A/72/751), from records rebuilt to match what the report publishes for 2017:

- §65: results received in 2017 on earlier allegations: 2016, 14 substantiated and 19 not; 2015,
  4 and 3. 18 contributing countries had not sent results for 58 allegations of 2016 and before
  (2016: 39, 2015: 15, 2014: 1, 2013: 3; by country, note 13); every investigation of the United
  Nations into those years was completed;
- §66: administrative action against 25 military and 2 police personnel (repatriation and ban);
  a credible allegation against 1 civilian referred to a member state for criminal
  accountability; member states reported action in 2017 on 21 substantiated allegations (2010: 2,
  2011: 1, 2012: 2, 2013: 2, 2014: 1, 2015: 5, 2016: 6, 2017: 2); 17 member states had taken no
  action on 27 substantiated allegations of 2010 to 2015 (by country, note 14).

The report does not say how the 58 and the 27 spread over countries and years at once, nor how
many alleged perpetrators each sanctioned allegation had: the rebuilt records choose, and the
tests check the margins the report publishes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.reports.conftest import cells_of
from vat.allegations import accountability, month_counts
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import Period, VictimFilters
from vat.reports.suppression import SuppressedTable
from vat.reports.un_report import un_report

YEAR = 2017
NOTE_13 = {"COD": 22, "COG": 8, "CMR": 4, "BDI": 3, "GAB": 3, "RWA": 3, "TCD": 2, "NER": 2, "URY": 2}
NOTE_13 |= dict.fromkeys(("BEN", "BFA", "CAN", "GHA", "MWI", "NGA", "PAK", "SEN", "ZAF"), 1)
MISSING_YEARS = {2016: 39, 2015: 15, 2014: 1, 2013: 3}
NOTE_14 = {"NER": 4, "TCD": 3, "ZAF": 3, "COG": 2, "NGA": 2, "SEN": 2}
NOTE_14 |= dict.fromkeys(("BGD", "CMR", "CAN", "COD", "GIN", "GNB", "MDG", "MLI", "MRT", "TGO", "TZA"), 1)
ACTIONS_REPORTED = {2010: 2, 2011: 1, 2012: 2, 2013: 2, 2014: 1, 2015: 5, 2016: 6, 2017: 2}
RESULTS_RECEIVED = {2016: (14, 19), 2015: (4, 3)}
PERIOD = "period=year&year=2017"


def _years(spread: dict[int, int]) -> list[int]:
    return [year for year, n in spread.items() for _ in range(n)]


class Records:
    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.numbers = count(1)

    def allegation(self, year: int, **values: Any) -> Allegation:
        defaults = {"personnel_category": "military_contingent", "perpetrator_country": "PAK"}
        row = Allegation(
            reference=f"SG-{next(self.numbers):03d}",
            country_code="CAF",
            mission="MINUSCA",
            received_on=date(year, 3, 1),
            **{**defaults, **values},
        )
        db.session.add(row)
        db.session.flush()
        month_counts.count_added([row.id])  # added as a row, not through the services
        return row

    def step(self, allegation: Allegation, step: str, measure: str, on: date, persons: str = "") -> None:
        accountability.record_step(
            actor=self.actor, allegation=allegation, step=step, measure=measure, dated_on=on, persons=persons
        )


@pytest.fixture
def rebuilt(app: Flask, make_user: Callable[..., Any]) -> Any:
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        records = Records(db.session.get_one(User, senior.id))
        for year, (substantiated, not_substantiated) in RESULTS_RECEIVED.items():
            for outcome in ["substantiated"] * substantiated + ["unsubstantiated"] * not_substantiated:
                records.allegation(year, outcome=outcome, investigation_completed_on=date(YEAR, 6, 1))
        countries = [c for c, n in NOTE_13.items() for _ in range(n)]
        for country, year in zip(countries, _years(MISSING_YEARS), strict=True):
            records.allegation(
                year,
                perpetrator_country=country,
                investigating_entity="national_investigation_officer",
                investigation_status="ongoing",
            )
        # Results that came after the period's end were still missing at its end; those of the
        # United Nations all came in, as did a contributing country's result sent in 2016.
        records.allegation(
            2016,
            perpetrator_country="COD",
            investigating_entity="national_investigation_officer",
            outcome="unsubstantiated",
            investigation_completed_on=date(YEAR + 1, 1, 20),
        )
        records.allegation(
            2016,
            investigating_entity="oios",
            outcome="substantiated",
            investigation_completed_on=date(2016, 11, 1),
        )
        records.allegation(
            2016,
            investigating_entity="national_investigation_officer",
            outcome="unsubstantiated",
            investigation_completed_on=date(2016, 12, 1),
        )
        for year in _years(ACTIONS_REPORTED):
            allegation = records.allegation(year, outcome="substantiated")
            records.step(allegation, "member_state_referral", "referred", date(year, 9, 1))
            records.step(allegation, "member_state_outcome", "imprisonment", date(YEAR, 10, 1))
        awaited = [c for c, n in NOTE_14.items() for _ in range(n)]
        for number, country in enumerate(awaited):
            allegation = records.allegation(
                2010 + number % 6, perpetrator_country=country, outcome="substantiated"
            )
            records.step(allegation, "member_state_referral", "referred", date(2016, 1, 10))
            if number % 4 == 0:  # told the proceedings are under way: still no action
                records.step(allegation, "member_state_outcome", "ongoing", date(2016, 6, 1))
        # §66: 25 military personnel over 10 allegations (5 with 3 repatriated, 5 with 2 of 3), and
        # 2 police personnel; a civilian referred for criminal accountability.
        for number in range(10):
            allegation = records.allegation(YEAR, perpetrators=3, outcome="substantiated")
            persons = "" if number < 5 else "1, 3"
            records.step(
                allegation, "administrative_action", "repatriation_and_ban", date(YEAR, 11, 1), persons
            )
        for _ in range(2):
            allegation = records.allegation(
                YEAR, personnel_category="formed_police", perpetrators=1, outcome="substantiated"
            )
            records.step(allegation, "administrative_action", "repatriation_and_ban", date(YEAR, 11, 1))
        civilian = records.allegation(
            YEAR, personnel_category="civilian", perpetrators=1, outcome="substantiated"
        )
        records.step(civilian, "criminal_referral", "referred", date(YEAR, 12, 1))
        # An action of 2018 is not the period's (but sanctions the allegation all the same).
        later = records.allegation(YEAR, perpetrators=2, outcome="substantiated")
        records.step(later, "administrative_action", "repatriation_and_ban", date(YEAR + 1, 2, 1), "2")
        db.session.commit()
        return senior


def _row_totals(table: SuppressedTable | None) -> dict[str, int | None]:
    assert table is not None
    return dict(zip(table.row_labels, table.row_totals, strict=True))


def _column_totals(table: SuppressedTable | None) -> dict[str, int | None]:
    assert table is not None
    return dict(zip(table.column_labels, table.column_totals, strict=True))


def pack_table(client: FlaskClient, title: str) -> dict[str, Any]:
    """The figures pack's table whose title starts with `title`."""
    pack = client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}").data
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        tables = json.loads(archive.read("figures.json"))["tables"]
    return next(t for t in tables if t["title"].startswith(title))


def _report(app: Flask, user_id: int) -> Any:
    with app.test_request_context():
        return un_report(db.session.get_one(User, user_id), VictimFilters(), Period.of_year(YEAR))


def test_results_by_year_of_allegation_as_paragraph_65_gives_them(app: Flask, rebuilt: Any) -> None:
    earlier = _report(app, rebuilt.id).earlier
    received = cells_of(earlier.results_received)
    assert {
        y: (received[(str(y), "substantiated")], received[(str(y), "unsubstantiated")])
        for y in RESULTS_RECEIVED
    } == RESULTS_RECEIVED
    missing = earlier.results_missing
    by_year = _column_totals(missing)
    # The 58 of note 13, and the result sent after the period's end.
    assert by_year == {"2013": 3, "2014": 1, "2015": 15, "2016": 40}
    by_country = _row_totals(missing)
    assert by_country == {**NOTE_13, "COD": 23, "united_nations": 0, "other_investigators": 0}
    assert len([c for c, n in by_country.items() if n and c in NOTE_13]) == 18


def test_member_states_actions_as_paragraph_66_gives_them(app: Flask, rebuilt: Any) -> None:
    earlier = _report(app, rebuilt.id).earlier
    reported = cells_of(earlier.actions_reported)
    assert {int(y): n for (y, _), n in reported.items()} == ACTIONS_REPORTED
    assert earlier.actions_reported.grand_total == 21
    awaited = earlier.actions_awaited
    assert _row_totals(awaited) == NOTE_14 and awaited.grand_total == 27
    assert set(awaited.column_labels) == {str(y) for y in range(2010, 2016)}


def test_sanctions_counted_per_person_as_the_un_counts_them(app: Flask, rebuilt: Any) -> None:
    report = _report(app, rebuilt.id)
    persons = cells_of(report.persons)
    repatriated = "administrative_action/repatriation_and_ban"
    assert (persons[(repatriated, "military")], persons[(repatriated, "police")]) == (25, 2)
    assert persons[("criminal_referral/referred", "civilian")] == 1
    # The 2017 allegations substantiated: 10 military, 2 police, 1 civilian, the one sanctioned in
    # 2018 and 2 on which a member state reported imprisonment; the civilian's criminal referral
    # is not a sanction.
    measures = {m.key: (m.value, m.base) for m in report.measures}
    assert measures["sanctioned"] == (Decimal("93.8"), 16)  # 15 of 16
    # Persons: 30 military, 2 police, 1 civilian, 2 and 2; sanctioned: 15 + 10 + 2, 1 and 2.
    assert measures["sanctioned_persons"] == (Decimal("81.1"), 37)  # 30 of 37


def test_the_page_the_export_and_the_pack_carry_them(client: FlaskClient, login: Any, rebuilt: Any) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    page = client.get(f"/reports/un-report?{PERIOD}").get_data(as_text=True)
    assert "Alleged perpetrators by action taken in the period" in page
    assert "Congo, The Democratic Republic of the" in page and "year of allegation" in page
    french = client.get(f"/reports/un-report?{PERIOD}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    assert "Auteurs présumés par mesure prise pendant la période" in french
    # The member states' rows named in the reader's language, not pycountry's English.
    assert "République démocratique du Congo" in french and "Congo, The Democratic" not in french
    chinese = client.get(f"/reports/un-report?{PERIOD}", headers={"Accept-Language": "zh"})
    assert "刚果民主共和国" in chinese.get_data(as_text=True)
    csv = client.get(f"/reports/un-report/export.csv?{PERIOD}").get_data(as_text=True)
    assert "Investigation results received in the period" in csv
    awaited = pack_table(client, "Earlier years' substantiated")
    assert awaited["rows"][-1][0] == "total" and awaited["rows"][-1][-1] == 27


def test_an_advocate_of_another_country_sees_none_of_them(
    client: FlaskClient, login: Any, rebuilt: Any
) -> None:
    login(Role.ADVOCATE, "COD")
    page = client.get(f"/reports/un-report?{PERIOD}").get_data(as_text=True)
    assert "Congo, The Democratic" not in page and ">25<" not in page
    pack = client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}").data
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        tables = json.loads(archive.read("figures.json"))["tables"]
    counts = [cell for table in tables for row in table["rows"] for cell in row[1:] if isinstance(cell, int)]
    assert counts and not any(counts)


def test_an_auditor_gets_them_suppressed_and_for_a_year_only(
    app: Flask, make_user: Any, rebuilt: Any
) -> None:
    auditor = make_user(Role.AUDITOR, "")
    with app.test_request_context():
        user = db.session.get_one(User, auditor.id)
        year = un_report(user, VictimFilters(), Period.of_year(YEAR))
        quarter = un_report(user, VictimFilters(), Period.of_quarter(YEAR, 1))
    assert not quarter.refused and quarter.persons is not None
    assert quarter.earlier is None and "results_missing" not in quarter.tables
    missing = _row_totals(year.earlier.results_missing)
    assert missing["COD"] == 23 and missing["PAK"] is None  # 1 of 5: hidden
    assert year.earlier.results_missing.threshold == 5
