"""The fund's events, each booked through the posting engine: donors and exchange rates, pledges
and receipts, withholdings and their transfers, projects, tranches (with maker–checker above a
threshold and the programme support cost), direct support to victims, reversals, period close.

Every function takes the acting user, validates, writes, audits and flushes; none commits.
Every money event takes an idempotency key minted when its form was rendered.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pycountry
from flask import current_app
from flask.signals import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import engine
from ledger.engine import (
    CASH,
    CONTRIBUTIONS,
    EXCHANGE_DIFFERENCES,
    GRANT_EXPENSE,
    GRANTS_PAYABLE,
    PLEDGES_RECEIVABLE,
    PROGRAMME_SUPPORT,
    USD,
    VICTIM_SUPPORT,
    WITHHELD_INCOME,
    WITHHELD_RECEIVABLE,
    EntryKind,
    Line,
)
from ledger.models import (
    DirectSupport,
    Donor,
    DonorKind,
    Entry,
    ExchangeRate,
    Period,
    Pledge,
    Posting,
    Project,
    ProjectBeneficiary,
    ProjectFocus,
    ProjectStatus,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from vat import audit
from vat.auth.models import User
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed

DEFAULT_APPROVAL_THRESHOLD_USD = Decimal("10000")
DEFAULT_PSC_RATE = Decimal("0.13")

# Sent, inside the booking transaction, when the fund pays a victim directly; the victims domain
# connects to it to record the matching assistance (the ledger never imports victims code).
signals = Namespace()
direct_support_paid = signals.signal("ledger-direct-support-paid")
direct_support_reversed = signals.signal("ledger-direct-support-reversed")


def approval_threshold() -> Decimal:
    return Decimal(
        str(current_app.config.get("LEDGER_APPROVAL_THRESHOLD_USD", DEFAULT_APPROVAL_THRESHOLD_USD))
    )


def psc_rate() -> Decimal:
    return Decimal(str(current_app.config.get("LEDGER_PSC_RATE", DEFAULT_PSC_RATE)))


def _positive(amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError("money must be a Decimal")
    if amount <= 0:
        raise DomainError(_l("The amount must be more than zero."))


def _country(code: str) -> str:
    country = pycountry.countries.get(alpha_3=(code or "").upper())
    if country is None:
        raise DomainError(_l("Unknown country code %(code)r.", code=code))
    return country.alpha_3


def _audit(action: str, actor: Any, object_type: str, object_id: object, **detail: Any) -> None:
    audit.record(
        f"ledger.{action}",
        actor=actor,
        object_type=f"ledger_{object_type}",
        object_id=object_id,
        detail=detail,
    )


def _existing(model: Any, entry: Entry) -> Any:
    return db.session.scalars(select(model).where(model.entry_id == entry.id)).one()


# --- donors and rates ------------------------------------------------------------------------


def create_donor(*, actor: Any, name: str, kind: DonorKind, country_code: str | None = None) -> Donor:
    """A member state (named by its ISO country code) or another donor (by name)."""
    if kind is DonorKind.MEMBER_STATE:
        code = _country(country_code or "")
        name = pycountry.countries.get(alpha_3=code).name
    else:
        code = None
        name = " ".join((name or "").split())
        if not name:
            raise DomainError(_l("Give the donor's name."))
    same = Donor.name == name
    if code is not None:  # (comparing with None would match every donor that is not a state)
        same = same | (Donor.country_code == code)
    if db.session.scalar(select(Donor.id).where(same)):
        raise Conflict(_l("%(name)s is already a donor.", name=name))
    donor = Donor(name=name, kind=kind.value, country_code=code)
    db.session.add(donor)
    db.session.flush()
    _audit("donor.create", actor, "donor", donor.id, name=name, kind=kind.value)
    return donor


def set_rate(*, actor: Any, currency: str, month: date, rate: Decimal, source: str) -> ExchangeRate:
    """Record (or, while no posting has used it, correct) the month's operational rate."""
    currency = currency.upper()
    if currency == USD:
        raise DomainError(_l("The US dollar is the fund's currency: its rate is always 1."))
    engine.exponent(currency)
    if not isinstance(rate, Decimal) or rate <= 0:
        raise DomainError(_l("The rate must be a positive number."))
    if rate != rate.quantize(Decimal(1).scaleb(-engine.RATE_PLACES)):
        raise DomainError(_l("A rate has at most %(places)s decimal places.", places=engine.RATE_PLACES))
    month = engine.month_of(month)
    row = db.session.scalar(
        select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.month == month)
    )
    if row is not None:
        used = db.session.scalar(select(Posting.id).where(Posting.fx_rate_id == row.id).limit(1))
        if used is not None:
            raise Conflict(
                _l(
                    "The %(currency)s rate for %(month)s is frozen: entries use it.",
                    currency=currency,
                    month=f"{month:%Y-%m}",
                )
            )
        before = row.rate
        row.rate, row.source, row.recorded_by_id = rate, source, getattr(actor, "id", None)
        db.session.flush()
        _audit("rate.correct", actor, "rate", row.id, currency=currency, month=month, old=before, new=rate)
        return row
    row = ExchangeRate(
        currency=currency, month=month, rate=rate, source=source, recorded_by_id=getattr(actor, "id", None)
    )
    db.session.add(row)
    db.session.flush()
    _audit("rate.record", actor, "rate", row.id, currency=currency, month=month, rate=rate)
    return row


