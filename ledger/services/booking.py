"""What the fund's events share as they are booked: the amount and country checks, the audit row,
the record an entry booked, whether an entry stands, and clearing a receivable or payable at the
rate it was booked at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pycountry
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, select

from ledger import engine
from ledger.engine import EXCHANGE_DIFFERENCES, Line
from ledger.models import Entry, ExchangeRate, Posting
from vat import audit, money
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import Conflict, DomainError, NotAllowed
from vat.inputs import InvalidField

T = TypeVar("T")
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def positive(amount: Decimal, field: str = "amount") -> None:
    if not isinstance(amount, Decimal):
        raise TypeError("money must be a Decimal")
    if amount <= 0:
        raise InvalidField(field, _l("The amount must be more than zero."))


def country(code: str, field: str = "country_code") -> str:
    """The ISO 3166 alpha-3 code, checked."""
    found = pycountry.countries.get(alpha_3=(code or "").upper())
    if found is None:
        raise InvalidField(field, _l("Unknown country code %(code)r.", code=code))
    return str(found.alpha_3)


# --- a form's fields, each checked (vat.inputs.each_field: every refusal at once) --------------


def on_field(field: str, check: Callable[[], T]) -> Callable[[], T]:
    """`check` as the check of `field`: its refusal is shown on that field. A conflict with what
    is recorded, or a refusal of the actor, stays what it is (answered for the whole form)."""

    def run() -> T:
        try:
            return check()
        except (InvalidField, Conflict, NotAllowed):
            raise
        except DomainError as refused:
            raise InvalidField(field, refused.args[0]) from refused

    return run


def known_currency(currency: str) -> bool:
    """Whether the fund deals in `currency` (the currency field says so when not)."""
    try:
        engine.exponent(currency)
    except DomainError:
        return False
    return True


def currency_field(currency: str, field: str = "currency") -> Callable[[], str]:
    """The check of a currency field: one the fund deals in."""

    def check() -> str:
        engine.exponent(currency)
        return currency

    return on_field(field, check)


def amount_field(amount: Decimal, currency: str, field: str = "amount") -> Callable[[], Decimal]:
    """The check of an amount field: above zero, with no more decimals than its currency has (an
    unknown currency is refused on its own field, not here)."""

    def check() -> Decimal:
        positive(amount, field)
        return money.check_places(field, amount, currency) if known_currency(currency) else amount

    return check


def day_field(day: date, field: str) -> Callable[[], date]:
    """The check of a booking's date: in an open month, not in the future."""

    def check() -> date:
        engine.refuse_closed_or_future(day)
        return day

    return on_field(field, check)


def rate_field(currency: str, day: date, field: str = "currency") -> Callable[[], ExchangeRate | None]:
    """The check that the month of `day` has a confirmed rate for `currency` (on the currency
    field: the currency the fund does not know is said there once)."""
    return on_field(field, lambda: engine.rate_for(currency, day) if known_currency(currency) else None)


def money_fields(currency: str, amount: Decimal, day: date, day_name: str) -> dict[str, Callable[[], Any]]:
    """The checks of an amount in a currency booked on a day: the currency, the amount, the day
    (on the field `day_name`) and, as "rate", the confirmed rate of its month."""
    return {
        "currency": currency_field(currency),
        "amount": amount_field(amount, currency),
        day_name: day_field(day, day_name),
        "rate": rate_field(currency, day),
    }


def country_name(code: str) -> str:
    """A member state's English ISO name, kept as its donor's name (the key that finds it again);
    pages name it the reader's way (`ledger.labels.donor_name`)."""
    return str(pycountry.countries.lookup(country(code)).name)


def record_audit(action: str, actor: Actor, object_type: str, object_id: object, **detail: Any) -> None:
    audit.record(
        f"ledger.{action}",
        actor=actor,
        object_type=f"ledger_{object_type}",
        object_id=object_id,
        detail=detail,
    )


def booked_by(model: type[T], entry: Entry) -> T:
    """The sub-ledger record that `entry` booked (an event submitted twice returns it)."""
    return db.session.scalars(select(model).where(model.entry_id == entry.id)).one()  # type: ignore[attr-defined]


