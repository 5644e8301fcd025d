"""The quality of the help as victims judge it: the page, its chart and its export."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vat.reports.charts import Series, bar_chart
from vat.reports.needs import (
    QUALITY_GROUPS,
    QUALITY_HEADER,
    QualityReport,
    quality_export_rows,
    quality_report,
)
from vat.reports.views.blueprint import Sheet, route_grouped


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


route_grouped("quality", _l("Quality of the help"), QUALITY_GROUPS, quality_report, _chart, _sheet)