def _rate_with(
    currency: str, day: date, given: Decimal | None, source: str, actor: Any
) -> ExchangeRate | None:
    """The month's rate; a rate typed on the form is recorded if the month has none yet and must
    agree with it otherwise (the operational rate is fixed per month)."""
    if currency == USD:
        return None
    row = db.session.scalar(
        select(ExchangeRate).where(
            ExchangeRate.currency == currency, ExchangeRate.month == engine.month_of(day)
        )
    )
    if row is None and given is not None:
        return set_rate(actor=actor, currency=currency, month=day, rate=given, source=source)
    if row is not None and given is not None and given != row.rate:
        raise DomainError(
            _l(
                "The UN operational rate for %(currency)s in %(month)s is %(rate)s; "
                "leave the rate empty to use it.",
                currency=currency,
                month=f"{day:%Y-%m}",
                rate=row.rate.normalize(),
            )
        )
    return engine.rate_for(currency, day)


def _clearing_value(
    account: str, currency: str, amount: Decimal, dims: dict[str, Any], rate: ExchangeRate | None
) -> Decimal:
    """The dollar value at which `amount` clears a receivable or payable: at the rate it was
    booked at, or, when it clears the rest, exactly the dollars left on it."""
    left = engine.currency_balance(account, currency, **dims)
    if abs(left) == amount:
        return abs(engine.usd_balance(account, **dims))
    return engine.to_usd(amount, Decimal(1) if rate is None else rate.rate)


def _with_exchange_difference(lines: list[Line], currency: str, dims: dict[str, Any]) -> list[Line]:
    """Add the realised exchange difference that makes the entry balance in dollars."""
    difference = sum(
        (
            line.usd
            if line.usd is not None
            else engine.to_usd(line.amount, line.rate.rate if line.rate else Decimal(1))
        )
        for line in lines
    )
    if difference:
        lines.append(Line(EXCHANGE_DIFFERENCES, currency, Decimal(0), usd=-difference, dims=dims))
    return lines


def _booked_rate(account: str, **dims: Any) -> ExchangeRate | None:
    """The rate of the first posting on `account` for this sub-ledger record."""
    query = select(Posting.fx_rate_id).where(Posting.account_id == engine.account_id(account))
    for name, value in dims.items():
        query = query.where(getattr(Posting, name) == value)
    rate_id = db.session.scalar(query.order_by(Posting.id).limit(1))
    return db.session.get(ExchangeRate, rate_id) if rate_id else None


# --- pledges and receipts --------------------------------------------------------------------


def record_pledge(
    *,
    actor: Any,
    key: str,
    donor: Donor,
    currency: str,
    amount: Decimal,
    pledged_on: date,
    earmark: str | None = None,
    reference: str | None = None,
) -> Pledge:
    _positive(amount)
    currency = currency.upper()
    payload = {
        "event": "pledge",
        "donor": donor.id,
        "currency": currency,
        "amount": amount,
        "on": pledged_on,
        "earmark": earmark,
        "reference": reference,
    }
    if done := engine.begin(key, payload):
        return _existing(Pledge, done)
    rate = engine.rate_for(currency, pledged_on)
    pledge = Pledge(
        donor_id=donor.id,
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        pledged_on=pledged_on,
        earmark=earmark or None,
        reference=reference or None,
    )
    db.session.add(pledge)
    db.session.flush()
    dims = {"donor_id": donor.id, "pledge_id": pledge.id, "country_code": donor.country_code}
    entry = engine.post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.PLEDGE,
        entry_date=pledged_on,
        memo=f"Pledge by {donor.name}" + (f" (earmarked: {earmark})" if earmark else ""),
        lines=[
            Line(PLEDGES_RECEIVABLE, currency, amount, rate, dims=dims),
            Line(CONTRIBUTIONS, currency, -amount, rate, dims=dims),
        ],
    )
    pledge.entry_id = entry.id
    db.session.flush()
    return pledge


