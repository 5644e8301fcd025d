"""A partner's per-beneficiary report imported by case code (issue 18, item 5): every error of
every row at once and nothing saved while there is one; case codes only, checked against the
victims of the project's country; the fund statement shows what partners reported reaching
named victims, the share on individual needs and the reports due with their periods."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ledger.models import ProjectBeneficiary, ProjectReport, ProjectReportLine
from ledger.services import beneficiary_lines, partner_reports
from ledger.services.beneficiary_lines import LinesRefused
from tests.ledger.conftest import PASSWORD, run_together
from vat.audit import AuditEvent
from vat.auth import services as auth
from vat.auth.models import Role
from vat.db import db
from vat.errors import DomainError
from vat.reports.fund import fund_statement
from vat.uploads import UploadRefused
from vat.victims import identity

TODAY = date(2019, 8, 1)
PERIOD = {"period": (date(2019, 3, 1), date(2019, 6, 30))}
CODES = ["CAR-2017-0042", "CAR-2017-0043"]


@pytest.fixture
def project(fund: Any) -> Any:
    """A CAF project that disbursed US$10,000, two victims of the Central African Republic and
    one of the Democratic Republic of the Congo."""
    advocates = {
        c: auth.create_user(
            actor=None, username=f"sa{c}", password=PASSWORD, role=Role.SENIOR_ADVOCATE, scope=c
        )
        for c in ("CAF", "COD")
    }
    for code in CODES:
        identity.register_victim(
            actor=advocates["CAF"], country_code="CAF", mission="MINUSCA", case_code=code
        )
    identity.register_victim(
        actor=advocates["COD"], country_code="COD", mission="MONUSCO", case_code="COD-2018-0007"
    )
    fund.contribute("500000")
    row = fund.project("50000")
    fund.disburse(row, "10000", on=date(2019, 3, 1))
    db.session.commit()
    return row


def schedule(fund: Any, project: Any, kind: str = "beneficiaries", **period: Any) -> ProjectReport:
    return partner_reports.schedule_report(
        actor=fund.maker, project=project, kind=kind, due_on=date(2019, 7, 15), **(period or PERIOD)
    )


def csv(*rows: str, header: str = "case_code,support,amount,provided_on") -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode())


def do_import(fund: Any, report: ProjectReport, stream: io.BytesIO, filename: str = "irc-q2.csv") -> Any:
    return beneficiary_lines.import_lines(
        actor=fund.maker, report=report, filename=filename, stream=stream, today=TODAY
    )


def line_count() -> int:
    return db.session.scalar(select(func.count(ProjectReportLine.id))) or 0


def test_a_report_period_must_hold_together(fund, project):
    with pytest.raises(DomainError, match="ends before it starts"):
        schedule(fund, project, period=(date(2019, 6, 1), date(2019, 3, 1)))
    with pytest.raises(DomainError, match="before its reporting period ends"):
        schedule(fund, project, period=(date(2019, 6, 1), date(2019, 7, 31)))
    report = schedule(fund, project)
    assert (report.period_start, report.period_end) == (date(2019, 3, 1), date(2019, 6, 30))


def test_the_lines_are_imported_and_reach_the_fund_statement(fund, project):
    report = schedule(fund, project)
    rows = do_import(
        fund,
        report,
        csv(
            "car-2017-0042,cash,300.00,2019-04-02",
            "CAR-2017-0042,Medical,0,",
            "CAR-2017-0043,shelter,150.5,2019-06-30",
        ),
    )
    assert [(r.case_code, r.support, r.amount_minor, r.usd_minor) for r in rows] == [
        ("CAR-2017-0042", "cash", 30000, 30000),
        ("CAR-2017-0042", "medical", 0, 0),
        ("CAR-2017-0043", "shelter", 15050, 15050),
    ]
    assert (report.received_on, report.reference) == (TODAY, "irc-q2.csv")
    assert sorted(db.session.scalars(select(ProjectBeneficiary.case_code))) == CODES
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ledger.project.report_lines"))
    assert event is not None and {"lines": 3, "victims": 2}.items() <= json.loads(event.detail).items()
    with pytest.raises(DomainError, match="already imported"):
        do_import(fund, report, csv("CAR-2017-0043,legal,1,"))
    statement = fund_statement(date(2019, 1, 1), TODAY, today=TODAY)
    [row] = statement.projects
    assert (row["victims_reported"], row["reported_to_victims"], row["reported_share"]) == (
        2,
        Decimal("450.50"),
        Decimal("4.5"),  # of the 10,000 disbursed
    )
    assert statement.reported == (Decimal("450.50"), Decimal("10000.00"), Decimal("4.5"))
    assert statement.reports == [report]
    # Two victims reported: below a threshold of three, their money is hidden with the count.
    hidden = fund_statement(date(2019, 1, 1), TODAY, today=TODAY, small_counts_below=3)
    assert (hidden.projects[0]["reported_to_victims"], hidden.reported) == (None, None)
    # A statement ending before the report was received counts none of it.
    before = fund_statement(date(2019, 1, 1), date(2019, 7, 31), today=TODAY).projects[0]
    assert (before["victims_reported"], before["reported_to_victims"]) == (0, Decimal(0))


def test_every_error_of_every_row_and_nothing_saved(fund, project):
    report = schedule(fund, project)
    with pytest.raises(LinesRefused) as refused:
        do_import(
            fund,
            report,
            csv(
                "CAR-2017-0042,cash,300,2019-04-02",  # good
                "Jane Doe,cash,10,",  # a name where the case code goes
                "CAR-2099-0001,medical,5,",  # no such victim
                "COD-2018-0007,legal,5,",  # a victim of another country
                "CAR-2017-0043,haircut,12.345,2019-07-02",  # support, decimals, after the period
                "CAR-2017-0043,cash,0,",  # cash needs an amount
                "CAR-2017-0042,cash,-4,",  # negative, and the same support twice
                "CAR-2017-0043,medical,1,31/12/2019",
            ),
        )
    found = [(e.row, e.column) for e in refused.value.errors]
    assert found == [
        (3, "case_code"),
        (4, "case_code"),
        (5, "case_code"),
        (6, "support"),
        (6, "amount"),
        (6, "provided_on"),
        (7, "amount"),
        (8, "amount"),
        (9, "provided_on"),
    ]
    messages = " ".join(e.message for e in refused.value.errors)
    assert "Jane" not in messages and "haircut" not in messages and "No victim of CAF" in messages
    assert (line_count(), report.received_on) == (0, None)
    db.session.rollback()
    assert line_count() == 0


def test_the_same_support_twice_is_refused(fund, project):
    with pytest.raises(LinesRefused) as refused:
        do_import(fund, schedule(fund, project), csv("CAR-2017-0042,cash,1,", "car-2017-0042, cash ,2,"))
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "support")]


def test_more_than_disbursed_is_refused(fund, project):
    with pytest.raises(LinesRefused) as refused:
        do_import(
            fund, schedule(fund, project), csv("CAR-2017-0042,cash,6000,", "CAR-2017-0043,cash,4000.01,")
        )
    [error] = refused.value.errors
    assert error.row == 0 and "more than the USD 10,000.00 disbursed" in error.message


@pytest.mark.parametrize(
    ("header", "filename", "message"),
    [
        ("case_code,name,support,amount", "a.csv", "Unknown column name"),
        ("case_code,support", "a.csv", "no column amount"),
        ("case_code,support,amount", "a.txt", "Upload a .csv or .xlsx"),
    ],
)
def test_a_file_refused_as_a_whole(fund, project, header, filename, message):
    report = schedule(fund, project)
    with pytest.raises(UploadRefused, match=message):
        do_import(fund, report, csv("CAR-2017-0042,cash,1", header=header), filename=filename)
    assert line_count() == 0


def test_only_a_beneficiaries_report_has_lines(fund, project):
    with pytest.raises(DomainError, match="Only a report of what each beneficiary received"):
        do_import(fund, schedule(fund, project, kind="narrative"), csv("CAR-2017-0042,cash,1,"))


def test_a_workbook_is_read_like_a_csv_file(fund, project):
    book = Workbook()
    sheet = book.active
    sheet.append(["Case code", "Support", "Amount", "Provided on"])
    sheet.append(["CAR-2017-0043", "education", 12.5, datetime(2019, 5, 2)])
    sheet.append([None, None, None, None])
    sheet.append(["CAR-2017-0042", "livelihood", 200, None])
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    rows = do_import(fund, schedule(fund, project), stream, filename="IRC.XLSX")
    assert [(r.case_code, r.amount_minor, r.provided_on) for r in rows] == [
        ("CAR-2017-0043", 1250, date(2019, 5, 2)),
        ("CAR-2017-0042", 20000, None),
    ]


def test_concurrent_imports_land_once_and_within_disbursed(ctx, fund, project):
    first, second = schedule(fund, project), schedule(fund, project)
    db.session.commit()

    def importing(report_id: int, text: str) -> Any:
        def job(actor: Any) -> Any:
            report = db.session.get_one(ProjectReport, report_id)
            return beneficiary_lines.import_lines(
                actor=actor, report=report, filename="f.csv", stream=csv(text), today=TODAY
            )

        return job

    # The same report from three threads: one import; and another report whose lines fit the
    # disbursements alone but not with the first's.
    same = importing(first.id, "CAR-2017-0042,cash,6000,")
    other = importing(second.id, "CAR-2017-0043,cash,5000,")
    outcomes = run_together(ctx, [(fund.maker.id, same)] * 3 + [(fund.checker.id, other)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "refused", "refused", "refused"], outcomes
    db.session.expire_all()
    total = db.session.scalar(select(func.sum(ProjectReportLine.amount_minor)))
    assert (line_count(), total) in ((1, 600000), (1, 500000))
