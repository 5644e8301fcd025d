"""Per-victim support: rows for advocates (a page at a time, or whole as an export, run as a job),
suppressed aggregates for everyone else."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from vat import jobs
from vat.auth.actor import Actor
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.paging import page_number
from vat.reports import export_jobs
from vat.reports.charts import pairs_chart, table_chart
from vat.reports.exports import csv_lines, xlsx_file
from vat.reports.forms import VictimFilterForm
from vat.reports.needs import needs_table
from vat.reports.scope import VictimFilters, aggregate_export_rows, cents, sees_rows
from vat.reports.support import (
    STATUS_COLUMNS,
    SUPPORT_COLUMNS,
    TYPE_COLUMNS,
    AggregateSupport,
    Headline,
    aggregate_support,
    headline,
    services_by_type,
    support_rows,
)
from vat.reports.views.blueprint import (
    FORMATS,
    ReportPage,
    audit_export,
    bp,
    carried,
    download,
    download_file,
    filters_from,
    route_report,
)

PAGE_SIZE = 100


PAGE = ReportPage("reports.victims", VictimFilterForm, "victims", _l("Per-victim support"))


def victims() -> str | Response:
    if not sees_rows(current_user):  # counts only, small ones suppressed
        return PAGE.show("reports/victims_aggregate.html", aggregate_support, _aggregate_context)
    return PAGE.show("reports/victims.html", _figures, _rows_context)


def _aggregate_context(result: AggregateSupport, _filters: VictimFilters) -> dict[str, Any]:
    chart = table_chart(
        "services-by-type",
        _("Services by type (small counts hidden)"),
        _("services"),
        result.by_service,
        by="rows",
    )
    return {"result": result, "chart": chart, "needs": needs_table(current_user, _filters)}


def _figures(user: Actor, filters: VictimFilters) -> tuple[Headline, list[tuple[str, int]]]:
    return headline(user, filters), services_by_type(user, filters)


def _rows_context(
    figures_by_type: tuple[Headline, list[tuple[str, int]]], filters: VictimFilters
) -> dict[str, Any]:
    """The figures over every victim matching the filters, and this page's victims."""
    figures, by_type = figures_by_type
    page = page_number(request.args.get("page"))
    query = support_rows(current_user, filters, page=(PAGE_SIZE, (page - 1) * PAGE_SIZE))
    rows = db.session.execute(query).all()
    chart = pairs_chart("services-by-type", _("Services by type"), _("services"), by_type)
    return {
        "figures": figures,
        "rows": rows,
        "page": page,
        "pages": max(((figures.victims or 0) + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "type_columns": TYPE_COLUMNS,
        "status_columns": STATUS_COLUMNS,
        "cents": cents,
        "chart": chart,
        "by_type": by_type,
        "needs": needs_table(current_user, filters),
    }


def victims_export(fmt: str) -> WerkzeugResponse:
    """Aggregate roles download their small suppressed tables here; per-victim rows are a job now,
    so an old bookmark for them leads (303, same filters) to the page that starts it."""
    filters = PAGE.export_filters()
    if sees_rows(current_user):
        return redirect(
            url_for("reports.victims_download", fmt=fmt, **carried(VictimFilterForm(request.args))), 303
        )

    result = aggregate_support(current_user, filters)
    by_place = ("Victims by place", ["country / mission", *SUPPORT_COLUMNS, "total"])
    by_service = ("Services by type", ["service type", *result.by_service.column_labels, "total"])
    place_rows = aggregate_export_rows(result.by_place)
    service_rows = aggregate_export_rows(result.by_service)
    audit_export("victim-support-aggregate", fmt, filters.as_dict(), len(place_rows) + len(service_rows))
    if fmt == "csv":
        lines = [
            *csv_lines(by_place[1], place_rows),
            "\r\n",
            *csv_lines(by_service[1], service_rows, bom=False),
        ]
        return download("victim-support-aggregate", fmt, "".join(lines))
    body = xlsx_file([(*by_place, place_rows), (*by_service, service_rows)])
    return download_file("victim-support-aggregate", fmt, body)


route_report("victims", victims, victims_export, path="victims")


@bp.get("/victims/export-deidentified.<fmt>")
@requires(Permission.VIEW_CASES)
def victims_export_deidentified(fmt: str) -> WerkzeugResponse:
    """Retired in-request export: an old bookmark leads (303, same filters) to the job's start page."""
    _refuse_unless_rows(fmt)
    args = carried(VictimFilterForm(request.args))
    return redirect(url_for("reports.victims_download_deidentified", fmt=fmt, **args), 303)


# The per-victim export, identified or de-identified: a page that starts it as a job, and the
# POST that starts it. Each kind keeps its own addresses and endpoint names.


@requires(Permission.VIEW_CASES)
def victims_download(fmt: str, deidentified: bool) -> str:
    """The page that starts the per-victim export as a job."""
    start = "reports.start_victims_export_deidentified" if deidentified else "reports.start_victims_export"
    return _start_page(start, fmt)


@requires(Permission.VIEW_CASES)
def start_victims_export(fmt: str, deidentified: bool) -> WerkzeugResponse:
    return _start_export("victim-support-deidentified" if deidentified else "victim-support", fmt)


def _route_export(suffix: str, *, deidentified: bool) -> None:
    path = f"/victims/download{suffix.replace('_', '-')}.<fmt>"
    kind = {"deidentified": deidentified}
    bp.add_url_rule(path, f"victims_download{suffix}", victims_download, methods=["GET"], defaults=kind)
    bp.add_url_rule(
        path, f"start_victims_export{suffix}", start_victims_export, methods=["POST"], defaults=kind
    )


_route_export("", deidentified=False)
_route_export("_deidentified", deidentified=True)


def _refuse_unless_rows(fmt: str) -> None:
    if fmt not in FORMATS:
        abort(404)
    if not sees_rows(current_user):
        abort(403)  # aggregate roles download small suppressed tables directly


def _start_page(start_endpoint: str, fmt: str) -> str:
    _refuse_unless_rows(fmt)
    args = carried(VictimFilterForm(request.args))
    return render_template(
        "reports/download.html",
        form=EmptyForm(),
        start_url=url_for(start_endpoint, fmt=fmt, **args),
        back_url=url_for("reports.victims", **args),
    )


def _start_export(name: str, fmt: str) -> WerkzeugResponse:
    """Queue the export (the filters come from the address, as on the report) and follow it."""
    _refuse_unless_rows(fmt)
    _form, filters = filters_from(VictimFilterForm)
    job = export_jobs.start(actor=current_user, name=name, fmt=fmt)
    db.session.commit()
    jobs.enqueue(job.id, export_jobs.parameters(fmt=fmt, filters=filters, address=request.remote_addr))
    return redirect(url_for("reports.export_job", job_id=job.id), 303)
