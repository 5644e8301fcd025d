"""Report filters: read from the query string (GET), so a report's address can be bookmarked and
its export link carries the same filters. They change nothing, so they carry no CSRF token."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in wtforms 3.3, not its 3.2 stubs
from wtforms.validators import Length, NumberRange, Optional, Regexp

from vat.victims.models import Sex


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


class VictimFilterForm(PlaceFilterForm):
    year = IntegerField(_l("Year registered"), validators=[Optional(), NumberRange(min=1990, max=2100)])
    sex = SelectField(
        _l("Sex"),
        choices=[SelectChoice("", _l("any"))] + [SelectChoice(s.value, s.label) for s in Sex],
        default="",
    )
    minor = SelectField(
        _l("Minor at the time"),
        choices=[
            SelectChoice("", _l("any")),
            SelectChoice("yes", _l("minors")),
            SelectChoice("no", _l("not minors")),
        ],
        default="",
    )


class AllegationFilterForm(PlaceFilterForm):
    year = IntegerField(_l("Year received"), validators=[Optional(), NumberRange(min=1990, max=2100)])


class ClaimFilterForm(VictimFilterForm):
    year = IntegerField(_l("Year opened"), validators=[Optional(), NumberRange(min=1990, max=2100)])


class PeriodForm(ReportForm):
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def period(self, today: date) -> tuple[date, date]:
        start = self.start.data or date(today.year, 1, 1)
        end = self.end.data or date(today.year, 12, 31)
        return (start, end) if start <= end else (end, start)