def pledge_outstanding(pledge: Pledge) -> Decimal:
    return engine.currency_balance(PLEDGES_RECEIVABLE, pledge.currency, pledge_id=pledge.id)


def record_receipt(
    *,
    actor: Any,
    key: str,
    donor: Donor,
    amount: Decimal,
    currency: str,
    received_on: date,
    bank_reference: str,
    pledge: Pledge | None = None,
    rate: Decimal | None = None,
) -> Receipt:
    """Money in from a donor: against a pledge (clearing it at the pledge's dollar value and
    booking the realised exchange difference), or unpledged (straight to contributions)."""
    _positive(amount)
    currency = currency.upper()
    payload = {
        "event": "receipt",
        "donor": donor.id,
        "pledge": pledge.id if pledge else None,
        "currency": currency,
        "amount": amount,
        "on": received_on,
        "reference": bank_reference,
        "rate": rate,
    }
    if done := engine.begin(key, payload):
        return _existing(Receipt, done)
    if not (bank_reference or "").strip():
        raise DomainError(_l("Give the bank reference."))
    if pledge is not None:
        if pledge.donor_id != donor.id:
            raise DomainError(_l("That pledge is another donor's."))
        if pledge.currency != currency:
            raise DomainError(
                _l(
                    "The pledge is in %(currency)s: record the receipt in %(currency)s.",
                    currency=pledge.currency,
                )
            )
        if _is_reversed(pledge.entry_id):
            raise DomainError(_l("That pledge was reversed."))
        if received_on < pledge.pledged_on:
            raise DomainError(_l("A receipt cannot predate its pledge."))
        outstanding = pledge_outstanding(pledge)
        if amount > outstanding:
            raise DomainError(
                _l(
                    "Only %(currency)s %(amount)s of this pledge is outstanding; record the excess as an "
                    "unpledged contribution.",
                    currency=currency,
                    amount=f"{outstanding:,}",
                )
            )
    cash_rate = _rate_with(currency, received_on, rate, f"entered with receipt {bank_reference}", actor)
    receipt = Receipt(
        donor_id=donor.id,
        pledge_id=pledge.id if pledge else None,
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        received_on=received_on,
        bank_reference=bank_reference.strip(),
        rate=cash_rate.rate if cash_rate else Decimal(1),
    )
    db.session.add(receipt)
    db.session.flush()
    dims: dict[str, Any] = {"donor_id": donor.id, "country_code": donor.country_code}
    if pledge is None:
        lines = [
            Line(CASH, currency, amount, cash_rate, dims=dims),
            Line(CONTRIBUTIONS, currency, -amount, cash_rate, dims=dims),
        ]
    else:
        dims["pledge_id"] = pledge.id
        booked = _booked_rate(PLEDGES_RECEIVABLE, pledge_id=pledge.id)
        clear = _clearing_value(PLEDGES_RECEIVABLE, currency, amount, {"pledge_id": pledge.id}, booked)
        lines = _with_exchange_difference(
            [
                Line(CASH, currency, amount, cash_rate, dims=dims),
                Line(PLEDGES_RECEIVABLE, currency, -amount, booked, usd=-clear, dims=dims),
            ],
            currency,
            dims,
        )
    entry = engine.post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.RECEIPT,
        entry_date=received_on,
        memo=f"Receipt from {donor.name}, ref. {receipt.bank_reference}",
        lines=lines,
    )
    receipt.entry_id = entry.id
    db.session.flush()
    return receipt


# --- withholdings ----------------------------------------------------------------------------


def record_withholding(
    *,
    actor: Any,
    key: str,
    allegation_ref: str,
    country_code: str,
    amount: Decimal,
    decided_on: date,
    currency: str = USD,
    decision_reference: str | None = None,
) -> Withholding:
    """A payment withheld from a contributing country for a substantiated allegation."""
    _positive(amount)
    currency = currency.upper()
    allegation_ref = (allegation_ref or "").strip()
    payload = {
        "event": "withholding",
        "allegation": allegation_ref,
        "country": country_code,
        "currency": currency,
        "amount": amount,
        "on": decided_on,
        "decision": decision_reference,
    }
    if done := engine.begin(key, payload):
        return _existing(Withholding, done)
    if not allegation_ref:
        raise DomainError(_l("Give the allegation's reference number."))
    country = _country(country_code)
    rate = engine.rate_for(currency, decided_on)
    withholding = Withholding(
        allegation_ref=allegation_ref,
        country_code=country,
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        decided_on=decided_on,
        decision_reference=decision_reference or None,
    )
    db.session.add(withholding)
    db.session.flush()
    dims = {"withholding_id": withholding.id, "country_code": country, "allegation_ref": allegation_ref}
    entry = engine.post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.WITHHOLDING,
        entry_date=decided_on,
        memo=f"Withheld from {country} for allegation {allegation_ref}",
        lines=[
            Line(WITHHELD_RECEIVABLE, currency, amount, rate, dims=dims),
            Line(WITHHELD_INCOME, currency, -amount, rate, dims=dims),
        ],
    )
    withholding.entry_id = entry.id
    db.session.flush()
    return withholding


