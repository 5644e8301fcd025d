"""Forms of the ledger. Every form that books money is a `KeyedForm`: it carries a key minted when
the form is rendered, so a second submission of the same page books nothing more. Every form that
moves money or sets rates is a `MoneyForm`: its key also says when it was served, and a submission
sent sooner than a person could is refused (vat.human_time)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are of wtforms 3.2
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ledger.models import DonorKind, ProjectFocus, ProjectStatus, SupportRoute
from ledger.services.partner_reports import KIND_LABELS
from vat.addresses import MAX_ID
from vat.human_time import HumanTime
from vat.inputs import country_choices, country_label, today
from vat.money import shown
from vat.plausibility import ConfirmAmount
from vat.request_keys import KeyedForm

MAX_AMOUNT = 10**12
STATUS_LABELS = {
    ProjectStatus.APPROVED: _l("Approved"),
    ProjectStatus.ONGOING: _l("Ongoing"),
    ProjectStatus.COMPLETED: _l("Completed"),
    ProjectStatus.CANCELLED: _l("Cancelled"),
}


def country_select() -> list[SelectChoice]:
    """ "—", then every country named and ordered in the reader's language, as the whole app lists
    them (vat.inputs.country_choices); a callable, so each form asks in its own request's language."""
    return [SelectChoice("", "—")] + [SelectChoice(code, name) for code, name in country_choices()]


def finite(form: Any, field: Any) -> None:
    if field.data is not None and not field.data.is_finite():
        raise ValidationError(_("Give a number."))


def positive(limit: int) -> Callable[[Any, Any], None]:
    def check(form: Any, field: Any) -> None:
        if field.data is not None and field.data.is_finite() and not 0 < field.data <= limit:
            raise ValidationError(_("Give a number above zero and at most %(limit)s.", limit=shown(limit)))

    return check


def not_future(form: Any, field: Any) -> None:
    if field.data and field.data > today():
        raise ValidationError(_("The date is in the future."))


def amount_field(label: Any = None) -> DecimalField:
    return DecimalField(
        label or _l("Amount"),
        places=None,
        validators=[InputRequired(), finite, positive(MAX_AMOUNT)],
        render_kw={"inputmode": "decimal"},
    )


def currency_field(default: str = "USD") -> StringField:
    return StringField(
        _l("Currency (ISO code)"),
        default=default,
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message=_l("Three letters, e.g. USD."))],
    )


class MoneyForm(HumanTime, KeyedForm):
    """A form that moves money or sets a rate: recorded once, and only if sent in human time."""

    def values(self, *skip: str) -> dict[str, Any]:
        """The key and the fields as its service's keyword arguments of the same names (read once
        the form is valid: a required field is never None then, the key always set): not the CSRF
        token, nor the unusual amount's confirmation (the view's to check), nor those in `skip`
        (the view converts them)."""
        values = {"key": self.key.data, **self.data}
        return {
            name: value
            for name, value in values.items()
            if name not in ("csrf_token", "amount_confirmed", *skip)
        }


class MoneyFileForm(MoneyForm):
    """A file that moves money or sets rates: sent in human time; what it records once is the
    service's to say (the key's digest does not see the file)."""

    record_once = False


class DonorForm(KeyedForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(DonorKind.MEMBER_STATE.value, _l("Member state")),
            SelectChoice(DonorKind.OTHER.value, _l("Other donor")),
        ],
    )
    country_code = SelectField(_l("Member state"), choices=country_select, validators=[Optional()])
    name = StringField(_l("Name (other donors)"), validators=[Optional(), Length(max=120)])


class RateForm(MoneyForm):
    currency = currency_field("EUR")
    month = DateField(_l("Month (any day in it)"), validators=[DataRequired()])
    rate = DecimalField(
        _l("Units of the currency per US dollar"),
        places=None,
        validators=[InputRequired(), finite, positive(10**9)],
    )
    source = StringField(
        _l("Source"), default="UN operational rates of exchange", validators=[DataRequired(), Length(max=120)]
    )
    reason = StringField(
        _l("Reason (needed when the rate moved more than the band since the previous month)"),
        validators=[Optional(), Length(max=300)],
    )


