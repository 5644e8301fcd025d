"""Payments withheld from contributing countries for substantiated allegations, and the transfers
that bring them to the fund."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask.signals import Namespace
from flask_babel import lazy_gettext as _l

from ledger import engine, memos, withheld_transferred
from ledger.engine import CASH, USD, WITHHELD_INCOME, WITHHELD_RECEIVABLE, EntryKind, Line
from ledger.models import Withholding, WithholdingTransfer
from ledger.services.booking import (
    Booking,
    amount_field,
    clearing_line,
    country,
    day_field,
    is_reversed,
    money_fields,
    on_field,
    pair,
    with_exchange_difference,
)
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, clean_text, each_field
from vat.inputs import mission as mission_name
from vat.money import shown

signals = Namespace()
# Sent before a withholding is booked, with `allegation_ref` and `country_code`: the victims' side
# (connected by the app factory) refuses, by raising InvalidField on the field to change, a
# reference it does not know, an allegation not substantiated, or a country other than the
# allegation's contributing country, and answers with the allegation's mission. The ledger
# imports no victims code; it asks.
withholding_requested = signals.signal("ledger-withholding-requested")


def record_withholding(
    *,
    actor: Actor,
    key: str,
    allegation_ref: str,
    country_code: str,
    amount: Decimal,
    decided_on: date,
    currency: str = USD,
    decision_reference: str | None = None,
    mission: str | None = None,
) -> Withholding:
    """A payment withheld from a contributing country for a substantiated allegation, held by a
    mission (OIOS §115: who holds the money must be known): the one given, else the allegation's."""
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
        "mission": mission,
    }
    booking = Booking(actor, key, payload)
    if done := booking.booked_before(Withholding):
        return done
    checked = each_field(
        {"country_code": lambda: country(country_code)}
        | money_fields(currency, amount, decided_on, "decided_on")
        | {
            "decision_reference": lambda: clean_text("decision_reference", decision_reference, max_length=80),
            "mission": lambda: mission_name("mission", mission),
        }
        | _allegation_check(allegation_ref, country_code)
    )
    code, rate = checked["country_code"], checked["rate"]
    holding = checked["mission"] or checked["allegation_mission"]
    withholding = Withholding(
        allegation_ref=allegation_ref,
        country_code=code,
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        decided_on=decided_on,
        decision_reference=checked["decision_reference"],
        mission=holding,
    )
    db.session.add(withholding)
    db.session.flush()
    dims = {"withholding_id": withholding.id, "country_code": code, "allegation_ref": allegation_ref}
    booking.book(
        withholding,
        kind=EntryKind.WITHHOLDING,
        on=decided_on,
        memo=memos.WITHHELD.write(country=code, allegation=allegation_ref),
        lines=pair(WITHHELD_RECEIVABLE, WITHHELD_INCOME, currency, amount, rate, dims),
    )
    return withholding


def _allegation_check(allegation_ref: str, country_code: str) -> dict[str, Any]:
    """The allegation's check (answering its mission), asked of the victims' side."""

    def check() -> str | None:
        if not allegation_ref:
            raise InvalidField("allegation_ref", _l("Give the allegation's reference number."))
        code = (country_code or "").upper()
        answers = withholding_requested.send(None, allegation_ref=allegation_ref, country_code=code)
        return next((m for _, m in answers if m), None)

    return {"allegation_mission": on_field("allegation_ref", check)}


def withholding_outstanding(withholding: Withholding) -> Decimal:
    return engine.currency_balance(WITHHELD_RECEIVABLE, withholding.currency, withholding_id=withholding.id)


def record_withholding_transfer(
    *,
    actor: Actor,
    key: str,
    withholding: Withholding,
    amount: Decimal,
    transferred_on: date,
    reference: str,
) -> WithholdingTransfer:
    """A withheld amount (or part of it) that reached the fund."""
    payload = {
        "event": "withheld_transfer",
        "withholding": withholding.id,
        "amount": amount,
        "on": transferred_on,
        "reference": reference,
    }
    booking = Booking(actor, key, payload)
    if done := booking.booked_before(WithholdingTransfer):
        return done
    if is_reversed(withholding.entry_id):
        raise DomainError(_l("That withholding was reversed."))
    each_field(
        {
            "amount": lambda: _transferable(withholding, amount),
            "transferred_on": lambda: _transferred_on(withholding, transferred_on),
            "reference": lambda: clean_text("reference", reference, max_length=80, required=True),
        }
    )
    currency = withholding.currency
    transfer = WithholdingTransfer(
        withholding_id=withholding.id,
        amount_minor=engine.to_minor(amount, currency),
        transferred_on=transferred_on,
        reference=reference.strip(),
    )
    dims = {
        "withholding_id": withholding.id,
        "country_code": withholding.country_code,
        "allegation_ref": withholding.allegation_ref,
    }
    cash = Line(CASH, currency, amount, engine.rate_for(currency, transferred_on), dims=dims)
    cleared = clearing_line(
        WITHHELD_RECEIVABLE, currency, amount, record={"withholding_id": withholding.id}, dims=dims, sign=-1
    )
    booking.book(
        transfer,
        kind=EntryKind.WITHHELD_TRANSFER,
        on=transferred_on,
        memo=memos.TRANSFER.write(country=withholding.country_code, allegation=withholding.allegation_ref),
        lines=with_exchange_difference([cash, cleared], currency, dims),
    )
    withheld_transferred.KEPT.add(withholding.id, transfer.amount_minor)
    return transfer


def _transferable(withholding: Withholding, amount: Decimal) -> Decimal:
    amount_field(amount, withholding.currency)()
    outstanding = withholding_outstanding(withholding)
    if amount > outstanding:
        raise InvalidField(
            "amount",
            _l(
                "Only %(currency)s %(amount)s of this withholding is outstanding.",
                currency=withholding.currency,
                amount=shown(outstanding),
            ),
        )
    return amount


def _transferred_on(withholding: Withholding, day: date) -> date:
    if day < withholding.decided_on:
        raise InvalidField("transferred_on", _l("A transfer cannot predate the withholding decision."))
    day_field(day, "transferred_on")()
    # The withholding's currency has a rate in the month received (its own field is not on the form).
    on_field("transferred_on", lambda: engine.rate_for(withholding.currency, day))()
    return day