def withholding_outstanding(withholding: Withholding) -> Decimal:
    return engine.currency_balance(WITHHELD_RECEIVABLE, withholding.currency, withholding_id=withholding.id)


def record_withholding_transfer(
    *,
    actor: Any,
    key: str,
    withholding: Withholding,
    amount: Decimal,
    transferred_on: date,
    reference: str,
) -> WithholdingTransfer:
    """A withheld amount (or part of it) that reached the fund."""
    _positive(amount)
    payload = {
        "event": "withheld_transfer",
        "withholding": withholding.id,
        "amount": amount,
        "on": transferred_on,
        "reference": reference,
    }
    if done := engine.begin(key, payload):
        return _existing(WithholdingTransfer, done)
    if not (reference or "").strip():
        raise DomainError(_l("Give the transfer's reference."))
    if _is_reversed(withholding.entry_id):
        raise DomainError(_l("That withholding was reversed."))
    if transferred_on < withholding.decided_on:
        raise DomainError(_l("A transfer cannot predate the withholding decision."))
    outstanding = withholding_outstanding(withholding)
    if amount > outstanding:
        raise DomainError(
            _l(
                "Only %(currency)s %(amount)s of this withholding is outstanding.",
                currency=withholding.currency,
                amount=f"{outstanding:,}",
            )
        )
    currency = withholding.currency
    transfer = WithholdingTransfer(
        withholding_id=withholding.id,
        amount_minor=engine.to_minor(amount, currency),
        transferred_on=transferred_on,
        reference=reference.strip(),
    )
    db.session.add(transfer)
    db.session.flush()
    dims = {
        "withholding_id": withholding.id,
        "country_code": withholding.country_code,
        "allegation_ref": withholding.allegation_ref,
    }
    booked = _booked_rate(WITHHELD_RECEIVABLE, withholding_id=withholding.id)
    clear = _clearing_value(WITHHELD_RECEIVABLE, currency, amount, {"withholding_id": withholding.id}, booked)
    entry = engine.post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.WITHHELD_TRANSFER,
        entry_date=transferred_on,
        memo=f"Transfer of amount withheld from {withholding.country_code} ({withholding.allegation_ref})",
        lines=_with_exchange_difference(
            [
                Line(CASH, currency, amount, engine.rate_for(currency, transferred_on), dims=dims),
                Line(WITHHELD_RECEIVABLE, currency, -amount, booked, usd=-clear, dims=dims),
            ],
            currency,
            dims,
        ),
    )
    transfer.entry_id = entry.id
    db.session.flush()
    return transfer


# --- projects, tranches and the programme support cost ---------------------------------------


def fund_position() -> dict[str, Decimal]:
    """Cash, open commitments (grants approved, not yet disbursed), the programme support cost
    those commitments will draw, and what is left to commit — all in US dollars. Each balance is
    its account's latest running balance (one index probe), not a sum over its postings."""
    cash = engine.cents(engine.running_usd(engine.account_id(CASH)))
    commitments = -engine.cents(engine.running_usd(engine.account_id(GRANTS_PAYABLE)))
    reserve = (commitments * psc_rate()).quantize(engine.CENT, rounding=ROUND_HALF_EVEN)
    return {
        "cash": cash,
        "commitments": commitments,
        "psc_reserve": reserve,
        "available": cash - commitments - reserve,
    }


