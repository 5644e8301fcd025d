"""The reports blueprint: parse the filters, call one service, render or export.

Every export is audited (who, which report, which filters, how many rows). The exports hold case
codes and figures, never an identity field, so they need no fresh login; aggregate pages and
exports for fund managers and auditors are suppressed (see services.py)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Generic, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ledger import kept
from vat import audit
from vat.auth.policy import Permission, can, requires
from vat.db import db, read_only
from vat.reports import progress, services, snapshots
from vat.reports.charts import Series, bar_chart
from vat.reports.deidentify import deidentify
from vat.reports.exports import blocks, csv_lines, file_size, xlsx_file
from vat.reports.forms import AllegationFilterForm, ClaimFilterForm, PeriodForm, VictimFilterForm
from vat.reports.pdf import fund_statement_pdf
from vat.reports.services import SUPPORT_COLUMNS, VictimFilters

bp = Blueprint("reports", __name__, url_prefix="/reports")

PAGE_SIZE = 100
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
T = TypeVar("T")


def _victim_filters() -> tuple[VictimFilterForm, VictimFilters]:
    form = VictimFilterForm(request.args)
    if request.args and not form.validate():
        return form, VictimFilters()
    minor = {"yes": True, "no": False}.get(form.minor.data or "")
    return form, VictimFilters(
        country_code=(form.country.data or "").strip().upper(),
        mission=(form.mission.data or "").strip().upper(),
        year=form.year.data,
        sex=form.sex.data or "",
        minor=minor,
    )


def _period() -> tuple[PeriodForm, date, date]:
    form = PeriodForm(request.args)
    if request.args:
        form.validate()
    start, end = form.period(date.today())
    return form, start, end


def _carried(form: Any, *extra: str) -> dict[str, str]:
    """The filters to carry into export and page links: only the form's own fields (never, say, a
    stray `fmt` or `page` from the address)."""
    names = {field.name for field in form} | set(extra)
    return {k: v for k, v in request.args.items() if k in names}


def _small_counts_below() -> int:
    """Counts of victims are suppressed below the threshold for those who see only aggregates."""
    return 1 if services.sees_rows(current_user) else services.threshold()


TOO_FEW_VICTIMS = _l("Too few victims match these filters to show figures; widen them.")
TOO_FEW_ALLEGATIONS = _l("Too few allegations match these filters to show figures; widen them.")


def _too_few(form: Any, endpoint: str, title: str, population: str, *, status: int = 200) -> Response:
    """The page that refuses a filter setting to an aggregate-only viewer (query-set-size control,
    see services.too_few_to_show_for): the filters to widen and why, never an empty table."""
    message = TOO_FEW_ALLEGATIONS if population == "allegations" else TOO_FEW_VICTIMS
    page = render_template(
        "reports/too_few.html",
        form=form,
        endpoint=endpoint,
        title=title,
        message=message,
        threshold=services.threshold(),
    )
    return Response(page, status=status)


@dataclass(frozen=True)
class Checked(Generic[T]):
    """A report and the query-set-size check of its filters, made in the same computation so that
    a kept report is shown exactly when its own check passed. `report` is None: refused."""

    report: T | None


def _kept_report(
    name: str, filters: VictimFilters, population: str, make: Callable[[Any], T], *options: Hashable
) -> snapshots.Figures[Checked[T]]:
    """`make(viewer)` for the signed-in user and these filters, kept per viewer for a few minutes
    (snapshots.report_for): a report aggregates the whole scope, seconds at 100,000 victims."""

    def compute(viewer: Any) -> Checked[T]:
        if services.too_few_to_show_for(viewer, filters, population):
            return Checked(None)
        return Checked(make(viewer))

    with read_only():
        return snapshots.report_for(current_user, (name, filters, *options), compute)


def _pending(form: Any, endpoint: str, title: str) -> str:
    """The page shown while a report's figures are still being computed in the background."""
    return render_template("reports/pending.html", form=form, endpoint=endpoint, title=title)


def _audit_export(report: str, fmt: str, filters: dict[str, Any], rows: int) -> None:
    audit.record(
        "report.export",
        actor=current_user,
        object_type="report",
        object_id=report,
        address=request.remote_addr,
        detail={"format": fmt, "filters": filters, "rows": rows},
    )
    db.session.commit()


