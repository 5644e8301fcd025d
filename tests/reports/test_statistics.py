"""Statistics as the UN publishes them (issue 17, item 6), on hand-made records of known figures.

Allegations (CAF / MINUSCA unless noted), by the day received:
  2023-12-31  abuse / rape, substantiated, military contingent
  2024-06-30  exploitation / (no sub-type), pending, contractor                     Q2
  2024-07-01  abuse / sexual activity with a minor, substantiated, formed police, no mission  Q3
  2024-07-05  exploitation / transactional sex, substantiated, military contingent  Q3
  2024-08-01  exploitation / exploitative relationship, pending, military contingent Q3
  2024-08-15  other / (no sub-type), pending, unknown category, COD / MONUSCO       Q3
  2024-09-30  abuse / rape, unsubstantiated, civilian staff                         Q3
  2024-10-01  abuse / sexual assault, pending, military contingent                  Q4
Victims (CAF unless noted), by the day registered:
  2023-05-05 female adult · 2024-07-02 female minor · 2024-07-03 female adult ·
  2024-08-01 male minor · 2024-08-02 male adult · 2024-09-01 female, age unknown ·
  2024-09-02 sex unknown, adult · 2024-09-03 (COD) sex and age unknown · 2024-10-05 female adult
Claims (victim's place), by the day opened:
  2024-07-10 recorded (the girl) · 2024-08-10 referred (the woman) ·
  2024-09-10 referred (the woman of unknown age) · 2024-10-10 closed (the Q4 woman)
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.claims.conftest import build_claim
from tests.reports.conftest import CAF, COD, add_victims, cells_of, csv_rows
from vat.allegations import month_counts
from vat.allegations.models import Allegation
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import Period, VictimFilters
from vat.reports.statistics import period_cube, setting_of, statistics
from vat.reports.suppression import population

D = date
ALLEGATION_COLUMNS = "reference place type sub_type outcome personnel_category received_on".split()
ALLEGATIONS = [
    ("A0", CAF, "abuse", "rape", "substantiated", "military_contingent", D(2023, 12, 31)),
    ("A1", CAF, "exploitation", None, "pending", "contractor", D(2024, 6, 30)),
    ("A2", {"country_code": "CAF", "mission": None}, "abuse", "sexual_activity_with_minor", "substantiated",
     "formed_police", D(2024, 7, 1)),
    ("A3", CAF, "exploitation", "transactional_sex", "substantiated", "military_contingent", D(2024, 7, 5)),
    ("A4", CAF, "exploitation", "exploitative_relationship", "pending", "military_contingent", D(2024, 8, 1)),
    ("A5", COD, "other", None, "pending", "unknown", D(2024, 8, 15)),
    ("A6", CAF, "abuse", "rape", "unsubstantiated", "civilian", D(2024, 9, 30)),
    ("A7", CAF, "abuse", "sexual_assault", "pending", "military_contingent", D(2024, 10, 1)),
]  # fmt: skip
VICTIMS = [
    # case code, place, sex, age group, registered
    ("V0", CAF, "female", "adult", D(2023, 5, 5)),
    ("V1", CAF, "female", "minor", D(2024, 7, 2)),
    ("V2", CAF, "female", "adult", D(2024, 7, 3)),
    ("V3", CAF, "male", "minor", D(2024, 8, 1)),
    ("V4", CAF, "male", "adult", D(2024, 8, 2)),
    ("V5", CAF, "female", "unknown", D(2024, 9, 1)),
    ("V6", CAF, "unknown", "adult", D(2024, 9, 2)),
    ("V7", COD, "unknown", "unknown", D(2024, 9, 3)),
    ("V8", CAF, "female", "adult", D(2024, 10, 5)),
]
CLAIMS = [
    # victim, step, opened
    ("V1", "recorded", D(2024, 7, 10)),
    ("V2", "referred", D(2024, 8, 10)),
    ("V5", "referred", D(2024, 9, 10)),
    ("V8", "closed", D(2024, 10, 10)),
]
Q3 = Period.of_quarter(2024, 3)
TABLES = [
    "By entity category and type",
    "By type and sub-type",
    "By sub-type",
    "By investigating entity",
    "By investigation status",
    "By status and outcome",
    "By mission",
    "By personnel category",
    "Victims by sex and age",
    "Victims by UN group",
    "Paternity claims by step",
]


@pytest.fixture
def records(app):
    with app.app_context():
        for row in ALLEGATIONS:
            values = dict(zip(ALLEGATION_COLUMNS, row, strict=True))
            db.session.add(Allegation(**values.pop("place"), **values))
        victims = add_victims(VICTIMS)
        db.session.flush()
        for code, step, opened in CLAIMS:
            build_claim(
                victims[code], "NPL", step, opened, closing_reason="withdrawn" if step == "closed" else None
            )
        month_counts.rebuild()  # allegations added as rows, not through the services
        db.session.commit()


def _figures(app, make_user, role=Role.SENIOR_ADVOCATE, scope="CAF, COD", period=Q3, filters=None):
    uid = make_user(role, scope).id
    with app.test_request_context():
        return statistics(db.session.get(User, uid), filters or VictimFilters(), period)


def _column(table):
    """A table of one column as {row: count}, with its total."""
    return {
        row: cells[0] for row, cells in zip(table.row_labels, table.cells, strict=True)
    }, table.grand_total


def test_a_quarter_counts_each_record_by_its_own_date(app, make_user, records):
    report = _figures(app, make_user)
    allegations = report.allegations
    assert report.refused == frozenset() and report.threshold == 1
    assert cells_of(allegations.by_type, nonzero=True) == {
        ("exploitation", "transactional_sex"): 1,
        ("exploitation", "exploitative_relationship"): 1,
        ("abuse", "sexual_activity_with_minor"): 1,
        ("abuse", "rape"): 1,
        ("other", ""): 1,
    }
    assert allegations.by_type.row_totals == [2, 2, 1, 0]  # exploitation, abuse, other, unknown
    assert _column(allegations.by_outcome) == ({"pending": 2, "substantiated": 2, "unsubstantiated": 1}, 5)
    assert _column(allegations.by_mission) == ({"": 1, "MINUSCA": 3, "MONUSCO": 1}, 5)
    by_category, total = _column(allegations.by_personnel)
    assert total == 5
    assert {k: n for k, n in by_category.items() if n} == {
        "military_contingent": 2,
        "formed_police": 1,
        "civilian": 1,
        "unknown": 1,
    }
    victims = report.victims
    assert cells_of(victims.by_sex_and_age, nonzero=True) == {
        ("female", "minor"): 1,
        ("female", "adult"): 1,
        ("female", "unknown"): 1,
        ("male", "minor"): 1,
        ("male", "adult"): 1,
        ("unknown", "adult"): 1,
        ("unknown", "unknown"): 1,
    }
    assert victims.groups == [("girls", 1), ("women", 1), ("boys", 1), ("men", 1), ("unknown", 3)]
    claims, total = _column(report.claims)
    assert total == 3 and {k: n for k, n in claims.items() if n} == {"recorded": 1, "referred": 2}


def test_unknown_age_or_sex_is_never_counted_among_adults(app, make_user, records):
    """The woman of unknown age, the adult of unknown sex and the victim of neither are three
    unknowns: women are 1 (not 2), men 1 (not 2)."""
    groups = dict(_figures(app, make_user).victims.groups)
    assert groups["women"] == 1 and groups["men"] == 1
    assert groups["unknown"] == 3
    assert sum(groups.values()) == 7


def test_a_year_and_a_date_range(app, make_user, records):
    year = _figures(app, make_user, period=Period.of_year(2024))
    assert year.allegations.by_outcome.grand_total == 7
    assert year.victims.by_sex_and_age.grand_total == 8
    assert year.claims.grand_total == 4
    assert _column(year.claims)[0]["closed"] == 1
    # both ends included: 1 July to 30 September is Q3; 1 to 31 July is two allegations
    whole_quarter = _figures(app, make_user, period=Period.of_range(D(2024, 7, 1), D(2024, 9, 30)))
    assert _column(whole_quarter.allegations.by_outcome) == _column(
        _figures(app, make_user).allegations.by_outcome
    )
    july = _figures(app, make_user, period=Period.of_range(D(2024, 7, 1), D(2024, 7, 31)))
    assert _column(july.allegations.by_outcome) == (
        {"pending": 0, "substantiated": 2, "unsubstantiated": 0},
        2,
    )
    assert july.victims.groups == [("girls", 1), ("women", 1), ("boys", 0), ("men", 0), ("unknown", 0)]
    assert july.claims.grand_total == 1


def test_advocates_count_their_countries_only(app, make_user, records):
    report = _figures(app, make_user, role=Role.ADVOCATE, scope="CAF")
    assert _column(report.allegations.by_mission) == ({"": 1, "MINUSCA": 3}, 4)
    assert report.victims.groups[-1] == ("unknown", 2)  # the COD victim is not theirs
    filtered = _figures(app, make_user, filters=VictimFilters(country_code="COD"))
    assert filtered.allegations.by_outcome.grand_total == 1
    assert filtered.victims.groups == [("girls", 0), ("women", 0), ("boys", 0), ("men", 0), ("unknown", 1)]


def _more_2023_allegations(app, count):
    with app.app_context():
        for n in range(count):
            db.session.add(Allegation(reference=f"OLD-{n}", **CAF, received_on=D(2023, 3, 1)))
        db.session.flush()
        month_counts.rebuild()
        db.session.commit()


def test_auditors_get_small_counts_hidden_and_narrow_settings_refused(app, make_user, records):
    _more_2023_allegations(app, 5)  # 2024 (7) now differs from the whole (13) by 6
    report = _figures(app, make_user, role=Role.AUDITOR, scope="", period=Period.of_year(2024))
    assert report.threshold == 5
    # pending 4, substantiated 2, unsubstantiated 1: every cell hidden, the total shown
    assert _column(report.allegations.by_outcome) == (
        {"pending": None, "substantiated": None, "unsubstantiated": None},
        7,
    )
    # MINUSCA 5 shown; the allegation without a mission and MONUSCO's hide each other
    assert _column(report.allegations.by_mission) == ({"": None, "MINUSCA": 5, "MONUSCO": None}, 7)
    # victims of 2024 (8) differ from all victims (9) by one; claims of 2024 are 4
    assert report.refused == frozenset({"victims", "claims"})
    assert report.victims is None and report.claims is None
    # Q3 (5 allegations) differs from 2024 (7) by two: refused too
    quarter = _figures(app, make_user, role=Role.AUDITOR, scope="")
    assert quarter.refused == frozenset({"allegations", "victims", "claims"})
    # the senior advocate entitled to the same records sees them exactly
    exact = _figures(app, make_user, period=Period.of_year(2024))
    assert _column(exact.allegations.by_outcome) == (
        {"pending": 4, "substantiated": 2, "unsubstantiated": 1},
        7,
    )


# --- the page and its exports -------------------------------------------------------------------


def test_the_page_shows_every_table_with_a_chart(client, login, records):
    login(Role.SENIOR_ADVOCATE, "CAF, COD")
    response = client.get("/reports/statistics?period=quarter&quarter=2024-Q3")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    keys = ("entity", "type", "sub_type", "investigating", "status", "outcome", "mission", "personnel")
    for key in (*keys, "victims", "groups", "claims"):
        assert f'id="statistics-{key}"' in text
        assert f'id="statistics-{key}-title"' in text  # its chart
    assert "is counted as not recorded" in text
    assert "/reports/statistics/export.csv?" in text and "quarter=2024-Q3" in text


def test_the_landing_page_links_to_it(client, login):
    login(Role.ADVOCATE, "CAF")
    assert "/reports/statistics" in client.get("/reports/").get_data(as_text=True)


def test_with_nothing_asked_it_shows_this_year(client, login, records):
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/statistics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert f'value="{date.today().year}"' in text
    assert 'id="statistics-outcome"' in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=quarter&quarter=2024-Q5", "Write a quarter as 2024-Q3."),
        ("period=quarter&quarter=Q3", "Write a quarter as 2024-Q3."),
        ("period=quarter", "Give the quarter, e.g. 2024-Q3."),
        ("period=year", "Give the year, e.g. 2024."),
        ("period=year&year=20x4", "Not a valid integer value."),
        ("period=range&start=2024-09-01", "Give both dates of the range."),
        ("period=range&start=2024-09-01&end=2024-08-01", "The range ends before it starts."),
        ("period=range&start=2024-02-30&end=2024-03-01", "Not a valid date value."),
        ("period=decade&year=2024", "Not a valid choice."),
    ],
)
def test_a_bad_period_is_a_form_error(client, login, records, query, message):
    login(Role.ADVOCATE, "CAF")
    response = client.get(f"/reports/statistics?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(f"/reports/statistics/export.csv?{query}").status_code == 400


def test_a_date_range_is_for_advocates_only(client, login, records):
    login(Role.FUND_MANAGER, "")
    query = "period=range&start=2024-01-01&end=2024-12-31"
    response = client.get(f"/reports/statistics?{query}")
    assert response.status_code == 200
    assert "A date range is shown to advocates only" in response.get_data(as_text=True)
    assert client.get(f"/reports/statistics/export.xlsx?{query}").status_code == 422


def test_an_auditor_sees_the_refusal_and_no_export_of_nothing(client, login, records):
    login(Role.AUDITOR, "")
    response = client.get("/reports/statistics?period=quarter&quarter=2024-Q3")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Too few allegations match" in text and "Too few claims match" in text
    assert 'id="statistics-outcome"' not in text
    assert client.get("/reports/statistics/export.csv?period=quarter&quarter=2024-Q3").status_code == 422
    with client.application.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.export")) is None


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_roles_without_the_permission_are_refused(client, login, role):
    login(role, "")
    assert client.get("/reports/statistics").status_code == 403
    assert client.get("/reports/statistics/export.csv").status_code == 403


def test_strangers_go_to_login(client):
    for path in ("/reports/statistics", "/reports/statistics/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_unknown_format_is_not_found(client, login):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/reports/statistics/export.pdf").status_code == 404


def _sections(response) -> dict[tuple[str, str], list[str]]:
    """The CSV export's cells by (section, row label), in the order of the file."""
    lines = csv_rows(response.get_data(as_text=True))
    return {(line[0], line[1]): line[2:] for line in lines if line and line[0] != "section"}


