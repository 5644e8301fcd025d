"""The assistance report's page and export."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vat.reports.assistance import (
    ASSISTANCE_GROUPS,
    AssistanceReport,
    assistance_export_rows,
    assistance_report,
)
from vat.reports.charts import table_chart
from vat.reports.views.blueprint import Sheet, route_grouped


def _chart(report: AssistanceReport, by: str) -> Any:
    return table_chart(
        "assistance-chart",
        _("Services by %(group)s", group=ASSISTANCE_GROUPS[by]),
        _("services"),
        report.table,
        by="rows",
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


route_grouped("assistance", _l("Assistance"), ASSISTANCE_GROUPS, assistance_report, _chart, _sheet)
