"""Forms for victims and what is recorded with them. Choices come from the model enums, so an
unknown value is a form error; length caps match the service's."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from vat.allegations.models import Labelled
from vat.victims.models import (
    AgeGroup,
    Channel,
    ConsentMethod,
    ConsentPurpose,
    FundingSource,
    RecipientKind,
    ServiceStatus,
    ServiceType,
    Sex,
    VictimStatus,
)

UNSET = [SelectChoice("", "—")]


def choices(enum: type[Labelled]) -> list[SelectChoice]:
    return [SelectChoice(m.value, m.label) for m in enum]


class VictimForm(FlaskForm):
    country_code = SelectField("Country", choices=[], validators=[DataRequired()])
    mission = StringField("Mission or entity", validators=[Optional(), Length(max=40)])
    prefix = StringField(
        "Case-code prefix",
        validators=[Optional(), Length(max=10)],
        description="Defaults to the country's (CAR, DRC, HTI, SSD…). Codes read PREFIX-YEAR-NNNN.",
    )
    sex = SelectField("Sex", choices=choices(Sex), default="unknown")
    age_group = SelectField(
        "Age group at the time of the incident", choices=choices(AgeGroup), default="unknown"
    )
    date_of_birth = DateField("Date of birth (if known)", validators=[Optional()])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    aliases = StringField(
        "Other names",
        validators=[Optional(), Length(max=500)],
        description="Separate names with a semicolon.",
    )
    contact = TextAreaField("Contact", validators=[Optional(), Length(max=500)])
    location = TextAreaField("Location", validators=[Optional(), Length(max=500)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])
    advocate_id = SelectField("Advocate in charge", choices=[], validate_choice=True)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    case_code = StringField("Case code", validators=[Optional(), Length(max=40)])
    name = StringField("Exact name", validators=[Optional(), Length(max=200)])
    country_code = SelectField("Country", choices=UNSET, validators=[Optional()])
    status = SelectField("Status", choices=UNSET + choices(VictimStatus), validators=[Optional()])
    advocate_id = SelectField("Advocate", choices=UNSET, validators=[Optional()])
    minor = BooleanField("Minors")
    no_assistance = BooleanField("No assistance received yet")
    no_update = BooleanField("No update in 90 days")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=choices(VictimStatus))


class ConsentForm(FlaskForm):
    purpose = SelectField("Purpose", choices=choices(ConsentPurpose))
    given_on = DateField("Given on", validators=[DataRequired()])
    method = SelectField("How given", choices=choices(ConsentMethod))
    version = StringField("Form or wording version", validators=[DataRequired(), Length(max=20)], default="1")
    recipient = StringField(
        "Named recipient (provider or member state), if the consent names one",
        validators=[Optional(), Length(max=200)],
    )


class WithdrawForm(FlaskForm):
    withdrawn_on = DateField("Withdrawn on", validators=[Optional()])


class AssistanceForm(FlaskForm):
    service_type = SelectField("Service", choices=choices(ServiceType))
    provider = StringField("Provider", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=choices(ServiceStatus), default="referred")
    referral_date = DateField("Referral date", validators=[Optional()])
    start_date = DateField("Start", validators=[Optional()])
    end_date = DateField("End", validators=[Optional()])
    cost = DecimalField("Cost (if known)", validators=[Optional(), NumberRange(min=0)], places=None)
    currency = StringField("Currency (ISO code, e.g. USD, XAF)", validators=[Optional(), Length(max=3)])
    funding_source = SelectField("Funding source", choices=choices(FundingSource), default="unknown")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class ChildForm(FlaskForm):
    birth_date = DateField("Birth date (if known)", validators=[Optional()])
    sex = SelectField("Sex", choices=choices(Sex), default="unknown")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CommunicationForm(FlaskForm):
    occurred_on = DateField("Date", validators=[DataRequired()])
    channel = SelectField("Channel", choices=choices(Channel))
    language = StringField("Language", validators=[Optional(), Length(max=40)])
    by_whom = StringField("By whom", validators=[Optional(), Length(max=120)])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=5000)])
    case_update_given = BooleanField("A case update was given")
    closes_tasks = MultiCheckboxField("This contact informed the victim of", choices=[], coerce=int)
    next_update_due = DateField("Next update due", validators=[Optional()])


class DisclosureForm(FlaskForm):
    recipient_kind = SelectField("Shared with", choices=choices(RecipientKind))
    recipient = StringField(
        "Recipient (member state or provider)", validators=[DataRequired(), Length(max=200)]
    )
    purpose = StringField("Purpose", validators=[DataRequired(), Length(max=200)])
    shared_on = DateField("Shared on", validators=[Optional()])


class LinkAllegationForm(FlaskForm):
    reference = StringField("Allegation reference number", validators=[DataRequired(), Length(max=40)])


class BreakGlassForm(FlaskForm):
    case_code = StringField("Case code", validators=[DataRequired(), Length(max=40)])
    reason = TextAreaField(
        "Reason (shown to the victim's advocate and kept in the audit log)",
        validators=[DataRequired(), Length(min=15, max=1000)],
    )


class ImportForm(FlaskForm):
    kind = SelectField(
        "What a CSV file holds (an XLSX workbook holds one sheet per kind)",
        choices=[
            SelectChoice("victims", "victims"),
            SelectChoice("allegations", "allegations"),
            SelectChoice("links", "victim–allegation links"),
            SelectChoice("assistance", "assistance"),
        ],
    )
    file = FileField("CSV or XLSX file", validators=[FileRequired()])
