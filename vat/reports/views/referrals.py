"""The referral-pathways report's page and export: waits per provider and the gap map."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat.auth.policy import Permission, requires
from vat.reports.charts import counts_chart
from vat.reports.forms import VictimFilterForm
from vat.reports.referrals import ReferralReport, referral_export_sheets, referral_report
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.views.blueprint import ReportPage, audit_export, bp, download_sheets
from vat.submission import writes

PAGE = ReportPage("reports.referrals", VictimFilterForm, "victims", _l("Referral pathways"))


@bp.get("/referrals")
@requires(Permission.VIEW_CASES)
def referrals() -> str | Response:
    def context(report: ReferralReport, _filters: VictimFilters) -> dict[str, Any]:
        chart = counts_chart(
            chart_id="gaps-chart",
            title=_("Referrals that found no service, by service type"),
            categories=report.gaps.column_labels,
            name=_("referrals"),
            counts=report.gaps.column_totals,
        )
        return {"report": report, "chart": chart, "aggregate": not sees_rows(current_user)}

    return PAGE.show("reports/referrals.html", referral_report, context)


@bp.get("/referrals/export.<fmt>")
@requires(Permission.VIEW_CASES)
@writes
def referrals_export(fmt: str) -> Response:
    filters = PAGE.export_filters(fmt)
    sheets = referral_export_sheets(referral_report(current_user, filters))
    audit_export("referrals", fmt, filters.as_dict(), sum(len(rows) for _title, _header, rows in sheets))
    return download_sheets("referrals", fmt, sheets)
