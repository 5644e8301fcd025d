"""The fund's history imported from one spreadsheet (`ledger.services.ledger_import`) as a job
(`ledger.services.ledger_import_job`), its page of progress and outcome, and the template it
reads."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook

from ledger.forms import LedgerImportForm
from ledger.services import ledger_import, ledger_import_job
from ledger.views.blueprint import View, bp
from vat import human_time, upload_jobs
from vat.auth.policy import Permission, requires
from vat.errors import DomainError
from vat.submission import show_hidden_errors
from vat.uploads import LineError, UploadRefused

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
    """Store the file and queue its booking (by the jobs' worker); follow it. A file that cannot
    be read, or was imported already, is refused here at once (the job checks again under the
    ledger's lock)."""
    form = LedgerImportForm()
    if not form.validate_on_submit():
        show_hidden_errors(form)
        return render_template(PAGE, form=form, **_page([])), human_time.invalid_status(form)
    upload = form.file.data
    filename = upload.filename or ""
    try:
        content = upload.read()
        ledger_import.read_rows(filename, io.BytesIO(content))
        if ledger_import.already_imported(ledger_import.digest_of(io.BytesIO(content))):
            raise DomainError(ledger_import.ALREADY)
    except DomainError as error:
        status = error.status if isinstance(error, UploadRefused) else 422
        return render_template(PAGE, form=form, **_page([LineError(0, "", str(error))])), status
    finally:
        upload.close()
    job, params = ledger_import_job.start(
        actor=current_user, filename=filename, content=content, locale=str(get_locale() or "en")
    )
    return upload_jobs.queued(job, params, "ledger.import_job_page")


# How far the booking has got, then what was booked or every error of every row.
upload_jobs.route_job_pages(bp, ledger_import_job.KIND, Permission.RECORD_LEDGER, "ledger/import_job.html")


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