def approve_project(
    *,
    actor: Any,
    key: str,
    title: str,
    partner: str,
    country_code: str,
    focus: ProjectFocus,
    currency: str,
    amount: Decimal,
    approved_on: date,
    planned_start: date,
    planned_end: date,
    case_codes: list[str] | None = None,
) -> Project:
    """A grant approved by the review committee, within what is available to commit."""
    _positive(amount)
    currency = currency.upper()
    codes = sorted({c.strip().upper() for c in case_codes or [] if c.strip()})
    payload = {
        "event": "grant_approval",
        "title": title,
        "partner": partner,
        "country": country_code,
        "focus": focus.value,
        "currency": currency,
        "amount": amount,
        "on": approved_on,
        "start": planned_start,
        "end": planned_end,
        "cases": codes,
    }
    if done := engine.begin(key, payload):
        return _existing(Project, done)
    if not title.strip() or not partner.strip():
        raise DomainError(_l("Give the project's title and implementing partner."))
    if planned_end < planned_start:
        raise DomainError(_l("The planned end is before the planned start."))
    country = _country(country_code)
    rate = engine.rate_for(currency, approved_on)
    usd = engine.to_usd(amount, rate.rate if rate else Decimal(1))
    available = fund_position()["available"]
    needed = usd + (usd * psc_rate()).quantize(engine.CENT, rounding=ROUND_HALF_EVEN)
    if needed > available:
        raise DomainError(
            _l(
                "Not enough to commit: US$%(available)s is available; this grant and its programme "
                "support cost need US$%(needed)s.",
                available=f"{available:,.2f}",
                needed=f"{needed:,.2f}",
            )
        )
    project = Project(
        title=title.strip(),
        partner=partner.strip(),
        country_code=country,
        focus=focus.value,
        currency=currency,
        approved_minor=engine.to_minor(amount, currency),
        approved_on=approved_on,
        planned_start=planned_start,
        planned_end=planned_end,
        status=ProjectStatus.APPROVED.value,
        victims_supported=len(codes),
    )
    db.session.add(project)
    db.session.flush()
    for code in codes:
        db.session.add(ProjectBeneficiary(project_id=project.id, case_code=code))
    dims = {"project_id": project.id, "country_code": country}
    entry = engine.post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.GRANT_APPROVAL,
        entry_date=approved_on,
        memo=f"Grant approved: {project.title} ({project.partner})",
        lines=[
            Line(GRANT_EXPENSE, currency, amount, rate, dims=dims),
            Line(GRANTS_PAYABLE, currency, -amount, rate, dims=dims),
        ],
    )
    project.entry_id = entry.id
    db.session.flush()
    return project


def undisbursed(project: Project) -> Decimal:
    """What is approved and not yet disbursed, in the project's currency."""
    return -engine.currency_balance(GRANTS_PAYABLE, project.currency, project_id=project.id)


def pending_total(project: Project) -> Decimal:
    minor = db.session.scalar(
        select(func.coalesce(func.sum(Tranche.amount_minor), 0)).where(
            Tranche.project_id == project.id, Tranche.status == "pending"
        )
    )
    return engine.from_minor(minor or 0, project.currency)


def update_project(
    *,
    actor: Any,
    project: Project,
    status: ProjectStatus,
    actual_start: date | None,
    actual_end: date | None,
    victims_supported: int,
    add_case_codes: list[str] | None = None,
) -> Project:
    """Progress of a project (no money moves: cancelling releases the rest via `cancel_project`)."""
    if project.status in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(_l("The project has ended (cancelled or completed)."))
    if status is ProjectStatus.CANCELLED or (status is ProjectStatus.COMPLETED and undisbursed(project)):
        raise DomainError(
            _l("Use “End the project” to cancel or complete it: it releases what is undisbursed.")
        )
    if actual_start and actual_end and actual_end < actual_start:
        raise DomainError(_l("The actual end is before the actual start."))
    if status is ProjectStatus.COMPLETED and not actual_end:
        raise DomainError(_l("A completed project needs its actual end date."))
    if victims_supported < 0:
        raise DomainError(_l("The number of victims cannot be negative."))
    known = {b.case_code for b in project.beneficiaries}
    for code in sorted({c.strip().upper() for c in add_case_codes or [] if c.strip()} - known):
        db.session.add(ProjectBeneficiary(project_id=project.id, case_code=code))
        known.add(code)
    before = {"status": project.status, "start": project.actual_start, "end": project.actual_end}
    project.status = status.value
    project.actual_start = actual_start
    project.actual_end = actual_end
    project.victims_supported = max(victims_supported, len(known))
    db.session.flush()
    _audit("project.update", actor, "project", project.id, before=before, status=status.value)
    return project


