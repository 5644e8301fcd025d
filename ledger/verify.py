"""Recompute every invariant of the ledger from scratch and name the first problem found.

The walk reads plain tuples, never ORM objects: entries in chain order and postings in entry order,
two streaming cursors merged, and recomputes each entry's hash with the checks that need the
postings in order (running balances, cash, each entry's balance). The rules that span entries
(reversals, closed periods, rates, sub-ledgers) are SQL aggregates run afterwards.

The merge relies on the engine numbering entries in chain order (ids rise with `seq`, since every
writer holds the ledger lock); an entry that breaks that order is reported."""

from __future__ import annotations

import hmac
import itertools
import operator
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, String, except_, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from ledger import engine
from ledger.models import Account, Entry, ExchangeRate, Period, Posting
from ledger.outflows import Outflow
from ledger.reports.subledgers import subledger_checks
from ledger.services.four_eyes import signature_problem
from vat import anchors, audit
from vat.db import db

ROWS_PER_FETCH = 10_000

ENTRIES = Entry.__table__
POSTINGS = Posting.__table__


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    postings: int
    head: str
    problem: str | None


def _read_one_snapshot() -> None:
    """On PostgreSQL, read the whole ledger from one snapshot: under the default READ COMMITTED
    each statement sees a newer state, so an entry booked while we walk would look like stray
    postings. (SQLite's transaction is one snapshot already.) Only when we open the transaction."""
    if db.session.get_bind().dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def verify(*, anchored: bool = True) -> VerifyReport:
    """Every check below; `anchored=False` leaves out the check against the anchor file (for a
    database just restored from a backup older than the latest anchor)."""
    _read_one_snapshot()
    walked = _walk_chain()
    if walked.problem:
        return walked
    for check in (
        _stray_postings,
        _reversals,
        _closed_periods,
        _rates,
        _subledger_limits,
        _subledgers_against_control_accounts,
        _outflow_signatures,
        *([_anchored] if anchored else []),
    ):
        problem = check(walked)
        if problem:
            return VerifyReport(walked.entries, walked.postings, walked.head, problem)
    return walked


def anchor_heads() -> anchors.Heads:
    """Both chains' heads, as an anchor line names them."""
    seq, head_hash = engine.head()
    return {"ledger": {"seq": seq, "hash": head_hash}, "audit": audit.anchor_head()}


def seal(reason: str) -> dict[str, Any]:
    """Both chains' heads in a line signed for `reason`, appended to the anchor file once the
    transaction commits: the seal a month's close pack and a year's figures pack carry, so that
    each can be found in the file that outlives the database."""
    line = anchors.signed(anchor_heads(), reason)
    anchors.append_after_commit(line)
    return line


def _anchored(walked: VerifyReport) -> str | None:
    """The newest entries are still there: the chain's head anchored outside the database (see
    vat/anchors.py) is an entry of the chain, with the same hash."""
    return anchors.check(
        "ledger", "seq", lambda seq: db.session.scalar(select(Entry.hash).where(Entry.seq == seq))
    )


# --- the walk along the chain ----------------------------------------------------------------


