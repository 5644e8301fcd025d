"""The allegation clock's page and export."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vat.reports.charts import Series, bar_chart
from vat.reports.clock import CLOCK_STATES, ClockReport, clock_report
from vat.reports.forms import AllegationFilterForm
from vat.reports.scope import VictimFilters
from vat.reports.views.blueprint import ReportPage, Sheet

PAGE = ReportPage("reports.clock", AllegationFilterForm, "allegations", _l("Allegation clock"))


def _context(report: ClockReport, _filters: VictimFilters) -> dict[str, Any]:
    late_at = [k for k, _ in CLOCK_STATES].index("late")
    overdue_at = [k for k, _ in CLOCK_STATES].index("overdue")
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
    return {"report": report, "states": CLOCK_STATES, "chart": chart}


def _sum(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _sheet(report: ClockReport) -> Sheet:
    header = ["step", "limit", *[str(label) for _, label in CLOCK_STATES], "allegations", "average days"]
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
    return ("Allegation clock", header, rows)


PAGE.route("reports/clock.html", clock_report, _context, _sheet, export_as="allegation-clock")
