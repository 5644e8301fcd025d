"""The assistance report's page and export."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from vat.auth.policy import Permission, requires
from vat.db import read_only
from vat.reports.assistance import ASSISTANCE_GROUPS, assistance_export_rows, assistance_report
from vat.reports.charts import Series, bar_chart
from vat.reports.forms import VictimFilterForm
from vat.reports.scope import sees_rows
from vat.reports.views.blueprint import (
    FORMATS,
    audit_export,
    bp,
    carried,
    download_sheet,
    filters_from,
    kept_report,
    pending,
    refused,
    too_few,
)


def _grouping() -> str:
    by = request.args.get("by", "type")
    return by if by in ASSISTANCE_GROUPS else "type"


@bp.get("/assistance")
@requires(Permission.VIEW_CASES)
def assistance() -> str | Response:
    form, filters = filters_from(VictimFilterForm)
    by = _grouping()
    snapshot = kept_report(
        "assistance", filters, "victims", lambda user: assistance_report(user, filters, by=by), by
    )
    if snapshot.value is None:
        return pending(form, "reports.assistance", _("Assistance"))
    report = snapshot.value.report
    if report is None:
        return too_few(form, "reports.assistance", _("Assistance"), "victims")
    chart = bar_chart(
        chart_id="assistance-chart",
        title=_("Services by %(group)s", group=ASSISTANCE_GROUPS[by]),
        categories=report.table.row_labels,
        series=[Series(_("services"), report.table.row_totals, "series-1")],
    )
    return render_template(
        "reports/assistance.html",
        form=form,
        report=report,
        chart=chart,
        groups=ASSISTANCE_GROUPS,
        by=by,
        aggregate=not sees_rows(current_user),
        args=carried(form, "by"),
        figures_as_of=snapshot.computed_at,
    )


@bp.get("/assistance/export.<fmt>")
@requires(Permission.VIEW_CASES)
def assistance_export(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    form, filters = filters_from(VictimFilterForm)
    by = _grouping()
    if refused(filters, "victims"):
        return too_few(form, "reports.assistance", _("Assistance"), "victims", status=422)
    with read_only():
        report = assistance_report(current_user, filters, by=by)
    header = [
        str(ASSISTANCE_GROUPS[by]),
        *report.table.column_labels,
        "total",
        "median days referral to start",
        "median days start to completion",
    ]
    rows = assistance_export_rows(report)
    audit_export("assistance", fmt, {**filters.as_dict(), "by": by}, len(rows))
    return download_sheet("assistance", fmt, ("Assistance", header, rows))
