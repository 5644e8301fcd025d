"""Statistics as the UN publishes them: the page, its charts and its exports (a CSV of sections,
a workbook of one sheet per table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from vat.claims.models import ClaimStep
from vat.reports.charts import counts_chart, pairs_chart
from vat.reports.forms import StatisticsFilterForm
from vat.reports.scope import Period, VictimFilters, sees_rows
from vat.reports.statistics import NOT_RECORDED, SEPARATOR, Statistics, statistics
from vat.reports.suppression import SuppressedTable
from vat.reports.views.blueprint import Sheet, audit_export, carried, download_sheets, route_report
from vat.victims.labels import vat_label

TITLE = _l("Statistics as the UN publishes them")
RANGE_FOR_ADVOCATES = _l(
    "A date range is shown to advocates only: two ranges a few days apart could be subtracted to "
    "reveal a few people. Choose a quarter or a year."
)
TOO_FEW = {
    "allegations": _l("Too few allegations match these filters to show figures; widen them."),
    "victims": _l("Too few victims match these filters to show figures; widen them."),
    "claims": _l("Too few claims match these filters to show figures; widen them."),
}
HEADINGS = {
    "minor": _l("under 18"),
    "adult": _l("adult"),
    "girls": _l("girls"),
    "women": _l("women"),
    "boys": _l("boys"),
    "men": _l("men"),
    "allegations": _l("allegations"),
    "claims": _l("claims"),
    "victims": _l("victims"),
}
SHEETS = {
    "entity": _l("By entity category and type"),
    "type": _l("By type and sub-type"),
    "sub_type": _l("By sub-type"),
    "investigating": _l("By investigating entity"),
    "status": _l("By investigation status"),
    "outcome": _l("By status and outcome"),
    "mission": _l("By mission"),
    "personnel": _l("By personnel category"),
    "victims": _l("Victims by sex and age"),
    "groups": _l("Victims by UN group"),
    "claims": _l("Paternity claims by step"),
}
ALLEGATION_TABLES = {  # each table of allegations: its title, its first column and its figures
    "entity": (_l("Allegations by entity category and type"), _l("entity category"), "by_entity"),
    "type": (_l("Allegations by type and sub-type"), _l("type"), "by_type"),
    "sub_type": (_l("Allegations by sub-type"), _l("type and sub-type"), "by_sub_type"),
    "investigating": (
        _l("Allegations by investigating entity"),
        _l("investigating entity"),
        "by_investigating",
    ),
    "status": (_l("Allegations by investigation status"), _l("status"), "by_status"),
    "outcome": (_l("Allegations by status and outcome"), _l("outcome"), "by_outcome"),
    "mission": (_l("Allegations by mission"), _l("mission"), "by_mission"),
    "personnel": (_l("Allegations by personnel category"), _l("personnel category"), "by_personnel"),
}
SEX_ROWS = {"unknown": _l("sex unknown")}
ENTITY_ROWS = {
    "agency": _l("agencies, funds and programmes"),
    "implementing_partner": _l("implementing partners"),
}
AGE_COLUMNS = {"unknown": _l("age unknown")}


def label(value: str, names: dict[str, Any] | None = None) -> str:
    """A stored value as the reader's words; an empty one is "not recorded"."""
    if value == NOT_RECORDED:
        return _("not recorded")
    if names and value in names:
        return str(names[value])
    if value in HEADINGS:
        return str(HEADINGS[value])
    return vat_label(value)


def _parsed() -> tuple[StatisticsFilterForm, VictimFilters, Period | None]:
    """The filter form, its place filters and its period (None when the form is invalid). With
    nothing asked yet, this calendar year."""
    form = StatisticsFilterForm(request.args)
    if not request.args:
        form.year.data = date.today().year
        return form, VictimFilters(), Period.of_year(date.today().year)
    if not form.validate():
        return form, VictimFilters(), None
    filters = VictimFilters(
        country_code=(form.country.data or "").strip().upper(), mission=(form.mission.data or "").strip()
    )
    return form, filters, form.chosen_period()


def _refusal(period: Period) -> str | None:
    if period.kind == "range" and not sees_rows(current_user):
        return str(RANGE_FOR_ADVOCATES)
    return None


def statistics_page() -> str | Response:
    form, filters, period = _parsed()
    page: dict[str, Any] = {"form": form, "args": carried(form), "title": TITLE}
    if period is None:
        return Response(render_template("reports/statistics.html", **page), status=400)
    refusal = _refusal(period)
    if refusal:
        return render_template("reports/statistics.html", refusal=refusal, **page)
    report = statistics(current_user, filters, period)
    return render_template("reports/statistics.html", **page, **_context(report))


@dataclass(frozen=True)
class ShownTable:
    """A table as the page shows it: words for every label, None for a hidden count; its chart
    drawn when a page shows it (an export or the figures pack never does)."""

    key: str
    title: str
    header: list[str]
    rows: list[tuple[str, list[int | None]]]
    totals: list[int | None]
    draw: Callable[[], Markup]

    @property
    def chart(self) -> Markup:
        return self.draw()


