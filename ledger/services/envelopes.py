"""Rapid-response envelopes (issue 18, item 6; OIOS §113, SG §30: urgent individual needs cannot
wait for each payment's approval): what a mission may pay victims in urgent direct support, for a
period, within a total and a cap per victim, in US dollars.

One fund manager opens an envelope, another confirms it (maker–checker, as any outflow beyond
the limits): from then on a payment from it posts at once, through the posting engine and the
direct-support service like any other (its route the mission, its basis the envelope's), while
it stays within what the envelope has left and the victim's cap; beyond them it is refused, not
held. What an envelope paid is its standing payments, read under the ledger's lock, so payments
made at the same moment cannot overspend it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import engine
from ledger.models import DirectSupport, MissionEnvelope
from ledger.outflows import Outflow, OutflowKind, OutflowStatus
from ledger.services import four_eyes, victim_support
from ledger.services.booking import (
    amount_field,
    country,
    currency_field,
    day_field,
    positive,
    rate_field,
    record_audit,
    standing,
)
from vat.auth.actor import Actor
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed
from vat.inputs import InvalidField, clean_text, each_field
from vat.inputs import mission as mission_name
from vat.money import shown


def open_envelope(
    *,
    actor: Actor,
    mission: str,
    country_code: str,
    usd: Decimal,
    victim_cap: Decimal,
    opens_on: date,
    closes_on: date,
    basis: str,
) -> MissionEnvelope:
    """An envelope for `mission`, in force once a second fund manager confirms it."""
    four_eyes.require_fund_manager(actor)
    checked = each_field(
        {
            "mission": lambda: _mission(mission),
            "country_code": lambda: country(country_code),
            "usd": lambda: positive(usd, "usd"),
            "victim_cap": lambda: _cap(usd, victim_cap),
            "closes_on": lambda: _closes(opens_on, closes_on),
            "basis": lambda: clean_text("basis", basis, max_length=200, required=True),
        }
    )
    name = checked["mission"]
    envelope = MissionEnvelope(
        mission=name,
        country_code=checked["country_code"],
        usd_minor=engine.to_minor(usd, engine.USD),
        victim_cap_minor=engine.to_minor(victim_cap, engine.USD),
        opens_on=opens_on,
        closes_on=closes_on,
        basis=checked["basis"],
        maker_id=actor.id,
    )
    db.session.add(envelope)
    db.session.flush()
    record_audit("envelope.open", actor, "envelope", envelope.id, mission=name, usd=usd, cap=victim_cap)
    return envelope


def _mission(mission: str) -> str:
    name = mission_name("mission", mission)
    if name is None:
        raise InvalidField("mission", _l("Name the mission."))
    return name


def _cap(usd: Decimal, victim_cap: Decimal) -> Decimal:
    positive(victim_cap, "victim_cap")
    if usd > 0 and victim_cap > usd:
        raise InvalidField("victim_cap", _l("The cap per victim is more than the whole envelope."))
    return victim_cap


def _closes(opens_on: date, closes_on: date) -> date:
    if closes_on < opens_on:
        raise InvalidField("closes_on", _l("The envelope closes before it opens."))
    return closes_on


def confirm_envelope(*, actor: Actor, envelope: MissionEnvelope) -> MissionEnvelope:
    """The second fund manager's confirmation: never the one who opened it."""
    four_eyes.require_fund_manager(actor)
    engine.lock()
    db.session.refresh(envelope)
    if envelope.confirmed_at is not None:
        raise Conflict(_l("This envelope is already confirmed."))
    if envelope.maker_id == actor.id:
        raise NotAllowed(_l("You opened this envelope: another fund manager must confirm it."))
    envelope.checker_id, envelope.confirmed_at = actor.id, utcnow()
    db.session.flush()
    record_audit("envelope.confirm", actor, "envelope", envelope.id, maker=envelope.maker_id)
    return envelope


def _paid(*columns: Any) -> Any:
    """`columns` over the standing direct-support payments made from an envelope."""
    return standing(
        select(*columns)
        .join(DirectSupport, DirectSupport.id == Outflow.record_id)
        .where(
            Outflow.kind == OutflowKind.DIRECT_SUPPORT.value,
            Outflow.status == OutflowStatus.POSTED.value,
            DirectSupport.envelope_id.is_not(None),
        ),
        DirectSupport,
    )


