"""The reports blueprint and what its pages share: filters read from the address, the refusal of
too narrow filters, audited downloads. Every page computes its figures in the request, from the
database as it is: the same for every viewer entitled to them, on every worker and server.

Every export is audited (who, which report, which filters, how many rows). The exports hold case
codes and figures, never an identity field, so they need no fresh login; aggregate pages and
exports for fund managers and auditors are suppressed (see vat/reports/suppression.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import IO, Any, Generic, TypeVar

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from vat import audit
from vat.auth.actor import Actor
from vat.auth.policy import Permission, requires
from vat.paging import PAGE_SIZES, Page, page_number, page_of_rows
from vat.reports import populations
from vat.reports.exports import blocks, csv_lines, file_size, xlsx_file
from vat.reports.forms import PeriodForm, ReportForm, VictimFilterForm
from vat.reports.scope import VictimFilters, sees_rows, threshold
from vat.submission import written_apart

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


def paged(param: str, rows: Sequence[Any]) -> Page:
    """One page of a report table that grows with the data (one row per member state, place,
    provider…), the page named `param` in the address: the report's figures count every row."""
    return page_of_rows(rows, page=page_number(request.args.get(param)), per_page=PAGE_SIZES[1])


def paged_args(form_class: type[ReportForm], *params: str) -> dict[str, Any]:
    """The address a report's pager links keep: its filters and every paged table's page."""
    return carried(form_class(request.args), *params)


def grouping(groups: dict[str, Any], default: str = "type") -> str:
    """The report's grouping named in the address (`by`), if it is one of `groups`."""
    by = request.args.get("by", default)
    return by if by in groups else default


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
        make: Callable[[Actor, VictimFilters], T],
        context: Callable[[T, VictimFilters], dict[str, Any]],
        *,
        carry: tuple[str, ...] = (),
    ) -> str | Response:
        """The page, or the refusal of too narrow filters. `context(report, filters)` gives the
        template what it shows besides the form and the filters to carry."""
        form, filters = filters_from(self.form_class)
        if populations.too_few_to_show_for(current_user, filters, self.population):
            return too_few(form, self.endpoint, str(self.title), self.population)
        report = make(current_user, filters)
        return render_template(template, form=form, args=carried(form, *carry), **context(report, filters))

    def export_filters(self) -> VictimFilters:
        """The filters of an export, after refusing filters too narrow for an aggregate-only
        viewer (422, with the page that says which to widen)."""
        form, filters = filters_from(self.form_class)
        if populations.too_few_to_show_for(current_user, filters, self.population):
            abort(too_few(form, self.endpoint, str(self.title), self.population, status=422))
        return filters

    def route(
        self,
        template: str,
        make: Callable[[Actor, VictimFilters], T],
        context: Callable[[T, VictimFilters], dict[str, Any]],
        export: Callable[[T], Sheet | list[Sheet]],
        *,
        export_as: str,
        carry: tuple[str, ...] = (),
        audited: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        """Register the page (`show`n with `template`) and its export: `export(report)` gives one
        sheet (a plain CSV) or several (a CSV of sections), downloaded and audited as `export_as`
        with the filters and what `audited()` adds (a choice the address made)."""
        name = self.endpoint.removeprefix("reports.")

        def page() -> str | Response:
            return self.show(template, make, context, carry=carry)

        def download_export(fmt: str) -> Response:
            filters = self.export_filters()
            sheets = export(make(current_user, filters))
            rows = len(sheets[2]) if isinstance(sheets, tuple) else sum(len(s[2]) for s in sheets)
            audit_export(export_as, fmt, {**filters.as_dict(), **audited()}, rows)
            if isinstance(sheets, tuple):
                return download_sheet(export_as, fmt, sheets)
            return download_sheets(export_as, fmt, sheets)

        route_report(name, page, download_export, path=name)


def route_report(
    name: str,
    page: Callable[[], str | Response],
    export: Callable[[str], WerkzeugResponse],
    *,
    path: str,
    page_endpoint: str | None = None,
) -> None:
    """Register a report for those who view cases: its page `reports.<name>` (or `page_endpoint`)
    at /<path>, and its export `reports.<name>_export` at /<path>/export.<fmt>, which refuses a
    format other than CSV or XLSX (404) and writes its audit row."""

    def checked(fmt: str) -> WerkzeugResponse:
        if fmt not in FORMATS:
            abort(404)
        return export(fmt)

    bp.add_url_rule(f"/{path}", page_endpoint or name, requires(Permission.VIEW_CASES)(page), methods=["GET"])
    export_view = requires(Permission.VIEW_CASES)(wraps(export)(checked))
    bp.add_url_rule(f"/{path}/export.<fmt>", f"{name}_export", export_view, methods=["GET"])


def route_grouped(
    name: str,
    title: Any,
    groups: dict[str, Any],
    make: Callable[..., T],
    chart: Callable[[T, str], Any],
    sheet: Callable[[T, str], Sheet],
) -> None:
    """Register a report of victims grouped by the address's `by` (one of `groups`), for those who
    view cases: its page `reports.<name>` at /<name> (template reports/<name>.html, given the
    report, its chart, the groupings and whether the viewer sees only aggregates) and its export
    `reports.<name>_export`, audited with its grouping. `make(user, filters, by=...)` computes it."""

    def context(report: T, _filters: VictimFilters) -> dict[str, Any]:
        by = grouping(groups)
        chosen = {"groups": groups, "by": by, "aggregate": not sees_rows(current_user)}
        return {"name": name, "report": report, "chart": chart(report, by), **chosen}

    ReportPage(f"reports.{name}", VictimFilterForm, "victims", title).route(
        f"reports/{name}.html",
        lambda user, filters: make(user, filters, by=grouping(groups)),
        context,
        lambda report: sheet(report, grouping(groups)),
        export_as=name,
        carry=("by",),
        audited=lambda: {"by": grouping(groups)},
    )


def audit_export(report: str, fmt: str, filters: dict[str, Any], rows: int) -> None:
    """The export's audit row, in a short transaction of its own that takes the write lock: the
    request read its figures without it."""
    with written_apart():
        audit.record(
            "report.export",
            actor=current_user,
            object_type="report",
            object_id=report,
            address=request.remote_addr,
            detail={"format": fmt, "filters": filters, "rows": rows},
        )


def download(name: str, fmt: str, body: Any) -> Response:
    filename = f"{name}-{date.today().isoformat()}.{fmt}"  # made here, never from the request
    mimetype = {"csv": "text/csv", "xlsx": XLSX_TYPE, "pdf": "application/pdf"}[fmt]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def download_file(name: str, fmt: str, handle: IO[bytes]) -> Response:
    """A file made on disk, streamed back in blocks with its length (so the browser shows its own
    progress too); the file is closed, and so removed, when the response is."""
    response = download(name, fmt, blocks(handle))
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
