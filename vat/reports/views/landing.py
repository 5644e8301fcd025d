"""The reports landing page, and the figures that open each role's dashboard too."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from vat.auth.policy import Permission, can, requires
from vat.reports import snapshots
from vat.reports.charts import Series, bar_chart
from vat.reports.views.blueprint import bp


@bp.get("/")
@requires(Permission.VIEW_CASES)
def index() -> str:
    return render_template("reports/index.html", **landing_figures())


def landing_figures() -> dict[str, Any]:
    """The few figures and the chart that open each role's dashboard and the reports page."""
    kept = snapshots.summary_for(current_user, reads_ledger=can(current_user, Permission.READ_LEDGER))
    figures = kept.value
    chart = None
    if figures is not None and figures.fund is not None:
        chart = bar_chart(
            chart_id="fund-this-year",
            title=_("The fund's income and spending by month, this year (US$)"),
            categories=[month for month, _, _ in figures.fund.months],
            series=[
                Series(_("income"), [income for _, income, _ in figures.fund.months], "series-1"),
                Series(_("spending"), [spending for _, _, spending in figures.fund.months], "series-2"),
            ],
        )
    return {"summary": figures, "chart": chart, "figures_as_of": kept.computed_at}
