"""The posting engine: the only code that writes journal entries and postings.

Rules it enforces (each also checked from scratch by `flask ledger verify`):

* an entry has at least two lines and balances in every currency and in US dollars;
* amounts are Decimal, at most the currency's exponent in decimal places (never rounded here);
* a line is converted to US dollars by dividing by the month's UN operational rate (units per
  dollar) and rounding to the cent, half to even; the few cents of residual that rounding can leave
  (at most half a cent per converted line) go to the rounding account on a line of zero in the
  original currency; only exchange-difference and rounding accounts may carry such zero lines;
* one idempotency key, one entry: the same key with the same request returns the entry already
  booked, the same key with a different request is a conflict;
* cash never goes negative; no entry is dated in a closed month or in the future;
* every entry is hash-chained (HMAC with VAT_MAC_KEY over the previous hash and the entry);
* all of this runs under one lock per ledger (PostgreSQL advisory lock; SQLite's write lock),
  so two writers can never both pass a check that only one of them may pass.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from flask import current_app, g
from sqlalchemy import func, select

from ledger.models import Account, Currency, Entry, ExchangeRate, Period, Posting
from vat import audit
from vat.db import db, lock_for_chain
from vat.errors import Conflict, DomainError

GENESIS = "0" * 64
USD = "USD"
CENT = Decimal("0.01")
RATE_PLACES = 8

# The chart of accounts (seeded by the migration); codes are what the code refers to.
CASH = "1000"
PLEDGES_RECEIVABLE = "1100"
WITHHELD_RECEIVABLE = "1200"
GRANTS_PAYABLE = "2000"
FUND_BALANCE = "3000"
CONTRIBUTIONS = "4000"
WITHHELD_INCOME = "4100"
EXCHANGE_DIFFERENCES = "4900"
ROUNDING = "4910"
GRANT_EXPENSE = "5000"
VICTIM_SUPPORT = "5100"
PROGRAMME_SUPPORT = "5200"

# Accounts whose US-dollar balance may never fall below zero.
NEVER_NEGATIVE = frozenset({CASH})


class EntryKind:
    PLEDGE = "pledge"
    RECEIPT = "receipt"
    WITHHOLDING = "withholding"
    WITHHELD_TRANSFER = "withheld_transfer"
    GRANT_APPROVAL = "grant_approval"
    GRANT_RELEASE = "grant_release"
    DISBURSEMENT = "disbursement"
    PROGRAMME_SUPPORT = "programme_support"
    VICTIM_SUPPORT = "victim_support"
    REVERSAL = "reversal"

    ALL = (
        PLEDGE,
        RECEIPT,
        WITHHOLDING,
        WITHHELD_TRANSFER,
        GRANT_APPROVAL,
        GRANT_RELEASE,
        DISBURSEMENT,
        PROGRAMME_SUPPORT,
        VICTIM_SUPPORT,
        REVERSAL,
    )


DIMENSIONS = (
    "donor_id",
    "pledge_id",
    "withholding_id",
    "project_id",
    "country_code",
    "allegation_ref",
    "case_code",
)


@dataclass
class Line:
    """One line to post: `amount` in `currency`, debit positive. `usd` fixes the dollar value
    (to clear a receivable at the value it was booked at); otherwise it is converted at `rate`."""

    account: str
    currency: str
    amount: Decimal
    rate: ExchangeRate | None = None
    usd: Decimal | None = None
    dims: dict[str, Any] = field(default_factory=dict)


# --- currencies, minor units and conversion --------------------------------------------------


def exponent(currency: str) -> int:
    # Asked once per amount shown: remembered for the app context (a list page asks hundreds).
    known = g.setdefault("ledger_exponents", {})
    if currency not in known:
        value = db.session.scalar(select(Currency.exponent).where(Currency.code == currency))
        if value is None:
            raise DomainError(f"Unknown currency {currency}.")
        known[currency] = value
    return known[currency]


def to_minor(amount: Decimal, currency: str) -> int:
    if not isinstance(amount, Decimal):
        raise TypeError("money must be a Decimal")
    places = exponent(currency)
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise DomainError(f"{currency} amounts have at most {places} decimal places.")
    return int(minor)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def cents(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)


def to_usd(amount: Decimal, rate: Decimal) -> Decimal:
    """Dollars for `amount` at `rate` units per dollar, rounded to the cent, half to even."""
    with localcontext() as context:
        context.prec = 40
        return (amount / rate).quantize(CENT, rounding=ROUND_HALF_EVEN)


def month_of(day: date) -> date:
    return day.replace(day=1)


def rate_for(currency: str, day: date) -> ExchangeRate | None:
    """The month's operational rate (None for US dollars); refuses when none is recorded."""
    if currency == USD:
        return None
    exponent(currency)
    row = db.session.scalar(
        select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.month == month_of(day))
    )
    if row is None:
        raise DomainError(
            f"No UN operational rate for {currency} in {day:%Y-%m}: record it under Exchange rates first."
        )
    return row


