"""The assistance report's page and export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat.auth.actor import Actor
from vat.auth.policy import Permission, requires
from vat.reports.assistance import (
    ASSISTANCE_GROUPS,
    AssistanceReport,
    assistance_export_rows,
    assistance_report,
)
from vat.reports.charts import counts_chart
from vat.reports.forms import VictimFilterForm
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.views.blueprint import ReportPage, audit_export, bp, download_sheet, grouping
from vat.submission import writes

PAGE = ReportPage("reports.assistance", VictimFilterForm, "victims", _l("Assistance"))


@bp.get("/assistance")
@requires(Permission.VIEW_CASES)
def assistance() -> str | Response:
    by = grouping(ASSISTANCE_GROUPS)

    def make(user: Actor, filters: VictimFilters) -> AssistanceReport:
        return assistance_report(user, filters, by=by)

    def context(report: AssistanceReport, _filters: VictimFilters) -> dict[str, Any]:
        chart = counts_chart(
            chart_id="assistance-chart",
            title=_("Services by %(group)s", group=ASSISTANCE_GROUPS[by]),
            categories=report.table.row_labels,
            name=_("services"),
            counts=report.table.row_totals,
        )
        return {
            "report": report,
            "chart": chart,
            "groups": ASSISTANCE_GROUPS,
            "by": by,
            "aggregate": not sees_rows(current_user),
        }

    return PAGE.show("reports/assistance.html", make, context, carry=("by",))


@bp.get("/assistance/export.<fmt>")
@requires(Permission.VIEW_CASES)
@writes
def assistance_export(fmt: str) -> Response:
    filters = PAGE.export_filters(fmt)
    by = grouping(ASSISTANCE_GROUPS)
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