def release_project(
    *, actor: Any, key: str, project: Project, on: date, reason: str, status: ProjectStatus
) -> Project:
    """End a project — cancelled, or completed with money left — and give its undisbursed
    commitment back to the fund."""
    reason = (reason or "").strip()
    payload = {
        "event": "grant_release",
        "project": project.id,
        "on": on,
        "reason": reason,
        "status": status.value,
    }
    if engine.begin(key, payload):
        return project
    if status not in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(_l("A project is released when it is cancelled or completed."))
    if project.status in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(_l("The project has already ended (cancelled or completed)."))
    if _is_reversed(project.entry_id):
        raise DomainError(_l("The project's approval was reversed."))
    if not reason:
        raise DomainError(_l("Say why the project ends with money undisbursed."))
    if pending_total(project):
        raise DomainError(_l("Decide the pending disbursements of this project first."))
    left = undisbursed(project)
    project.status = status.value
    if status is ProjectStatus.COMPLETED:
        project.actual_end = project.actual_end or on
    if left:
        dims = {"project_id": project.id, "country_code": project.country_code}
        usd = -engine.usd_balance(GRANTS_PAYABLE, project_id=project.id)
        rate = _booked_rate(GRANTS_PAYABLE, project_id=project.id)
        engine.post(
            actor=actor,
            key=key,
            payload=payload,
            kind=EntryKind.GRANT_RELEASE,
            entry_date=on,
            memo=f"Undisbursed grant released ({status.value}): {project.title}. {reason}"[:300],
            lines=[
                Line(GRANTS_PAYABLE, project.currency, left, rate, usd=usd, dims=dims),
                Line(GRANT_EXPENSE, project.currency, -left, rate, usd=-usd, dims=dims),
            ],
        )
        project.released_minor = engine.to_minor(left, project.currency)
    db.session.flush()
    _audit("project.release", actor, "project", project.id, released=left, status=status.value, reason=reason)
    return project


def request_disbursement(
    *, actor: Any, key: str, project: Project, amount: Decimal, paid_on: date, reference: str
) -> Tranche:
    """A tranche to the project's partner: posted at once up to the approval threshold (in US
    dollars), otherwise left pending until another fund manager approves it."""
    _positive(amount)
    payload = {
        "event": "disbursement",
        "project": project.id,
        "amount": amount,
        "on": paid_on,
        "ref": reference,
    }
    engine.lock()
    engine.check_key(key)
    existing = db.session.scalar(select(Tranche).where(Tranche.idempotency_key == key))
    if existing is not None:
        if existing.request_hash != engine.request_hash(payload):
            raise Conflict(_l("This form was already submitted with different values; open it again."))
        return existing
    if not (reference or "").strip():
        raise DomainError(_l("Give the payment reference."))
    if project.status in (ProjectStatus.CANCELLED, ProjectStatus.COMPLETED):
        raise DomainError(
            _l("The project has ended (cancelled or completed): nothing more can be disbursed.")
        )
    engine.refuse_closed_or_future(paid_on)
    room = undisbursed(project) - pending_total(project)
    if amount > room:
        raise DomainError(
            _l(
                "Only %(currency)s %(amount)s of the approved amount is undisbursed "
                "(after pending requests).",
                currency=project.currency,
                amount=f"{room:,}",
            )
        )
    rate = engine.rate_for(project.currency, paid_on)
    usd = engine.to_usd(amount, rate.rate if rate else Decimal(1))
    tranche = Tranche(
        project_id=project.id,
        amount_minor=engine.to_minor(amount, project.currency),
        paid_on=paid_on,
        reference=reference.strip(),
        idempotency_key=key,
        request_hash=engine.request_hash(payload),
        status="pending",
        maker_id=getattr(actor, "id", None),
    )
    db.session.add(tranche)
    db.session.flush()
    if usd > approval_threshold():
        _audit("disbursement.request", actor, "tranche", tranche.id, project=project.id, amount=amount)
        return tranche
    _post_tranche(actor=actor, tranche=tranche, maker=None)
    return tranche


def approve_disbursement(*, actor: Any, tranche: Tranche) -> Tranche:
    """The second fund manager's approval: the maker may not approve their own request."""
    engine.lock()
    db.session.refresh(tranche)
    if tranche.status != "pending":
        raise Conflict(_l("This disbursement is already decided (approved or rejected)."))
    if tranche.maker_id == getattr(actor, "id", None):
        raise NotAllowed(_l("You requested this disbursement: another fund manager must approve it."))
    maker = db.session.get(User, tranche.maker_id) if tranche.maker_id else None
    _post_tranche(actor=actor, tranche=tranche, maker=maker)
    return tranche


def reject_disbursement(*, actor: Any, tranche: Tranche, reason: str) -> Tranche:
    engine.lock()
    db.session.refresh(tranche)
    if tranche.status != "pending":
        raise Conflict(_l("This disbursement is already decided (approved or rejected)."))
    tranche.status = "rejected"
    tranche.checker_id = getattr(actor, "id", None)
    tranche.decided_at = utcnow()
    db.session.flush()
    _audit("disbursement.reject", actor, "tranche", tranche.id, reason=reason)
    return tranche


