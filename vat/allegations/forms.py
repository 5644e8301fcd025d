"""Allegation and clock-rule forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from vat.allegations.models import (
    AllegationType,
    EntityCategory,
    InvestigatingEntity,
    InvestigationStatus,
    Labelled,
    Outcome,
    PersonnelCategory,
    SubType,
    Urgency,
)
from vat.request_keys import KeyedForm
from vat.victims.labels import choices


def optional(label: Any, enum: type[Labelled], **options: Any) -> SelectField:
    """A choice that may be left not recorded (also when a client does not send the field)."""
    return SelectField(
        label, choices=[SelectChoice("", _l("— not recorded —")), *choices(enum)], default="", **options
    )


class AllegationForm(KeyedForm):
    reference = StringField(
        _l("Reference number (e.g. 0399/15)"), validators=[DataRequired(), Length(max=40)]
    )
    country_code = SelectField(_l("Country"), choices=[], validators=[DataRequired()])
    entity_category = optional(_l("Entity category"), EntityCategory)
    mission = StringField(_l("Entity / mission"), validators=[Optional(), Length(max=40)])
    personnel_category = SelectField(
        _l("Personnel category"), choices=choices(PersonnelCategory), default="unknown"
    )
    perpetrator_country = SelectField(_l("Alleged perpetrator's contributing country"), choices=[])
    perpetrators = IntegerField(
        _l("Number of alleged perpetrators"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )
    type = SelectField(_l("Type"), choices=choices(AllegationType), default="unknown")
    sub_type = optional(
        _l("Sub-type"),
        SubType,
        description=_l(
            "Sexual exploitation: transactional sex, exploitative relationship, other. Sexual abuse: "
            "rape, sexual assault, sexual activity with a minor, other."
        ),
    )
    urgency = SelectField(_l("Urgency"), choices=choices(Urgency), default="normal")
    received_on = DateField(_l("Received"), validators=[Optional()])
    assessed_on = DateField(_l("Assessed and reported"), validators=[Optional()])
    referred_on = DateField(_l("Referred for investigation"), validators=[Optional()])
    nio_decision_on = DateField(_l("National investigation officer decision"), validators=[Optional()])
    investigation_completed_on = DateField(_l("Investigation completed"), validators=[Optional()])
    report_submitted_on = DateField(_l("Report submitted for action"), validators=[Optional()])
    investigating_entity = optional(_l("Investigating entity"), InvestigatingEntity)
    investigation_status = optional(_l("Investigation status"), InvestigationStatus)
    outcome = SelectField(_l("Outcome"), choices=choices(Outcome), default="pending")
    actions_taken = TextAreaField(
        _l("Actions taken (dismissal, repatriation, payments withheld…)"),
        validators=[Optional(), Length(max=2000)],
    )


class LinkVictimForm(KeyedForm):
    case_code = StringField(_l("Victim's case code"), validators=[DataRequired(), Length(max=40)])


class ClockRuleForm(FlaskForm):
    amount = IntegerField(_l("Limit"), validators=[InputRequired(), NumberRange(min=1, max=3650)])
    unit = SelectField(
        _l("Unit"), choices=[SelectChoice("days", _l("days")), SelectChoice("months", _l("months"))]
    )
    reduced_amount = IntegerField(
        _l("Shortened limit"), validators=[Optional(), NumberRange(min=1, max=3650)]
    )
    reduced_from = SelectField(
        _l("Shortened for"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice("high_priority", _l("high-priority and urgent cases")),
            SelectChoice("urgent", _l("urgent cases")),
        ],
    )