def _download(name: str, fmt: str, body: Any) -> Response:
    filename = f"{name}-{date.today().isoformat()}.{fmt}"  # made here, never from the request
    mimetype = {"csv": "text/csv", "xlsx": XLSX_TYPE, "pdf": "application/pdf"}[fmt]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _download_file(
    name: str, fmt: str, handle: IO[bytes], tracker: progress.Tracker | None = None
) -> Response:
    """A file made on disk, streamed back in blocks with its length (so the browser shows its own
    progress too); the file is closed, and so removed, when the response is."""
    if tracker is not None:
        tracker.sending()

    def generate() -> Any:
        yield from blocks(handle)
        if tracker is not None:
            tracker.finished()

    response = _download(name, fmt, generate())
    response.content_length = file_size(handle)
    response.call_on_close(handle.close)
    return response


def _per_victim_download(
    name: str, fmt: str, query: Any, total: int, *, deidentified: bool = False
) -> Response:
    """One row per victim, streamed: CSV straight from a server-side cursor, XLSX written to a
    temporary file from the same cursor and then streamed. The rows are counted into the export's
    progress token if the link carried one (see progress.py)."""
    tracker = progress.Tracker(request.args.get("progress", ""), current_user.id)
    tracker.writing(total)

    def table(result: Any) -> tuple[list[str], Any]:
        header, rows = services.support_header(), services.support_export_rows(result)
        if deidentified:
            header, rows = deidentify(header, rows)
        return header, tracker.counted(rows)

    if fmt == "csv":

        def generate() -> Any:
            with read_only():
                result = db.session.execute(query.execution_options(yield_per=1000))
                try:
                    yield from csv_lines(*table(result))
                finally:  # also when the download is abandoned: release the server-side cursor
                    result.close()
            tracker.finished()

        return _download(name, fmt, stream_with_context(generate()))
    with read_only():
        result = db.session.execute(query.execution_options(yield_per=1000))
        try:
            handle = xlsx_file([("Victim support", *table(result))])
        finally:
            result.close()
    return _download_file(name, fmt, handle, tracker)


@bp.get("/")
@requires(Permission.VIEW_CASES)
def index() -> str:
    return render_template("reports/index.html", **landing_figures())


def landing_figures() -> dict[str, Any]:
    """The few figures and the chart that open each role's dashboard and the reports page."""
    kept = snapshots.summary_for(current_user, reads_ledger=can(current_user, Permission.READ_LEDGER))
    figures = kept.value
    chart = None
    if figures is not None and figures.fund is not None:
        chart = bar_chart(
            chart_id="fund-this-year",
            title=_("The fund's income and spending by month, this year (US$)"),
            categories=[month for month, _, _ in figures.fund.months],
            series=[
                Series(_("income"), [income for _, income, _ in figures.fund.months], "series-1"),
                Series(_("spending"), [spending for _, _, spending in figures.fund.months], "series-2"),
            ],
        )
    return {"summary": figures, "chart": chart, "figures_as_of": kept.computed_at}


# --- per-victim support ------------------------------------------------------------------------


