"""Allegations by entity category, sub-type, investigating entity and investigation status (issue
17, item 1), on records rebuilt from the Secretary-General's 2017 figures (A/72/751, §62, §67–68):

- peacekeeping operations and special political missions: 62 allegations, 42 of sexual
  exploitation and 20 of sexual abuse (§62);
- agencies, funds and programmes: 75 allegations of other UN entities, 25 of them implementing
  partners (§67), so 50 and 25; their types are not given by the report, so recorded as unknown;
- non-UN forces: 1 allegation (§68), its type unknown.
Sub-types (peacekeeping only, made up to known counts): exploitation 30 transactional sex, 8
exploitative relationships, 4 not recorded; abuse 12 rape, 5 sexual activity with a minor, 3
sexual assault. Investigating entity: 41 national investigation officers, 11 OIOS, 10 missions
(peacekeeping), 75 agencies, 1 not recorded. Status: 61 referred and investigated — 20 completed
(§65: 14 substantiated, 6 unsubstantiated), 41 ongoing —, 1 under review (§65); the others not
recorded. Twelve older allegations (2016) have no entity category: "not recorded" in the whole.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.reports.conftest import csv_rows
from vat.allegations import month_counts
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import Period, VictimFilters
from vat.reports.statistics import statistics

YEAR = Period.of_year(2017)


def _peacekeeping() -> list[dict]:
    subs = (
        [("exploitation", "transactional_sex")] * 30
        + [("exploitation", "exploitative_relationship")] * 8
        + [("exploitation", None)] * 4
        + [("abuse", "rape")] * 12
        + [("abuse", "sexual_activity_with_minor")] * 5
        + [("abuse", "sexual_assault")] * 3
    )
    investigators = ["national_investigation_officer"] * 41 + ["oios"] * 11 + ["mission"] * 10
    statuses = (
        [("completed", "substantiated")] * 14
        + [("completed", "unsubstantiated")] * 6
        + [("ongoing", "pending")] * 41
        + [("under_review", "pending")]
    )
    return [
        {
            "entity_category": "peacekeeping",
            "type": kind,
            "sub_type": sub,
            "investigating_entity": investigator,
            "investigation_status": status,
            "outcome": outcome,
        }
        for (kind, sub), investigator, (status, outcome) in zip(subs, investigators, statuses, strict=True)
    ]


def _others() -> list[dict]:
    agencies = [{"entity_category": "agency", "investigating_entity": "agency"}] * 50
    partners = [{"entity_category": "implementing_partner", "investigating_entity": "agency"}] * 25
    return [*agencies, *partners, {"entity_category": "non_un_force"}]


@pytest.fixture
def records(app):
    with app.app_context():
        for n, values in enumerate([*_peacekeeping(), *_others()]):
            received = date(2017, 1 + n % 12, 1 + n % 28)
            db.session.add(
                Allegation(reference=f"2017-{n:03d}", country_code="CAF", received_on=received, **values)
            )
        for n in range(12):
            db.session.add(
                Allegation(reference=f"2016-{n:03d}", country_code="CAF", received_on=date(2016, 5, 5))
            )
        db.session.flush()
        month_counts.rebuild()  # allegations added as rows, not through the services
        db.session.commit()


def _figures(app, make_user, role=Role.SENIOR_ADVOCATE, period=YEAR):
    uid = make_user(role, "CAF" if role.sees_identities else "").id
    with app.test_request_context():
        return statistics(db.session.get(User, uid), VictimFilters(), period)


def _rows(table):
    return {
        row: (cells if len(cells) > 1 else cells[0])
        for row, cells in zip(table.row_labels, table.cells, strict=True)
    }


def test_the_secretary_generals_2017_figures_by_entity_category_and_type(app, make_user, records):
    tables = _figures(app, make_user).allegations
    assert tables.by_entity.column_labels == ["exploitation", "abuse", "other", "unknown"]
    assert _rows(tables.by_entity) == {
        "peacekeeping": [42, 20, 0, 0],
        "agency": [0, 0, 0, 50],
        "implementing_partner": [0, 0, 0, 25],
        "non_un_force": [0, 0, 0, 1],
        "": [0, 0, 0, 0],
    }
    assert tables.by_entity.row_totals == [62, 50, 25, 1, 0]
    assert tables.by_entity.grand_total == 138
    whole = _figures(app, make_user, period=Period.of_range(date(2016, 1, 1), date(2017, 12, 31)))
    assert _rows(whole.allegations.by_entity)[""] == [0, 0, 0, 12]  # not recorded, in a row of its own


def test_sub_types_within_their_types(app, make_user, records):
    tables = _figures(app, make_user).allegations
    assert {row: n for row, n in _rows(tables.by_sub_type).items() if n} == {
        "exploitation/transactional_sex": 30,
        "exploitation/exploitative_relationship": 8,
        "exploitation/": 4,
        "abuse/rape": 12,
        "abuse/sexual_activity_with_minor": 5,
        "abuse/sexual_assault": 3,
    }
    assert tables.by_sub_type.row_labels[:4] == [
        "exploitation/transactional_sex",
        "exploitation/exploitative_relationship",
        "exploitation/other",
        "exploitation/",
    ]
    # Only sexual exploitation and abuse have sub-types: the 76 allegations of unknown type are not rows.
    assert tables.by_sub_type.grand_total == 62


def test_investigating_entity_and_status(app, make_user, records):
    tables = _figures(app, make_user).allegations
    assert _rows(tables.by_investigating) == {
        "national_investigation_officer": 41,
        "oios": 11,
        "mission": 10,
        "agency": 75,
        "national_authorities": 0,
        "joint": 0,
        "": 1,
    }
    assert _rows(tables.by_status) == {
        "under_review": 1,
        "referred": 0,
        "ongoing": 41,
        "completed": 20,
        "closed_without_investigation": 0,
        "": 76,
    }


def test_an_auditor_gets_the_small_cells_hidden(app, make_user, records):
    tables = _figures(app, make_user, role=Role.AUDITOR).allegations
    by_entity = _rows(tables.by_entity)
    assert by_entity["peacekeeping"][:2] == [42, 20]
    assert by_entity["non_un_force"][3] is None  # 1 allegation: suppressed
    assert tables.by_entity.grand_total == 138
    assert _rows(tables.by_investigating)[""] is None


def test_the_page_and_exports_show_them_in_the_readers_words(client, login, records):
    login(Role.SENIOR_ADVOCATE, "CAF")
    page = client.get("/reports/statistics?period=year&year=2017").get_data(as_text=True)
    assert "agencies, funds and programmes" in page and "sexual abuse: rape" in page
    response = client.get("/reports/statistics/export.csv?period=year&year=2017")
    rows = {(line[0], line[1]): line[2:] for line in csv_rows(response.get_data(as_text=True)) if line}
    assert rows[
        ("By entity category and type", "peacekeeping operations and special political missions")
    ] == [
        "42",
        "20",
        "0",
        "0",
        "62",
    ]
    assert rows[("By sub-type", "sexual exploitation: not recorded")] == ["4"]
    assert rows[("By investigating entity", "contributing country (national investigation officer)")] == [
        "41"
    ]
    book = load_workbook(
        io.BytesIO(client.get("/reports/statistics/export.xlsx?period=year&year=2017").data), read_only=True
    )
    status = [list(row) for row in book["By investigation status"].iter_rows(values_only=True)]
    assert status[-2:] == [["not recorded", 76], ["total", 138]]
    french = client.get("/reports/statistics?period=year&year=2017", headers={"Accept-Language": "fr"})
    assert "Allégations par catégorie d’entité et type" in french.get_data(as_text=True)
