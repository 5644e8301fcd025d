"""The reports landing page, and the figures that open each role's dashboard too."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from vat.auth.policy import Permission, can, requires
from vat.reports.charts import income_and_spending_chart
from vat.reports.summary import summary
from vat.reports.views.blueprint import bp


@bp.get("/")
@requires(Permission.VIEW_CASES)
def index() -> str:
    return render_template("reports/index.html", **landing_figures())


def landing_figures() -> dict[str, Any]:
    """The few figures and the chart that open each role's dashboard and the reports page."""
    figures = summary(current_user, reads_ledger=can(current_user, Permission.READ_LEDGER))
    chart = None
    if figures.fund is not None:
        chart = income_and_spending_chart(
            chart_id="fund-this-year",
            title=_("The fund's income and spending by month, this year (US$)"),
            months=figures.fund.months,
            income=_("income"),
            spending=_("spending"),
        )
    return {"summary": figures, "chart": chart}