class RatesFileForm(MoneyFileForm):
    file = FileField(
        _l("UN operational rates file (CSV: currency_code, rate_per_usd, effective_date, optional reason)"),
        validators=[FileRequired()],
    )
    source = StringField(
        _l("Source"), default="UN operational rates of exchange", validators=[DataRequired(), Length(max=120)]
    )


class PledgeForm(MoneyForm):
    amount = amount_field()
    currency = currency_field()
    amount_confirmed = ConfirmAmount()
    pledged_on = DateField(_l("Date of the pledge"), validators=[DataRequired(), not_future])
    earmark = StringField(_l("Earmark (if any)"), validators=[Optional(), Length(max=200)])
    reference = StringField(_l("Letter reference"), validators=[Optional(), Length(max=80)])


class ReceiptForm(MoneyForm):
    pledge_id = SelectField(_l("Against pledge"), coerce=str, validators=[Optional()])
    amount = amount_field()
    currency = currency_field()
    amount_confirmed = ConfirmAmount()
    received_on = DateField(_l("Date received"), validators=[DataRequired(), not_future])
    bank_reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=80)])
    rate = DecimalField(
        _l("Rate (units per US dollar)"),
        places=None,
        validators=[Optional(), finite, positive(10**9)],
        description=_l("Leave empty to use the month's UN operational rate."),
    )


