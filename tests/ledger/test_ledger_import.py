"""A fund's history imported from one spreadsheet (issue 19, item 9): donors, pledges, receipts,
withholdings and transfers through the services the forms call; every error of every row at once
and nothing saved while one remains; no refusal repeats a name; a file imported once."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select

from ledger import engine
from ledger.engine import CASH, PLEDGES_RECEIVABLE, WITHHELD_RECEIVABLE
from ledger.models import Donor, DonorKind, Entry, Pledge, Receipt, Withholding, WithholdingTransfer
from ledger.services import contributions, ledger_import
from ledger.verify import verify
from tests.ledger.conftest import run_together
from tests.statements import statements_sent
from vat.audit import AuditEvent
from vat.db import db
from vat.errors import DomainError
from vat.uploads import LinesRefused, UploadRefused

HEADER = ",".join(ledger_import.COLUMNS)
HISTORY = [
    # the columns of ledger_import.COLUMNS, in order
    "donor,,,NOR,,,,,,,,,",
    "donor,,Friends of the Fund,,,,,,,,,,",
    "pledge,2019-01-05,NOR,,NOK,800000,LTR-1,,,Education,,,",
    "receipt,2019-02-11,NOR,,NOK,500000,BANK-7,LTR-1,,,,,",
    "receipt,2019-02-12,Friends of the Fund,,USD,2500.50,BANK-8,,,,,,",
    "withholding,2019-03-01,,ZAF,USD,40000,,,,,0402/17,DEC-9,MONUSCO",
    "transfer,2019-04-02,,,,15000,TRF-1,,,,0402/17,,",
]


def csv_file(*rows: str, header: str = HEADER) -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode())


def do_import(fund: Any, stream: io.BytesIO, filename: str = "history.csv") -> Any:
    checked = ledger_import.check_file(filename, stream)
    return ledger_import.import_ledger(actor=fund.maker, checked=checked)


def refused(fund: Any, stream: io.BytesIO) -> list[tuple[int, str, str]]:
    try:
        do_import(fund, stream)
    except LinesRefused as error:
        return [(e.row, e.column, e.message) for e in error.errors]
    raise AssertionError("the file was imported")


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count(model.id))) or 0
        for model in (Donor, Pledge, Receipt, Withholding, WithholdingTransfer, Entry)
    )


def with_nok(fund: Any) -> None:
    fund.rate("NOK", date(2019, 1, 1), "8.5")
    fund.rate("NOK", date(2019, 2, 1), "8.6")


def test_a_history_books_through_the_services(fund):
    with_nok(fund)
    done = do_import(fund, csv_file(*HISTORY))
    assert done.rows == 7
    assert done.counts == {"donor": 2, "pledge": 1, "receipt": 2, "withholding": 1, "transfer": 1}
    norway = db.session.scalar(select(Donor).where(Donor.country_code == "NOR"))
    pledge = db.session.scalars(select(Pledge)).one()
    assert (pledge.donor_id, pledge.reference, pledge.earmark) == (norway.id, "LTR-1", "Education")
    # The receipt cleared part of the pledge, as the form's would.
    assert engine.currency_balance(PLEDGES_RECEIVABLE, "NOK", pledge_id=pledge.id) == Decimal("300000")
    assert engine.currency_balance(CASH, "USD") == Decimal("2500.50") + Decimal("15000")
    withholding = db.session.scalars(select(Withholding)).one()
    assert (withholding.mission, withholding.decision_reference) == ("MONUSCO", "DEC-9")
    assert engine.currency_balance(WITHHELD_RECEIVABLE, "USD", withholding_id=withholding.id) == 25000
    # One entry per booked row, each made by the importer.
    entries = db.session.scalars(select(Entry)).all()
    assert len(entries) == 5  # a donor books nothing; rates are not entries
    assert {e.maker_id for e in entries} <= {fund.maker.id}
    db.session.commit()
    assert verify(anchored=False).problem is None  # entry ids in chain order, each hash and sum


def test_every_error_of_every_row_and_nothing_saved(fund):
    fund.rate("NOK", date(2019, 1, 1), "8.5")  # none for February: that receipt is refused
    before = counts()
    errors = refused(
        fund,
        csv_file(
            "donor,,,NOR,,,,,,,,,",
            "grant,2019-01-05,,,,,,,,,,,",
            "pledge,2019-13-05,NOR,,NOK,-5,,,,,,,",
            "pledge,2019-01-05,Nobody Known,,USD,10.005,,,,,,,",
            "receipt,2019-02-11,NOR,,NOK,500000,BANK-7,,,,,,",
            "transfer,2019-04-02,,,EUR,15000,TRF-1,,,,0999/19,,",
            "pledge,2099-01-05,NOR,,USD,10,,,,,,,",
        ),
    )
    columns = {(row, column) for row, column, _ in errors}
    assert (3, "kind") in columns
    assert {(4, "date"), (4, "amount")} <= columns  # both cells of one row
    assert (5, "amount") in columns  # USD has two decimals
    assert (6, "currency") in columns  # the service's refusal, on its column: no rate for February
    assert {(7, "currency")} <= columns  # a transfer is in its withholding's currency
    assert (8, "date") in columns
    assert counts() == before  # Norway, on the first row, was not kept either


def test_a_row_naming_what_is_not_there_says_so_without_the_name(fund):
    fund.contribute()
    errors = refused(
        fund,
        csv_file(
            "pledge,2019-01-05,Jeanne Mukendi,,USD,100,,,,,,,",
            "receipt,2019-02-11,NOR,,USD,50,BANK-7,Jeanne Mukendi,,,,,",
            "transfer,2019-04-02,,,,15000,TRF-1,,,,Jeanne Mukendi,,",
            "donor,,Norway,,,,,,,,,,",
        ),
    )
    assert [(row, column) for row, column, _ in errors] == [
        (2, "donor"),
        (3, "pledge_reference"),
        (4, "allegation_ref"),
        (5, ""),
    ]
    assert "already a donor" in errors[3][2]
    assert not any("Jeanne" in message or "Norway" in message for *_, message in errors)


def test_a_file_refused_only_by_the_services_names_each_error_once_told_of_each_row_once(fund):
    fund.rate("NOK", date(2019, 1, 1), "8.5")  # none for February
    before = counts()
    rows = [
        "donor,,,NOR,,,,,,,,,",
        "pledge,2019-01-05,NOR,,NOK,800000,LTR-1,,,Education,,,",
        "receipt,2019-02-11,NOR,,NOK,500000,BANK-7,LTR-1,,,,,",  # no rate for February
        "receipt,2019-01-12,NOR,,NOK,900000,BANK-8,LTR-1,,,,,",  # more than is outstanding
        "receipt,2019-01-13,NOR,,USD,100,BANK-9,,,,,,",
    ]
    told: list[int] = []
    checked = ledger_import.check_file("history.csv", csv_file(*rows))
    assert not any(row.refused for row in checked.rows)  # every cell reads: the services refuse
    try:
        ledger_import.import_ledger(actor=fund.maker, checked=checked, on_row=told.append)
    except LinesRefused as error:
        errors = [(e.row, e.column) for e in error.errors]
    else:
        raise AssertionError("the file was imported")
    assert errors == [(4, "currency"), (5, "amount")]
    assert told == [1, 2, 3, 4, 5]  # the rows taken up, each once, though some were booked twice
    assert counts() == before


def test_a_cell_a_kind_does_not_read_is_refused_not_ignored(fund):
    errors = refused(fund, csv_file("donor,,Friends of the Fund,,USD,100,,,,,,,"))
    assert [(row, column) for row, column, _ in errors] == [(2, "currency"), (2, "amount")]


def test_columns_other_than_the_template_refuse_the_file_by_position(fund):
    try:
        do_import(fund, csv_file("donor,,,NOR", header="kind,date,victim_name,country_code"))
    except UploadRefused as error:
        assert "3" in str(error) and "victim_name" not in str(error)
    else:
        raise AssertionError("the file was imported")


def test_a_workbook_reads_as_its_csv(fund):
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(list(ledger_import.COLUMNS))
    sheet.append(["donor", None, None, "NOR"])
    sheet.append(["pledge", datetime(2019, 1, 5), "NOR", None, "USD", 1200.5, "LTR-2"])
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    done = do_import(fund, stream, filename="history.xlsx")
    assert done.counts == {"donor": 1, "pledge": 1}
    assert db.session.scalars(select(Pledge)).one().amount_minor == 120050


def test_the_same_file_imports_once(fund):
    do_import(fund, csv_file("donor,,,NOR,,,,,,,,,", "pledge,2019-01-05,NOR,,USD,100,,,,,,,"))
    before = counts()
    try:
        do_import(fund, csv_file("donor,,,NOR,,,,,,,,,", "pledge,2019-01-05,NOR,,USD,100,,,,,,,"))
    except DomainError as error:
        assert "already been imported" in str(error)
    else:
        raise AssertionError("imported twice")
    assert counts() == before
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.import")).one()
    stream = csv_file("donor,,,NOR,,,,,,,,,", "pledge,2019-01-05,NOR,,USD,100,,,,,,,")
    assert audited.object_id == hashlib.sha256(stream.read()).hexdigest()
    assert json.loads(audited.detail) == {"rows": 2, "donor": 1, "pledge": 1}


def test_importing_one_file_at_once_from_four_sessions_books_it_once(ctx, fund):
    # Pledges only: without the lock, each session would pass the file's check and the rows' keys
    # would answer the later ones with the first's pledges, every import "done" (a donor's row
    # would be refused as a duplicate instead, hiding the race).
    fund.donor("NOR")
    db.session.commit()
    rows = ("pledge,2019-01-05,NOR,,USD,100,,,,,,,", "pledge,2019-01-06,NOR,,USD,200,,,,,,,")

    def job(actor: Any) -> Any:
        checked = ledger_import.check_file("h.csv", csv_file(*rows))
        return ledger_import.import_ledger(actor=actor, checked=checked)

    outcomes = run_together(ctx, [(fund.maker.id, job)] * 2 + [(fund.checker.id, job)] * 2)
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "refused", "refused", "refused"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Pledge.id))) == 2
    imports = select(func.count(AuditEvent.id)).where(AuditEvent.action == "ledger.import")
    assert db.session.scalar(imports) == 1


def test_each_donor_is_looked_up_once_for_all_its_rows(fund):
    fund.donor("NOR")
    contributions.create_donor(actor=fund.maker, name="Friends of the Fund", kind=DonorKind.OTHER)
    rows = [
        f"pledge,2019-01-{day:02d},{donor},,USD,100,,,,,,,"
        for day in (5, 6, 7)
        for donor in ("NOR", "Friends of the Fund")
    ]
    with statements_sent(db.engine, lambda sql: "FROM ledger_donor" in sql) as looked_up:
        assert do_import(fund, csv_file(*rows)).counts == {"pledge": 6}
    assert len(looked_up) == 2


def test_a_three_letter_name_names_the_member_state_added_after_it(fund):
    # "Nor" is another donor's name until Norway, whose code it is, is added: then it is Norway.
    contributions.create_donor(actor=fund.maker, name="Nor", kind=DonorKind.OTHER)
    do_import(
        fund,
        csv_file(
            "pledge,2019-01-05,Nor,,USD,100,,,,,,,",
            "donor,,,NOR,,,,,,,,,",
            "pledge,2019-01-06,Nor,,USD,200,,,,,,,",
        ),
    )
    pledged = select(Donor.name, Pledge.amount_minor).join(Donor, Donor.id == Pledge.donor_id)
    assert db.session.execute(pledged.order_by(Pledge.id)).all() == [("Nor", 10000), ("Norway", 20000)]


def test_a_refusal_loses_every_cell_of_its_row_even_one_inside_another():
    # The allegation reference holds the transfer's reference: the longer goes first, whole.
    message = ledger_import._safe(
        "No allegation has the reference Jeanne Mukendi 12.",
        {"allegation_ref": "Jeanne Mukendi 12", "reference": "Jeanne"},
    )
    assert message == "No allegation has the reference …."