# --- idempotency -----------------------------------------------------------------------------


def request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def lock() -> None:
    """Serialise every writer of the ledger until the transaction ends."""
    lock_for_chain("ledger")


def check_key(key: str) -> None:
    if not key or len(key) > 64:
        raise DomainError("This form has expired: open it again.")


def begin(key: str, payload: dict[str, Any]) -> Entry | None:
    """Take the ledger lock, then: the entry already booked under `key` for this same request, or
    None if the key is new. The same key with a different request is refused."""
    lock()
    check_key(key)
    existing = db.session.scalar(select(Entry).where(Entry.idempotency_key == key))
    if existing is None:
        return None
    if existing.request_hash != request_hash(payload):
        raise Conflict("This form was already submitted with different values; open it again.")
    return existing


# --- periods ---------------------------------------------------------------------------------


def is_closed(day: date) -> bool:
    return db.session.scalar(select(Period.id).where(Period.month == month_of(day))) is not None


def refuse_closed_or_future(day: date) -> None:
    if is_closed(day):
        raise DomainError(f"{day:%B %Y} is closed: date the entry in an open month.")
    if day > date.today():
        raise DomainError("The date is in the future.")


# --- posting ---------------------------------------------------------------------------------


def _accounts() -> dict[str, Account]:
    return {a.code: a for a in db.session.scalars(select(Account))}


def running_usd(account_id: int) -> int:
    value = db.session.scalar(
        select(Posting.running_usd_minor)
        .where(Posting.account_id == account_id)
        .order_by(Posting.id.desc())
        .limit(1)
    )
    return value or 0


