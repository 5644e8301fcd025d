"""Direct support: a payment from the fund to one victim, known to the ledger by case code only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import current_app
from flask.signals import Namespace
from flask_babel import lazy_gettext as _l

from ledger import engine, memos
from ledger.engine import CASH, VICTIM_SUPPORT, EntryKind
from ledger.models import DirectSupport, Project, SupportRoute
from ledger.outflows import Outflow, OutflowKind
from ledger.services import four_eyes
from ledger.services.booking import (
    Booking,
    country,
    money_fields,
    pair,
)
from vat.auth.actor import Actor
from vat.db import db
from vat.inputs import InvalidField, clean_text, each_field

# Sent, inside the booking transaction, when the fund pays a victim directly (or the payment is
# reversed); the victims domain connects to them to record the matching assistance (the ledger
# never imports victims code).
signals = Namespace()
direct_support_paid = signals.signal("ledger-direct-support-paid")
direct_support_reversed = signals.signal("ledger-direct-support-reversed")


def pay_direct_support(
    *,
    actor: Actor,
    key: str,
    case_code: str,
    amount: Decimal,
    currency: str,
    paid_on: date,
    purpose: str,
    route: str | None,
    basis: str | None,
    project_id: int | None = None,
    country_code: str | None = None,
    envelope_id: int | None = None,
) -> DirectSupport:
    """A payment from the fund to one victim, known to the ledger by case code only. It posts at
    once within the four-eyes limits (the threshold per case code, the per-victim cap), otherwise
    it waits for a second fund manager: until then its row has no entry and nothing is paid.
    The fund never pays a victim itself: each payment names its route (an implementing partner's
    project, or the mission) and its approved basis."""
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
        "route": route,
        "project": project_id,
        "basis": basis,
        "envelope": envelope_id,
    }
    booking = Booking(actor, key, payload)
    engine.lock()
    if (requested := four_eyes.existing(booking)) is not None:
        return db.session.get_one(DirectSupport, requested.record_id)
    if done := booking.booked_before(DirectSupport):
        return done
    four_eyes.require_fund_manager(actor)
    checked = each_field(
        {
            "case_code": lambda: _case_code(case_code),
            "purpose": lambda: clean_text("purpose", purpose, max_length=200, required=True),
            "project": lambda: _route(route, project_id),
            "basis": lambda: _basis(basis),
            "country_code": lambda: country(country_code) if country_code else None,
        }
        | money_fields(currency, amount, paid_on, "paid_on")
    )
    rate = checked["rate"]
    support = DirectSupport(
        route=route,
        project=checked["project"],
        basis=checked["basis"],
        case_code=case_code,
        country_code=checked["country_code"],
        purpose=checked["purpose"],
        currency=currency,
        amount_minor=engine.to_minor(amount, currency),
        paid_on=paid_on,
        envelope_id=envelope_id,
    )
    db.session.add(support)
    db.session.flush()
    four_eyes.submit(
        booking,
        kind=OutflowKind.DIRECT_SUPPORT,
        usd=engine.to_usd(amount, rate.rate if rate else Decimal(1)),
        on=paid_on,
        record_id=support.id,
        payee=f"case:{case_code}",
        case_code=case_code,
        pre_approved=envelope_id is not None,  # the envelope, confirmed by two, checked its limits
    )
    return support


def _case_code(case_code: str) -> str:
    if not case_code or len(case_code) > 40:
        raise InvalidField("case_code", _l("Give the victim's case code."))
    return case_code


def _basis(basis: str | None) -> str:
    if not (basis or "").strip() or len(basis or "") > 200:
        raise InvalidField(
            "basis", _l("Give the approved basis of the payment (e.g. the decision reference).")
        )
    return (basis or "").strip()


def _route(route: str | None, project_id: int | None) -> Project | None:
    """The project whose implementing partner carries the payment (None through the mission)."""
    if route not in {r.value for r in SupportRoute}:
        raise InvalidField(
            "route",
            _l("Say how the payment reaches the victim: through an implementing partner or the mission."),
        )
    if route == SupportRoute.MISSION:
        if project_id is not None:
            raise InvalidField(
                "project_id", _l("A payment through the mission names no implementing partner's project.")
            )
        return None
    project = db.session.get(Project, project_id) if project_id is not None else None
    if project is None:
        raise InvalidField(
            "project_id", _l("Choose the project of the implementing partner the payment goes through.")
        )
    return project


def _post(outflow: Outflow, actor: Actor, maker: Actor | None) -> int:
    """Book the payment (at once, or once approved) and tell the victims domain."""
    support = db.session.get_one(DirectSupport, outflow.record_id)
    currency, paid_on = support.currency, support.paid_on
    amount = engine.from_minor(support.amount_minor, currency)
    rate = engine.rate_for(currency, paid_on)
    dims = {"case_code": support.case_code, "country_code": support.country_code}
    payload = {"event": "victim_support", "outflow": outflow.id}
    entry = Booking(actor, outflow.idempotency_key, payload, maker).book(
        support,
        kind=EntryKind.VICTIM_SUPPORT,
        on=paid_on,
        memo=memos.DIRECT_SUPPORT.write(case_code=support.case_code, purpose=support.purpose),
        lines=pair(VICTIM_SUPPORT, CASH, currency, amount, rate, dims),
    )
    direct_support_paid.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        actor=maker or actor,
        case_code=support.case_code,
        amount=amount,
        currency=currency,
        usd_minor=engine.to_minor(engine.to_usd(amount, rate.rate if rate else Decimal(1)), engine.USD),
        paid_on=paid_on,
        ledger_entry_id=entry.id,
        route=support.route,
        basis=support.basis,
    )
    return entry.id


four_eyes.register(OutflowKind.DIRECT_SUPPORT, post=_post)
