"""The quality of the help as victims judge it: the page, its chart and its export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.auth.policy import Permission, requires
from vat.reports.charts import Series, bar_chart
from vat.reports.forms import VictimFilterForm
from vat.reports.needs import (
    QUALITY_GROUPS,
    QUALITY_HEADER,
    QualityReport,
    quality_export_rows,
    quality_report,
)
from vat.reports.scope import VictimFilters
from vat.reports.views.blueprint import ReportPage, Sheet, bp
from vat.submission import writes

PAGE = ReportPage("reports.quality", VictimFilterForm, "victims", _l("Quality of the help"))


def _chart(report: QualityReport, by: str) -> Any:
    return bar_chart(
        chart_id="quality-chart",
        title=_(
            "Feedback by %(group)s: share satisfied and share with a complaint (%%)",
            group=QUALITY_GROUPS[by],
        ),
        categories=report.satisfaction.row_labels,
        series=[
            Series(_("satisfied (%%)"), report.satisfied_share, "series-1"),
            Series(_("with a complaint (%%)"), report.complaint_share, "series-2"),
        ],
    )


def _sheet(report: QualityReport, by: str) -> Sheet:
    return ("Quality", [str(QUALITY_GROUPS[by]), *QUALITY_HEADER], quality_export_rows(report))


def _report(user: Actor, filters: VictimFilters, by: str) -> QualityReport:
    return quality_report(user, filters, by=by)


@bp.get("/quality")
@requires(Permission.VIEW_CASES)
def quality() -> str | Response:
    return PAGE.show_grouped("reports/quality.html", QUALITY_GROUPS, _report, _chart)


@bp.get("/quality/export.<fmt>")
@requires(Permission.VIEW_CASES)
@writes
def quality_export(fmt: str) -> Response:
    return PAGE.export_grouped("quality", fmt, QUALITY_GROUPS, _report, _sheet)
