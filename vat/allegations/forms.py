"""Allegation and clock-rule forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from vat.allegations.models import (
    SUB_TYPES,
    AllegationType,
    Labelled,
    Outcome,
    PersonnelCategory,
    Urgency,
)


def choices(enum: type[Labelled]) -> list[SelectChoice]:
    return [SelectChoice(m.value, m.label) for m in enum]


class AllegationForm(FlaskForm):
    reference = StringField("Reference number (e.g. 0399/15)", validators=[DataRequired(), Length(max=40)])
    country_code = SelectField("Country", choices=[], validators=[DataRequired()])
    mission = StringField("Entity / mission", validators=[Optional(), Length(max=40)])
    personnel_category = SelectField(
        "Personnel category", choices=choices(PersonnelCategory), default="unknown"
    )
    perpetrator_country = SelectField("Alleged perpetrator's contributing country", choices=[])
    type = SelectField("Type", choices=choices(AllegationType), default="unknown")
    sub_type = SelectField("Sub-type", choices=[SelectChoice(v, label) for v, label in SUB_TYPES])
    urgency = SelectField("Urgency", choices=choices(Urgency), default="normal")
    received_on = DateField("Received", validators=[Optional()])
    assessed_on = DateField("Assessed and reported", validators=[Optional()])
    referred_on = DateField("Referred for investigation", validators=[Optional()])
    nio_decision_on = DateField("National investigation officer decision", validators=[Optional()])
    investigation_completed_on = DateField("Investigation completed", validators=[Optional()])
    report_submitted_on = DateField("Report submitted for action", validators=[Optional()])
    outcome = SelectField("Outcome", choices=choices(Outcome), default="pending")
    actions_taken = TextAreaField(
        "Actions taken (dismissal, repatriation, payments withheld…)",
        validators=[Optional(), Length(max=2000)],
    )


class LinkVictimForm(FlaskForm):
    case_code = StringField("Victim's case code", validators=[DataRequired(), Length(max=40)])


class ClockRuleForm(FlaskForm):
    amount = IntegerField("Limit", validators=[DataRequired(), NumberRange(min=1, max=3650)])
    unit = SelectField("Unit", choices=[SelectChoice("days", "days"), SelectChoice("months", "months")])
    reduced_amount = IntegerField("Shortened limit", validators=[Optional(), NumberRange(min=1, max=3650)])
    reduced_from = SelectField(
        "Shortened for",
        choices=[
            SelectChoice("", "—"),
            SelectChoice("high_priority", "high-priority and urgent cases"),
            SelectChoice("urgent", "urgent cases"),
        ],
    )
