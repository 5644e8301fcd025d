"""Report filters: read from the query string (GET), so a report's address can be bookmarked and
its export link carries the same filters. They change nothing, so they carry no CSRF token."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from vat.victims.models import Sex


class ReportForm(FlaskForm):
    class Meta:
        csrf = False


class VictimFilterForm(ReportForm):
    country = StringField(
        "Country",
        validators=[Optional(), Regexp(r"^[A-Za-z]{3}$", message="Use a three-letter code, e.g. CAF.")],
    )
    mission = StringField(
        "Mission",
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[\w .\-/]*$", message="Use letters, digits, spaces, dots, dashes or slashes."),
        ],
    )
    year = IntegerField("Year registered", validators=[Optional(), NumberRange(min=1990, max=2100)])
    sex = SelectField(
        "Sex",
        choices=[SelectChoice("", "any")] + [SelectChoice(s.value, s.label) for s in Sex],
        default="",
    )
    minor = SelectField(
        "Minor at the time",
        choices=[SelectChoice("", "any"), SelectChoice("yes", "minors"), SelectChoice("no", "not minors")],
        default="",
    )


class AllegationFilterForm(ReportForm):
    country = VictimFilterForm.country
    mission = VictimFilterForm.mission
    year = IntegerField("Year received", validators=[Optional(), NumberRange(min=1990, max=2100)])


class ClaimFilterForm(VictimFilterForm):
    year = IntegerField("Year opened", validators=[Optional(), NumberRange(min=1990, max=2100)])


class PeriodForm(ReportForm):
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])

    def period(self, today: date) -> tuple[date, date]:
        start = self.start.data or date(today.year, 1, 1)
        end = self.end.data or date(today.year, 12, 31)
        return (start, end) if start <= end else (end, start)
