"""What a transaction holding the ledger's lock knows of the ledger: the chain's head, each
account and its running balance, the closed months, the idempotency keys looked up and the
balances summed.

Read once, in one statement, and carried from booking to booking by the engine: nobody else can
change the ledger until the transaction ends (the lock), and the transaction forgets it when it
ends (`vat.db.transaction_memo`), so a booking only writes. The audit chain's head is read in the
same statement and handed to `vat.audit`, which carries it the same way."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple

from flask import g
from sqlalchemy import Select, String, bindparam, case, cast, event, func, literal_column, select, tuple_

from ledger.models import Account, Currency, Entry, Period, Posting
from vat import audit
from vat.db import db, locked_read, transaction_memo

LAST_ID = 2**31 - 1  # the largest id an INTEGER column holds


class ChartAccount(NamedTuple):
    id: int
    code: str
    residual: bool


class Booked(NamedTuple):
    entry_id: int
    request_hash: str


@dataclass
class Ledger:
    seq: int  # the chain's head (0 and None before the first entry)
    hash: str | None
    accounts: dict[str, ChartAccount]  # by code
    running: dict[int, int]  # each account's US-dollar balance in minor units, by account id
    closed: set[date]  # the closed months
    keys: dict[str, Booked | None]  # the idempotency keys looked up so far (None: not booked)
    # Balances summed so far (`engine.currency_balance`, `usd_balance`), in minor units, by what
    # was asked; forgotten whenever postings are written.
    sums: dict[tuple[Any, ...], int] = field(default_factory=dict)
    # PostgreSQL: entry ids drawn with the keys looked up, in the order drawn, for the bookings
    # that may follow to write everything in one statement (`ledger.writes`); each single booking
    # spends the first, another write forgets them.
    spare_ids: list[int] = field(default_factory=list)

    def copy(self) -> Ledger:
        """Its own copy, for a savepoint (`vat.db.transaction_memo`): what changes in place copied."""
        return replace(
            self,
            running=dict(self.running),
            closed=set(self.closed),
            keys=dict(self.keys),
            sums=dict(self.sums),
            spare_ids=list(self.spare_ids),
        )


def known(key: str | None = None) -> Ledger:
    """The ledger as this transaction knows it, with `key` looked up; the first call of the
    transaction takes the ledger's lock with its read."""
    ledger: Ledger | None = transaction_memo().get("ledger")
    draws = key is not None and db.session.get_bind().dialect.name == "postgresql"
    if ledger is not None:
        if key is not None and key not in ledger.keys:
            if draws:
                found = db.session.execute(_key_read(), {"key": key}).one()
                ledger.keys[key] = Booked(found.key_id, found.key_hash) if found.key_id else None
                ledger.spare_ids.append(found.next_id)
            else:
                ledger.keys |= {key: None} | booked_keys([key])
        return ledger
    # The ledger's lock and with it the audit chain's (every booking extends both, in this order),
    # unless the events go to a batch (`vat.audit.batched`): then the head read is not the chain's.
    locks = audit.chain_locks()
    rows = locked_read(("ledger", *locks), _read(key is not None, draws), {"key": key})
    first = rows[0]
    if locks:
        audit.known_head(first.audit_head)
    g.setdefault("ledger_currencies", set()).update((first.currencies or "").split(","))
    ledger = Ledger(
        seq=first.head_seq or 0,
        hash=first.head_hash,
        accounts={row.code: ChartAccount(row.id, row.code, row.residual) for row in rows},
        running={row.id: row.running or 0 for row in rows},
        closed={date.fromisoformat(month) for month in (first.closed or "").split(",") if month},
        keys={} if key is None else {key: Booked(first.key_id, first.key_hash) if first.key_id else None},
        spare_ids=[first.next_id] if draws else [],
    )
    transaction_memo()["ledger"] = ledger
    return ledger


