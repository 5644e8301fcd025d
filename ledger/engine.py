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

The transaction holding the lock reads what the checks need once (`ledger.state`), so a booking
only writes. `post` books one entry; `post_many` books a list of events in one transaction with
the same checks (one INSERT per table); `post` is `post_many` of one event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, cast

from flask import current_app, g
from sqlalchemy import ScalarSelect, func, literal, select
from sqlalchemy.orm import make_transient_to_detached

from ledger import refusals, state, writes
from ledger.models import Account, Currency, Entry, ExchangeRate, Period, Posting
from ledger.state import Booked, ChartAccount, Ledger
from vat import audit, money
from vat.auth.actor import Actor
from vat.db import db, lock_for_chain, transaction_memo, utcnow
from vat.errors import Conflict, DomainError
from vat.inputs import today

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

    ALL: tuple[str, ...] = (PLEDGE, RECEIPT, WITHHOLDING, WITHHELD_TRANSFER, GRANT_APPROVAL, GRANT_RELEASE)
    ALL += (DISBURSEMENT, PROGRAMME_SUPPORT, VICTIM_SUPPORT, REVERSAL)


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
    """The currency's ISO 4217 exponent, once the fund is known to deal in it."""
    # Checked once per currency for the app context (a list page asks hundreds of times).
    known = g.setdefault("ledger_currencies", set())
    if currency not in known:
        if db.session.scalar(select(Currency.code).where(Currency.code == currency)) is None:
            raise DomainError(refusals.unknown_currency(currency))
        known.add(currency)
    return money.exponent(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    exponent(currency)
    return money.to_minor(amount, currency)


def from_minor(minor: int, currency: str) -> Decimal:
    return money.from_minor(minor, currency)


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
    """The month's operational rate (None for US dollars), once a second fund manager confirmed it."""
    if currency == USD:
        return None
    exponent(currency)
    row = db.session.scalar(
        select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.month == month_of(day))
    )
    if row is None:
        raise DomainError(refusals.no_rate(currency, day))
    if not row.confirmed:
        raise DomainError(refusals.unconfirmed_rate(currency, day))
    return row


# --- idempotency -----------------------------------------------------------------------------


def request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def lock() -> None:
    """Serialise every writer of the ledger until the transaction ends; with it the audit log's
    chain, which every booking extends (in this order, as every writer takes them), unless its
    events go to a batch (`vat.audit.batched`)."""
    lock_for_chain("ledger", *audit.chain_locks())


def check_key(key: str) -> None:
    if not key or len(key) > 64:
        raise DomainError(refusals.FORM_EXPIRED)


def begin(key: str, payload: dict[str, Any]) -> Entry | None:
    """Take the ledger lock, then: the entry already booked under `key` for this same request, or
    None if the key is new. The same key with a different request is refused."""
    check_key(key)
    booked = _ledger(key).keys[key]
    if booked is None:
        return None
    if booked.request_hash != request_hash(payload):
        raise Conflict(refusals.RESUBMITTED_DIFFERENTLY)
    return db.session.get_one(Entry, booked.entry_id)


# --- periods ---------------------------------------------------------------------------------


def is_closed(day: date) -> bool:
    return db.session.scalar(select(Period.id).where(Period.month == month_of(day))) is not None


def refuse_closed_or_future(*days: date, closed: set[date] | None = None) -> None:
    """Refuse if any of `days` is in a closed month (of `closed`, else of those this transaction
    knows under the ledger's lock, else read in one query for them all) or in the future."""
    if closed is None and (known := transaction_memo().get("ledger")) is not None:
        closed = known.closed  # read under the ledger's lock, kept as months close
    if closed is None:
        months = sorted({month_of(day) for day in days})
        closed = set(db.session.scalars(select(Period.month).where(Period.month.in_(months))))
    for day in sorted(days):
        if month_of(day) in closed:
            raise DomainError(refusals.closed_month(day))
    if max(days) > today():
        raise DomainError(refusals.FUTURE_DATE)


# --- posting ---------------------------------------------------------------------------------


@dataclass
class Event:
    """One entry to book with `post` or `post_many`."""

    key: str
    payload: dict[str, Any]
    kind: str
    entry_date: date
    memo: str
    lines: list[Line]
    reverses: Entry | None = None
    maker: Actor | None = None


def running_usd(account_id: int) -> int:
    return db.session.scalar(state.running_balance(literal(account_id))) or 0


