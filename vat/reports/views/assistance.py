"""The assistance report's page and export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
from vat.reports.scope import VictimFilters
from vat.reports.views.blueprint import ReportPage, Sheet, bp
from vat.submission import writes

PAGE = ReportPage("reports.assistance", VictimFilterForm, "victims", _l("Assistance"))


def _chart(report: AssistanceReport, by: str) -> Any:
    return counts_chart(
        chart_id="assistance-chart",
        title=_("Services by %(group)s", group=ASSISTANCE_GROUPS[by]),
        categories=report.table.row_labels,
        name=_("services"),
        counts=report.table.row_totals,
    )


def _sheet(report: AssistanceReport, by: str) -> Sheet:
    header = [
        str(ASSISTANCE_GROUPS[by]),
        *report.table.column_labels,
        "total",
        "median days referral to start",
        "median days start to completion",
    ]
    return ("Assistance", header, assistance_export_rows(report))


def _report(user: Actor, filters: VictimFilters, by: str) -> AssistanceReport:
    return assistance_report(user, filters, by=by)


@bp.get("/assistance")
@requires(Permission.VIEW_CASES)
def assistance() -> str | Response:
    return PAGE.show_grouped("reports/assistance.html", ASSISTANCE_GROUPS, _report, _chart)


@bp.get("/assistance/export.<fmt>")
@requires(Permission.VIEW_CASES)
@writes
def assistance_export(fmt: str) -> Response:
    return PAGE.export_grouped("assistance", fmt, ASSISTANCE_GROUPS, _report, _sheet)