def look_up(keys: list[str]) -> None:
    """Look up at once the `keys` the bookings of this transaction will use (an import's rows),
    and on PostgreSQL draw an entry id for each new one, so that each booking writes in one
    statement without a read of its own (`known`)."""
    ledger = known()
    unknown = [key for key in keys if key not in ledger.keys]
    ledger.keys |= dict.fromkeys(unknown) | booked_keys(unknown)
    if unknown and db.session.get_bind().dialect.name == "postgresql":
        draws = select(func.nextval(literal_column("'ledger_entry_id_seq'"))).select_from(
            func.generate_series(1, len(unknown))
        )
        ledger.spare_ids += db.session.scalars(draws).all()


def _key_columns(draws: bool) -> list[Any]:
    """The entry booked under the key (its id and request hash, or NULLs) and, if `draws`, the
    next entry id from the sequence (PostgreSQL), as scalar subqueries: each runs once."""
    booked = select(Entry.id, Entry.request_hash).where(Entry.idempotency_key == bindparam("key"))
    columns = [
        booked.with_only_columns(Entry.id).scalar_subquery().label("key_id"),
        booked.with_only_columns(Entry.request_hash).scalar_subquery().label("key_hash"),
    ]
    if draws:
        columns.append(
            select(func.nextval(literal_column("'ledger_entry_id_seq'"))).scalar_subquery().label("next_id")
        )
    return columns


@functools.cache
def _key_read() -> Any:
    return select(*_key_columns(draws=True))


def running_balance(account_id: Any) -> Select[Any]:
    """The US-dollar balance after the last posting of the account `account_id` (a column to
    correlate with, or a value), from the one index ordered by (account, id): the latest posting at
    or before (this account, the largest id), which is this account's if it has any. Asked as
    "WHERE account_id = ? ORDER BY id DESC LIMIT 1", PostgreSQL's planner may walk the primary key
    backwards past every other account's postings instead (docs/benchmarks-log.md, session 12)."""
    return (
        select(case((Posting.account_id == account_id, Posting.running_usd_minor)))
        .where(tuple_(Posting.account_id, Posting.id) <= tuple_(account_id, literal_column(str(LAST_ID))))
        .order_by(Posting.account_id.desc(), Posting.id.desc())
        .limit(1)
    )


@functools.cache
def _read(with_key: bool, draws: bool) -> Any:
    """One row per account with its running balance; the rest, the same on every row, as
    scalar subqueries (each runs once). Built once: a booking pays for no statement's making."""
    latest = select(Entry.seq, Entry.hash).order_by(Entry.seq.desc()).limit(1)
    return select(
        Account.id,
        Account.code,
        Account.residual,
        running_balance(Account.id).correlate(Account).scalar_subquery().label("running"),
        latest.with_only_columns(Entry.seq).scalar_subquery().label("head_seq"),
        latest.with_only_columns(Entry.hash).scalar_subquery().label("head_hash"),
        select(func.aggregate_strings(cast(Period.month, String), ",")).scalar_subquery().label("closed"),
        select(func.aggregate_strings(Currency.code, ",")).scalar_subquery().label("currencies"),
        audit.head_query().scalar_subquery().label("audit_head"),
        *(_key_columns(draws) if with_key else []),
    )


def booked_keys(keys: list[str]) -> dict[str, Booked | None]:
    """Entry id and request hash of each of `keys` already booked."""
    found: dict[str, Booked | None] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), 500):
        query = select(Entry.idempotency_key, Entry.id, Entry.request_hash).where(
            Entry.idempotency_key.in_(unique[start : start + 500])
        )
        found.update({key: Booked(entry_id, digest) for key, entry_id, digest in db.session.execute(query)})
    return found


@event.listens_for(Period, "after_insert")
def _month_closed(mapper: Any, connection: Any, period: Period) -> None:
    """A month closed in a transaction that has booked: what it knows follows."""
    ledger: Ledger | None = transaction_memo().get("ledger")
    if ledger is not None:
        ledger.closed.add(period.month)
