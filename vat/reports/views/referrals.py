"""The referral-pathways report's page and export: waits per provider and the gap map."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat.reports.charts import table_chart
from vat.reports.forms import VictimFilterForm
from vat.reports.referrals import ReferralReport, referral_export_sheets, referral_report
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.views.blueprint import ReportPage, paged, paged_args

PAGE = ReportPage("reports.referrals", VictimFilterForm, "victims", _l("Referral pathways"))


def _context(report: ReferralReport, _filters: VictimFilters) -> dict[str, Any]:
    chart = table_chart(
        "gaps-chart",
        _("Referrals that found no service, by service type"),
        _("referrals"),
        report.gaps,
        by="columns",
    )
    return {
        "report": report,
        "chart": chart,
        "aggregate": not sees_rows(current_user),
        "places": paged("places_page", range(len(report.gaps.row_labels))),
        "times": paged("times_page", report.times),
        "paged_args": paged_args(VictimFilterForm, "places_page", "times_page"),
    }


PAGE.route("reports/referrals.html", referral_report, _context, referral_export_sheets, export_as="referrals")
