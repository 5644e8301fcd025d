"""The forms of the accountability cycle: one dated step, one letter (the claims' letter form), one
limit of the cycle."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from vat.allegations.cycle_models import ALL_MEASURES, MEASURES, CycleStep
from vat.allegations.models import PersonnelCategory
from vat.request_keys import KeyedForm
from vat.victims.labels import choices, cycle_step_label, vat_label


class CycleStepForm(KeyedForm):
    step = SelectField(_l("Step"), choices=[], validators=[DataRequired()])
    measure = SelectField(_l("Measure or outcome"), choices=[], validators=[DataRequired()])
    dated_on = DateField(_l("Dated"), validators=[DataRequired()])
    ends_on = DateField(_l("Ended (interim measures)"), validators=[Optional()])
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)])
    persons = StringField(
        _l("Alleged perpetrators concerned (their numbers, e.g. 1, 3; blank: all)"),
        validators=[Optional(), Length(max=200)],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def offer(self, step: str | None) -> None:
        """The steps to choose from and the measures of `step` (every measure if none is chosen,
        as on a POST: the service checks that the measure belongs to the step)."""
        self.step.choices = [SelectChoice(s.value, cycle_step_label(s.value)) for s in CycleStep]
        measures = MEASURES.get(step or "", tuple(ALL_MEASURES))
        self.measure.choices = [SelectChoice(m, vat_label(m)) for m in measures]


class CycleRuleForm(FlaskForm):
    amount = IntegerField(_l("Limit"), validators=[InputRequired(), NumberRange(min=1, max=3650)])
    unit = SelectField(
        _l("Unit"), choices=[SelectChoice("days", _l("days")), SelectChoice("months", _l("months"))]
    )
    applies_to = SelectMultipleField(
        _l("Applies to (none chosen: every allegation)"),
        choices=choices(PersonnelCategory),  # labels translated when shown
    )
    substantiated_only = BooleanField(_l("Substantiated allegations only"))
