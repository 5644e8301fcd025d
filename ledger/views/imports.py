"""The fund's history imported from one spreadsheet (`ledger.services.ledger_import`), and the
template it reads."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook

from ledger.forms import LedgerImportForm
from ledger.services import ledger_import
from ledger.views.blueprint import View, bp
from vat.auth.policy import Permission, requires
from vat.submission import submit
from vat.uploads import LineError, LinesRefused

PAGE = "ledger/import.html"


def _columns() -> list[tuple[str, str]]:
    """Each column of the template and what it holds, in the reader's language."""
    return [
        ("kind", _("donor, pledge, receipt, withholding or transfer: one event a row, in order")),
        ("date", _("YYYY-MM-DD: pledged, received, decided or transferred on (not for a donor)")),
        ("donor", _("a donor's name (another donor), or the member state's code for a pledge or receipt")),
        ("country_code", _("ISO 3166 code: the member state that is a donor, or the withholding's country")),
        ("currency", _("ISO 4217 code (a withholding without one is in US dollars; a transfer has none)")),
        ("amount", _("more than zero, at most the currency's decimals")),
        ("reference", _("the pledge's letter, the receipt's bank reference or the transfer's reference")),
        ("pledge_reference", _("a receipt against a pledge: the pledge's letter reference")),
        ("rate", _("a receipt's rate, if given: it must be the month's UN operational rate")),
        ("earmark", _("a pledge's earmark, if any")),
        ("allegation_ref", _("a withholding's allegation, or the withholding a transfer pays in")),
        ("decision_reference", _("a withholding's decision; for a transfer, which withholding if several")),
        ("mission", _("the mission holding a withheld payment (else the allegation's)")),
    ]


def _page(errors: list[LineError]) -> dict[str, Any]:
    return {"columns": _columns(), "errors": errors, "limit": ledger_import.MAX_ROWS}


@bp.get("/import")
@requires(Permission.RECORD_LEDGER)
def import_page() -> str:
    return render_template(PAGE, form=LedgerImportForm(), **_page([]))


@bp.post("/import")
@requires(Permission.RECORD_LEDGER)
def import_history() -> View:
    form = LedgerImportForm()
    errors: list[LineError] = []

    def run() -> ledger_import.Imported:
        upload = form.file.data
        try:
            return ledger_import.import_ledger(
                actor=current_user, filename=upload.filename or "", stream=upload.stream
            )
        except LinesRefused as refused:
            errors.extend(refused.errors)  # shown on the page submit renders again
            raise

    return submit(
        form,
        run,
        done=lambda done: _("%(count)s rows imported.", count=done.rows),
        then=lambda _done: url_for("ledger.index"),
        template=PAGE,
        **_page(errors),
    )


@bp.get("/import/template.csv")
@requires(Permission.RECORD_LEDGER)
def import_template_csv() -> Response:
    text = io.StringIO()
    csv.writer(text).writerow(ledger_import.COLUMNS)
    return _download(text.getvalue().encode(), "csv", "text/csv; charset=utf-8")


@bp.get("/import/template.xlsx")
@requires(Permission.RECORD_LEDGER)
def import_template_xlsx() -> Response:
    """The columns on the first sheet (the one read), what each holds on a second."""
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "ledger"
    sheet.append(list(ledger_import.COLUMNS))
    readme = book.create_sheet("readme")
    for column, what in _columns():
        readme.append([column, what])
    data = io.BytesIO()
    book.save(data)
    return _download(
        data.getvalue(), "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def _download(data: bytes, extension: str, mimetype: str) -> Response:
    disposition = f'attachment; filename="ledger-import-template.{extension}"'
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": disposition})
