"""The quality of the help as victims judge it: the page, its chart and its export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

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
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.views.blueprint import ReportPage, audit_export, bp, download_sheet, grouping
from vat.submission import writes

PAGE = ReportPage("reports.quality", VictimFilterForm, "victims", _l("Quality of the help"))


@bp.get("/quality")
@requires(Permission.VIEW_CASES)
def quality() -> str | Response:
    by = grouping(QUALITY_GROUPS)

    def make(user: Actor, filters: VictimFilters) -> QualityReport:
        return quality_report(user, filters, by=by)

    def context(report: QualityReport, _filters: VictimFilters) -> dict[str, Any]:
        chart = bar_chart(
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
        return {
            "report": report,
            "chart": chart,
            "groups": QUALITY_GROUPS,
            "by": by,
            "aggregate": not sees_rows(current_user),
        }

    return PAGE.show("reports/quality.html", make, context, carry=("by",))


@bp.get("/quality/export.<fmt>")
@requires(Permission.VIEW_CASES)
@writes
def quality_export(fmt: str) -> Response:
    filters = PAGE.export_filters(fmt)
    by = grouping(QUALITY_GROUPS)
    report = quality_report(current_user, filters, by=by)
    rows = quality_export_rows(report)
    audit_export("quality", fmt, {**filters.as_dict(), "by": by}, len(rows))
    return download_sheet("quality", fmt, ("Quality", [str(QUALITY_GROUPS[by]), *QUALITY_HEADER], rows))