def head() -> tuple[int, str]:
    row = db.session.execute(select(Entry.seq, Entry.hash).order_by(Entry.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _ledger(key: str | None = None) -> Ledger:
    """The ledger as this transaction knows it, `key` looked up, under the lock."""
    return state.known(key)  # takes the lock with its first read


def post(actor: Actor | None, event: Event) -> Entry:
    """Book the balanced entry of one `event`. Call `begin` first (it takes the lock and checks the
    key)."""
    ids, written = _post(actor, [event])
    if ids[0] not in written:  # booked before, under this key
        return db.session.get_one(Entry, ids[0])
    # The row as written: no need to read it back (its postings load if asked for).
    entry = Entry(**written[ids[0]])
    make_transient_to_detached(entry)
    db.session.add(entry)
    return entry


def post_many(*, actor: Actor | None, events: list[Event]) -> list[int]:
    """Book `events` in order, each as its own entry, with every check of `post`; all or nothing
    (every event is checked before anything is written).

    One lock, one read of the ledger and of the keys, one INSERT per table, whatever the number of
    events: imports and the benchmark book this way. Returns the entries' ids in the order of
    `events`. As with `begin`, a key already booked for the same request gives that entry again,
    and for a different request is a conflict."""
    return _post(actor, events)[0]


def _post(actor: Actor | None, events: list[Event]) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """`post_many`, with the rows of the entries it wrote, by id."""
    for event in events:
        check_key(event.key)
    ledger = _ledger(events[0].key if len(events) == 1 else None)
    db.session.flush()  # the sub-ledger rows that postings name
    unknown = sorted({event.key for event in events} - ledger.keys.keys())
    if unknown:
        ledger.keys |= dict.fromkeys(unknown) | state.booked_keys(unknown)
    digests: dict[str, str] = {}
    fresh: list[tuple[Event, str]] = []
    for event in events:
        digest = request_hash(event.payload)
        booked = ledger.keys[event.key]
        earlier = booked.request_hash if booked is not None else digests.get(event.key)
        if earlier is not None:
            if earlier != digest:
                raise Conflict(refusals.RESUBMITTED_DIFFERENTLY)
            continue
        digests[event.key] = digest
        fresh.append((event, digest))
    written = _book(actor, ledger, fresh) if fresh else []
    for row in written:
        ledger.keys[row["idempotency_key"]] = Booked(row["id"], row["request_hash"])
    ids = [cast(Booked, ledger.keys[event.key]).entry_id for event in events]
    return ids, {row["id"]: row for row in written}


def _book(actor: Actor | None, ledger: Ledger, events: list[tuple[Event, str]]) -> list[dict[str, Any]]:
    """Check then write new entries (each event with its request hash), their postings and their
    audit events; the entries' rows as written, ids included, in order. `ledger` moves on only
    once they are written."""
    for event, _ in events:
        if event.kind not in EntryKind.ALL:
            raise ValueError(f"unknown entry kind {event.kind}")
    refuse_closed_or_future(*(event.entry_date for event, _ in events), closed=ledger.closed)
    accounts = ledger.accounts
    codes = {a.id: a.code for a in accounts.values()}
    never_negative = {accounts[code].id for code in NEVER_NEGATIVE}
    mac = chain_mac()
    first_seq, prev_hash = ledger.seq, ledger.hash or GENESIS
    running = dict(ledger.running)
    created_at = utcnow()
    entries: list[dict[str, Any]] = []
    postings: list[list[dict[str, Any]]] = []
    for seq, (event, digest) in enumerate(events, start=first_seq + 1):
        rows = _convert(event.lines, accounts)
        _check_balanced(rows)
        _carry_running(rows, running, never_negative)
        entry = {
            "seq": seq,
            "entry_date": event.entry_date,
            "kind": event.kind,
            "memo": event.memo[:300],
            "idempotency_key": event.key,
            "request_hash": digest,
            "reverses_id": event.reverses.id if event.reverses else None,
            "maker_id": getattr(event.maker or actor, "id", None),
            "checker_id": getattr(actor, "id", None) if event.maker is not None else None,
            "prev_hash": prev_hash,
            "created_at": created_at,
        }
        entry["hash"] = prev_hash = _hash(mac, entry, rows, codes)
        entries.append(entry)
        postings.append(rows)
    ids = writes.write(actor, ledger, entries, postings, _audited)
    ledger.seq, ledger.hash, ledger.running = entries[-1]["seq"], prev_hash, running
    ledger.sums.clear()
    return [entry | {"id": entry_id} for entry, entry_id in zip(entries, ids, strict=True)]


def _carry_running(rows: list[dict[str, Any]], running: dict[int, int], never_negative: set[int]) -> None:
    """Each row's account balance after it (`running` carries them from entry to entry); refuses
    an entry that leaves cash below zero."""
    before: dict[int, int] = {}
    for row in rows:
        account_id = row["account_id"]
        before.setdefault(account_id, running[account_id])
        running[account_id] += row["usd_minor"]
        row["running_usd_minor"] = running[account_id]
    for account_id in never_negative & before.keys():
        if running[account_id] < 0:
            raise DomainError(refusals.not_enough_cash(cents(before[account_id])))


def _audited(entry: dict[str, Any], entry_id: int) -> dict[str, Any]:
    """The audit event of a new entry (the fields of `audit.record_many`)."""
    return {
        "action": f"ledger.{entry['kind']}",
        "object_type": "ledger_entry",
        "object_id": entry_id,
        "detail": {
            "seq": entry["seq"],
            "date": entry["entry_date"],
            "memo": entry["memo"],
            "key": entry["idempotency_key"],
        },
    }


def _convert(lines: list[Line], accounts: dict[str, ChartAccount]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for line in lines:
        account = accounts.get(line.account)
        if account is None:
            raise ValueError(f"unknown account {line.account}")
        amount_minor = to_minor(line.amount, line.currency)
        if amount_minor == 0 and not account.residual:
            raise DomainError(refusals.ZERO_AMOUNT)
        rate = Decimal(1) if line.rate is None else line.rate.rate
        if line.currency != USD and line.rate is None and line.usd is None:
            raise ValueError("a line in a foreign currency needs a rate or a dollar value")
        if line.rate is not None and line.rate.currency != line.currency:
            raise ValueError("rate and line currencies differ")
        usd = line.usd if line.usd is not None else to_usd(line.amount, rate)
        if line.currency == USD and usd != line.amount:
            raise ValueError("a US-dollar line is its own dollar value")
        rows.append(_row(account.id, line, amount_minor, rate, to_minor(usd, USD)))
    converted = sum(1 for line in lines if line.currency != USD and line.usd is None)
    residual = sum(r["usd_minor"] for r in rows)
    if residual:
        # Rounding each converted line to the cent leaves at most half a cent per line.
        if 2 * abs(residual) > converted:
            raise DomainError(refusals.UNBALANCED_USD)
        foreign = next(line for line in lines if line.currency != USD)
        rate = Decimal(1) if foreign.rate is None else foreign.rate.rate
        rows.append(_row(accounts[ROUNDING].id, foreign, 0, rate, -residual))
    return rows


def _row(account_id: int, line: Line, amount_minor: int, rate: Decimal, usd_minor: int) -> dict[str, Any]:
    """A posting as inserted: `line`'s currency, rate and dimensions with the amounts given."""
    unknown = set(line.dims) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}")
    return {
        "account_id": account_id,
        "currency": line.currency,
        "amount_minor": amount_minor,
        "rate": rate,
        "fx_rate_id": line.rate.id if line.rate is not None else None,
        "usd_minor": usd_minor,
        **{name: line.dims.get(name) for name in DIMENSIONS},
    }


def _check_balanced(rows: list[dict[str, Any]]) -> None:
    if len(rows) < 2:
        raise DomainError(refusals.ONE_LINE)
    by_currency: dict[str, int] = defaultdict(int)
    for row in rows:
        by_currency[row["currency"]] += row["amount_minor"]
    if any(by_currency.values()):
        raise DomainError(refusals.UNBALANCED_CURRENCY)
    if sum(r["usd_minor"] for r in rows):
        raise DomainError(refusals.UNBALANCED_USD)


# --- the hash chain --------------------------------------------------------------------------

# What each entry's hash covers, in this order; `flask ledger verify` reads the same columns.
HASHED_ENTRY_FIELDS = (
    "prev_hash",
    "seq",
    "entry_date",  # ISO 8601
    "kind",
    "memo",
    "idempotency_key",
    "request_hash",
    "reverses_id",
    "maker_id",
    "checker_id",
)
HASHED_POSTING_FIELDS = (
    "account_id",  # as the account's code
    "currency",
    "amount_minor",
    "rate",  # in units of 10^-8
    "usd_minor",
    "running_usd_minor",
    *DIMENSIONS,
)


def chain_mac() -> hmac.HMAC:
    """HMAC-SHA256 keyed with VAT_MAC_KEY, to `copy()` for each entry (keying it once per entry
    costs more than hashing the entry)."""
    return hmac.new(current_app.config["VAT_MAC_KEY"].encode(), digestmod=hashlib.sha256)


# json.dumps(..., ensure_ascii=False, separators=(",", ":")) without building an encoder per call
# (check_circular only guards against self-containing lists, which entries cannot be).
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def chain_hash(mac: hmac.HMAC, fields: list[Any], postings: list[Any]) -> str:
    """The hex HMAC (`mac` from `chain_mac`) of an entry's canonical form: the HASHED_ENTRY_FIELDS,
    then its postings (each the HASHED_POSTING_FIELDS) in id order, as compact JSON."""
    entry_mac = mac.copy()
    entry_mac.update(_CANONICAL_JSON.encode([*fields, postings]).encode())
    return entry_mac.hexdigest()


def entry_hash(entry: Any, account_codes: dict[int, str]) -> str:
    """The hash of an entry (or anything with its attributes and `postings`)."""
    fields = [getattr(entry, name) for name in HASHED_ENTRY_FIELDS]
    fields[2] = fields[2].isoformat()
    postings = [
        _hashed_posting([getattr(p, name) for name in HASHED_POSTING_FIELDS], account_codes)
        for p in entry.postings
    ]
    return chain_hash(chain_mac(), fields, postings)


def _hash(mac: hmac.HMAC, entry: dict[str, Any], rows: list[dict[str, Any]], codes: dict[int, str]) -> str:
    fields = [entry[name] for name in HASHED_ENTRY_FIELDS]
    fields[2] = fields[2].isoformat()
    postings = [_hashed_posting([row[name] for name in HASHED_POSTING_FIELDS], codes) for row in rows]
    return chain_hash(mac, fields, postings)


def _hashed_posting(values: list[Any], codes: dict[int, str]) -> list[Any]:
    values[0] = codes[values[0]]
    values[3] = int(values[3].scaleb(RATE_PLACES))
    return values


# --- reversal (booked by ledger.services.corrections) ------------------------------------------


def reversal_of(entry: Entry) -> Entry | None:
    return db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))


