"""The fund's months: each month's operational exchange rates, and closing a month with its pack."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import engine
from ledger.engine import USD
from ledger.models import Entry, ExchangeRate, Period, Posting
from ledger.reports.statements import trial_balance
from ledger.reports.subledgers import subledger_checks
from ledger.reports.withheld import reconciliation
from ledger.services.booking import record_audit
from ledger.verify import verify
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import Conflict, DomainError

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
    if month >= engine.month_of(date.today()):
        raise DomainError(_l("Only a month that has ended can be closed."))
    if engine.is_closed(month):
        raise Conflict(_l("%(month)s is already closed.", month=f"{month:%Y-%m}"))
    problem = verify().problem
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


def close_pack(month: date, *, head_seq: int, head_hash: str, closed_by: str | None) -> dict[str, Any]:
    """What auditors keep: control totals to the month's end, sub-ledger reconciliations, the
    rates used in the month, and the chain head that seals it."""
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = next_month - timedelta(days=1)
    rates = db.session.scalars(
        select(ExchangeRate).where(ExchangeRate.month == month).order_by(ExchangeRate.currency)
    ).all()
    entries = db.session.scalar(
        select(func.count(Entry.id)).where(Entry.entry_date >= month, Entry.entry_date <= end)
    )
    return {
        "fund": "Trust Fund in Support of Victims of Sexual Exploitation and Abuse",
        "period": f"{month:%Y-%m}",
        "closed_by": closed_by,
        "entries_in_period": entries,
        "chain_head": {"seq": head_seq, "hash": head_hash},
        "trial_balance": [
            {
                "account": r.account.code,
                "name": r.account.name,
                "debit": str(r.debit),
                "credit": str(r.credit),
            }
            for r in trial_balance(end)
        ],
        "subledgers": [{k: str(v) for k, v in c.items()} for c in subledger_checks()],
        "withholdings": {
            currency: {k: str(v) for k, v in values.items()}
            for currency, values in reconciliation(end).totals.items()
        },
        "rates": [
            {"currency": r.currency, "rate": str(r.rate.normalize()), "source": r.source} for r in rates
        ],
    }


def periods() -> list[Period]:
    return list(db.session.scalars(select(Period).order_by(Period.month.desc())))
