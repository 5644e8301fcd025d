"""The Secretary-General's tables and OIOS's metrics (vat.reports.un_report): the page, its
exports, and a year's sealed figures pack (vat.reports.figures_pack) with the statistics page's
tables beside them."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat.auth.policy import Permission, requires
from vat.inputs import country_label
from vat.reports.figures_pack import sealed_pack
from vat.reports.scope import Period, VictimFilters
from vat.reports.statistics import SEPARATOR, statistics
from vat.reports.un_followup import OTHER_INVESTIGATORS, UNITED_NATIONS
from vat.reports.un_report import Measure, UnReport, un_report
from vat.reports.views.blueprint import Sheet, audit_export, bp, carried, download_sheets
from vat.reports.views.statistics import (
    ENTITY_ROWS,
    ShownTable,
    _context,
    _parsed,
    _refusal,
    _sheet,
    _shown,
    label,
)
from vat.victims.labels import cycle_step_label

TITLE = _l("The Secretary-General's tables and OIOS's metrics")
PAGE = "reports/un_report.html"
TOO_FEW = _l("Too few allegations match these filters to show figures; widen them.")
PERSONNEL_ROWS = {
    "military": _l("military personnel"),
    "police": _l("police personnel"),
    "civilian": _l("civilian personnel"),
    "unknown": _l("personnel category not recorded"),
}
COLUMNS = {
    "number_recorded": _l("number of perpetrators recorded"),
    "number_not_recorded": _l("number of perpetrators not recorded"),
    "perpetrators": _l("alleged perpetrators"),
    "unknown": _l("sex or age unknown"),
}
MEASURES = {
    "referral_days": (
        _l("Average days from intake to referral for investigation (limit: 10)"),
        _l("allegations"),
    ),
    "referred_within": (_l("Referred within 10 days (%)"), _l("allegations")),
    "investigation_months": (
        _l("Average months of investigation, referral to completion"),
        _l("allegations"),
    ),
    "investigated_within": (_l("Investigations completed within 6 months (%)"), _l("allegations")),
    "open": (_l("Allegations still open"), _l("allegations")),
    "open_age_days": (_l("Average age of the open allegations (days)"), _l("allegations")),
    "substantiated": (_l("Substantiated, of the allegations decided (%)"), _l("allegations")),
    "sanctioned": (_l("Substantiated allegations with a sanction recorded (%)"), _l("allegations")),
    "sanctioned_persons": (
        _l("Alleged perpetrators of substantiated allegations with a sanction recorded (%)"),
        _l("alleged perpetrators"),
    ),
    "no_assistance": (_l("Victims named who have received no assistance (%)"), _l("victims")),
}


INVESTIGATORS = {
    UNITED_NATIONS: _l("United Nations (OIOS, missions, agencies, joint)"),
    OTHER_INVESTIGATORS: _l("national authorities, or investigator not recorded"),
}
BY_MEMBER_STATE = ("results_missing", "actions_awaited")


def _row_label(key: str, value: str) -> str:
    if key in ("personnel_groups", "perpetrators"):
        return label(value, {**PERSONNEL_ROWS, **ENTITY_ROWS})
    if key == "victims_by_type":
        category, kind = value.split(SEPARATOR)
        return f"{label(category, ENTITY_ROWS)}: {label(kind)}"
    if key == "persons":
        step, measure = value.split(SEPARATOR)
        return f"{cycle_step_label(step)}: {label(measure)}"
    if key in BY_MEMBER_STATE:
        return str(INVESTIGATORS[value]) if value in INVESTIGATORS else label(value and country_label(value))
    return label(value, ENTITY_ROWS)


def _column_label(key: str, value: str) -> str:
    return label(value, {**PERSONNEL_ROWS, **ENTITY_ROWS} if key == "persons" else COLUMNS)


def _tables(report: UnReport) -> list[ShownTable]:
    titles = {
        "personnel_groups": (_("Allegations by personnel category"), _("personnel")),
        "perpetrators": (_("Alleged perpetrators by personnel category"), _("personnel")),
        "outcomes": (_("Allegations by investigation status and outcome"), _("status")),
        "victims_by_category": (_("Victims by entity category"), _("entity category")),
        "victims_by_type": (
            _("Victims by entity category and type of allegation"),
            _("entity category and type"),
        ),
        "persons": (_("Alleged perpetrators by action taken in the period"), _("action")),
        "results_received": (
            _("Investigation results received in the period on earlier years' allegations"),
            _("year of allegation"),
        ),
        "results_missing": (
            _("Earlier years' investigations without results at the period's end, by investigator"),
            _("investigated by"),
        ),
        "actions_reported": (
            _("Substantiated allegations on which member states reported action in the period"),
            _("year of allegation"),
        ),
        "actions_awaited": (
            _("Earlier years' substantiated allegations awaiting member-state action at the period's end"),
            _("member state"),
        ),
    }
    counted = {"persons": _("alleged perpetrators"), "victims_by_category": _("victims")}
    counted["victims_by_type"] = counted["victims_by_category"]
    return [
        _shown(
            key,
            *titles[key],
            table,
            row_label=partial(_row_label, key),
            column_label=partial(_column_label, key),
            counted=counted.get(key, _("allegations")),
        )
        for key, table in report.tables.items()
    ]


def _measure_rows(measures: list[Measure]) -> list[list[Any]]:
    def shown(value: Any) -> Any:
        return "suppressed" if value is None else value

    rows = []
    for measure in measures:
        name, unit = MEASURES[measure.key]
        rows.append(
            [str(name), shown(measure.value if measure.base != 0 else "—"), shown(measure.base), str(unit)]
        )
    return rows


def _sheets(report: UnReport) -> list[Sheet]:
    sheets: list[Sheet] = [_sheet(table) for table in _tables(report)]
    if report.measures:
        sheets.append(
            (
                _("OIOS metrics"),
                [_("measure"), _("value"), _("counted over"), ""],
                _measure_rows(report.measures),
            )
        )
    return sheets


def _page(**context: Any) -> dict[str, Any]:
    return {"title": TITLE, **context}


@bp.get("/un-report")
@requires(Permission.VIEW_CASES)
def un_report_page() -> str | Response:
    form, filters, period = _parsed()
    page = _page(form=form, args=carried(form))
    if period is None:
        return Response(render_template(PAGE, **page), status=400)
    refusal = _refusal(period)
    if refusal:
        return render_template(PAGE, refusal=refusal, **page)
    report = un_report(current_user, filters, period)
    measures = _measure_rows(report.measures)
    return render_template(
        PAGE, report=report, shown=_tables(report), measures=measures, too_few=TOO_FEW, **page
    )


def _report_or_refusal() -> tuple[VictimFilters, Period, UnReport]:
    form, filters, period = _parsed()
    page = _page(form=form, args=carried(form))
    if period is None:
        abort(Response(render_template(PAGE, **page), status=400))
    refusal = _refusal(period)
    if refusal:
        abort(Response(render_template(PAGE, refusal=refusal, **page), status=422))
    report = un_report(current_user, filters, period)
    if report.refused:
        abort(Response(render_template(PAGE, report=report, too_few=TOO_FEW, **page), status=422))
    return filters, period, report


@bp.get("/un-report/export.<any(csv, xlsx):fmt>")
@requires(Permission.VIEW_CASES)
def un_report_export(fmt: str) -> Response:
    filters, period, report = _report_or_refusal()
    sheets = _sheets(report)
    audit_export(
        "un-report", fmt, {**filters.as_dict(), "period": period.name}, sum(len(s[2]) for s in sheets)
    )
    return download_sheets(f"un-report-{period.name.replace('/', '_')}", fmt, sheets)


@bp.get("/un-report/figures-pack.zip")
@requires(Permission.VIEW_CASES)
def figures_pack() -> Response:
    """A year's figures: this page's tables and metrics and the statistics page's, sealed."""
    filters, period, report = _report_or_refusal()
    if period.kind != "year":
        abort(404)
    shown = _context(statistics(current_user, filters, period))["shown"]
    sheets = [_sheet(table) for table in shown] + _sheets(report)
    described = {**filters.as_dict(), "period": period.name}
    pack = sealed_pack(
        sheets,
        period=period.name,
        filters=described,
        produced_by=current_user.username,
        threshold=report.threshold,
    )
    audit_export("figures-pack", "zip", described, sum(len(s[2]) for s in sheets))
    response = Response(pack, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="figures-pack-{period.name}.zip"'
    return response
