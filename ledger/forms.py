"""Forms of the ledger. Every form that books money carries an idempotency key minted when the
form is rendered, so a second submission of the same page books nothing more."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pycountry
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ledger.models import DonorKind, ProjectFocus, ProjectStatus

MAX_AMOUNT = 10**12
COUNTRY_CHOICES = [SelectChoice("", "—")] + [
    SelectChoice(code, name)
    for code, name in sorted(((c.alpha_3, c.name) for c in pycountry.countries), key=lambda c: c[1])
]


def finite(form: Any, field: Any) -> None:
    if field.data is not None and not field.data.is_finite():
        raise ValidationError("Give a number.")


def positive(limit: int) -> Callable[[Any, Any], None]:
    def check(form: Any, field: Any) -> None:
        if field.data is not None and field.data.is_finite() and not 0 < field.data <= limit:
            raise ValidationError(f"Give a number above zero and at most {limit:,}.")

    return check


def not_future(form: Any, field: Any) -> None:
    if field.data and field.data > date.today():
        raise ValidationError("The date is in the future.")


class KeyedForm(FlaskForm):
    """A form that books money: `key` is new each time the page is rendered."""

    key = HiddenField(
        validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$", message="This form has expired.")]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.key.data:
            self.key.data = uuid.uuid4().hex


def amount_field(label: str = "Amount") -> DecimalField:
    return DecimalField(
        label,
        places=None,
        validators=[DataRequired(), finite, positive(MAX_AMOUNT)],
        render_kw={"inputmode": "decimal"},
    )


def currency_field(default: str = "USD") -> StringField:
    return StringField(
        "Currency (ISO code)",
        default=default,
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message="Three letters, e.g. USD.")],
    )


class DonorForm(FlaskForm):
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice(DonorKind.MEMBER_STATE.value, "Member state"),
            SelectChoice(DonorKind.OTHER.value, "Other donor"),
        ],
    )
    country_code = SelectField("Member state", choices=COUNTRY_CHOICES, validators=[Optional()])
    name = StringField("Name (other donors)", validators=[Optional(), Length(max=120)])


class RateForm(FlaskForm):
    currency = currency_field("EUR")
    month = DateField("Month (any day in it)", validators=[DataRequired()])
    rate = DecimalField(
        "Units of the currency per US dollar",
        places=None,
        validators=[DataRequired(), finite, positive(10**9)],
    )
    source = StringField(
        "Source", default="UN operational rates of exchange", validators=[DataRequired(), Length(max=120)]
    )


class PledgeForm(KeyedForm):
    amount = amount_field()
    currency = currency_field()
    pledged_on = DateField("Date of the pledge", validators=[DataRequired(), not_future])
    earmark = StringField("Earmark (if any)", validators=[Optional(), Length(max=200)])
    reference = StringField("Letter reference", validators=[Optional(), Length(max=80)])


class ReceiptForm(KeyedForm):
    pledge_id = SelectField("Against pledge", coerce=str, validators=[Optional()])
    amount = amount_field()
    currency = currency_field()
    received_on = DateField("Date received", validators=[DataRequired(), not_future])
    bank_reference = StringField("Bank reference", validators=[DataRequired(), Length(max=80)])
    rate = DecimalField(
        "Rate (units per US dollar)",
        places=None,
        validators=[Optional(), finite, positive(10**9)],
        description="Leave empty to use the month's UN operational rate.",
    )


class WithholdingForm(KeyedForm):
    allegation_ref = StringField(
        "Allegation reference", validators=[DataRequired(), Length(max=40)], description="e.g. 0399/15"
    )
    country_code = SelectField("Contributing country", choices=COUNTRY_CHOICES, validators=[DataRequired()])
    amount = amount_field("Amount withheld")
    currency = currency_field()
    decided_on = DateField("Date of the decision", validators=[DataRequired(), not_future])
    decision_reference = StringField("Decision reference", validators=[Optional(), Length(max=80)])


class TransferForm(KeyedForm):
    amount = amount_field("Amount transferred")
    transferred_on = DateField("Date received by the fund", validators=[DataRequired(), not_future])
    reference = StringField("Transfer reference", validators=[DataRequired(), Length(max=80)])


class ProjectForm(KeyedForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    partner = StringField("Implementing partner", validators=[DataRequired(), Length(max=120)])
    country_code = SelectField("Country", choices=COUNTRY_CHOICES, validators=[DataRequired()])
    focus = SelectField("Focus", choices=[SelectChoice(f.value, f.label) for f in ProjectFocus])
    amount = amount_field("Approved amount")
    currency = currency_field()
    approved_on = DateField("Approved by the review committee on", validators=[DataRequired(), not_future])
    planned_start = DateField("Planned start", validators=[DataRequired()])
    planned_end = DateField("Planned end", validators=[DataRequired()])
    case_codes = TextAreaField(
        "Victims directly supported (case codes, one per line)", validators=[Optional(), Length(max=5000)]
    )


class ProjectProgressForm(FlaskForm):
    status = SelectField(
        "Status",
        choices=[
            SelectChoice(s.value, s.value.capitalize())
            for s in ProjectStatus
            if s is not ProjectStatus.CANCELLED
        ],
    )
    actual_start = DateField("Actual start", validators=[Optional(), not_future])
    actual_end = DateField("Actual end", validators=[Optional(), not_future])
    victims_supported = IntegerField(
        "Victims directly supported (count)", validators=[NumberRange(min=0, max=100000)]
    )
    case_codes = TextAreaField("Add case codes (one per line)", validators=[Optional(), Length(max=5000)])


class ReleaseForm(KeyedForm):
    status = SelectField(
        "End the project as",
        choices=[
            SelectChoice(ProjectStatus.COMPLETED.value, "Completed"),
            SelectChoice(ProjectStatus.CANCELLED.value, "Cancelled"),
        ],
    )
    on = DateField("Date", validators=[DataRequired(), not_future])
    reason = StringField("Reason", validators=[DataRequired(), Length(max=200)])


class TrancheForm(KeyedForm):
    amount = amount_field("Tranche amount")
    paid_on = DateField("Payment date", validators=[DataRequired(), not_future])
    reference = StringField("Payment reference", validators=[DataRequired(), Length(max=80)])


class RejectForm(FlaskForm):
    reason = StringField("Reason for rejecting", validators=[DataRequired(), Length(max=200)])


class DirectSupportForm(KeyedForm):
    case_code = StringField(
        "Victim's case code",
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9/_-]+$", message="Letters, digits, - / _ only."),
        ],
        description="e.g. CAR-2017-0042 — never a name.",
    )
    country_code = SelectField("Country", choices=COUNTRY_CHOICES, validators=[Optional()])
    purpose = StringField(
        "Purpose", validators=[DataRequired(), Length(max=200)], description="e.g. school fees, rent"
    )
    amount = amount_field()
    currency = currency_field()
    paid_on = DateField("Date paid", validators=[DataRequired(), not_future])


class ReversalForm(KeyedForm):
    on = DateField("Date of the reversal", validators=[DataRequired(), not_future])
    reason = StringField("Why is it reversed?", validators=[DataRequired(), Length(max=200)])


class CloseForm(FlaskForm):
    month = DateField("Month to close (any day in it)", validators=[DataRequired()])


class JournalFilterForm(FlaskForm):
    class Meta:
        csrf = False

    account = SelectField("Account", validators=[Optional()])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    kind = SelectField("Source", validators=[Optional()])
    project = IntegerField("Project no.", validators=[Optional()])
    donor = SelectField("Donor", validators=[Optional()])
    country = SelectField("Country", choices=COUNTRY_CHOICES, validators=[Optional()])
