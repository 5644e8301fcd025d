"""Forms for victims and what is recorded with them. Choices come from the model enums, so an
unknown value is a form error; length caps match the service's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from vat.addresses import MAX_ID
from vat.plausibility import ConfirmAmount
from vat.request_keys import KeyedForm
from vat.victims.import_template import KINDS
from vat.victims.labels import LABELS, choices
from vat.victims.letter_templates import LETTER_LANGUAGES
from vat.victims.models import (
    AgeGroup,
    Availability,
    Channel,
    ConsentMethod,
    ConsentPurpose,
    FundingSource,
    NeedStatus,
    Provider,
    RecipientKind,
    Satisfaction,
    ServiceStatus,
    ServiceType,
    Sex,
    UnmetReason,
    VictimStatus,
)

UNSET = [SelectChoice("", "—")]


class VictimForm(KeyedForm):
    country_code = SelectField(_l("Country"), choices=[], validators=[DataRequired()])
    mission = StringField(_l("Mission or entity"), validators=[Optional(), Length(max=40)])
    prefix = StringField(
        _l("Case-code prefix"),
        validators=[Optional(), Length(max=10)],
        description=_l("Defaults to the country's (CAR, DRC, HTI, SSD…). Codes read PREFIX-YEAR-NNNN."),
    )
    sex = SelectField(_l("Sex"), choices=choices(Sex), default="unknown")
    age_group = SelectField(
        _l("Age group at the time of the incident"), choices=choices(AgeGroup), default="unknown"
    )
    date_of_birth = DateField(_l("Date of birth (if known)"), validators=[Optional()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    aliases = StringField(
        _l("Other names"),
        validators=[Optional(), Length(max=500)],
        description=_l("Separate names with a semicolon."),
    )
    contact = TextAreaField(_l("Contact"), validators=[Optional(), Length(max=500)])
    location = TextAreaField(_l("Location"), validators=[Optional(), Length(max=500)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    advocate_id = SelectField(_l("Advocate in charge"), choices=[], validate_choice=True)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    case_code = StringField(_l("Case code"), validators=[Optional(), Length(max=40)])
    country_code = SelectField(_l("Country"), choices=UNSET, validators=[Optional()])
    status = SelectField(_l("Status"), choices=UNSET + choices(VictimStatus), validators=[Optional()])
    advocate_id = SelectField(_l("Advocate"), choices=UNSET, validators=[Optional()])
    minor = BooleanField(_l("Minors"))
    no_assistance = BooleanField(_l("No assistance received yet"))
    no_update = BooleanField(_l("No update in 90 days"))
    needs_not_met = BooleanField(_l("A need unmet or partly met"))


class NameSearchForm(FlaskForm):
    """Posted, never in the query string: a name must not reach URLs, history or server logs."""

    name = StringField(_l("Name or other name"), validators=[DataRequired(), Length(max=200)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices(VictimStatus))


class ConsentForm(KeyedForm):
    purpose = SelectField(_l("Purpose"), choices=choices(ConsentPurpose))
    given_on = DateField(_l("Given on"), validators=[DataRequired()])
    method = SelectField(_l("How given"), choices=choices(ConsentMethod))
    version = StringField(
        _l("Form or wording version"), validators=[DataRequired(), Length(max=20)], default="1"
    )
    recipient = StringField(
        _l("Named recipient (provider or member state), if the consent names one"),
        validators=[Optional(), Length(max=200)],
    )


class WithdrawForm(FlaskForm):
    withdrawn_on = DateField(_l("Withdrawn on"), validators=[Optional()])


class AssistanceForm(KeyedForm):
    service_type = SelectField(_l("Service"), choices=choices(ServiceType))
    provider_id = SelectField(
        _l("Provider from the directory"),
        choices=UNSET,
        validate_choice=False,  # the service checks the provider's country and services
        description=_l("Grouped by the service they offer; or type an ad-hoc provider below."),
    )
    provider = StringField(_l("Provider"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), choices=choices(ServiceStatus), default="referred")
    referral_date = DateField(_l("Referral date"), validators=[Optional()])
    start_date = DateField(_l("Start"), validators=[Optional()])
    end_date = DateField(_l("End"), validators=[Optional()])
    cost = DecimalField(
        _l("Cost (if known)"),
        validators=[Optional(), NumberRange(min=0, message=_l("The cost cannot be negative."))],
        places=None,
    )
    currency = StringField(_l("Currency (ISO code, e.g. USD, XAF)"), validators=[Optional(), Length(max=3)])
    amount_confirmed = ConfirmAmount()
    funding_source = SelectField(_l("Funding source"), choices=choices(FundingSource), default="unknown")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class NeedForm(KeyedForm):
    need_type = SelectField(_l("Need"), choices=choices(ServiceType))
    status = SelectField(_l("Status"), choices=choices(NeedStatus), default="unmet")
    reason = SelectField(
        _l("Why it is unmet or partly met"), choices=UNSET + choices(UnmetReason), validators=[Optional()]
    )
    assessed_on = DateField(_l("Assessed on"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class FeedbackForm(KeyedForm):
    given_on = DateField(_l("Feedback given on"), validators=[Optional()])
    satisfaction = SelectField(_l("Was the victim satisfied?"), choices=choices(Satisfaction))
    complaint = BooleanField(_l("The victim made a complaint"))
    complaint_text = TextAreaField(_l("The complaint"), validators=[Optional(), Length(max=5000)])
    follow_up_needed = BooleanField(_l("A follow-up is needed"))
    follow_up_on = DateField(_l("Follow up by"), validators=[Optional()])


class LetterForm(FlaskForm):
    language = SelectField(
        _l("Language of the letter"),
        choices=[SelectChoice(code, name) for code, name in LETTER_LANGUAGES.items()],
    )


class LetterTemplateForm(FlaskForm):
    body = TextAreaField(
        _l("The letter"),
        validators=[DataRequired(), Length(max=20_000)],
        description=_l("Blank lines separate paragraphs; the first paragraph is the title."),
        render_kw={"rows": 24},
    )


class ChildForm(KeyedForm):
    birth_date = DateField(_l("Birth date (if known)"), validators=[Optional()])
    sex = SelectField(_l("Sex"), choices=choices(Sex), default="unknown")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CommunicationForm(KeyedForm):
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    channel = SelectField(_l("Channel"), choices=choices(Channel))
    language = StringField(_l("Language"), validators=[Optional(), Length(max=40)])
    by_whom = StringField(_l("By whom"), validators=[Optional(), Length(max=120)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])
    case_update_given = BooleanField(_l("A case update was given"))
    closes_tasks = MultiCheckboxField(_l("This contact informed the victim of"), choices=[], coerce=int)
    next_update_due = DateField(_l("Next update due"), validators=[Optional()])


class DisclosureForm(KeyedForm):
    recipient_kind = SelectField(_l("Shared with"), choices=choices(RecipientKind))
    recipient = StringField(
        _l("Recipient (member state or provider)"), validators=[DataRequired(), Length(max=200)]
    )
    purpose = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=200)])
    shared_on = DateField(_l("Shared on"), validators=[Optional()])


class ExportForm(FlaskForm):
    disclosure_id = IntegerField(
        validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)], widget=HiddenInput()
    )


class LinkAllegationForm(KeyedForm):
    reference = StringField(_l("Allegation reference number"), validators=[DataRequired(), Length(max=40)])


class BreakGlassForm(FlaskForm):
    case_code = StringField(_l("Case code"), validators=[DataRequired(), Length(max=40)])
    reason = TextAreaField(
        _l("Reason (shown to the victim's advocate and kept in the audit log)"),
        validators=[DataRequired(), Length(min=15, max=1000)],
    )


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("What a CSV file holds (an XLSX workbook holds one sheet per kind)"),
        choices=[SelectChoice(kind, label) for kind, label in KINDS.items()],
    )
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])


def provider_choices(providers: list[Provider]) -> list[SelectChoice]:
    """The referral form's providers of one country, grouped by the service they offer."""
    found = [
        SelectChoice(
            str(p.id),
            p.name
            + (f" ({p.location})" if p.location else "")
            + ("" if p.availability == Availability.AVAILABLE else f" — {LABELS[p.availability]}"),
            optgroup=str(LABELS.get(t, t)),
        )
        for t in ServiceType
        for p in providers
        if t.value in p.service_types
    ]
    return UNSET + found


class ProviderForm(KeyedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    country_code = SelectField(_l("Country"), choices=[], validators=[DataRequired()])
    location = StringField(_l("Location (town, province)"), validators=[Optional(), Length(max=120)])
    service_types = MultiCheckboxField(_l("Services offered"), choices=choices(ServiceType))
    contact = TextAreaField(
        _l("Contact (organisation's phone, e-mail, address)"), validators=[Optional(), Length(max=500)]
    )
    languages = StringField(_l("Languages"), validators=[Optional(), Length(max=200)])
    availability = SelectField(_l("Availability"), choices=choices(Availability), default="available")
    availability_on = DateField(_l("Availability as of"), validators=[Optional()])