def _post_tranche(*, actor: Any, tranche: Tranche, maker: Any) -> None:
    project = db.session.get(Project, tranche.project_id)
    amount = engine.from_minor(tranche.amount_minor, project.currency)
    if amount > undisbursed(project):
        raise DomainError(
            _l(
                "Only %(currency)s %(amount)s of the approved amount is undisbursed.",
                currency=project.currency,
                amount=f"{undisbursed(project):,}",
            )
        )
    dims = {"project_id": project.id, "country_code": project.country_code}
    booked = _booked_rate(GRANTS_PAYABLE, project_id=project.id)
    clear = _clearing_value(GRANTS_PAYABLE, project.currency, amount, {"project_id": project.id}, booked)
    payload = {"event": "disbursement", "tranche": tranche.id}
    lines = _with_exchange_difference(
        [
            Line(GRANTS_PAYABLE, project.currency, amount, booked, usd=clear, dims=dims),
            Line(
                CASH, project.currency, -amount, engine.rate_for(project.currency, tranche.paid_on), dims=dims
            ),
        ],
        project.currency,
        dims,
    )
    entry = engine.post(
        actor=actor,
        key=tranche.idempotency_key,
        payload=payload,
        kind=EntryKind.DISBURSEMENT,
        entry_date=tranche.paid_on,
        memo=f"Tranche to {project.partner} for {project.title}, ref. {tranche.reference}",
        lines=lines,
        maker=maker,
    )
    cash_id = engine.account_id(CASH)
    paid_usd = -sum(p.usd_minor for p in entry.postings if p.account_id == cash_id)
    psc = (engine.cents(paid_usd) * psc_rate()).quantize(engine.CENT, rounding=ROUND_HALF_EVEN)
    psc_entry = None
    if psc:
        psc_entry = engine.post(
            actor=actor,
            key=tranche.idempotency_key + ":psc",
            payload=payload,
            kind=EntryKind.PROGRAMME_SUPPORT,
            entry_date=tranche.paid_on,
            memo=f"Programme support cost at {psc_rate() * 100:.2f}% on entry {entry.seq}",
            lines=[
                Line(PROGRAMME_SUPPORT, USD, psc, dims=dims),
                Line(CASH, USD, -psc, dims=dims),
            ],
            maker=maker,
        )
    tranche.status = "posted"
    tranche.entry_id = entry.id
    tranche.psc_entry_id = psc_entry.id if psc_entry else None
    tranche.checker_id = getattr(actor, "id", None) if maker is not None else None
    tranche.decided_at = utcnow()
    if project.status == ProjectStatus.APPROVED:
        project.status = ProjectStatus.ONGOING.value
        project.actual_start = project.actual_start or tranche.paid_on
    db.session.flush()


def behind_schedule(project: Project, today: date | None = None) -> bool:
    """Late to start, or past its planned end and not completed."""
    today = today or date.today()
    if project.status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        return False
    if project.actual_start is None and today > project.planned_start:
        return True
    return today > project.planned_end


# --- direct support to a victim --------------------------------------------------------------


def pay_direct_support(
    *,
    actor: Any,
    key: str,
    case_code: str,
    amount: Decimal,
    currency: str,
    paid_on: date,
    purpose: str,
    country_code: str | None = None,
) -> DirectSupport:
    """A payment from the fund to one victim, known to the ledger by case code only."""
    _positive(amount)
    currency = currency.upper()
    case_code = (case_code or "").strip().upper()
    payload = {
        "event": "victim_support",
        "case": case_code,
        "currency": currency,
        "amount": amount,
        "on": paid_on,
        "purpose": purpose,
        "country": country_code,
    }
    if done := engine.begin(key, payload):
        return _existing(DirectSupport, done)
    if not case_code or len(case_code) > 40:
        raise DomainError(_l("Give the victim's case code."))
    if not (purpose or "").strip():
        raise DomainError(_l("Give the purpose of the payment."))
    country = _country(country_code) if country_code else None
    support = DirectSupport(
        case_code=case_code,
        country_code=country,
        purpose=purpose.strip(),
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        paid_on=paid_on,
    )
    db.session.add(support)
    db.session.flush()
    rate = engine.rate_for(currency, paid_on)
    dims = {"case_code": case_code, "country_code": country}
    entry = engine.post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.VICTIM_SUPPORT,
        entry_date=paid_on,
        memo=f"Direct support to {case_code}: {support.purpose}"[:300],
        lines=[
            Line(VICTIM_SUPPORT, currency, amount, rate, dims=dims),
            Line(CASH, currency, -amount, rate, dims=dims),
        ],
    )
    support.entry_id = entry.id
    db.session.flush()
    direct_support_paid.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        actor=actor,
        case_code=case_code,
        amount=amount,
        currency=currency,
        paid_on=paid_on,
        ledger_entry_id=entry.id,
    )
    return support


