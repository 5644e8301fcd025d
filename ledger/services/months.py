"""The fund's months: each month's operational exchange rates, and closing them in order with
their packs. A closed month refuses anything new dated in it: entries (the engine), rates (here)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import balances, engine
from ledger.engine import USD
from ledger.models import Entry, ExchangeRate, Period, Posting
from ledger.reports.close_pack import close_pack, month_end
from ledger.reports.subledgers import subledger_checks
from ledger.services.booking import record_audit
from ledger.verify import seal, verify
from vat.auth.actor import Actor
from vat.auth.models import Role
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed
from vat.inputs import InvalidField, clean_text, each_field, today

# --- exchange rates ----------------------------------------------------------------------------
#
# Four eyes on rates: a rate one fund manager records (by hand or from the UN operational rates
# file) is only proposed; it converts nothing until a second fund manager confirms it. A rate
# further than the band from the previous month's confirmed rate needs a reason as well, which
# the confirming manager reads.

DEFAULT_RATE_BAND = Decimal("0.10")
MAX_RATE_ROWS = 2000  # a UN operational rates file lists about 160 currencies a month
RATES_FILE_COLUMNS = ("currency_code", "rate_per_usd", "effective_date")


def rate_band() -> Decimal:
    return Decimal(str(current_app.config.get("LEDGER_RATE_BAND", DEFAULT_RATE_BAND)))


def previous_rate(currency: str, month: date) -> ExchangeRate | None:
    """The latest confirmed rate of `currency` before `month`."""
    return db.session.scalar(
        select(ExchangeRate)
        .where(ExchangeRate.currency == currency, ExchangeRate.month < month, ExchangeRate.confirmed)
        .order_by(ExchangeRate.month.desc())
        .limit(1)
    )


def set_rate(
    *, actor: Actor, currency: str, month: date, rate: Decimal, source: str, reason: str | None = None
) -> ExchangeRate:
    """Propose (or, while no posting has used it, correct) the month's operational rate; it takes
    effect once another fund manager confirms it (`confirm_rate`)."""
    require_fund_manager(actor)
    currency = currency.upper()
    month = engine.month_of(month)
    checked = each_field(
        {
            "currency": lambda: _rated_currency(currency),
            "month": lambda: _open_month(month),
            "rate": lambda: _rate_value(rate),
            "source": lambda: clean_text("source", source, max_length=120, required=True),
            "reason": lambda: _reason(currency, month, rate, reason),
        }
    )
    reason = checked["reason"]
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
        row.rate, row.source, row.recorded_by_id, row.reason = rate, source, actor.id, reason
        row.recorded_at = utcnow()
        row.confirmed, row.confirmed_by_id, row.confirmed_at = False, None, None
        db.session.flush()
        record_audit(
            "rate.correct", actor, "rate", row.id, currency=currency, month=month, old=before, new=rate
        )
        return row
    row = ExchangeRate(
        currency=currency,
        month=month,
        rate=rate,
        source=source,
        recorded_by_id=actor.id,
        reason=reason,
        confirmed=False,
    )
    db.session.add(row)
    db.session.flush()
    record_audit("rate.record", actor, "rate", row.id, currency=currency, month=month, rate=rate)
    return row


def _rated_currency(currency: str) -> str:
    if currency == USD:
        raise InvalidField("currency", _l("The US dollar is the fund's currency: its rate is always 1."))
    try:
        engine.exponent(currency)
    except DomainError as refused:
        raise InvalidField("currency", refused.args[0]) from refused
    return currency


def _open_month(month: date) -> date:
    if engine.is_closed(month):
        raise InvalidField(
            "month",
            _l("%(month)s is closed: its rates are sealed in its close pack.", month=f"{month:%Y-%m}"),
        )
    return month


def _rate_value(rate: Decimal) -> Decimal:
    if not isinstance(rate, Decimal) or rate <= 0:
        raise InvalidField("rate", _l("The rate must be a positive number."))
    if rate != rate.quantize(Decimal(1).scaleb(-engine.RATE_PLACES)):
        raise InvalidField(
            "rate", _l("A rate has at most %(places)s decimal places.", places=engine.RATE_PLACES)
        )
    return rate


def _reason(currency: str, month: date, rate: Decimal, given: str | None) -> str | None:
    """The reason, needed for a rate further than the band from the previous month's."""
    reason = clean_text("reason", given, max_length=300)
    previous = previous_rate(currency, month)
    if reason or previous is None or not isinstance(rate, Decimal) or rate <= 0:
        return reason
    if abs(rate - previous.rate) > previous.rate * rate_band():
        raise InvalidField(
            "reason",
            _l(
                "%(currency)s %(rate)s is more than %(band)s%% from the previous month's %(previous)s: "
                "give the reason for it.",
                currency=currency,
                rate=rate.normalize(),
                band=f"{rate_band() * 100:.0f}",
                previous=previous.rate.normalize(),
            ),
        )
    return reason