def reversed_ids() -> Any:
    """A subquery of the ids of entries that have been reversed."""
    return select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))


# --- balances --------------------------------------------------------------------------------


def account_id(code: str) -> int:
    known = transaction_memo().get("ledger")  # read under the ledger's lock, if taken yet
    if known is not None and code in known.accounts:
        return cast(int, known.accounts[code].id)
    value = db.session.scalar(select(Account.id).where(Account.code == code))
    if value is None:
        raise ValueError(f"unknown account {code}")
    return value


def account_id_read(code: str) -> ScalarSelect[int]:
    """`account_id(code)` as a subquery, looked up by the statement that reads it: one round trip
    fewer than asking first (PostgreSQL and SQLite run it once per statement)."""
    return select(Account.id).where(Account.code == code).scalar_subquery()


def usd_balance(code: str, **dims: Any) -> Decimal:
    """An account's US-dollar balance, debit positive, optionally for one dimension value."""
    return cents(_summed(Posting.usd_minor, code, None, dims))


def currency_balance(code: str, currency: str, **dims: Any) -> Decimal:
    """An account's balance in one original currency, debit positive."""
    return from_minor(_summed(Posting.amount_minor, code, currency, dims), currency)


def _summed(column: Any, code: str, currency: str | None, dims: dict[str, Any]) -> int:
    """The sum of `column` over the account's postings (in `currency`, if given) matching `dims`;
    under the ledger's lock read once until the transaction writes postings (a receipt's check
    and its clearing line ask the same)."""
    known = transaction_memo().get("ledger")
    asked = (column.key, code, currency, *sorted(dims.items()))
    if known is not None and asked in known.sums:
        return known.sums[asked]
    query = select(func.coalesce(func.sum(column), 0)).where(Posting.account_id == account_id(code))
    if currency is not None:
        query = query.where(Posting.currency == currency)
    for name, value in dims.items():
        query = query.where(getattr(Posting, name) == value)
    summed = int(db.session.scalar(query) or 0)
    if known is not None:
        known.sums[asked] = summed
    return summed
