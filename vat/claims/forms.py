"""Forms for claims. Choices come from the model enums (an unknown value is a form error); the
service checks everything again, so a form only shapes input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]  # SelectChoice: WTForms 3.3 has it, its stubs do not
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from vat.allegations.models import Labelled, PersonnelCategory
from vat.claims.models import (
    ClaimLabelled,
    ClaimStep,
    ClosingReason,
    CostPayer,
    DnaResult,
    FatherObstacle,
    Forum,
    Frequency,
    LetterChannel,
    LetterDirection,
    PaternityBasis,
    PaymentRoute,
    Representation,
)
from vat.plausibility import ConfirmAmount
from vat.request_keys import KeyedForm
from vat.victims.labels import LABELS as VICTIM_LABELS
from vat.victims.models import Channel, Sex

UNSET = [SelectChoice("", "—")]


def choices(enum: type[Labelled], *, blank: bool = False) -> list[SelectChoice]:
    """Options with translated labels (the victims domain translates the values it names)."""
    return (UNSET if blank else []) + [
        SelectChoice(
            m.value, m.label if isinstance(m, ClaimLabelled) else VICTIM_LABELS.get(m.value, m.label)
        )
        for m in enum
    ]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChooseVictimForm(FlaskForm):
    """The victim by case code: a list of every victim in scope would not scale."""

    class Meta:
        csrf = False

    case_code = StringField(_l("Victim's case code"), validators=[DataRequired(), Length(max=40)])


class ClaimForm(KeyedForm):
    child_ids = MultiCheckboxField(_l("Children the claim is for"), choices=[], coerce=int)
    allegation_id = SelectField(_l("Allegation"), choices=[], validate_choice=True)
    father_name = StringField(_l("Alleged father's name"), validators=[Optional(), Length(max=200)])
    father_service_number = StringField(_l("Service number"), validators=[Optional(), Length(max=100)])
    father_unit = StringField(_l("Unit"), validators=[Optional(), Length(max=200)])
    father_nationality = SelectField(_l("Nationality"), choices=[], validate_choice=True)
    father_category = SelectField(
        _l("Personnel category"), choices=choices(PersonnelCategory), default="unknown"
    )
    member_state = SelectField(
        _l("Member state"),
        choices=[],
        validate_choice=True,
        description=_l("Defaults to the father's nationality."),
    )
    opened_on = DateField(_l("Opened on"), validators=[Optional()])
    expected_birth_on = DateField(
        _l("Expected birth date (a claim opened during pregnancy)"),
        validators=[Optional()],
        description=_l("Leave the children unticked; link the child once born."),
    )
    with_consent = BooleanField(
        _l("The victim consents to share the claim with the member state (recorded on her/his page)")
    )


class FatherForm(FlaskForm):
    father_name = StringField(_l("Alleged father's name"), validators=[Optional(), Length(max=200)])
    father_service_number = StringField(_l("Service number"), validators=[Optional(), Length(max=100)])
    father_unit = StringField(_l("Unit"), validators=[Optional(), Length(max=200)])
    father_nationality = SelectField(_l("Nationality"), choices=[], validate_choice=True)
    father_category = SelectField(_l("Personnel category"), choices=choices(PersonnelCategory))


class StepForm(KeyedForm):
    on = DateField(_l("Date of this step"), validators=[DataRequired()])


class ReferForm(StepForm):
    channel = SelectField(_l("Channel"), choices=choices(LetterChannel), default="permanent_mission")
    reference = StringField(_l("Reference (note verbale, letter)"), validators=[Optional(), Length(max=100)])


class SamplesForm(StepForm):
    on = DateField(_l("Mother and child sampled on"), validators=[DataRequired()])
    father_sampled_on = DateField(_l("Alleged father sampled on"), validators=[DataRequired()])


class ResultForm(StepForm):
    result = SelectField(
        _l("DNA result"), choices=choices(DnaResult, blank=True), validators=[DataRequired()]
    )


class PaternityForm(StepForm):
    basis = SelectField(
        _l("Established by"), choices=choices(PaternityBasis, blank=True), validators=[DataRequired()]
    )


class UnavailableForm(StepForm):
    obstacle = SelectField(
        _l("The alleged father"), choices=choices(FatherObstacle, blank=True), validators=[DataRequired()]
    )


class OrderForm(StepForm):
    on = DateField(_l("Order made on"), validators=[DataRequired()])
    amount = DecimalField(_l("Amount per period"), places=None, validators=[InputRequired()])
    currency = StringField(_l("Currency (ISO code)"), validators=[DataRequired(), Length(min=3, max=3)])
    amount_confirmed = ConfirmAmount()
    frequency = SelectField(_l("Frequency"), choices=choices(Frequency), default="monthly")
    starts_on = DateField(_l("Payments start on"), validators=[DataRequired()])
    ends_on = DateField(_l("Payments end on (if set)"), validators=[Optional()])


class CloseForm(StepForm):
    reason = SelectField(_l("Why"), choices=choices(ClosingReason, blank=True), validators=[DataRequired()])


STEP_FORMS: dict[ClaimStep, type[StepForm]] = {
    ClaimStep.CONSENT_OBTAINED: StepForm,
    ClaimStep.REFERRED: ReferForm,
    ClaimStep.DNA_REQUESTED: StepForm,
    ClaimStep.SAMPLES_TAKEN: SamplesForm,
    ClaimStep.FATHER_UNAVAILABLE: UnavailableForm,
    ClaimStep.DNA_RESULT: ResultForm,
    ClaimStep.PATERNITY_ESTABLISHED: PaternityForm,
    ClaimStep.SUPPORT_ORDERED: OrderForm,
    ClaimStep.CLOSED: CloseForm,
}


class ReopenForm(KeyedForm):
    on = DateField(_l("Reopened on"), validators=[DataRequired()])


class LetterForm(KeyedForm):
    direction = SelectField(_l("Letter"), choices=choices(LetterDirection), default="sent")
    dated_on = DateField(_l("Dated"), validators=[DataRequired()])
    channel = SelectField(_l("Channel"), choices=choices(LetterChannel), default="permanent_mission")
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])


class PaymentForm(KeyedForm):
    token = HiddenField()
    amount = DecimalField(_l("Amount"), places=None, validators=[InputRequired()])
    currency_code = StringField(_l("Currency (ISO code)"), validators=[DataRequired(), Length(min=3, max=3)])
    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    route = SelectField(_l("Route"), choices=choices(PaymentRoute), default="bank_transfer")
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)])
    confirm_unusual = BooleanField(_l("I checked this amount: it is far beyond the order, and right"))


class ReversalForm(KeyedForm):
    payment_id = HiddenField(validators=[DataRequired()])
    on = DateField(_l("Reversed on"), validators=[DataRequired()])
    reason = TextAreaField(_l("Why the payment is reversed"), validators=[DataRequired(), Length(max=500)])


class LegalForm(KeyedForm):
    applicable_law = SelectField(_l("Applicable law (country)"), choices=[], validate_choice=True)
    forum = SelectField(_l("Forum"), choices=choices(Forum, blank=True))
    representation = SelectField(_l("Legal representation"), choices=choices(Representation, blank=True))
    represented_by = StringField(
        _l("Counsel or legal-aid provider"), validators=[Optional(), Length(max=200)]
    )
    filed_on = DateField(_l("Filed on"), validators=[Optional()])
    hearing_on = DateField(_l("Hearing on"), validators=[Optional()])
    judgment_on = DateField(_l("Judgment on"), validators=[Optional()])


class DnaCostForm(KeyedForm):
    amount = DecimalField(_l("DNA test cost"), places=None, validators=[InputRequired()])
    currency = StringField(_l("Currency (ISO code)"), validators=[DataRequired(), Length(min=3, max=3)])
    amount_confirmed = ConfirmAmount()
    paid_by = SelectField(_l("Paid by"), choices=choices(CostPayer, blank=True), validators=[DataRequired()])


class LinkChildForm(KeyedForm):
    child_id = SelectField(_l("A child already on the victim's file"), choices=[], coerce=str)
    birth_date = DateField(_l("Or the child just born: date of birth"), validators=[Optional()])
    sex = SelectField(_l("Sex"), choices=choices(Sex), default="unknown")


class LinkSupportForm(KeyedForm):
    assistance_id = SelectField(_l("Service given to the victim"), choices=[], validators=[DataRequired()])


class FrameworkForm(KeyedForm):
    member_state = SelectField(_l("Member state"), choices=[], validate_choice=True)
    focal_point = StringField(_l("Focal point"), validators=[Optional(), Length(max=300)])
    forum = SelectField(_l("Usual forum"), choices=choices(Forum, blank=True))
    documents = TextAreaField(_l("Documents required"), validators=[Optional(), Length(max=4000)])
    laboratory = StringField(_l("DNA laboratory"), validators=[Optional(), Length(max=200)])
    reply_days = IntegerField(_l("Typical days to reply"), validators=[Optional(), NumberRange(min=1)])
    dna_days = IntegerField(_l("Typical days to a DNA result"), validators=[Optional(), NumberRange(min=1)])
    decision_days = IntegerField(
        _l("Typical days to a decision (court or agreement)"), validators=[Optional(), NumberRange(min=1)]
    )


class InformForm(KeyedForm):
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    channel = SelectField(_l("Channel"), choices=choices(Channel), default="in_person")
    language = StringField(_l("Language"), validators=[Optional(), Length(max=40)])
    by_whom = StringField(_l("By whom"), validators=[Optional(), Length(max=120)])
    summary = TextAreaField(_l("What the victim was told"), validators=[Optional(), Length(max=5000)])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    country_code = StringField(_l("Country"), validators=[Optional(), Length(max=3)])
    step = SelectField(
        _l("Step"), choices=[SelectChoice("", _l("any"))] + choices(ClaimStep), validate_choice=False
    )
    member_state = StringField(_l("Member state"), validators=[Optional(), Length(max=3)])
