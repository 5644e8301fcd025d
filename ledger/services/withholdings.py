"""Payments withheld from contributing countries for substantiated allegations, and the transfers
that bring them to the fund."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask.signals import Namespace
from flask_babel import lazy_gettext as _l

from ledger import engine
from ledger.engine import CASH, USD, WITHHELD_INCOME, WITHHELD_RECEIVABLE, EntryKind, Line
from ledger.models import Withholding, WithholdingTransfer
from ledger.services.booking import (
    book,
    booked_by,
    clearing_line,
    country,
    is_reversed,
    pair,
    positive,
    with_exchange_difference,
)
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.inputs import mission as mission_name

signals = Namespace()
# Sent before a withholding is booked, with `allegation_ref` and `country_code`: the victims' side
# (connected by the app factory) refuses, by raising DomainError, a reference it does not know, an
# allegation not substantiated, or a country other than the allegation's contributing country,
# and answers with the allegation's mission. The ledger imports no victims code; it asks.
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
    positive(amount)
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
    if done := engine.begin(key, payload):
        return booked_by(Withholding, done)
    if not allegation_ref:
        raise DomainError(_l("Give the allegation's reference number."))
    code = country(country_code)
    answers = withholding_requested.send(None, allegation_ref=allegation_ref, country_code=code)
    holding = mission_name("mission", mission) or next((m for _, m in answers if m), None)
    rate = engine.rate_for(currency, decided_on)
    withholding = Withholding(
        allegation_ref=allegation_ref,
        country_code=code,
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        decided_on=decided_on,
        decision_reference=decision_reference or None,
        mission=holding,
    )
    db.session.add(withholding)
    db.session.flush()
    dims = {"withholding_id": withholding.id, "country_code": code, "allegation_ref": allegation_ref}
    book(
        withholding,
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.WITHHOLDING,
        on=decided_on,
        memo=f"Withheld from {code} for allegation {allegation_ref}",
        lines=pair(WITHHELD_RECEIVABLE, WITHHELD_INCOME, currency, amount, rate, dims),
    )
    return withholding


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
    positive(amount)
    payload = {
        "event": "withheld_transfer",
        "withholding": withholding.id,
        "amount": amount,
        "on": transferred_on,
        "reference": reference,
    }
    if done := engine.begin(key, payload):
        return booked_by(WithholdingTransfer, done)
    if not (reference or "").strip():
        raise DomainError(_l("Give the transfer's reference."))
    if is_reversed(withholding.entry_id):
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
    cash = Line(CASH, currency, amount, engine.rate_for(currency, transferred_on), dims=dims)
    cleared = clearing_line(
        WITHHELD_RECEIVABLE, currency, amount, record={"withholding_id": withholding.id}, dims=dims, sign=-1
    )
    book(
        transfer,
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.WITHHELD_TRANSFER,
        on=transferred_on,
        memo=f"Transfer of amount withheld from {withholding.country_code} ({withholding.allegation_ref})",
        lines=with_exchange_difference([cash, cleared], currency, dims),
    )
    return transfer
