"""The reports blueprint and what its pages share: filters read from the address, reports kept per
viewer, the refusal of too narrow filters, audited downloads.

Every export is audited (who, which report, which filters, how many rows). The exports hold case
codes and figures, never an identity field, so they need no fresh login; aggregate pages and
exports for fund managers and auditors are suppressed (see vat/reports/suppression.py)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Generic, TypeVar

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat import audit
from vat.db import BeginMode, begin_mode, db
from vat.reports import populations, progress, snapshots
from vat.reports.exports import blocks, csv_lines, file_size, xlsx_file
from vat.reports.forms import PeriodForm, ReportForm
from vat.reports.scope import VictimFilters, sees_rows, threshold
from vat.reports.snapshots import Viewer

bp = Blueprint("reports", __name__, url_prefix="/reports")

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
T = TypeVar("T")
FormT = TypeVar("FormT", bound=ReportForm)
Sheet = tuple[str, list[str], list[list[Any]]]  # title, header, rows


def filters_from(form_class: type[FormT]) -> tuple[FormT, VictimFilters]:
    """The filter form read from the address, and its filters (none if the form is invalid)."""
    form = form_class(request.args)
    if request.args and not form.validate():
        return form, VictimFilters()
    data = form.data
    return form, VictimFilters(
        country_code=(data["country"] or "").strip().upper(),
        mission=(data["mission"] or "").strip().upper(),
        year=data["year"],
        sex=data.get("sex") or "",
        minor={"yes": True, "no": False}.get(data.get("minor") or ""),
    )


def period() -> tuple[PeriodForm, date, date]:
    form = PeriodForm(request.args)
    if request.args:
        form.validate()
    start, end = form.period(date.today())
    return form, start, end


def carried(form: ReportForm, *extra: str) -> dict[str, Any]:
    """The filters to carry into export and page links: only the form's own fields (never, say, a
    stray `fmt` or `page` from the address)."""
    names = {field.name for field in form} | set(extra)
    return {k: v for k, v in request.args.items() if k in names}


def small_counts_below() -> int:
    """Counts of victims are suppressed below the threshold for those who see only aggregates."""
    return 1 if sees_rows(current_user) else threshold()


TOO_FEW_VICTIMS = _l("Too few victims match these filters to show figures; widen them.")
TOO_FEW_ALLEGATIONS = _l("Too few allegations match these filters to show figures; widen them.")


def too_few(form: ReportForm, endpoint: str, title: str, population: str, *, status: int = 200) -> Response:
    """The page that refuses a filter setting to an aggregate-only viewer (query-set-size control,
    see populations.too_few_to_show_for): the filters to widen and why, never an empty table."""
    message = TOO_FEW_ALLEGATIONS if population == "allegations" else TOO_FEW_VICTIMS
    page = render_template(
        "reports/too_few.html",
        form=form,
        endpoint=endpoint,
        title=title,
        message=message,
        threshold=threshold(),
    )
    return Response(page, status=status)


@dataclass(frozen=True)
class Checked(Generic[T]):
    """A report and the query-set-size check of its filters, made in the same computation so that
    a kept report is shown exactly when its own check passed. `report` is None: refused."""

    report: T | None


def kept_report(
    name: str, filters: VictimFilters, population: str, make: Callable[[Viewer], T], *options: Hashable
) -> snapshots.Figures[Checked[T]]:
    """`make(viewer)` for the signed-in user and these filters, kept per viewer for a few minutes
    (snapshots.report_for): a report aggregates the whole scope, seconds at 100,000 victims."""

    def compute(viewer: Viewer) -> Checked[T]:
        if populations.too_few_to_show_for(viewer, filters, population):
            return Checked(None)
        return Checked(make(viewer))

    return snapshots.report_for(current_user, (name, filters, *options), compute)


@dataclass(frozen=True)
class ReportPage(Generic[FormT]):
    """One report's page and export: where it lives, its filter form, whose numbers it counts
    (`population`, for the query-set-size control) and its title."""

    endpoint: str
    form_class: type[FormT]
    population: str
    title: Any  # a lazy string, translated as the page renders

    def show(
        self,
        template: str,
        make: Callable[[Viewer, VictimFilters], T],
        context: Callable[[T, VictimFilters], dict[str, Any]],
        *options: Hashable,
        carry: tuple[str, ...] = (),
    ) -> str | Response:
        """The page: its figures kept per viewer (`kept_report`), or the notice that they are
        being prepared, or the refusal of too narrow filters. `context(report, filters)` gives the
        template what it shows besides the form, the filters to carry and the figures' time."""
        form, filters = filters_from(self.form_class)
        snapshot = kept_report(
            self.endpoint, filters, self.population, lambda viewer: make(viewer, filters), *options
        )
        if snapshot.value is None:
            return pending(form, self.endpoint, str(self.title))
        report = snapshot.value.report
        if report is None:
            return too_few(form, self.endpoint, str(self.title), self.population)
        return self.render(template, form, snapshot.computed_at, carry, **context(report, filters))

    def render(
        self, template: str, form: FormT, as_of: datetime | None, carry: tuple[str, ...], **context: Any
    ) -> str:
        return render_template(
            template, form=form, args=carried(form, *carry), figures_as_of=as_of, **context
        )

    def export_filters(self, fmt: str, formats: tuple[str, ...] = FORMATS) -> VictimFilters:
        """The filters of an export, after refusing an unknown format (404) and filters too narrow
        for an aggregate-only viewer (422, with the page that says which to widen)."""
        if fmt not in formats:
            abort(404)
        form, filters = filters_from(self.form_class)
        if populations.too_few_to_show_for(current_user, filters, self.population):
            abort(too_few(form, self.endpoint, str(self.title), self.population, status=422))
        return filters