def is_reversed(entry_id: int | None) -> bool:
    return (
        entry_id is not None
        and db.session.scalar(select(Entry.id).where(Entry.reverses_id == entry_id)) is not None
    )


def stands(model: Any) -> ColumnElement[bool]:
    """True for the sub-ledger rows whose entry stands (is booked and not reversed)."""
    return and_(model.entry_id.is_not(None), model.entry_id.not_in(engine.reversed_ids()))


def standing(query: Q, model: Any) -> Q:
    """`query` narrowed to the sub-ledger rows whose entry stands."""
    return query.where(stands(model))


def standing_count(model: Any, **where: Any) -> int:
    """How many sub-ledger rows matching `where` stand."""
    query = standing(select(func.count(model.id)), model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0


def booked_rate(account: str, **dims: Any) -> ExchangeRate | None:
    """The rate of the first posting on `account` for this sub-ledger record."""
    query = select(Posting.fx_rate_id).where(Posting.account_id == engine.account_id(account))
    for name, value in dims.items():
        query = query.where(getattr(Posting, name) == value)
    rate_id = db.session.scalar(query.order_by(Posting.id).limit(1))
    return db.session.get(ExchangeRate, rate_id) if rate_id else None


def clearing_value(
    account: str, currency: str, amount: Decimal, dims: dict[str, Any], rate: ExchangeRate | None
) -> Decimal:
    """The dollar value at which `amount` clears a receivable or payable: at the rate it was
    booked at, or, when it clears the rest, exactly the dollars left on it."""
    left = engine.currency_balance(account, currency, **dims)
    if abs(left) == amount:
        return abs(engine.usd_balance(account, **dims))
    return engine.to_usd(amount, Decimal(1) if rate is None else rate.rate)


def clearing_line(
    account: str, currency: str, amount: Decimal, *, record: dict[str, Any], dims: dict[str, Any], sign: int
) -> Line:
    """The line that clears `amount` off `account` for one sub-ledger `record` (`sign` is -1 for a
    receivable, +1 for a payable), at the rate the record was booked at."""
    booked = booked_rate(account, **record)
    clear = clearing_value(account, currency, amount, record, booked)
    return Line(account, currency, sign * amount, booked, usd=sign * clear, dims=dims)


def with_exchange_difference(lines: list[Line], currency: str, dims: dict[str, Any]) -> list[Line]:
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


def pair(
    debit: str, credit: str, currency: str, amount: Decimal, rate: ExchangeRate | None, dims: dict[str, Any]
) -> list[Line]:
    """The two lines of an event that debits `debit` and credits `credit` with `amount`."""
    return [Line(debit, currency, amount, rate, dims=dims), Line(credit, currency, -amount, rate, dims=dims)]


@dataclass(frozen=True)
class Booking:
    """A fund's event as its service is asked to book it: by `actor` (`maker` asked for it when
    `actor` is the second fund manager approving it), under `key` for the request `payload`. A
    service makes it once; the key is checked on the way in and every entry of the event posts
    under it."""

    actor: Actor
    key: str
    payload: dict[str, Any]
    maker: Actor | None = None

    def begin(self) -> Entry | None:
        """Take the ledger lock, then: the entry booked under the key for this same request (an
        event submitted twice), or None if the key is new (`engine.begin`)."""
        return engine.begin(self.key, self.payload)

    def booked_before(self, model: type[T]) -> T | None:
        """`begin`, with the `model` record the entry booked before, if any."""
        done = self.begin()
        return None if done is None else booked_by(model, done)

    def book(
        self,
        record: Any = None,
        *,
        kind: str,
        on: date,
        memo: str,
        lines: list[Line],
        reverses: Entry | None = None,
    ) -> Entry:
        """Post the event's entry, and link the sub-ledger `record` it books to it. A record the
        postings name is flushed before; one they do not is best left out of the session until
        then: it is inserted with its entry's id, one statement instead of an insert and an update."""
        event = engine.Event(self.key, self.payload, kind, on, memo, lines, reverses, self.maker)
        entry = engine.post(self.actor, event)
        if record is not None:
            record.entry_id = entry.id
            db.session.add(record)
            db.session.flush()
        return entry
