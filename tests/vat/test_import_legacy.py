"""Importing trackers as they are (issue 17, item 7): countries as codes or names, labels in any of
the interface's languages and the UN's codes, allegations with the UN's fields, every error of
every row at once, historical rows, and the template with its example rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.vat.test_import import workbook
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import import_rows, importer
from vat.victims.import_template import COLUMNS, KINDS, template_csv, template_workbook
from vat.victims.import_values import read_choice, read_country
from vat.victims.models import Assistance, Victim


def _csv(actor: User, kind: str, text: str) -> importer.ImportReport:
    return importer.import_file(actor=actor, filename="t.csv", stream=io.BytesIO(text.encode()), kind=kind)


def _errors(report: importer.ImportReport) -> set[tuple[str, int, str]]:
    return {(e.sheet, e.row, e.column) for e in report.errors}


@pytest.mark.parametrize(
    "written",
    ["CF", "cf", "CAF", "Central African Republic", "central african republic", "République centrafricaine",
     "Republique Centrafricaine", "中非共和国", "CAR"],
)  # fmt: skip
def test_a_country_as_a_code_or_a_name(ctx: Flask, written: str) -> None:
    assert read_country("country_code", written) == "CAF"


def test_inverted_names_and_the_unknown(ctx: Flask) -> None:
    for written in ("Democratic Republic of the Congo", "République démocratique du Congo", "DRC", "CD"):
        assert read_country("country_code", written) == "COD", written
    assert read_country("country_code", "Congo") == "COG"
    with pytest.raises(importer.InvalidField, match="Unknown country “Atlantis”"):
        read_country("country_code", "Atlantis")


@pytest.mark.parametrize(
    ("column", "written", "value"),
    [
        ("type", "sexual_exploitation", "exploitation"),
        ("type", "Sexual exploitation", "exploitation"),
        ("type", "exploitation sexuelle", "exploitation"),
        ("type", "性剥削", "exploitation"),
        ("type", "SEXUAL-ABUSE", "abuse"),
        ("entity_category", "peacekeeping", "peacekeeping"),
        ("entity_category", "Agencies, funds and programmes", "agency"),
        ("entity_category", "implementing partners", "implementing_partner"),
        ("entity_category", "non-UN forces", "non_un_force"),
        ("personnel_category", "civilian staff", "civilian"),
        ("personnel_category", "contingent militaire", "military_contingent"),
        ("personnel_category", "军事特遣队", "military_contingent"),
        ("personnel_category", "FPU", "formed_police"),
        ("sub_type", "sexual activity with a minor", "sexual_activity_with_minor"),
        ("investigating_entity", "NIO", "national_investigation_officer"),
        ("investigating_entity", "OIOS", "oios"),
        ("investigation_status", "under investigation", "ongoing"),
        ("outcome", "Substantiated", "substantiated"),
        ("sex", "féminin", "female"),
        ("sex", "F", "female"),
        ("service_type", "médical", "medical"),
        ("status", "已完成", "completed"),
        ("funding_source", "mission budget", "mission_budget"),
    ],
)
def test_labels_in_every_language_and_the_uns_codes(
    ctx: Flask, column: str, written: str, value: str
) -> None:
    assert read_choice(column, written) == value


def test_allegations_with_the_uns_fields(ctx: Flask, actor: User) -> None:
    text = (
        "reference,country_code,mission,entity_category,personnel_category,perpetrator_country,perpetrators,"
        "type,sub_type,received_on,investigating_entity,investigation_status,outcome\n"
        "0001/17,CF,MINUSCA,peacekeeping,military contingent,Nepal,3,sexual_abuse,rape,2017-02-01,NIO,"
        "ongoing,pending\n"
        "0002/17,République centrafricaine,,agencies,civilian staff,,,exploitation sexuelle,,2017-03-01,"
        "agency,,substantiated\n"
        "0003/17,CAF,MINUSCA,,,,,,transactional sex,2017-03-05,,,\n"
    )
    report = _csv(actor, "allegations", text)
    assert report.ok, report.errors
    found = {a.reference: a for a in db.session.scalars(select(Allegation))}
    first, second, third = found["0001/17"], found["0002/17"], found["0003/17"]
    assert (first.country_code, first.entity_category, first.personnel_category) == (
        "CAF",
        "peacekeeping",
        "military_contingent",
    )
    assert (first.perpetrator_country, first.perpetrators, first.type, first.sub_type) == (
        "NPL",
        3,
        "abuse",
        "rape",
    )
    assert (first.investigating_entity, first.investigation_status) == (
        "national_investigation_officer",
        "ongoing",
    )
    assert (second.entity_category, second.type, second.outcome) == (
        "agency",
        "exploitation",
        "substantiated",
    )
    assert second.investigation_status == "completed"  # an outcome means the investigation is done
    assert (third.entity_category, third.investigating_entity, third.investigation_status) == (
        None,
        None,
        None,
    )
    assert third.type == "exploitation"  # transactional sex is a sub-type of exploitation only


def test_every_error_of_every_row_at_once(ctx: Flask, actor: User) -> None:
    """A row's unreadable cells, and the rules they break once read, are all reported; every row."""
    text = (
        "reference,country_code,entity_category,perpetrators,type,sub_type,received_on,assessed_on,"
        "investigation_status,outcome\n"
        "0001/17,Atlantis,blue helmets,none,sexual_abuse,transactional sex,2017-02-01,2017-01-01,,\n"
        "0002/17,CAF,peacekeeping,2,sexual_exploitation,rape,2017-02-01,01/02/2017,ongoing,substantiated\n"
        "0003/17,CAF,agency,1,abuse,rape,2099-01-01,,,\n"
    )
    report = _csv(actor, "allegations", text)
    first = ("country_code", "entity_category", "perpetrators", "sub_type", "assessed_on")
    assert _errors(report) == {
        *(("allegations", 2, column) for column in first),
        *(("allegations", 3, column) for column in ("sub_type", "assessed_on", "investigation_status")),
        ("allegations", 4, "received_on"),
    }
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert messages[2, "entity_category"].startswith("Unknown value “blue helmets”: use one of peacekeeping")
    assert messages[2, "assessed_on"] == "This step cannot come before “Received”."
    assert messages[3, "assessed_on"] == "Write dates as YYYY-MM-DD."
    assert messages[4, "received_on"] == "This date cannot be in the future."
    assert db.session.scalar(select(Allegation.id)) is None