def confirm_rate(*, actor: Actor, rate: ExchangeRate) -> ExchangeRate:
    """A second fund manager confirms a proposed rate: from now on it converts."""
    require_fund_manager(actor)
    db.session.refresh(rate)
    if rate.confirmed:
        raise Conflict(_l("This rate is already confirmed."))
    if rate.recorded_by_id == actor.id:
        raise NotAllowed(_l("You recorded this rate: another fund manager must confirm it."))
    if engine.is_closed(rate.month):
        raise Conflict(
            _l("%(month)s is closed: its rates are sealed in its close pack.", month=f"{rate.month:%Y-%m}")
        )
    rate.confirmed, rate.confirmed_by_id, rate.confirmed_at = True, actor.id, utcnow()
    db.session.flush()
    record_audit(
        "rate.confirm",
        actor,
        "rate",
        rate.id,
        currency=rate.currency,
        month=rate.month,
        rate=rate.rate,
        recorded_by=rate.recorded_by_id,
    )
    return rate


def confirm_rates(*, actor: Actor) -> list[ExchangeRate]:
    """Confirm every proposed rate another fund manager recorded (after reading them)."""
    require_fund_manager(actor)
    waiting = db.session.scalars(
        select(ExchangeRate)
        .where(~ExchangeRate.confirmed, ExchangeRate.recorded_by_id != actor.id)
        .order_by(ExchangeRate.month, ExchangeRate.currency)
    ).all()
    return [confirm_rate(actor=actor, rate=row) for row in waiting]


def import_rates(*, actor: Actor, data: str, source: str) -> list[ExchangeRate]:
    """Propose the rates of a UN operational rates file, all or none.

    The file is CSV with a header row naming at least `currency_code` (ISO 4217),
    `rate_per_usd` (units of the currency per US dollar) and `effective_date` (ISO 8601, any day
    of the month it applies to), and optionally `reason` (needed for a rate beyond the band).
    Other columns (the currency's name, the country) are ignored. A row for US dollars is skipped.
    """
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in RATES_FILE_COLUMNS if column not in header]
    if missing:
        raise DomainError(_l("The rates file lacks the column(s): %(columns)s.", columns=", ".join(missing)))
    reader.fieldnames = header
    rows: list[ExchangeRate] = []
    for line, record in enumerate(reader, start=2):
        if line - 1 > MAX_RATE_ROWS:
            raise DomainError(_l("The rates file has more than %(count)s rows.", count=MAX_RATE_ROWS))
        currency = (record.get("currency_code") or "").strip().upper()
        if currency == USD or not any(
            (value or "").strip() for value in record.values() if isinstance(value, str)
        ):
            continue
        try:
            rate = Decimal((record.get("rate_per_usd") or "").strip())
            on = date.fromisoformat((record.get("effective_date") or "").strip())
        except (InvalidOperation, ValueError):
            raise DomainError(
                _l("Line %(line)s: give the rate as a number and the date as YYYY-MM-DD.", line=line)
            ) from None
        if not rate.is_finite():
            raise DomainError(_l("Line %(line)s: the rate must be a positive number.", line=line))
        try:
            rows.append(
                set_rate(
                    actor=actor,
                    currency=currency,
                    month=on,
                    rate=rate,
                    source=source,
                    reason=record.get("reason"),
                )
            )
        except DomainError as refused:
            problems = " ".join(str(each) for each in getattr(refused, "errors", [refused]))
            raise DomainError(_l("Line %(line)s: %(problem)s", line=line, problem=problems)) from None
    if not rows:
        raise DomainError(_l("The rates file holds no rate."))
    return rows


def typed_rate(currency: str, day: date, given: Decimal | None) -> None:
    """A rate typed on a form that books an entry must be the month's (the operational rate is
    fixed per month, and set with four eyes under Exchange rates, never from such a form)."""
    if currency == USD or given is None:
        return
    row = db.session.scalar(
        select(ExchangeRate).where(
            ExchangeRate.currency == currency, ExchangeRate.month == engine.month_of(day)
        )
    )
    if row is not None and given != row.rate:
        raise InvalidField(
            "rate",
            _l(
                "The UN operational rate for %(currency)s in %(month)s is %(rate)s; "
                "leave the rate empty to use it.",
                currency=currency,
                month=f"{day:%Y-%m}",
                rate=row.rate.normalize(),
            ),
        )


def require_fund_manager(actor: Actor) -> None:
    if Role(actor.role) is not Role.FUND_MANAGER:
        raise NotAllowed(_l("Only a fund manager records and confirms exchange rates."))


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
    pack["anchor"] = seal(f"close {month:%Y-%m}")
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