def head() -> tuple[int, str]:
    row = db.session.execute(select(Entry.seq, Entry.hash).order_by(Entry.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def post(
    *,
    actor: Any,
    key: str,
    payload: dict[str, Any],
    kind: str,
    entry_date: date,
    memo: str,
    lines: list[Line],
    reverses: Entry | None = None,
    maker: Any = None,
) -> Entry:
    """Book one balanced entry. Call `begin` first (it takes the lock and checks the key)."""
    lock()
    if kind not in EntryKind.ALL:
        raise ValueError(f"unknown entry kind {kind}")
    refuse_closed_or_future(entry_date)
    accounts = _accounts()
    rows = _convert(lines, accounts)
    _check_balanced(rows, accounts)

    seq, prev_hash = head()
    entry = Entry(
        seq=seq + 1,
        entry_date=entry_date,
        kind=kind,
        memo=memo[:300],
        idempotency_key=key,
        request_hash=request_hash(payload),
        reverses_id=reverses.id if reverses else None,
        maker_id=getattr(maker or actor, "id", None),
        checker_id=getattr(actor, "id", None) if maker is not None else None,
        prev_hash=prev_hash,
    )
    running: dict[int, int] = {}
    for row in rows:
        account_id = row.account_id
        if account_id not in running:
            running[account_id] = running_usd(account_id)
        running[account_id] += row.usd_minor
        row.running_usd_minor = running[account_id]
    for code in NEVER_NEGATIVE:
        account_id = accounts[code].id
        if account_id in running and running[account_id] < 0:
            available = cents(running_usd(account_id))
            raise DomainError(f"Not enough cash: the fund holds US${available:,.2f}.")
    entry.postings = rows
    entry.hash = entry_hash(entry, {a.id: a.code for a in accounts.values()})
    db.session.add(entry)
    db.session.flush()
    audit.record(
        f"ledger.{kind}",
        actor=actor,
        object_type="ledger_entry",
        object_id=entry.id,
        detail={"seq": entry.seq, "date": entry_date, "memo": entry.memo, "key": key},
    )
    return entry


def _convert(lines: list[Line], accounts: dict[str, Account]) -> list[Posting]:
    rows: list[Posting] = []
    for line in lines:
        account = accounts.get(line.account)
        if account is None:
            raise ValueError(f"unknown account {line.account}")
        amount_minor = to_minor(line.amount, line.currency)
        if amount_minor == 0 and not account.residual:
            raise DomainError("An amount must not be zero.")
        rate = Decimal(1) if line.rate is None else line.rate.rate
        if line.currency != USD and line.rate is None and line.usd is None:
            raise ValueError("a line in a foreign currency needs a rate or a dollar value")
        if line.rate is not None and line.rate.currency != line.currency:
            raise ValueError("rate and line currencies differ")
        usd = line.usd if line.usd is not None else to_usd(line.amount, rate)
        if line.currency == USD and usd != line.amount:
            raise ValueError("a US-dollar line is its own dollar value")
        unknown = set(line.dims) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown dimensions {unknown}")
        rows.append(
            Posting(
                account_id=account.id,
                currency=line.currency,
                amount_minor=amount_minor,
                rate=rate,
                fx_rate_id=line.rate.id if line.rate is not None else None,
                usd_minor=to_minor(usd, USD),
                **line.dims,
            )
        )
    converted = sum(1 for line in lines if line.currency != USD and line.usd is None)
    residual = sum(r.usd_minor for r in rows)
    if residual:
        # Rounding each converted line to the cent leaves at most half a cent per line.
        if 2 * abs(residual) > converted:
            raise DomainError("The entry does not balance in US dollars.")
        foreign = next(line for line in lines if line.currency != USD)
        rows.append(
            Posting(
                account_id=accounts[ROUNDING].id,
                currency=foreign.currency,
                amount_minor=0,
                rate=Decimal(1) if foreign.rate is None else foreign.rate.rate,
                fx_rate_id=foreign.rate.id if foreign.rate is not None else None,
                usd_minor=-residual,
                **foreign.dims,
            )
        )
    return rows


def _check_balanced(rows: list[Posting], accounts: dict[str, Account]) -> None:
    if len(rows) < 2:
        raise DomainError("An entry needs at least two lines.")
    by_currency: dict[str, int] = defaultdict(int)
    for row in rows:
        by_currency[row.currency] += row.amount_minor
    if any(by_currency.values()):
        raise DomainError("The entry does not balance in every currency.")
    if sum(r.usd_minor for r in rows):
        raise DomainError("The entry does not balance in US dollars.")


# --- the hash chain --------------------------------------------------------------------------


def entry_hash(entry: Entry, account_codes: dict[int, str]) -> str:
    """HMAC of the previous hash and the entry's canonical form (amounts as integers)."""
    postings = [
        [
            account_codes[p.account_id],
            p.currency,
            p.amount_minor,
            int(p.rate.scaleb(RATE_PLACES)),
            p.usd_minor,
            p.running_usd_minor,
            *[getattr(p, d) for d in DIMENSIONS],
        ]
        for p in entry.postings
    ]
    fields = [
        entry.prev_hash,
        entry.seq,
        entry.entry_date.isoformat(),
        entry.kind,
        entry.memo,
        entry.idempotency_key,
        entry.request_hash,
        entry.reverses_id,
        entry.maker_id,
        entry.checker_id,
        postings,
    ]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    secret = current_app.config["VAT_MAC_KEY"].encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


# --- reversal --------------------------------------------------------------------------------


def reverse(*, actor: Any, key: str, payload: dict[str, Any], entry: Entry, on: date, memo: str) -> Entry:
    """Book the mirror image of `entry` (same dollar values, rates and dimensions)."""
    if entry.kind == EntryKind.REVERSAL:
        raise DomainError("A reversal cannot itself be reversed: book the right entry instead.")
    if reversal_of(entry) is not None:
        raise Conflict(f"Entry {entry.seq} has already been reversed.")
    codes = {a.id: a.code for a in db.session.scalars(select(Account))}
    lines = [
        Line(
            account=codes[p.account_id],
            currency=p.currency,
            amount=-from_minor(p.amount_minor, p.currency),
            rate=db.session.get(ExchangeRate, p.fx_rate_id) if p.fx_rate_id else None,
            usd=-cents(p.usd_minor),
            dims={d: getattr(p, d) for d in DIMENSIONS if getattr(p, d) is not None},
        )
        for p in entry.postings
    ]
    return post(
        actor=actor,
        key=key,
        payload=payload,
        kind=EntryKind.REVERSAL,
        entry_date=on,
        memo=f"Reversal of entry {entry.seq}: {memo}",
        lines=lines,
        reverses=entry,
    )


def reversal_of(entry: Entry) -> Entry | None:
    return db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))


def reversed_ids() -> Any:
    """A subquery of the ids of entries that have been reversed."""
    return select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))


# --- balances --------------------------------------------------------------------------------


def account_id(code: str) -> int:
    value = db.session.scalar(select(Account.id).where(Account.code == code))
    if value is None:
        raise ValueError(f"unknown account {code}")
    return value


def usd_balance(code: str, **dims: Any) -> Decimal:
    """An account's US-dollar balance, debit positive, optionally for one dimension value."""
    query = select(func.coalesce(func.sum(Posting.usd_minor), 0)).where(
        Posting.account_id == account_id(code)
    )
    for name, value in dims.items():
        query = query.where(getattr(Posting, name) == value)
    return cents(db.session.scalar(query) or 0)


def currency_balance(code: str, currency: str, **dims: Any) -> Decimal:
    """An account's balance in one original currency, debit positive."""
    query = select(func.coalesce(func.sum(Posting.amount_minor), 0)).where(
        Posting.account_id == account_id(code), Posting.currency == currency
    )
    for name, value in dims.items():
        query = query.where(getattr(Posting, name) == value)
    return from_minor(db.session.scalar(query) or 0, currency)
