"""The UN's published figures, imported through the template, come back out of the figures pack
(issue 17, "done when"). Records rebuilt from the Secretary-General's 2017 report (A/72/751):

- §62: 62 allegations against peacekeeping personnel: 41 involving 101 military personnel, 10
  involving 23 police, 11 involving 11 civilians; 20 of sexual abuse and 42 of sexual
  exploitation; 130 victims, 21 girls and 109 women;
- §65: of the 62, 61 referred for investigation and 1 under review; 20 investigations completed,
  14 substantiated and 6 not; 41 still under investigation;
- §67: 75 allegations against other UN entities, 25 of them implementing partners, naming 34
  victims of abuse (20 girls, 3 boys, 9 women, 2 men) and 45 of exploitation (8 girls, 36 women,
  1 unknown);
- §68: 1 allegation against a non-UN force, naming a female victim (her age not given).

The report gives no durations, sanctions or assistance: those are made up here and their
expected figures worked out from how they were made."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import BACKEND
from tests.statements import locked_for_its_audit_row
from vat import anchors
from vat.allegations import accountability
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.figures_pack import problem
from vat.reports.scope import Period, VictimFilters
from vat.reports.un_report import DAYS_PER_MONTH, un_report
from vat.victims import importer
from vat.victims.import_template import COLUMNS, template_workbook

YEAR = 2017
PERIOD = "period=year&year=2017"


def _peacekeeping() -> list[dict[str, Any]]:
    """The 62 allegations, each with its victims as (sex, age group) pairs."""
    personnel = (
        [("military contingent", 3)] * 19
        + [("military contingent", 2)] * 22
        + [("formed police unit", 3)] * 3
        + [("formed police unit", 2)] * 7
        + [("civilian", 1)] * 11
    )
    kinds = ["sexual_abuse"] * 20 + ["sexual_exploitation"] * 42
    victims = [[("female", "minor")] * 2] + [[("female", "minor")]] * 19 + [[("female", "adult")] * 3] * 25
    victims += [[("female", "adult")] * 2] * 17
    statuses = (
        [("completed", "substantiated")] * 14
        + [("completed", "unsubstantiated")] * 6
        + [("ongoing", "pending")] * 41
        + [("under review", "pending")]
    )
    rows = []
    for n, ((category, count), kind, named, (status, outcome)) in enumerate(
        zip(personnel, kinds, victims, statuses, strict=True)
    ):
        received = date(YEAR, 1, 2) + timedelta(days=n * 5)
        referral_days = 5 if n < 40 else 20
        row = {
            "reference": f"PK-{n:03d}/17",
            "entity_category": "peacekeeping",
            "mission": "MINUSCA",
            "personnel_category": category,
            "perpetrators": str(count),
            "type": kind,
            "received_on": received.isoformat(),
            "investigation_status": status,
            "outcome": outcome,
            "victims": named,
        }
        if status != "under review":
            row["referred_on"] = (received + timedelta(days=referral_days)).isoformat()
        if status == "completed":
            investigation_days = 91 if n < 12 else 274
            row["investigation_completed_on"] = (
                received + timedelta(days=referral_days + investigation_days)
            ).isoformat()
        rows.append(row)
    return rows


def _others() -> list[dict[str, Any]]:
    """The 75 allegations against other entities and the 1 against a non-UN force."""
    abuse = [("female", "minor")] * 20 + [("male", "minor")] * 3 + [("female", "adult")] * 9
    abuse += [("male", "adult")] * 2
    exploitation = [("female", "minor")] * 8 + [("female", "adult")] * 36 + [("unknown", "unknown")]
    rows = []
    for n in range(75):
        category = "agency" if n < 50 else "implementing partner"
        kind = "sexual_abuse" if n < 17 else "sexual_exploitation"
        # 34 victims of abuse over 17 allegations, 45 of exploitation over 58.
        named = abuse[2 * n : 2 * n + 2] if n < 17 else exploitation[n - 17 : n - 16] if n < 62 else []
        rows.append(
            {
                "reference": f"OE-{n:03d}/17",
                "entity_category": category,
                "mission": "UNHCR" if n < 50 else "IRC",
                "personnel_category": "implementing partner" if n >= 50 else "",
                "type": kind,
                "received_on": date(YEAR, 1 + n % 12, 10).isoformat(),
                "victims": named,
            }
        )
    rows.append(
        {
            "reference": "NU-001/17",
            "entity_category": "non_un_force",
            "personnel_category": "non-UN force",
            "type": "unknown",
            "received_on": date(YEAR, 6, 1).isoformat(),
            "victims": [("female", "unknown")],
        }
    )
    return rows


def _workbook(allegations: list[dict[str, Any]]) -> io.BytesIO:
    """The template, its example rows left as they are, filled with the allegations, their victims
    (every third one assisted, as an old tracker recorded it), and the links between them."""
    book = load_workbook(template_workbook())
    columns = {kind: [name for name, _, _ in COLUMNS[kind]] for kind in ("victims", "allegations", "links")}
    columns["assistance"] = [name for name, _, _ in COLUMNS["assistance"]]
    number = 0
    for allegation in allegations:
        values = {"country_code": "CF", **allegation}
        book["allegations"].append([values.get(c, "") for c in columns["allegations"]])
        for sex, age in allegation["victims"]:
            number += 1
            code = f"CAR-2017-{number:04d}"
            victim = {"case_code": code, "country_code": "CF", "registered_on": "2017-12-31"}
            book["victims"].append(
                [{**victim, "sex": sex, "age_group": age}.get(c, "") for c in columns["victims"]]
            )
            book["links"].append([code, allegation["reference"]])
            if number % 3 == 0:
                service = {
                    "case_code": code,
                    "service_type": "medical",
                    "status": "completed",
                    "historical": "yes",
                }
                book["assistance"].append([service.get(c, "") for c in columns["assistance"]])
    output = io.BytesIO()
    book.save(output)
    output.seek(0)
    return output


@pytest.fixture
def imported(app, make_user) -> dict[str, Any]:
    """The records imported by a senior advocate for the Central African Republic, and 10 of the
    14 substantiated allegations sanctioned through the accountability cycle."""
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    peacekeeping = _peacekeeping()
    allegations = [*peacekeeping, *_others()]
    with app.test_request_context():
        actor = db.session.get_one(User, senior.id)
        report = importer.import_file(actor=actor, filename="tracker.xlsx", stream=_workbook(allegations))
        assert report.ok, report.errors[:3]
        for row in peacekeeping[:10]:
            allegation = db.session.query(Allegation).filter_by(reference=row["reference"]).one()
            accountability.record_step(
                actor=actor,
                allegation=allegation,
                step="administrative_action",
                measure="repatriation_and_ban",
                dated_on=date(YEAR + 1, 1, 15),
            )
        db.session.commit()
    victims = sum(len(a["victims"]) for a in allegations)
    return {"senior": senior, "victims": victims, "assisted": victims // 3}


def _tables(pack: bytes) -> dict[str, dict[str, list[Any]]]:
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        figures = json.loads(archive.read("figures.json"))
    return {t["title"]: {row[0]: row[1:] for row in t["rows"]} for t in figures["tables"]}


def test_the_secretary_generals_2017_figures_come_back_out_of_the_sealed_pack(
    app, client, login, imported
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    response = client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    pack = response.data
    with app.app_context():
        assert problem(pack) is None
    tables = _tables(pack)

    by_entity = tables["By entity category and type"]  # the statistics page's, in the pack
    assert by_entity["peacekeeping operations and special political missions"] == [42, 20, 0, 0, 62]
    agencies, partners = by_entity["agencies, funds and programmes"], by_entity["implementing partners"]
    assert agencies[-1] + partners[-1] == 75 and partners[-1] == 25
    assert by_entity["non-UN force"][-1] == 1 and by_entity["total"][-1] == 138

    personnel = tables["Allegations by personnel category"]
    assert [personnel[g][-1] for g in ("military personnel", "police personnel", "civilian personnel")] == [
        41,
        10,
        11,
    ]
    perpetrators = tables["Alleged perpetrators by personnel category"]
    assert [perpetrators[g][0] for g in ("military personnel", "police personnel", "civilian personnel")] == [
        101,
        23,
        11,
    ]

    outcomes = tables[
        "Allegations by investigation status and outcome"
    ]  # pending, substantiated, unsubstantiated
    assert outcomes["completed"][:3] == [0, 14, 6] and outcomes["ongoing"][:3] == [41, 0, 0]
    assert outcomes["under review"][:3] == [1, 0, 0]
    referred = sum(outcomes[s][-1] for s in ("referred", "ongoing", "completed"))
    assert referred == 61

    victims = tables["Victims by entity category"]  # girls, women, boys, men, unknown, total
    assert victims["peacekeeping operations and special political missions"] == [21, 109, 0, 0, 0, 130]
    assert victims["non-UN force"] == [0, 0, 0, 0, 1, 1]
    by_type = tables["Victims by entity category and type of allegation"]

    def others(kind: str) -> list[int]:
        rows = [
            by_type[f"{entity}: {kind}"]
            for entity in ("agencies, funds and programmes", "implementing partners")
        ]
        return [a + b for a, b in zip(*rows, strict=True)]

    assert others("sexual abuse") == [20, 9, 3, 2, 0, 34]
    assert others("sexual exploitation") == [8, 36, 0, 0, 1, 45]


def test_oios_metrics_on_the_same_records(app, imported) -> None:
    with app.test_request_context():
        user = db.session.get_one(User, imported["senior"].id)
        report = un_report(user, VictimFilters(), Period.of_year(YEAR), on=date(YEAR + 1, 1, 31))
    measures = {m.key: (m.value, m.base) for m in report.measures}
    # 40 referred after 5 days and 21 after 20.
    assert measures["referral_days"] == ((Decimal(40 * 5 + 21 * 20) / 61).quantize(Decimal("0.1")), 61)
    assert measures["referred_within"] == (Decimal("65.6"), 61)
    # 12 investigations of 91 days, 8 of 274: 6 months is at most 184 days.
    months = Decimal(12 * 91 + 8 * 274) / 20 / DAYS_PER_MONTH
    assert measures["investigation_months"] == (months.quantize(Decimal("0.1")), 20)
    assert measures["investigated_within"] == (Decimal("60.0"), 20)
    assert measures["substantiated"] == (Decimal("70.0"), 20)
    assert measures["sanctioned"] == (Decimal("71.4"), 14)  # 10 of 14
    # Open: the 42 peacekeeping allegations pending and the 76 others (no outcome recorded).
    assert measures["open"][1] == 42 + 76
    share = Decimal(imported["victims"] - imported["assisted"]) * 100 / imported["victims"]
    assert measures["no_assistance"] == (share.quantize(Decimal("0.1")), imported["victims"])


def test_the_page_shows_them_in_english_and_french(client, login, imported) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    assert 'href="/reports/un-report"' in client.get("/reports/").get_data(as_text=True)
    page = client.get(f"/reports/un-report?{PERIOD}").get_data(as_text=True)
    assert "Alleged perpetrators by personnel category" in page and 'id="figures-pack"' in page
    assert ">101<" in page and "65.6" in page
    french = client.get(f"/reports/un-report?{PERIOD}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    assert "Auteurs présumés par catégorie de personnel" in french
    book = load_workbook(
        io.BytesIO(client.get(f"/reports/un-report/export.xlsx?{PERIOD}").data), read_only=True
    )
    assert "OIOS metrics" in book.sheetnames


def test_a_changed_pack_no_longer_verifies(app, client, login, imported) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    pack = client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}").data

    def rewritten(change: Any) -> bytes:
        output = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(pack)) as source, zipfile.ZipFile(output, "w") as target:
            for name in source.namelist():
                target.writestr(name, change(name, source.read(name)))
        return output.getvalue()

    def figures_changed(name: str, body: bytes) -> bytes:
        return body.replace(b"109", b"110") if name == "figures.json" else body

    def manifest_resealed(name: str, body: bytes) -> bytes:
        if name != "manifest.json":
            return figures_changed(name, body)
        manifest = json.loads(body)
        changed = figures_changed("figures.json", _read(pack, "figures.json"))
        manifest["files"]["figures.json"] = hashlib.sha256(changed).hexdigest()
        return json.dumps(manifest).encode()

    with app.app_context():
        assert "figures.json differs" in (problem(rewritten(figures_changed)) or "")
        assert problem(rewritten(manifest_resealed)) == "the manifest differs from what was sealed"


def _read(pack: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        return archive.read(name)


def test_the_packs_seal_is_appended_to_the_anchor_file_and_checked_there(
    app, client, login, imported
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    pack = client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}").data
    seal = json.loads(_read(pack, "manifest.json"))["seal"]
    with app.app_context():
        path = anchors.path()
        lines = [json.loads(text) for text in path.read_text().splitlines()]
        assert lines[-1] == seal and seal["reason"].startswith("figures 2017 sha256:")
        assert problem(pack) is None
        path.write_text("".join(json.dumps(line) + "\n" for line in lines[:-1]))
        assert problem(pack) == "the seal is not in the anchor file"
        assert anchors.latest()[1] is None  # the file's own check cannot see a removed line


def test_the_pack_is_for_a_year_and_audited(client, login, imported) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    assert client.get("/reports/un-report/figures-pack.zip?period=quarter&quarter=2017-Q1").status_code == 404
    pack = client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}").data
    manifest = json.loads(_read(pack, "manifest.json"))
    assert manifest["period"] == "2017" and manifest["produced_by"]
    assert set(manifest["seal"]["heads"]) == {"ledger", "audit"}
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        assert "figures.xlsx" in archive.namelist() and any(n.startswith("csv/") for n in archive.namelist())


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one write lock")
@pytest.mark.parametrize("export", ["export.csv", "figures-pack.zip"])
def test_an_export_reads_its_figures_without_the_write_lock(app, client, login, imported, export) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    locked_for_its_audit_row(app, client, f"/reports/un-report/{export}?{PERIOD}")


def test_an_auditor_gets_small_figures_hidden_and_no_ranges(client, login, imported) -> None:
    login(Role.AUDITOR, "")
    tables = _tables(client.get(f"/reports/un-report/figures-pack.zip?{PERIOD}").data)
    assert tables["Victims by entity category"]["non-UN force"][4] == "suppressed"
    page = client.get("/reports/un-report?period=range&start=2017-01-01&end=2017-06-30")
    assert "advocates only" in page.get_data(as_text=True)
    assert (
        client.get(
            "/reports/un-report/figures-pack.zip?period=range&start=2017-01-01&end=2017-06-30"
        ).status_code
        == 422
    )


def test_an_auditor_gets_a_measure_hidden_when_its_rest_is_a_small_count(app, make_user, imported) -> None:
    auditor = make_user(Role.AUDITOR, "")
    with app.test_request_context():
        user = db.session.get_one(User, auditor.id)
        report = un_report(user, VictimFilters(), Period.of_year(YEAR), on=date(YEAR + 1, 1, 31))
    measures = {m.key: (m.value, m.base) for m in report.measures}
    assert measures["substantiated"] == (Decimal("70.0"), 20)  # 14 and 6: both shown
    assert measures["sanctioned"] == (None, 14)  # 10 of 14: the 4 not sanctioned would show
    assert report.threshold == 5