def _context(report: Statistics) -> dict[str, Any]:
    shown = [_shown(key, title, first, table) for key, (title, first, table) in _tables(report).items()]
    groups = None
    if report.victims is not None:
        groups = [(_group_label(name), n) for name, n in report.victims.groups]
        chart = partial(
            pairs_chart,
            "statistics-groups",
            _("Victims: girls, women, boys, men and unknown"),
            _("victims"),
            groups,
        )
        groups_table = ShownTable(
            "groups",
            str(SHEETS["groups"]),
            [_("group"), _("victims")],
            [(g, [n]) for g, n in groups],
            [],
            chart,
        )
        at = next(i for i, table in enumerate(shown) if table.key == "victims") + 1
        shown.insert(at, groups_table)
    return {
        "report": report,
        "shown": shown,
        "too_few": [str(TOO_FEW[p]) for p in ("allegations", "victims", "claims") if p in report.refused],
    }


def _shown(
    key: str,
    title: str,
    first: str,
    table: SuppressedTable,
    *,
    row_label: Callable[[str], str] | None = None,
    column_label: Callable[[str], str] | None = None,
    counted: str | None = None,
) -> ShownTable:
    """A table in words; `row_label`, `column_label` and `counted` (what the chart counts) for
    tables other than this page's."""
    names = SEX_ROWS if key == "victims" else None
    row_label = row_label or (lambda value: _row_label(key, value, names))
    column_label = column_label or (lambda value: _column_label(key, value))
    single = len(table.column_labels) == 1
    header = [first, *[column_label(c) for c in table.column_labels]]
    rows = [
        (row_label(value), list(cells) if single else [*cells, total])
        for value, cells, total in zip(table.row_labels, table.cells, table.row_totals, strict=True)
    ]
    totals = list(table.column_totals) if single else [*table.column_totals, table.grand_total]
    chart = partial(
        counts_chart,
        chart_id=f"statistics-{key}",
        title=title,
        categories=[name for name, _ in rows],
        name=counted or (label(key) if key in ("victims", "claims") else _("allegations")),
        counts=table.row_totals,
    )
    return ShownTable(key, title, header if single else [*header, _("total")], rows, totals, chart)


def _group_label(name: str) -> str:
    return _("unknown sex or age") if name == "unknown" else label(name)


def _tables(report: Statistics) -> dict[str, tuple[str, str, SuppressedTable]]:
    """Each shown table: its title, the heading of its first column, and its figures."""
    tables: dict[str, tuple[str, str, SuppressedTable]] = {}
    if report.allegations is not None:
        for key, (title, first, attribute) in ALLEGATION_TABLES.items():
            tables[key] = (str(title), str(first), getattr(report.allegations, attribute))
    if report.victims is not None:
        tables["victims"] = (_("Victims by sex and age group"), _("sex"), report.victims.by_sex_and_age)
    if report.claims is not None:
        tables["claims"] = (_("Paternity and child-support claims by step"), _("step"), report.claims)
    return tables


def _row_label(key: str, value: str, names: dict[str, Any] | None = None) -> str:
    if key == "claims":
        return str(ClaimStep(value).label)
    if key == "entity":
        return label(value, ENTITY_ROWS)
    if key == "sub_type":
        kind, sub_type = value.split(SEPARATOR)
        return f"{label(kind)}: {label(sub_type)}"
    if key == "mission" and value:
        return value
    return label(value, names)


def _column_label(key: str, value: str) -> str:
    return label(value, AGE_COLUMNS if key == "victims" else None)


def _sheet(table: ShownTable) -> Sheet:
    """A shown table as an export sheet, hidden counts written as "suppressed"."""

    def figures(values: list[int | None]) -> list[Any]:
        return ["suppressed" if n is None else n for n in values]

    rows = [[name, *figures(values)] for name, values in table.rows]
    if table.totals:
        rows.append([_("total"), *figures(table.totals)])
    return (str(SHEETS.get(table.key, table.title)), table.header, rows)


def statistics_export(fmt: str) -> Response:
    form, filters, period = _parsed()
    page: dict[str, Any] = {"form": form, "args": carried(form), "title": TITLE}
    if period is None:
        abort(Response(render_template("reports/statistics.html", **page), status=400))
    refusal = _refusal(period)
    if refusal:
        abort(Response(render_template("reports/statistics.html", refusal=refusal, **page), status=422))
    report = statistics(current_user, filters, period)
    tables = _tables(report)
    if not tables:
        context = {"too_few": [str(TOO_FEW[p]) for p in sorted(report.refused)]}
        abort(Response(render_template("reports/statistics.html", **page, **context), status=422))
    sheets = [_sheet(table) for table in _context(report)["shown"]]
    audit_export(
        "un-statistics",
        fmt,
        {**filters.as_dict(), "period": period.name},
        sum(len(rows) for _title, _header, rows in sheets),
    )
    return download_sheets(f"un-statistics-{period.name.replace('/', '_')}", fmt, sheets)


route_report(
    "statistics", statistics_page, statistics_export, path="statistics", page_endpoint="statistics_page"
)