def paid_minor(envelope: MissionEnvelope, case_code: str | None = None) -> int:
    """US cents the envelope paid (to one victim, with `case_code`): its payments that stand."""
    query = _paid(func.coalesce(func.sum(Outflow.usd_minor), 0)).where(
        DirectSupport.envelope_id == envelope.id
    )
    if case_code is not None:
        query = query.where(DirectSupport.case_code == case_code)
    return int(db.session.scalar(query) or 0)


@dataclass(frozen=True)
class EnvelopeRow:
    """An envelope as its list shows it: what it may pay, what it paid and to how many victims."""

    envelope: MissionEnvelope
    paid_minor: int
    victims: int

    @property
    def left_minor(self) -> int:
        return self.envelope.usd_minor - self.paid_minor


def envelope_rows() -> list[EnvelopeRow]:
    """Every envelope by mission, the latest first, with what it paid (one grouped query)."""
    paid = {
        envelope_id: (int(total), int(victims))
        for envelope_id, total, victims in db.session.execute(
            _paid(
                DirectSupport.envelope_id,
                func.sum(Outflow.usd_minor),
                func.count(func.distinct(DirectSupport.case_code)),
            ).group_by(DirectSupport.envelope_id)
        )
    }
    envelopes = db.session.scalars(
        select(MissionEnvelope).order_by(MissionEnvelope.mission, MissionEnvelope.opens_on.desc())
    )
    return [EnvelopeRow(e, *paid.get(e.id, (0, 0))) for e in envelopes]


def pay_urgent(
    *,
    actor: Actor,
    key: str,
    envelope: MissionEnvelope,
    case_code: str,
    amount: Decimal,
    currency: str,
    paid_on: date,
    purpose: str,
) -> DirectSupport:
    """Urgent direct support through the mission from its confirmed envelope: it posts at once,
    or is refused if the envelope is not in force on `paid_on`, has not that much left, or the
    victim would pass the envelope's cap. The same form submitted again pays once."""
    engine.lock()  # before reading what the envelope paid: concurrent payments take their turn
    engine.check_key(key)
    earlier = db.session.scalar(select(Outflow).where(Outflow.idempotency_key == key))
    db.session.refresh(envelope)
    code = (case_code or "").strip().upper()
    if earlier is None:
        _within(envelope, code, amount, currency.upper(), paid_on)
    basis = f"Rapid-response envelope {envelope.id}: {envelope.basis}"[:200]
    route: dict[str, Any] = {"route": "mission", "basis": basis, "country_code": envelope.country_code}
    paid: dict[str, Any] = {
        "case_code": code,
        "amount": amount,
        "currency": currency,
        "paid_on": paid_on,
        "purpose": purpose,
    }
    return victim_support.pay_direct_support(actor=actor, key=key, envelope_id=envelope.id, **route, **paid)


def _within(envelope: MissionEnvelope, case_code: str, amount: Decimal, currency: str, paid_on: date) -> None:
    """The payment's fields, each checked against the envelope too: every refusal at once."""
    if envelope.confirmed_at is None:
        raise DomainError(_l("This envelope is not confirmed by a second fund manager yet."))
    each_field(
        {
            "case_code": lambda: clean_text("case_code", case_code, max_length=40, required=True),
            "currency": currency_field(currency),
            "paid_on": lambda: _open_on(envelope, paid_on),
            "rate": rate_field(currency, paid_on),
            "amount": lambda: _left(envelope, case_code, amount, currency, paid_on),
        }
    )


def _open_on(envelope: MissionEnvelope, paid_on: date) -> date:
    if not envelope.opens_on <= paid_on <= envelope.closes_on:
        raise InvalidField("paid_on", _l("The envelope is not open on that day."))
    return day_field(paid_on, "paid_on")()


def _left(
    envelope: MissionEnvelope, case_code: str, amount: Decimal, currency: str, paid_on: date
) -> Decimal:
    amount_field(amount, currency)()
    try:
        rate = engine.rate_for(currency, paid_on)
    except DomainError:
        return amount  # said on the currency
    usd_minor = engine.to_minor(engine.to_usd(amount, rate.rate if rate else Decimal(1)), engine.USD)
    left = envelope.usd_minor - paid_minor(envelope)
    if usd_minor > left:
        raise InvalidField(
            "amount", _l("Only US$%(left)s is left in the envelope.", left=shown(engine.cents(left)))
        )
    if paid_minor(envelope, case_code) + usd_minor > envelope.victim_cap_minor:
        raise InvalidField(
            "amount",
            _l(
                "This would pay the victim more than the envelope's cap of US$%(cap)s.",
                cap=shown(engine.cents(envelope.victim_cap_minor)),
            ),
        )
    return amount