def test_every_error_across_sheets(ctx: Flask, actor: User, today: date) -> None:
    sheets = {
        "victims": [
            ["case_code", "country_code", "sex", "age_group", "consents", "consent_date"],
            ["CAR-1", "Atlantis", "alien", "old", "services;dancing", None],
        ],
        "assistance": [
            ["case_code", "service_type", "status", "start_date", "end_date", "cost", "currency"],
            ["CAR-1", "massage", "finished", "2020-02-02", "2020-01-01", "12.345", "USD"],
        ],
    }
    report = importer.import_file(actor=actor, filename="bad.xlsx", stream=workbook(sheets))
    assert _errors(report) == {
        *(("victims", 2, column) for column in ("country_code", "sex", "age_group", "consents")),
        *(("assistance", 2, column) for column in ("service_type", "status", "cost", "end_date")),
    }


def test_historical_services_may_lack_the_end_date_and_the_consent(ctx: Flask, actor: User) -> None:
    _csv(actor, "victims", "case_code,country_code\nCAR-2015-0001,CAF\n")
    header = "case_code,service_type,referral_date,start_date,status,historical\n"
    refused = _csv(actor, "assistance", header + "CAR-2015-0001,medical,2015-03-01,2015-03-02,completed,\n")
    assert _errors(refused) == {("assistance", 2, "end_date"), ("assistance", 2, "status")}  # no consent
    report = _csv(actor, "assistance", header + "CAR-2015-0001,médical,2015-03-01,,achevé,oui\n")
    assert report.ok, report.errors
    service = db.session.scalar(select(Assistance))
    assert (service.status, service.end_date, service.historical) == ("completed", None, True)
    # Still refused for a service under way: help given now needs the victim's consent.
    ongoing = _csv(actor, "assistance", header + "CAR-2015-0001,legal,2015-03-01,,referred,yes\n")
    assert [e.column for e in ongoing.errors] == ["status"]


