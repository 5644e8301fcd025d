"""The paternity and child-support claims report's page and export."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from vat.auth.policy import Permission, requires
from vat.db import read_only
from vat.reports.charts import Series, bar_chart
from vat.reports.claims import ClaimsReport, claims_report
from vat.reports.forms import ClaimFilterForm
from vat.reports.scope import aggregate_export_rows
from vat.reports.views.blueprint import (
    FORMATS,
    Sheet,
    audit_export,
    bp,
    carried,
    download_sheets,
    filters_from,
    kept_report,
    pending,
    refused,
    too_few,
)


@bp.get("/claims")
@requires(Permission.VIEW_CASES)
def claims() -> str | Response:
    form, filters = filters_from(ClaimFilterForm)
    snapshot = kept_report("claims", filters, "claims", lambda user: claims_report(user, filters))
    if snapshot.value is None:
        return pending(form, "reports.claims", _("Paternity claims"))
    report = snapshot.value.report
    if report is None:
        return too_few(form, "reports.claims", _("Paternity claims"), "claims")
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
        args=carried(form),
        figures_as_of=snapshot.computed_at,
    )


def _claims_sheets(report: ClaimsReport) -> list[Sheet]:
    def show(value: Any) -> Any:
        return "suppressed" if value is None else value

    return [
        (
            "By member state and step",
            ["member state", *report.by_state.column_labels, "total"],
            aggregate_export_rows(report.by_state),
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
    form, filters = filters_from(ClaimFilterForm)
    if refused(filters, "claims"):
        return too_few(form, "reports.claims", _("Paternity claims"), "claims", status=422)
    with read_only():
        report = claims_report(current_user, filters)
    sheets = _claims_sheets(report)
    audit_export("claims", fmt, filters.as_dict(), sum(len(rows) for _, _, rows in sheets))
    return download_sheets("claims", fmt, sheets)
