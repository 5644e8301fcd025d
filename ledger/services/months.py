"""The fund's months: each month's operational exchange rates, and closing them in order with
their packs. A closed month refuses anything new dated in it: entries (the engine), rates (here)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import balances, engine
from ledger.engine import USD
from ledger.models import Entry, ExchangeRate, Period, Posting
from ledger.reports.close_pack import close_pack, month_end
from ledger.reports.subledgers import subledger_checks
from ledger.services.booking import record_audit
from ledger.verify import anchor_heads, verify
from vat import anchors
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import Conflict, DomainError
from vat.inputs import today

# --- exchange rates ----------------------------------------------------------------------------


def set_rate(*, actor: Actor, currency: str, month: date, rate: Decimal, source: str) -> ExchangeRate:
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
    if engine.is_closed(month):
        raise Conflict(
            _l("%(month)s is closed: its rates are sealed in its close pack.", month=f"{month:%Y-%m}")
        )
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
        row.rate, row.source, row.recorded_by_id = rate, source, actor.id
        db.session.flush()
        record_audit(
            "rate.correct", actor, "rate", row.id, currency=currency, month=month, old=before, new=rate
        )
        return row
    row = ExchangeRate(currency=currency, month=month, rate=rate, source=source, recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    record_audit("rate.record", actor, "rate", row.id, currency=currency, month=month, rate=rate)
    return row


def rate_with(
    currency: str, day: date, given: Decimal | None, source: str, actor: Actor
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


# --- period close ------------------------------------------------------------------------------


def close_period(*, actor: Actor, month: date) -> Period:
    """Close a month: refused while a sub-ledger differs from its control account or the ledger
    does not verify. Stores the close pack (control totals, reconciliations, rates, chain head)."""
    engine.lock()
    month = engine.month_of(month)
    if month >= engine.month_of(today()):
        raise DomainError(_l("Only a month that has ended can be closed."))
    if engine.is_closed(month):
        raise Conflict(_l("%(month)s is already closed.", month=f"{month:%Y-%m}"))
    refuse_open_earlier(month)
    problem = verify().problem or next(iter(balances.differences()), None)
    if problem:
        raise DomainError(
            _l("The ledger does not verify (%(problem)s); it cannot be closed.", problem=problem)
        )
    differences = [c for c in subledger_checks() if c["difference"]]
    if differences:
        raise DomainError(
            _l("The %(name)s sub-ledger differs from its control account.", name=differences[0]["name"])
        )
    seq, head_hash = engine.head()
    pack = close_pack(month, head_seq=seq, head_hash=head_hash, closed_by=actor.username)
    pack["anchor"] = anchor = anchors.signed(anchor_heads(), f"close {month:%Y-%m}")
    anchors.append_after_commit(anchor)
    period = Period(
        month=month,
        closed_by_id=actor.id,
        head_seq=seq,
        head_hash=head_hash,
        close_pack=json.dumps(pack, sort_keys=True, indent=1, default=str),
    )
    db.session.add(period)
    db.session.flush()
    record_audit("period.close", actor, "period", period.id, month=month, head_seq=seq, head_hash=head_hash)
    return period


def refuse_open_earlier(month: date) -> None:
    """Months close in order: refused while an earlier month that has entries is still open
    (one query per closed month before it, at most)."""
    closed = set(db.session.scalars(select(Period.month).where(Period.month < month)))
    since = date.min
    while (
        first := db.session.scalar(
            select(func.min(Entry.entry_date)).where(Entry.entry_date >= since, Entry.entry_date < month)
        )
    ) is not None:
        earlier = engine.month_of(first)
        if earlier not in closed:
            raise Conflict(
                _l(
                    "Close %(earlier)s first: months close in order, and it has entries.",
                    earlier=f"{earlier:%Y-%m}",
                )
            )
        since = month_end(earlier) + timedelta(days=1)


def periods() -> list[Period]:
    return list(db.session.scalars(select(Period).order_by(Period.month.desc())))