@bp.get("/victims")
@requires(Permission.VIEW_CASES)
def victims() -> str | Response:
    form, filters = _victim_filters()
    title = _("Per-victim support")
    if not services.sees_rows(current_user):
        snapshot = _kept_report(
            "victims-aggregate", filters, "victims", lambda user: services.aggregate_support(user, filters)
        )
        if snapshot.value is None:
            return _pending(form, "reports.victims", title)
        result = snapshot.value.report
        if result is None:
            return _too_few(form, "reports.victims", title, "victims")
        chart = bar_chart(
            chart_id="services-by-type",
            title=_("Services by type (consenting victims; small counts hidden)"),
            categories=result.by_service.row_labels,
            series=[Series(_("services"), result.by_service.row_totals, "series-1")],
        )
        return render_template(
            "reports/victims_aggregate.html",
            form=form,
            result=result,
            chart=chart,
            args=_carried(form),
            figures_as_of=snapshot.computed_at,
        )
    snapshot = _kept_report(
        "victims",
        filters,
        "victims",
        lambda user: (services.headline(user, filters), services.services_by_type(user, filters)),
    )
    if snapshot.value is None or snapshot.value.report is None:  # advocates are never refused (see services)
        return _pending(form, "reports.victims", title)
    figures, by_type = snapshot.value.report
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with read_only():  # only this page's victims, always read afresh
        query = services.support_rows(current_user, filters, page=(PAGE_SIZE, (page - 1) * PAGE_SIZE))
        rows = db.session.execute(query).all()
    chart = bar_chart(
        chart_id="services-by-type",
        title=_("Services by type"),
        categories=[label for label, _ in by_type],
        series=[Series(_("services"), [count for _, count in by_type], "series-1")],
    )
    return render_template(
        "reports/victims.html",
        form=form,
        figures=figures,
        rows=rows,
        page=page,
        pages=max(((figures.victims or 0) + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        type_columns=services.TYPE_COLUMNS,
        status_columns=services.STATUS_COLUMNS,
        cents=services.cents,
        chart=chart,
        by_type=by_type,
        args=_carried(form),
        figures_as_of=snapshot.computed_at,
    )


@bp.get("/victims/export.<fmt>")
@requires(Permission.VIEW_CASES)
def victims_export(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    form, filters = _victim_filters()
    with read_only():
        refused = services.too_few_to_show_for(current_user, filters, "victims")
    if refused:
        return _too_few(form, "reports.victims", _("Per-victim support"), "victims", status=422)
    if services.sees_rows(current_user):
        with read_only():
            total = services.victims_count(current_user, filters)
        _audit_export("victim-support", fmt, filters.as_dict(), total)
        query = services.support_rows(current_user, filters)
        return _per_victim_download("victim-support", fmt, query, total)

    with read_only():
        result = services.aggregate_support(current_user, filters)
    by_place = ("Victims by place", ["country / mission", *SUPPORT_COLUMNS, "total"])
    by_service = ("Services by type", ["service type", *result.by_service.column_labels, "total"])
    place_rows = services.aggregate_export_rows(result.by_place)
    service_rows = services.aggregate_export_rows(result.by_service)
    _audit_export("victim-support-aggregate", fmt, filters.as_dict(), len(place_rows) + len(service_rows))
    if fmt == "csv":
        lines = [
            *csv_lines(by_place[1], place_rows),
            "\r\n",
            *csv_lines(by_service[1], service_rows, bom=False),
        ]
        return _download("victim-support-aggregate", fmt, "".join(lines))
    body = xlsx_file([(*by_place, place_rows), (*by_service, service_rows)])
    return _download_file("victim-support-aggregate", fmt, body)


@bp.get("/victims/export-deidentified.<fmt>")
@requires(Permission.VIEW_CASES)
def victims_export_deidentified(fmt: str) -> Response:
    """Per-victim rows for analysts: consenting victims only, pseudonymous ids, shifted dates."""
    if fmt not in FORMATS:
        abort(404)
    if not services.sees_rows(current_user):
        abort(403)  # those who see only aggregates get no rows, even de-identified ones
    _form, filters = _victim_filters()
    with read_only():
        total = services.victims_count(current_user, filters, consented_only=True)
    _audit_export("victim-support-deidentified", fmt, filters.as_dict(), total)
    query = services.support_rows(current_user, filters, consented_only=True)
    return _per_victim_download("victim-support-deidentified", fmt, query, total, deidentified=True)


@bp.get("/victims/download.<fmt>")
@requires(Permission.VIEW_CASES)
def victims_download(fmt: str) -> str:
    """The page that starts the per-victim export and shows how far it has got."""
    return _progress_page("reports.victims_export", fmt)


@bp.get("/victims/download-deidentified.<fmt>")
@requires(Permission.VIEW_CASES)
def victims_download_deidentified(fmt: str) -> str:
    return _progress_page("reports.victims_export_deidentified", fmt)


def _progress_page(export_endpoint: str, fmt: str) -> str:
    if fmt not in FORMATS:
        abort(404)
    if not services.sees_rows(current_user):
        abort(403)  # aggregate roles download small suppressed tables directly
    args = _carried(VictimFilterForm(request.args))
    token = progress.new_token(current_user.id)
    return render_template(
        "reports/download.html",
        download_url=url_for(export_endpoint, fmt=fmt, progress=token, **args),
        status_url=url_for("reports.export_progress", token=token),
        back_url=url_for("reports.victims", **args),
    )


@bp.get("/export-progress")
@requires(Permission.VIEW_CASES)
def export_progress() -> Response:
    """How far the signed-in user's export has got; "unknown" for any token not theirs."""
    response = jsonify(progress.status(request.args.get("token", ""), current_user.id))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- assistance ------------------------------------------------------------------------------


def _grouping() -> str:
    by = request.args.get("by", "type")
    return by if by in services.ASSISTANCE_GROUPS else "type"


@bp.get("/assistance")
@requires(Permission.VIEW_CASES)
def assistance() -> str | Response:
    form, filters = _victim_filters()
    by = _grouping()
    snapshot = _kept_report(
        "assistance", filters, "victims", lambda user: services.assistance_report(user, filters, by=by), by
    )
    if snapshot.value is None:
        return _pending(form, "reports.assistance", _("Assistance"))
    report = snapshot.value.report
    if report is None:
        return _too_few(form, "reports.assistance", _("Assistance"), "victims")
    chart = bar_chart(
        chart_id="assistance-chart",
        title=_("Services by %(group)s", group=services.ASSISTANCE_GROUPS[by]),
        categories=report.table.row_labels,
        series=[Series(_("services"), report.table.row_totals, "series-1")],
    )
    return render_template(
        "reports/assistance.html",
        form=form,
        report=report,
        chart=chart,
        groups=services.ASSISTANCE_GROUPS,
        by=by,
        aggregate=not services.sees_rows(current_user),
        args=_carried(form, "by"),
        figures_as_of=snapshot.computed_at,
    )


@bp.get("/assistance/export.<fmt>")
@requires(Permission.VIEW_CASES)
def assistance_export(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    form, filters = _victim_filters()
    by = _grouping()
    with read_only():
        if services.too_few_to_show_for(current_user, filters, "victims"):
            return _too_few(form, "reports.assistance", _("Assistance"), "victims", status=422)
        report = services.assistance_report(current_user, filters, by=by)
    header = [
        services.ASSISTANCE_GROUPS[by],
        *report.table.column_labels,
        "total",
        "median days referral to start",
        "median days start to completion",
    ]
    rows = services.assistance_export_rows(report)
    _audit_export("assistance", fmt, {**filters.as_dict(), "by": by}, len(rows))
    if fmt == "csv":
        return _download("assistance", fmt, "".join(csv_lines(header, rows)))
    return _download_file("assistance", fmt, xlsx_file([("Assistance", header, rows)]))


# --- allegation clock ----------------------------------------------------------------------


@bp.get("/clock")
@requires(Permission.VIEW_CASES)
def clock() -> str | Response:
    form, filters = _allegation_filters()
    snapshot = _kept_report(
        "clock", filters, "allegations", lambda user: services.clock_report(user, filters)
    )
    if snapshot.value is None:
        return _pending(form, "reports.clock", _("Allegation clock"))
    report = snapshot.value.report
    if report is None:
        return _too_few(form, "reports.clock", _("Allegation clock"), "allegations")
    late_at = [k for k, _ in services.CLOCK_STATES].index("late")
    overdue_at = [k for k, _ in services.CLOCK_STATES].index("overdue")
    chart = bar_chart(
        chart_id="clock-chart",
        title=_("Allegation clock: steps on time and late, by step"),
        categories=[row.label for row in report.rows],
        series=[
            Series(_("on time"), [row.counts[0] for row in report.rows], "series-1"),
            Series(
                _("late or overdue"),
                [_sum(row.counts[late_at], row.counts[overdue_at]) for row in report.rows],
                "series-2",
            ),
        ],
    )
    return render_template(
        "reports/clock.html",
        form=form,
        report=report,
        states=services.CLOCK_STATES,
        chart=chart,
        args=_carried(form),
        figures_as_of=snapshot.computed_at,
    )


def _sum(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _allegation_filters() -> tuple[AllegationFilterForm, VictimFilters]:
    form = AllegationFilterForm(request.args)
    if request.args and not form.validate():
        return form, VictimFilters()
    return form, VictimFilters(
        country_code=(form.country.data or "").strip().upper(),
        mission=(form.mission.data or "").strip().upper(),
        year=form.year.data,
    )


@bp.get("/clock/export.<fmt>")
@requires(Permission.VIEW_CASES)
def clock_export(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    form, filters = _allegation_filters()
    with read_only():
        if services.too_few_to_show_for(current_user, filters, "allegations"):
            return _too_few(form, "reports.clock", _("Allegation clock"), "allegations", status=422)
        report = services.clock_report(current_user, filters)
    header = ["step", "limit", *[label for _, label in services.CLOCK_STATES], "allegations", "average days"]
    rows = [
        [
            row.label,
            row.limit,
            *["suppressed" if n is None else n for n in row.counts],
            row.allegations,
            row.average_days,
        ]
        for row in report.rows
    ]
    _audit_export("allegation-clock", fmt, filters.as_dict(), len(rows))
    if fmt == "csv":
        return _download("allegation-clock", fmt, "".join(csv_lines(header, rows)))
    return _download_file("allegation-clock", fmt, xlsx_file([("Allegation clock", header, rows)]))


# --- paternity and child-support claims ----------------------------------------------------


@bp.get("/claims")
@requires(Permission.VIEW_CASES)
def claims() -> str | Response:
    form, filters = _claim_filters()
    snapshot = _kept_report("claims", filters, "claims", lambda user: services.claims_report(user, filters))
    if snapshot.value is None:
        return _pending(form, "reports.claims", _("Paternity claims"))
    report = snapshot.value.report
    if report is None:
        return _too_few(form, "reports.claims", _("Paternity claims"), "claims")
    chart = bar_chart(
        chart_id="claims-chart",
        title=_("Claims by step"),
        categories=report.by_state.column_labels,
        series=[Series(_("claims"), report.by_state.column_totals, "series-1")],
    )
    return render_template(
        "reports/claims.html",
        form=form,
        report=report,
        chart=chart,
        args=_carried(form),
        figures_as_of=snapshot.computed_at,
    )


def _claim_filters() -> tuple[ClaimFilterForm, VictimFilters]:
    form = ClaimFilterForm(request.args)
    if request.args and not form.validate():
        return form, VictimFilters()
    minor = {"yes": True, "no": False}.get(form.minor.data or "")
    return form, VictimFilters(
        country_code=(form.country.data or "").strip().upper(),
        mission=(form.mission.data or "").strip().upper(),
        year=form.year.data,
        sex=form.sex.data or "",
        minor=minor,
    )


def _claims_sheets(report: services.ClaimsReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    def show(value: Any) -> Any:
        return "suppressed" if value is None else value

    return [
        (
            "By member state and step",
            ["member state", *report.by_state.column_labels, "total"],
            services.aggregate_export_rows(report.by_state),
        ),
        ("Open claims by age", ["age", "open claims"], [[label, show(n)] for label, n in report.by_age]),
        (
            "Waiting on member states",
            ["member state", "open claims", "waiting for a reply", "longest wait (days)"],
            [[w.member_state, show(w.open_claims), show(w.waiting), w.longest_days] for w in report.waiting],
        ),
        (
            "Child support",
            ["currency", "due", "received", "arrears", "claims in arrears"],
            [
                [a.currency, show(a.due), show(a.received), show(a.arrears), show(a.claims_in_arrears)]
                for a in report.arrears
            ],
        ),
    ]


@bp.get("/claims/export.<fmt>")
@requires(Permission.VIEW_CASES)
def claims_export(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    form, filters = _claim_filters()
    with read_only():
        if services.too_few_to_show_for(current_user, filters, "claims"):
            return _too_few(form, "reports.claims", _("Paternity claims"), "claims", status=422)
        report = services.claims_report(current_user, filters)
    sheets = _claims_sheets(report)
    _audit_export("claims", fmt, filters.as_dict(), sum(len(rows) for _, _, rows in sheets))
    if fmt == "csv":
        lines: list[str] = []
        for number, (title, header, rows) in enumerate(sheets):
            section = [[title, *row] for row in rows]
            lines += [*csv_lines(["section", *header], section, bom=number == 0), "\r\n"]
        return _download("claims", fmt, "".join(lines))
    return _download_file("claims", fmt, xlsx_file(sheets))


# --- fund statement --------------------------------------------------------------------------


@bp.get("/fund")
@requires(Permission.READ_LEDGER)
def fund() -> str:
    form, start, end = _period()
    today, small_counts_below = date.today(), _small_counts_below()

    def compute() -> tuple[services.FundStatement, Markup]:
        statement = services.fund_statement(start, end, today=today, small_counts_below=small_counts_below)
        # The portfolio's rows (2,000 at 100,000 victims) take seconds to format: kept rendered.
        portfolio = render_template("reports/_fund_portfolio.html", projects=statement.projects)
        return statement, Markup(portfolio)  # noqa: S704  # nosec B704 - escaped by Jinja as it rendered

    with read_only():
        statement, portfolio = kept.figures(
            "fund report", compute, start, end, today, small_counts_below, str(get_locale())
        )
    chart = bar_chart(
        chart_id="fund-by-month",
        title=_(
            "Income and spending by month, %(start)s to %(end)s (US$)",
            start=f"{start:%d %b %Y}",
            end=f"{end:%d %b %Y}",
        ),
        categories=[month for month, _, _ in statement.months],
        series=[
            Series(_("income"), [income for _, income, _ in statement.months], "series-1"),
            Series(_("spending"), [spending for _, _, spending in statement.months], "series-2"),
        ],
    )
    return render_template(
        "reports/fund.html",
        form=form,
        statement=statement,
        portfolio=portfolio,
        chart=chart,
        args=_carried(form),
    )


FUND_SHEETS = {
    "summary": ["item", "source", "US$"],
    "pledges": ["donor", "pledged US$", "received US$", "outstanding US$"],
    "withheld": ["contributing country", "withheld US$", "transferred US$", "outstanding US$"],
    "projects": [
        "title",
        "partner",
        "country",
        "focus",
        "status",
        "planned start",
        "planned end",
        "actual start",
        "actual end",
        "approved US$",
        "disbursed US$",
        "remaining US$",
        "victims listed",
        "behind schedule",
    ],
    "months": ["month", "income US$", "spending US$"],
}


def _fund_sheets(statement: services.FundStatement) -> list[tuple[str, list[str], list[list[Any]]]]:
    summary: list[list[Any]] = [["opening fund balance", "", statement.opening_balance]]
    summary += [[f"income: {category}", source, amount] for category, source, amount in statement.income]
    summary.append(["total income", "", statement.total_income])
    summary += [[f"expense: {category}", "", amount] for category, amount in statement.expenses]
    summary.append(["total expenses", "", statement.total_expenses])
    summary.append(["closing fund balance", "", statement.closing_balance])
    summary.append(["opening cash", "", statement.opening_cash])
    summary.append(["closing cash", "", statement.closing_cash])
    projects = [
        ["suppressed" if k == "victims_listed" and p[k] is None else p[k] for k in services.PROJECT_KEYS]
        for p in statement.projects
    ]
    return [
        (f"Fund {statement.start} to {statement.end}"[:31], FUND_SHEETS["summary"], summary),
        ("Pledges and receipts", FUND_SHEETS["pledges"], [list(r) for r in statement.pledges]),
        ("Withheld payments", FUND_SHEETS["withheld"], [list(r) for r in statement.withheld]),
        ("Projects", FUND_SHEETS["projects"], projects),
        ("By month", FUND_SHEETS["months"], [list(r) for r in statement.months]),
    ]


@bp.get("/fund/export.<fmt>")
@requires(Permission.READ_LEDGER)
def fund_export(fmt: str) -> Response:
    if fmt not in (*FORMATS, "pdf"):
        abort(404)
    _form, start, end = _period()
    with read_only():
        statement = services.fund_statement(start, end, small_counts_below=_small_counts_below())
    sheets = _fund_sheets(statement)
    _audit_export(
        "fund-statement", fmt, {"start": start, "end": end}, sum(len(rows) for _, _, rows in sheets)
    )
    if fmt == "pdf":
        title = f"Fund statement, {start.isoformat()} to {end.isoformat()}"
        return _download("fund-statement", fmt, fund_statement_pdf(title, sheets, generated=date.today()))
    if fmt == "csv":
        lines: list[str] = []
        for number, (title, header, rows) in enumerate(sheets):
            section = [[title, *row] for row in rows]
            lines += [*csv_lines(["section", *header], section, bom=number == 0), "\r\n"]
        return _download("fund-statement", fmt, "".join(lines))
    return _download_file("fund-statement", fmt, xlsx_file(sheets))
