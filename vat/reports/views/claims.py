"""The paternity and child-support claims report's page and export."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vat.reports.charts import table_chart
from vat.reports.claims import ClaimsReport, claims_report
from vat.reports.forms import ClaimFilterForm
from vat.reports.scope import VictimFilters, aggregate_export_rows
from vat.reports.views.blueprint import ReportPage, Sheet, paged, paged_args

PAGE = ReportPage("reports.claims", ClaimFilterForm, "claims", _l("Paternity claims"))


def _context(report: ClaimsReport, _filters: VictimFilters) -> dict[str, Any]:
    chart = table_chart("claims-chart", _("Claims by step"), _("claims"), report.by_state, by="columns")
    return {
        "report": report,
        "chart": chart,
        "states": paged("states_page", range(len(report.by_state.row_labels))),
        "waiting": paged("waiting_page", report.waiting),
        "paged_args": paged_args(ClaimFilterForm, "states_page", "waiting_page"),
    }


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


PAGE.route("reports/claims.html", claims_report, _context, _claims_sheets, export_as="claims")