# --- reversals -------------------------------------------------------------------------------


def _is_reversed(entry_id: int | None) -> bool:
    return (
        entry_id is not None
        and db.session.scalar(select(Entry.id).where(Entry.reverses_id == entry_id)) is not None
    )


def _live(model: Any, **where: Any) -> int:
    """How many sub-ledger rows matching `where` stand (their entry not reversed)."""
    query = select(func.count(model.id)).where(
        model.entry_id.is_not(None), model.entry_id.not_in(engine.reversed_ids())
    )
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0


def reverse_entry(*, actor: Any, key: str, entry: Entry, on: date, reason: str) -> Entry:
    """Correct a mistake: book the mirror image of an entry (and of its programme support cost
    when it is a disbursement). Sub-ledger rows whose entry is reversed no longer count."""
    reason = (reason or "").strip()
    payload = {"event": "reversal", "entry": entry.id, "on": on, "reason": reason}
    if done := engine.begin(key, payload):
        return done
    if not reason:
        raise DomainError(_l("Say why the entry is reversed."))
    if entry.kind == EntryKind.PROGRAMME_SUPPORT:
        raise DomainError(_l("Reverse the disbursement: its programme support cost is reversed with it."))
    if entry.kind == EntryKind.GRANT_RELEASE:
        raise DomainError(_l("A release cannot be reversed: approve a new project instead."))
    if entry.kind == EntryKind.PLEDGE:
        pledge = _existing(Pledge, entry)
        if _live(Receipt, pledge_id=pledge.id):
            raise DomainError(_l("Receipts stand against this pledge: reverse them first."))
    if entry.kind == EntryKind.WITHHOLDING:
        withholding = _existing(Withholding, entry)
        if _live(WithholdingTransfer, withholding_id=withholding.id):
            raise DomainError(_l("Transfers stand against this withholding: reverse them first."))
    project = None
    if entry.kind == EntryKind.GRANT_APPROVAL:
        project = _existing(Project, entry)
        if _live(Tranche, project_id=project.id) or pending_total(project):
            raise DomainError(_l("Disbursements stand against this project: reverse or decide them first."))
    tranche = None
    if entry.kind == EntryKind.DISBURSEMENT:
        tranche = db.session.scalars(select(Tranche).where(Tranche.entry_id == entry.id)).one()
    reversal = engine.reverse(actor=actor, key=key, payload=payload, entry=entry, on=on, memo=reason)
    if tranche is not None:
        tranche.status = "reversed"
        if tranche.psc_entry_id:
            psc = db.session.get(Entry, tranche.psc_entry_id)
            engine.reverse(actor=actor, key=key + ":psc", payload=payload, entry=psc, on=on, memo=reason)
    if project is not None:
        project.status = ProjectStatus.CANCELLED.value
    db.session.flush()
    if entry.kind == EntryKind.VICTIM_SUPPORT:
        direct_support_reversed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            actor=actor,
            ledger_entry_id=entry.id,
        )
    return reversal


# --- period close ----------------------------------------------------------------------------


def close_period(*, actor: Any, month: date) -> Period:
    """Close a month: refused while a sub-ledger differs from its control account or the ledger
    does not verify. Stores the close pack (control totals, reconciliations, rates, chain head)."""
    from ledger import reports
    from ledger.verify import verify

    engine.lock()
    month = engine.month_of(month)
    if month >= engine.month_of(date.today()):
        raise DomainError(_l("Only a month that has ended can be closed."))
    if engine.is_closed(month):
        raise Conflict(_l("%(month)s is already closed.", month=f"{month:%Y-%m}"))
    problem = verify().problem
    if problem:
        raise DomainError(
            _l("The ledger does not verify (%(problem)s); it cannot be closed.", problem=problem)
        )
    differences = [c for c in reports.subledger_checks() if c["difference"]]
    if differences:
        raise DomainError(
            _l("The %(name)s sub-ledger differs from its control account.", name=differences[0]["name"])
        )
    seq, head_hash = engine.head()
    pack = reports.close_pack(
        month, head_seq=seq, head_hash=head_hash, closed_by=getattr(actor, "username", None)
    )
    period = Period(
        month=month,
        closed_by_id=getattr(actor, "id", None),
        head_seq=seq,
        head_hash=head_hash,
        close_pack=json.dumps(pack, sort_keys=True, indent=1, default=str),
    )
    db.session.add(period)
    db.session.flush()
    _audit("period.close", actor, "period", period.id, month=month, head_seq=seq, head_hash=head_hash)
    return period
