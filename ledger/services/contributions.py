"""Voluntary contributions: donors, their pledges, and the money received from them.

Every money event takes an idempotency key minted when its form was rendered."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger import engine, memos, pledged_outstanding
from ledger.engine import CASH, CONTRIBUTIONS, PLEDGES_RECEIVABLE, EntryKind, Line
from ledger.models import Donor, DonorKind, Pledge, Receipt
from ledger.services.booking import (
    Booking,
    amount_field,
    clearing_line,
    country,
    country_name,
    currency_field,
    day_field,
    is_reversed,
    money_fields,
    pair,
    rate_field,
    record_audit,
    with_exchange_difference,
)
from ledger.services.months import typed_rate
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import Conflict
from vat.inputs import InvalidField, clean_text, each_field
from vat.money import shown


def create_donor(*, actor: Actor, name: str, kind: DonorKind, country_code: str | None = None) -> Donor:
    """A member state (named by its ISO country code) or another donor (by name)."""
    code: str | None
    if kind is DonorKind.MEMBER_STATE:
        code = country(country_code or "")
        name = country_name(code)
    else:
        code = None
        name = " ".join((name or "").split())
        if not name:
            raise InvalidField("name", _l("Give the donor's name."))
    same = Donor.name == name
    if code is not None:  # (comparing with None would match every donor that is not a state)
        same = same | (Donor.country_code == code)
    if db.session.scalar(select(Donor.id).where(same)):
        raise Conflict(_l("%(name)s is already a donor.", name=name))
    donor = Donor(name=name, kind=kind.value, country_code=code)
    db.session.add(donor)
    db.session.flush()
    record_audit("donor.create", actor, "donor", donor.id, name=name, kind=kind.value)
    return donor


def record_pledge(
    *,
    actor: Actor,
    key: str,
    donor: Donor,
    currency: str,
    amount: Decimal,
    pledged_on: date,
    earmark: str | None = None,
    reference: str | None = None,
) -> Pledge:
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
    booking = Booking(actor, key, payload)
    if done := booking.booked_before(Pledge):
        return done
    checked = each_field(
        money_fields(currency, amount, pledged_on, "pledged_on")
        | {
            "earmark": lambda: clean_text("earmark", earmark, max_length=200),
            "reference": lambda: clean_text("reference", reference, max_length=80),
        }
    )
    rate = checked["rate"]
    amount_minor = engine.to_minor(amount, currency)
    pledge = Pledge(
        donor_id=donor.id,
        currency=currency,
        amount_minor=amount_minor,
        outstanding_minor=amount_minor,  # all of it, as its entry books it (ledger.pledged_outstanding)
        pledged_on=pledged_on,
        earmark=earmark or None,
        reference=reference or None,
    )
    db.session.add(pledge)
    db.session.flush()
    dims = {"donor_id": donor.id, "pledge_id": pledge.id, "country_code": donor.country_code}
    booking.book(
        pledge,
        kind=EntryKind.PLEDGE,
        on=pledged_on,
        memo=memos.PLEDGE_EARMARKED.write(donor=donor.name, earmark=earmark)
        if earmark
        else memos.PLEDGE.write(donor=donor.name),
        lines=pair(PLEDGES_RECEIVABLE, CONTRIBUTIONS, currency, amount, rate, dims),
    )
    return pledge


def pledge_outstanding(pledge: Pledge) -> Decimal:
    return engine.currency_balance(PLEDGES_RECEIVABLE, pledge.currency, pledge_id=pledge.id)


def _against_pledge(
    pledge: Pledge | None, *, donor: Donor, currency: str, amount: Decimal, on: date
) -> Pledge | None:
    """A receipt's rules against its pledge, each on the field to change: all of them at once."""
    if pledge is None:
        return None
    if pledge.donor_id != donor.id:
        raise InvalidField("pledge_id", _l("That pledge is another donor's."))
    if is_reversed(pledge.entry_id):
        raise InvalidField("pledge_id", _l("That pledge was reversed."))
    found: list[InvalidField] = []
    if pledge.currency != currency:
        found.append(
            InvalidField(
                "currency",
                _l(
                    "The pledge is in %(currency)s: record the receipt in %(currency)s.",
                    currency=pledge.currency,
                ),
            )
        )
    if on < pledge.pledged_on:
        found.append(InvalidField("received_on", _l("A receipt cannot predate its pledge.")))
    outstanding = pledge_outstanding(pledge)
    if pledge.currency == currency and amount > outstanding:
        found.append(
            InvalidField(
                "amount",
                _l(
                    "Only %(currency)s %(amount)s of this pledge is outstanding; record the excess as an "
                    "unpledged contribution.",
                    currency=currency,
                    amount=shown(outstanding),
                ),
            )
        )
    each_field({}, found=found)
    return pledge


def record_receipt(
    *,
    actor: Actor,
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
    booking = Booking(actor, key, payload)
    if done := booking.booked_before(Receipt):
        return done
    checked = each_field(
        {
            "currency": currency_field(currency),
            "amount": amount_field(amount, currency),
            "received_on": day_field(received_on, "received_on"),
            "bank_reference": lambda: clean_text(
                "bank_reference", bank_reference, max_length=80, required=True
            ),
            "rate": lambda: typed_rate(currency, received_on, rate),
            "month_rate": rate_field(currency, received_on),
            "pledge": lambda: _against_pledge(
                pledge, donor=donor, currency=currency, amount=amount, on=received_on
            ),
        }
    )
    cash_rate = checked["month_rate"]
    receipt = Receipt(
        donor_id=donor.id,
        pledge_id=pledge.id if pledge else None,
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        received_on=received_on,
        bank_reference=bank_reference.strip(),
        rate=cash_rate.rate if cash_rate else Decimal(1),
    )
    dims: dict[str, Any] = {"donor_id": donor.id, "country_code": donor.country_code}
    if pledge is None:
        lines = pair(CASH, CONTRIBUTIONS, currency, amount, cash_rate, dims)
    else:
        dims["pledge_id"] = pledge.id
        cleared = clearing_line(
            PLEDGES_RECEIVABLE, currency, amount, record={"pledge_id": pledge.id}, dims=dims, sign=-1
        )
        lines = with_exchange_difference(
            [Line(CASH, currency, amount, cash_rate, dims=dims), cleared], currency, dims
        )
    booking.book(
        receipt,
        kind=EntryKind.RECEIPT,
        on=received_on,
        memo=memos.RECEIPT.write(donor=donor.name, reference=receipt.bank_reference),
        lines=lines,
    )
    if pledge is not None:
        pledged_outstanding.KEPT.add(pledge.id, -receipt.amount_minor)
    return receipt