def _rows(query: Select[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` as the driver returns them, fetched in large batches (through a
    server-side cursor on PostgreSQL), in the session's transaction. The walk reads every entry
    and posting: SQLAlchemy's row objects would double the time it takes."""
    connection = db.session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name=f"ledger_verify_{next(_cursor_numbers)}")  # type: ignore[union-attr]
    else:
        cursor = driver.cursor()  # type: ignore[union-attr]
    with closing(cursor):
        cursor.execute(sql)
        while rows := cursor.fetchmany(ROWS_PER_FETCH):
            yield from rows


_cursor_numbers = itertools.count()


def _entry_rows() -> Iterator[Any]:
    """(id, hash, *the hashed fields) of every entry, in chain order."""
    hashed: list[ColumnElement[Any]] = [ENTRIES.c[name] for name in engine.HASHED_ENTRY_FIELDS]
    date_index = engine.HASHED_ENTRY_FIELDS.index("entry_date")
    hashed[date_index] = type_coerce(hashed[date_index], String)  # as the driver gives it
    return _rows(select(ENTRIES.c.id, ENTRIES.c.hash, *hashed).order_by(ENTRIES.c.seq))


def _posting_rows() -> Iterator[Any]:
    """(entry_id, *the hashed fields) of every posting by entry, rates as stored (10^-8 units)."""
    hashed: list[ColumnElement[Any]] = [POSTINGS.c[name] for name in engine.HASHED_POSTING_FIELDS]
    rate_index = engine.HASHED_POSTING_FIELDS.index("rate")
    hashed[rate_index] = type_coerce(hashed[rate_index], BigInteger)
    return _rows(select(POSTINGS.c.entry_id, *hashed).order_by(POSTINGS.c.entry_id, POSTINGS.c.id))


def _iso(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()  # SQLite keeps ISO text


def _walk_chain() -> VerifyReport:
    """Sequence, links and hashes; per entry: two postings or more, balanced in every currency and
    in dollars, zero lines only on residual accounts, dollar lines at face value; per posting:
    the account's running balance; cash never below zero."""
    accounts = {a.id: a for a in db.session.scalars(select(Account))}
    codes = {a.id: a.code for a in accounts.values()}
    residual = {a.id for a in accounts.values() if a.residual}
    cash_id = next(a.id for a in accounts.values() if a.code == engine.CASH)
    mac = engine.chain_mac()
    running: dict[int, int] = {}
    previous_hash = engine.GENESIS
    previous_id = 0
    seq = 0
    count = 0

    def report(problem: str | None) -> VerifyReport:
        return VerifyReport(seq, count, previous_hash, problem)

    by_entry = itertools.groupby(_posting_rows(), key=operator.itemgetter(0))
    next_entry, next_lines = next(by_entry, (None, None))
    for entry_id, stored_hash, *fields in _entry_rows():
        prev_hash, entry_seq = fields[0], fields[1]
        seq += 1
        if entry_seq != seq:
            return report(f"entry {seq} is missing: the sequence jumps to {entry_seq}")
        if prev_hash != previous_hash:
            return report(f"entry {seq} (id {entry_id}): it does not link to the entry before it")
        if entry_id <= previous_id:
            where = f"entry {seq} (id {entry_id})"
            return report(f"{where}: numbered out of chain order (its id is below the entry before it)")
        while next_entry is not None and next_entry < entry_id:  # postings of no entry: counted later
            next_entry, next_lines = next(by_entry, (None, None))
        lines = []
        if next_entry == entry_id:
            lines = list(next_lines)  # type: ignore[arg-type]
            next_entry, next_lines = next(by_entry, (None, None))
        fields[2] = _iso(fields[2])
        hashed = [[codes[line[1]], *line[2:]] for line in lines]
        if not hmac.compare_digest(stored_hash, engine.chain_hash(mac, fields, hashed)):
            return report(f"entry {seq} (id {entry_id}): its content was altered (hash mismatch)")
        count += len(lines)
        problem = _entry_problem(lines, running, residual, cash_id, codes)
        if problem:
            return report(f"entry {seq} (id {entry_id}): {problem}")
        previous_hash, previous_id = stored_hash, entry_id
    return report(None)


def _entry_problem(
    lines: list[Any], running: dict[int, int], residual: set[int], cash_id: int, codes: dict[int, str]
) -> str | None:
    """What is wrong with one entry's postings (`running` carries the balances along the chain).
    A line is (entry_id, account_id, currency, amount_minor, rate, usd_minor, running_usd_minor, ...)."""
    if len(lines) < 2:
        return "fewer than two postings"
    by_currency: dict[str, int] = {}
    usd_total = 0
    for line in lines:
        account_id, currency, amount, usd, balance = line[1], line[2], line[3], line[5], line[6]
        by_currency[currency] = by_currency.get(currency, 0) + amount
        usd_total += usd
        if amount == 0 and not (account_id in residual and usd):
            return "a zero line outside the exchange and rounding accounts"
        if currency == engine.USD and amount != usd:
            return "a US-dollar line whose dollar value differs from its amount"
        if running.get(account_id, 0) + usd != balance:
            return f"the running balance of account {codes[account_id]} is wrong"
        running[account_id] = balance
        if balance < 0 and account_id == cash_id:
            return "cash goes negative"
    if any(by_currency.values()):
        return f"does not balance in {min(c for c, total in by_currency.items() if total)}"
    if usd_total:
        return "does not balance in USD"
    return None


# --- what spans entries: SQL aggregates --------------------------------------------------------


def _stray_postings(walked: VerifyReport) -> str | None:
    if db.session.scalar(select(func.count()).select_from(POSTINGS)) != walked.postings:
        return "postings exist that belong to no entry in the chain"
    return None


def _reversals(walked: VerifyReport) -> str | None:
    """Each reversal reverses an earlier, non-reversal entry, line for line with opposite signs."""
    reversal, original = aliased(Entry), aliased(Entry)
    wrong_target = db.session.execute(
        select(reversal.seq, reversal.id)
        .outerjoin(original, original.id == reversal.reverses_id)
        .where(
            reversal.reverses_id.is_not(None),
            or_(
                original.id.is_(None),
                original.kind == engine.EntryKind.REVERSAL,
                original.seq >= reversal.seq,
            ),
        )
        .order_by(reversal.seq)
        .limit(1)
    ).first()
    if wrong_target is not None:
        seq, entry_id = wrong_target
        return f"entry {seq} (id {entry_id}): reverses an entry that is not an earlier, non-reversal entry"
    p = Posting
    lines = (p.account_id, p.currency, p.amount_minor, p.usd_minor)
    mine = (
        select(reversal.id, *lines, func.count())
        .join(p, p.entry_id == reversal.id)
        .where(reversal.reverses_id.is_not(None))
        .group_by(reversal.id, *lines)
    )
    mirrored = (
        select(reversal.id, p.account_id, p.currency, -p.amount_minor, -p.usd_minor, func.count())
        .join(p, p.entry_id == reversal.reverses_id)
        .group_by(reversal.id, *lines)
    )
    differing: set[int] = set()
    for compound in (except_(mine, mirrored), except_(mirrored, mine)):
        differing.update(db.session.scalars(select(compound.subquery().c[0])))
    if differing:
        seq, entry_id = db.session.execute(
            select(Entry.seq, Entry.id).where(Entry.id.in_(differing)).order_by(Entry.seq).limit(1)
        ).one()
        return f"entry {seq} (id {entry_id}): is not the mirror image of the entry it reverses"
    return None


def _closed_periods(walked: VerifyReport) -> str | None:
    """A closed month's sealed chain head is unchanged and nothing dated in it was booked after."""
    for period in db.session.scalars(select(Period).order_by(Period.month)):
        sealed = db.session.scalar(select(Entry.hash).where(Entry.seq == period.head_seq))
        if period.head_seq and sealed != period.head_hash:
            return f"period {period.month:%Y-%m}: the chain head it sealed has changed"
        following = (period.month + timedelta(days=32)).replace(day=1)
        late = db.session.scalar(
            select(func.min(Entry.seq)).where(
                Entry.seq > period.head_seq, Entry.entry_date >= period.month, Entry.entry_date < following
            )
        )
        if late is not None:
            return f"entry {late}: dated in {period.month:%Y-%m}, booked after the month was closed"
    return None


def _rates(walked: VerifyReport) -> str | None:
    """Every converted posting used its month's rate as recorded (rates are frozen once used)."""
    drifted = db.session.execute(
        select(Posting.id, ExchangeRate.currency, ExchangeRate.month)
        .join(ExchangeRate, Posting.fx_rate_id == ExchangeRate.id)
        .where((Posting.rate != ExchangeRate.rate) | (Posting.currency != ExchangeRate.currency))
        .limit(1)
    ).first()
    if drifted is not None:
        return f"the {drifted[1]} rate of {drifted[2]:%Y-%m} differs from the rate posting {drifted[0]} used"
    return None


def _subledger_limits(walked: VerifyReport) -> str | None:
    """No pledge or withholding received beyond what was due; no project paid beyond its grant."""
    balance = func.sum(Posting.amount_minor)
    for code, dimension, beyond, problem in (
        (engine.PLEDGES_RECEIVABLE, Posting.pledge_id, balance < 0, "pledge {}: more received than was due"),
        (
            engine.WITHHELD_RECEIVABLE,
            Posting.withholding_id,
            balance < 0,
            "withholding {}: more received than was due",
        ),
        (engine.GRANTS_PAYABLE, Posting.project_id, balance > 0, "project {}: disbursed more than approved"),
    ):
        over = db.session.execute(
            select(dimension)
            .where(Posting.account_id == engine.account_id(code))
            .group_by(dimension, Posting.currency)
            .having(beyond)
            .limit(1)
        ).first()
        if over is not None:
            return problem.format(over[0])
    return None


def _subledgers_against_control_accounts(walked: VerifyReport) -> str | None:
    for check in subledger_checks():
        if check["difference"]:
            return (
                f"the {check['name']} sub-ledger ({check['currency']} {check['subledger']}) differs from "
                f"account {check['account']} ({check['control']})"
            )
    return None


def _outflow_signatures(walked: VerifyReport) -> str | None:
    """Every request to move money, and its decision, as signed (ledger.services.four_eyes)."""
    for outflow in db.session.scalars(select(Outflow).order_by(Outflow.id)):
        problem = signature_problem(outflow)
        if problem:
            return problem
    return None
