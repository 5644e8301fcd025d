"""Report filters: read from the query string (GET), so a report's address can be bookmarked and
its export link carries the same filters. They change nothing, so they carry no CSRF token."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in wtforms 3.3, not its 3.2 stubs
from wtforms.validators import Length, NumberRange, Optional, Regexp

from vat.reports.scope import Period
from vat.victims.models import Sex


def year_field(label: Any) -> IntegerField:
    """A year to filter by, optional, within the years a report can cover."""
    return IntegerField(label, validators=[Optional(), NumberRange(min=1990, max=2100)])


class ReportForm(FlaskForm):
    class Meta:
        csrf = False


class PlaceFilterForm(ReportForm):
    """The filters every report has: country and mission."""

    country = StringField(
        _l("Country"),
        validators=[Optional(), Regexp(r"^[A-Za-z]{3}$", message=_l("Use a three-letter code, e.g. CAF."))],
    )
    mission = StringField(
        _l("Mission"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[\w .\-/]*$", message=_l("Use letters, digits, spaces, dots, dashes or slashes.")),
        ],
    )


def any_or(label: Any, options: dict[str, Any]) -> SelectField:
    """A value to filter by, one of `options` (value → label), or "any" to filter nothing."""
    choices = [SelectChoice("", _l("any")), *(SelectChoice(value, text) for value, text in options.items())]
    return SelectField(label, choices=choices, default="")


class VictimFilterForm(PlaceFilterForm):
    year = year_field(_l("Year registered"))
    sex = any_or(_l("Sex"), {s.value: s.label for s in Sex})
    minor = any_or(_l("Minor at the time"), {"yes": _l("minors"), "no": _l("not minors")})


class AllegationFilterForm(PlaceFilterForm):
    year = year_field(_l("Year received"))


class ClaimFilterForm(VictimFilterForm):
    year = year_field(_l("Year opened"))


class PeriodForm(ReportForm):
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def period(self, today: date) -> tuple[date, date]:
        start = self.start.data or date(today.year, 1, 1)
        end = self.end.data or date(today.year, 12, 31)
        return (start, end) if start <= end else (end, start)


class PeriodChoiceForm(ReportForm):
    """A period as the UN publishes figures for one: a quarter, a calendar year, or a date range.
    A choice without its value, a malformed quarter or a range ending before it starts is a form
    error (the page says which field to correct), never a guess."""

    period = SelectField(
        _l("Period"),
        choices=[
            SelectChoice("year", _l("a year")),
            SelectChoice("quarter", _l("a quarter")),
            SelectChoice("range", _l("a date range")),
        ],
        default="year",
    )
    year = year_field(_l("Year"))
    quarter = StringField(
        _l("Quarter"),
        validators=[
            Optional(),
            Regexp(r"^\s*(199\d|20\d\d|2100)-[Qq][1-4]\s*$", message=_l("Write a quarter as 2024-Q3.")),
        ],
    )
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        kind = self.period.data
        if kind == "year" and self.year.data is None and not self.year.errors:
            self.year.errors = [*self.year.errors, _l("Give the year, e.g. 2024.")]
            valid = False
        elif kind == "quarter" and not (self.quarter.data or "").strip() and not self.quarter.errors:
            self.quarter.errors = [*self.quarter.errors, _l("Give the quarter, e.g. 2024-Q3.")]
            valid = False
        elif kind == "range":
            for bound in (self.start, self.end):
                if bound.data is None and not bound.errors:
                    bound.errors = [*bound.errors, _l("Give both dates of the range.")]
                    valid = False
            if self.start.data and self.end.data and self.end.data < self.start.data:
                self.end.errors = [*self.end.errors, _l("The range ends before it starts.")]
                valid = False
        return valid

    def chosen_period(self) -> Period:
        """The period of a validated form."""
        if self.period.data == "quarter":
            year, quarter = (self.quarter.data or "").strip().upper().split("-Q")
            return Period.of_quarter(int(year), int(quarter))
        if self.period.data == "range" and self.start.data and self.end.data:
            return Period.of_range(self.start.data, self.end.data)
        return Period.of_year(int(self.year.data or 0))


class StatisticsFilterForm(PlaceFilterForm, PeriodChoiceForm):
    """The UN statistics' filters: country, mission and a period."""