class WithholdingForm(MoneyForm):
    allegation_ref = StringField(
        _l("Allegation reference"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("e.g. 0399/15"),
    )
    country_code = SelectField(
        _l("Contributing country"), choices=country_select, validators=[DataRequired()]
    )
    amount = amount_field(_l("Amount withheld"))
    currency = currency_field()
    amount_confirmed = ConfirmAmount()
    decided_on = DateField(_l("Date of the decision"), validators=[DataRequired(), not_future])
    decision_reference = StringField(_l("Decision reference"), validators=[Optional(), Length(max=80)])
    mission = StringField(
        _l("Mission holding the money"),
        validators=[Optional(), Length(max=40)],
        description=_l("Leave empty for the allegation's mission."),
    )


class TransferForm(MoneyForm):
    amount = amount_field(_l("Amount transferred"))
    amount_confirmed = ConfirmAmount()
    transferred_on = DateField(_l("Date received by the fund"), validators=[DataRequired(), not_future])
    reference = StringField(_l("Transfer reference"), validators=[DataRequired(), Length(max=80)])


class ProjectForm(MoneyForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    partner = StringField(_l("Implementing partner"), validators=[DataRequired(), Length(max=120)])
    country_code = SelectField(_l("Country"), choices=country_select, validators=[DataRequired()])
    focus = SelectField(_l("Focus"), choices=[SelectChoice(f.value, f.label) for f in ProjectFocus])
    amount = amount_field(_l("Approved amount"))
    currency = currency_field()
    amount_confirmed = ConfirmAmount()
    approved_on = DateField(
        _l("Approved by the review committee on"), validators=[DataRequired(), not_future]
    )
    planned_start = DateField(_l("Planned start"), validators=[DataRequired()])
    planned_end = DateField(_l("Planned end"), validators=[DataRequired()])
    case_codes = TextAreaField(
        _l("Victims directly supported (case codes, one per line)"), validators=[Optional(), Length(max=5000)]
    )


class ReportDueForm(KeyedForm):
    kind = SelectField(_l("Report"), choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    due_on = DateField(_l("Due on"), validators=[DataRequired()])
    period_start = DateField(_l("Reporting period from"), validators=[Optional()])
    period_end = DateField(_l("Reporting period to"), validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        if (self.period_start.data is None) != (self.period_end.data is None):  # Optional stops a check
            both = _("Give both the first and the last day of the reporting period, or neither.")
            self.period_end.errors = [*self.period_end.errors, both]
            return False
        return valid

    @property
    def period(self) -> tuple[Any, Any] | None:
        return (self.period_start.data, self.period_end.data) if self.period_start.data else None


class ReportLinesForm(FlaskForm):
    file = FileField(
        _l("The partner's file (CSV or XLSX: case_code, support, amount, optional provided_on)"),
        validators=[FileRequired()],
    )


class ReportReceivedForm(FlaskForm):
    received_on = DateField(_l("Received on"), validators=[DataRequired(), not_future])
    reference = StringField(_l("Reference of the document"), validators=[Optional(), Length(max=120)])


def status_field(label: Any, *statuses: ProjectStatus) -> SelectField:
    """A choice of the project statuses a form may set, each named as the ledger's pages name it."""
    return SelectField(label, choices=[SelectChoice(s.value, STATUS_LABELS[s]) for s in statuses])


class ProjectProgressForm(FlaskForm):
    status = status_field(
        _l("Status"), ProjectStatus.APPROVED, ProjectStatus.ONGOING, ProjectStatus.COMPLETED
    )
    actual_start = DateField(_l("Actual start"), validators=[Optional(), not_future])
    actual_end = DateField(_l("Actual end"), validators=[Optional(), not_future])
    victims_supported = IntegerField(
        _l("Victims directly supported (count)"), validators=[NumberRange(min=0, max=100000)]
    )
    case_codes = TextAreaField(_l("Add case codes (one per line)"), validators=[Optional(), Length(max=5000)])


class ReleaseForm(MoneyForm):
    status = status_field(_l("End the project as"), ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)
    on = DateField(_l("Date"), validators=[DataRequired(), not_future])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


PAYMENT_LINE = re.compile(r"([A-Za-z0-9/_-]{1,40})[\s,;:]+([0-9]+(?:\.[0-9]+)?)")


def payment_lines(text: str | None) -> list[tuple[str, Decimal]]:
    """The "Paid to victims" box: one case code and amount a line (e.g. `CAR-2017-0042 250.00`)."""
    payments = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = PAYMENT_LINE.fullmatch(line.strip())
        try:
            amount = Decimal(match.group(2)) if match else None
        except InvalidOperation:
            amount = None
        if match is None or amount is None or not 0 < amount <= MAX_AMOUNT:
            raise ValidationError(
                _(
                    "Line %(number)s: give a case code and an amount, e.g. CAR-2017-0042 250.00.",
                    number=number,
                )
            )
        payments.append((match.group(1).upper(), amount))
    return payments


def payments_to_victims(form: Any, field: Any) -> None:
    payment_lines(field.data)


class TrancheForm(MoneyForm):
    amount = amount_field(_l("Tranche amount"))
    amount_confirmed = ConfirmAmount()
    paid_on = DateField(_l("Payment date"), validators=[DataRequired(), not_future])
    reference = StringField(_l("Payment reference"), validators=[DataRequired(), Length(max=80)])
    victim_payments = TextAreaField(
        _l("Paid to victims (optional)"),
        validators=[Optional(), Length(max=5000), payments_to_victims],
        description=_l(
            "What this tranche paid victims directly: one case code and amount (in the project's "
            "currency) a line, e.g. CAR-2017-0042 250.00. Only money paid counts as support, not a listing."
        ),
    )


class RejectForm(FlaskForm):
    reason = StringField(_l("Reason for rejecting"), validators=[DataRequired(), Length(max=200)])


def _optional_int(value: object) -> int | None:
    return int(str(value)) if value not in (None, "") else None


def case_code_field() -> StringField:
    return StringField(
        _l("Victim's case code"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9/_-]+$", message=_l("Letters, digits, - / _ only.")),
        ],
        description=_l("e.g. CAR-2017-0042 — never a name."),
    )


def purpose_field() -> StringField:
    return StringField(
        _l("Purpose"), validators=[DataRequired(), Length(max=200)], description=_l("e.g. school fees, rent")
    )


class DirectSupportForm(MoneyForm):
    case_code = case_code_field()
    country_code = SelectField(_l("Country"), choices=country_select, validators=[Optional()])
    purpose = purpose_field()
    amount = amount_field()
    currency = currency_field()
    amount_confirmed = ConfirmAmount()
    paid_on = DateField(_l("Date paid"), validators=[DataRequired(), not_future])
    route = SelectField(
        _l("Route to the victim"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice(SupportRoute.IMPLEMENTING_PARTNER.value, _l("Through an implementing partner")),
            SelectChoice(SupportRoute.MISSION.value, _l("Through the mission")),
        ],
        validators=[DataRequired()],
        description=_l("The fund does not pay victims itself."),
    )
    # Choices are the projects, set by the view; required by the service for the partner route.
    project_id = SelectField(
        _l("Implementing partner's project"), coerce=_optional_int, validators=[Optional()]
    )
    basis = StringField(
        _l("Approved basis"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("e.g. the decision reference"),
    )


class EnvelopeForm(MoneyForm):
    mission = StringField(
        _l("Mission"), validators=[DataRequired(), Length(max=40)], description=_l("e.g. MINUSCA")
    )
    country_code = SelectField(_l("Country"), choices=country_select, validators=[DataRequired()])
    usd = amount_field(_l("Envelope (US$)"))
    victim_cap = amount_field(_l("Cap per victim (US$)"))
    opens_on = DateField(_l("Opens on"), validators=[DataRequired()])
    closes_on = DateField(_l("Closes on"), validators=[DataRequired()])
    basis = StringField(
        _l("Approved basis"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("e.g. the decision reference"),
    )


class UrgentPaymentForm(MoneyForm):
    case_code = case_code_field()
    purpose = purpose_field()
    amount = amount_field()
    currency = currency_field()
    paid_on = DateField(_l("Date paid"), validators=[DataRequired(), not_future])


class ReversalForm(MoneyForm):
    on = DateField(_l("Date of the reversal"), validators=[DataRequired(), not_future])
    reason = StringField(_l("Why is it reversed?"), validators=[DataRequired(), Length(max=200)])


class CloseForm(FlaskForm):
    month = DateField(_l("Month to close (any day in it)"), validators=[DataRequired()])


class JournalFilterForm(FlaskForm):
    class Meta:
        csrf = False

    account = SelectField(_l("Account"), validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    kind = SelectField(_l("Source"), validators=[Optional()])
    project = IntegerField(_l("Project no."), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    donor = SelectField(_l("Donor"), validators=[Optional()])
    country = SelectField(_l("Country"), choices=country_select, validators=[Optional()])


# Named when shown, in the reader's language.
COUNTRY_NAMES = {c.alpha_3: LazyString(country_label, c.alpha_3) for c in pycountry.countries}


def known_values(label: Any) -> SelectField:
    """A list filter over values the list holds: chosen from those (the view `offer`s them), not
    typed — a handful of countries or currencies, not the 250 there are."""
    return SelectField(label, choices=[SelectChoice("", "—")], validators=[Optional()])


def offer(field: SelectField, values: list[str], names: dict[str, str] | None = None) -> None:
    """Set a `known_values` filter's choices: "—" (any), then each value, named if `names` has it."""
    field.choices = [SelectChoice("", "—")] + [
        SelectChoice(value, f"{names[value]} ({value})" if names and value in names else value)
        for value in values
    ]


class DirectSupportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    currency = known_values(_l("Currency"))
    country = known_values(_l("Country"))
    case_code = StringField(_l("Case code"), validators=[Optional(), Length(max=40)])


class ProjectFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", "—")] + [SelectChoice(s.value, text) for s, text in STATUS_LABELS.items()],
        validators=[Optional()],
    )
    focus = SelectField(
        _l("Focus"),
        choices=[SelectChoice("", "—")] + [SelectChoice(f.value, f.label) for f in ProjectFocus],
        validators=[Optional()],
    )
    country = known_values(_l("Country"))


class LedgerImportForm(MoneyFileForm):
    file = FileField(
        _l("The fund's history (CSV or XLSX, the template's columns)"),
        validators=[FileRequired()],
    )