def test_a_service_imported_before_historical_existed_is_still_recognised(ctx: Flask) -> None:
    values = {name: "" for name, _, _ in COLUMNS["assistance"]}
    values.update(case_code="CAR-1", service_type="medical")
    before = [name for name, _, _ in COLUMNS["assistance"] if name != "historical"]
    assert importer._service_identity(values) == import_rows.service_identity(values, before)


# --- the template -------------------------------------------------------------------------------


def test_the_template_has_an_example_row_per_sheet_skipped_unless_changed(ctx: Flask, actor: User) -> None:
    book = load_workbook(template_workbook())
    assert book.sheetnames == ["README", *KINDS]
    for kind in KINDS:
        rows = list(book[kind].iter_rows(values_only=True))
        assert len(rows) == 2 and rows[0][0] == COLUMNS[kind][0][0] and rows[1][0]
    report = importer.import_file(actor=actor, filename="t.xlsx", stream=template_workbook())
    assert report.ok and sum(report.created.values()) == 0
    assert {s.reason for s in report.skipped_rows} == {"This is the template's example row."}
    # The same rows, changed to a real case, import as they are: the example is a valid row.
    changed = {kind: [list(row) for row in book[kind].iter_rows(values_only=True)] for kind in KINDS}
    for kind in KINDS:
        row = changed[kind][1]
        for index, name in enumerate(changed[kind][0]):
            if name == "case_code":
                row[index] = "CAR-2019-0001"
            if name == "reference":
                row[index] = "0001/19"
    report = importer.import_file(actor=actor, filename="t.xlsx", stream=workbook(changed))
    assert report.ok, report.errors
    assert dict(report.created) == {"victims": 1, "allegations": 1, "links": 1, "assistance": 1}
    allegation = db.session.scalar(select(Allegation))
    assert (allegation.entity_category, allegation.type, allegation.historical) == (
        "peacekeeping",
        "exploitation",
        True,
    )
    victim = db.session.scalar(select(Victim))
    assert (victim.sex, victim.age_group) == ("female", "minor")


def test_each_kind_has_a_csv_template(ctx: Flask, actor: User) -> None:
    for kind in KINDS:
        rows = list(csv.reader(io.StringIO(template_csv(kind).getvalue().decode("utf-8-sig"))))
        assert rows[0] == [name for name, _, _ in COLUMNS[kind]] and len(rows) == 2
    report = importer.import_file(
        actor=actor, filename="v.csv", stream=template_csv("victims"), kind="victims"
    )
    assert report.ok and report.skipped["victims"] == 1


def test_the_templates_are_linked_and_downloaded_by_those_who_import(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.ADVOCATE, "CAF")
    page = client.get("/vat/import").get_data(as_text=True)
    assert "/vat/import/template.xlsx" in page and "/vat/import/template-allegations.csv" in page
    response = client.get("/vat/import/template-allegations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "filename=vat-import-allegations.csv" in response.headers["Content-Disposition"]
    assert "entity_category" in response.get_data(as_text=True)
    assert client.get("/vat/import/template-ledger.csv").status_code == 404


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_the_csv_templates_are_refused_to_other_roles(
    client: FlaskClient, login: Callable[..., Any], role: Role
) -> None:
    login(role, "")
    assert client.get("/vat/import/template-victims.csv").status_code == 403
    assert client.get("/vat/import/template.xlsx").status_code == 403


def test_strangers_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/vat/import/template-victims.csv")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