def pending(form: ReportForm, endpoint: str, title: str) -> str:
    """The page shown while a report's figures are still being computed in the background."""
    return render_template("reports/pending.html", form=form, endpoint=endpoint, title=title)


def audit_export(report: str, fmt: str, filters: dict[str, Any], rows: int) -> None:
    """The export's audit row, in a short transaction of its own that takes the write lock: the
    request read its figures without it."""
    db.session.commit()  # end the reading transaction
    with begin_mode(BeginMode.IMMEDIATE):
        audit.record(
            "report.export",
            actor=current_user,
            object_type="report",
            object_id=report,
            address=request.remote_addr,
            detail={"format": fmt, "filters": filters, "rows": rows},
        )
        db.session.commit()


def download(name: str, fmt: str, body: Any) -> Response:
    filename = f"{name}-{date.today().isoformat()}.{fmt}"  # made here, never from the request
    mimetype = {"csv": "text/csv", "xlsx": XLSX_TYPE, "pdf": "application/pdf"}[fmt]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def download_file(
    name: str, fmt: str, handle: IO[bytes], tracker: progress.Tracker | None = None
) -> Response:
    """A file made on disk, streamed back in blocks with its length (so the browser shows its own
    progress too); the file is closed, and so removed, when the response is."""
    if tracker is not None:
        tracker.sending()

    def generate() -> Iterable[bytes]:
        yield from blocks(handle)
        if tracker is not None:
            tracker.finished()

    response = download(name, fmt, generate())
    response.content_length = file_size(handle)
    response.call_on_close(handle.close)
    return response


def download_sheet(name: str, fmt: str, sheet: Sheet) -> Response:
    """One table as CSV or as a workbook of one sheet."""
    _title, header, rows = sheet
    if fmt == "csv":
        return download(name, fmt, "".join(csv_lines(header, rows)))
    return download_file(name, fmt, xlsx_file([sheet]))


def download_sheets(name: str, fmt: str, sheets: list[Sheet]) -> Response:
    """Several tables as a workbook, or as one CSV of sections (each row led by its sheet's title)."""
    if fmt != "csv":
        return download_file(name, fmt, xlsx_file(sheets))
    lines: list[str] = []
    for number, (title, header, rows) in enumerate(sheets):
        section = [[title, *row] for row in rows]
        lines += [*csv_lines(["section", *header], section, bom=number == 0), "\r\n"]
    return download(name, fmt, "".join(lines))