def test_the_csv_export_has_one_section_per_table_and_is_audited(app, client, login, records):
    user = login(Role.SENIOR_ADVOCATE, "CAF, COD")
    response = client.get("/reports/statistics/export.csv?period=quarter&quarter=2024-Q3&country=caf")
    assert response.status_code == 200
    assert 'filename="un-statistics-2024-Q3-' in response.headers["Content-Disposition"]
    rows = _sections(response)
    assert list(dict.fromkeys(section for section, _ in rows)) == TABLES
    assert rows[("By status and outcome", "substantiated")] == ["2"]
    assert rows[("By status and outcome", "total")] == ["4"]  # CAF only: MONUSCO's is not counted
    assert rows[("By type and sub-type", "sexual abuse")] == ["1", "0", "1", "0", "0", "0", "0", "2"]
    assert rows[("Victims by sex and age", "sex unknown")] == ["0", "1", "0", "1"]
    assert rows[("Victims by UN group", "unknown sex or age")] == ["2"]
    assert rows[("Paternity claims by step", "Referred to the member state")] == ["2"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.export"))
        assert event.actor_id == user.id and event.object_id == "un-statistics"
        detail = json.loads(event.detail)
        assert detail["format"] == "csv"
        assert detail["filters"] == {"country_code": "CAF", "period": "2024-Q3"}


def test_the_xlsx_export_has_one_sheet_per_table(client, login, records):
    login(Role.SENIOR_ADVOCATE, "CAF, COD")
    response = client.get("/reports/statistics/export.xlsx?period=range&start=2024-07-01&end=2024-07-31")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == TABLES
    outcome = [list(row) for row in book["By status and outcome"].iter_rows(values_only=True)]
    assert outcome == [
        ["outcome", "allegations"],
        ["pending", 0],
        ["substantiated", 2],
        ["unsubstantiated", 0],
        ["total", 2],
    ]
    groups = [list(row) for row in book["Victims by UN group"].iter_rows(values_only=True)]
    assert groups == [
        ["group", "victims"],
        ["girls", 1],
        ["women", 1],
        ["boys", 0],
        ["men", 0],
        ["unknown sex or age", 0],
    ]


def test_an_auditors_export_writes_suppressed_cells_as_such(app, client, login, records):
    _more_2023_allegations(app, 5)
    login(Role.AUDITOR, "")
    response = client.get("/reports/statistics/export.csv?period=year&year=2024")
    assert response.status_code == 200
    rows = _sections(response)
    assert rows[("By status and outcome", "pending")] == ["suppressed"]
    assert rows[("By status and outcome", "total")] == ["7"]
    assert rows[("By mission", "MINUSCA")] == ["5"]
    assert not any(section.startswith("Victims") or section.startswith("Paternity") for section, _ in rows)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Statistiques telles que l’ONU les publie", "filles", "âge inconnu", "Écrivez un trimestre"]),
        ("zh", ["按联合国发布方式编制的统计", "女童", "年龄不详", "季度请写作 2024-Q3。"]),
    ],
)
def test_the_page_speaks_french_and_chinese(client, login, records, language, words):
    login(Role.SENIOR_ADVOCATE, "CAF, COD")
    headers = {"Accept-Language": language}
    text = client.get("/reports/statistics?period=quarter&quarter=2024-Q3", headers=headers).get_data(
        as_text=True
    )
    text += client.get("/reports/statistics?period=quarter&quarter=2024", headers=headers).get_data(
        as_text=True
    )
    for word in words:
        assert word in text


def test_a_sub_type_outside_the_list_is_refused_by_the_database(app, records):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        db.session.add(
            Allegation(reference="A9", **CAF, type="abuse", sub_type="abuse_other", received_on=D(2024, 8, 8))
        )
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_the_refusals_count_what_the_tables_count(app, make_user, records):
    """The query-set-size control's cube and the tables select the same records for every quarter
    and year, in every population (a refusal never judges other records than those shown)."""
    uid = make_user(Role.SENIOR_ADVOCATE, "CAF, COD").id
    with app.test_request_context():
        user = db.session.get(User, uid)
        cubes = {p: period_cube(user, p) for p in ("allegations", "victims", "claims")}
        for period in [Period.of_year(2024), *[Period.of_quarter(2024, q) for q in (1, 2, 3, 4)]]:
            for country in ("", "CAF"):
                filters = VictimFilters(country_code=country)
                report = statistics(user, filters, period)
                setting = setting_of(filters, period)
                shown = {
                    "allegations": report.allegations.by_outcome.grand_total,
                    "victims": report.victims.by_sex_and_age.grand_total,
                    "claims": report.claims.grand_total,
                }
                assert shown == {p: population(cube, setting) for p, cube in cubes.items()}, period.name
