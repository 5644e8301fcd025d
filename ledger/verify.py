"""Recompute every invariant of the ledger from scratch and name the first problem found."""

from __future__ import annotations

import hmac
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from ledger import engine
from ledger.models import Account, Entry, ExchangeRate, Period, Posting
from vat.db import db


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


def verify() -> VerifyReport:
    from ledger.reports import subledger_checks

    _read_one_snapshot()
    accounts = {a.id: a for a in db.session.scalars(select(Account))}
    codes = {a.id: a.code for a in accounts.values()}
    cash_id = next(a.id for a in accounts.values() if a.code == engine.CASH)
    running: dict[int, int] = defaultdict(int)
    entries_by_id: dict[int, Entry] = {}
    previous_hash = engine.GENESIS
    seq = 0
    postings = 0

    def report(problem: str | None) -> VerifyReport:
        return VerifyReport(seq, postings, previous_hash, problem)

    query = select(Entry).order_by(Entry.seq).execution_options(yield_per=500)
    rows = db.session.scalars(query)
    try:
        for entry in rows:
            seq += 1
            where = f"entry {entry.seq} (id {entry.id})"
            if entry.seq != seq:
                return report(f"entry {seq} is missing: the sequence jumps to {entry.seq}")
            if entry.prev_hash != previous_hash:
                return report(f"{where}: it does not link to the entry before it")
            if not hmac.compare_digest(entry.hash, engine.entry_hash(entry, codes)):
                return report(f"{where}: its content was altered (hash mismatch)")
            lines = entry.postings
            postings += len(lines)
            if len(lines) < 2:
                return report(f"{where}: fewer than two postings")
            by_currency: dict[str, int] = defaultdict(int)
            for line in lines:
                by_currency[line.currency] += line.amount_minor
                if line.amount_minor == 0 and not (accounts[line.account_id].residual and line.usd_minor):
                    return report(f"{where}: a zero line outside the exchange and rounding accounts")
                if line.currency == engine.USD and line.amount_minor != line.usd_minor:
                    return report(f"{where}: a US-dollar line whose dollar value differs from its amount")
                running[line.account_id] += line.usd_minor
                if running[line.account_id] != line.running_usd_minor:
                    return report(
                        f"{where}: the running balance of account {codes[line.account_id]} is wrong"
                    )
                if line.account_id == cash_id and running[line.account_id] < 0:
                    return report(f"{where}: cash goes negative")
            unbalanced = sorted(c for c, total in by_currency.items() if total)
            if unbalanced:
                return report(f"{where}: does not balance in {unbalanced[0]}")
            if sum(line.usd_minor for line in lines):
                return report(f"{where}: does not balance in USD")
            if entry.reverses_id is not None:
                original = entries_by_id.get(entry.reverses_id)
                if original is None or original.kind == engine.EntryKind.REVERSAL:
                    return report(f"{where}: reverses an entry that is not an earlier, non-reversal entry")
                mirror = [
                    (p.account_id, p.currency, -p.amount_minor, -p.usd_minor) for p in original.postings
                ]
                mine = [(p.account_id, p.currency, p.amount_minor, p.usd_minor) for p in lines]
                if sorted(mirror) != sorted(mine):
                    return report(f"{where}: is not the mirror image of the entry it reverses")
            entries_by_id[entry.id] = entry
            previous_hash = entry.hash
            if len(entries_by_id) > 10000:  # keep memory flat; reversals look back 5,000+ entries
                entries_by_id = {k: v for k, v in entries_by_id.items() if k > entry.id - 5000}
    finally:
        rows.close()  # a server-side cursor on PostgreSQL

    total_postings = db.session.scalar(select(func.count(Posting.id)))
    if total_postings != postings:
        return report("postings exist that belong to no entry in the chain")

    for period in db.session.scalars(select(Period).order_by(Period.month)):
        sealed = db.session.scalar(select(Entry.hash).where(Entry.seq == period.head_seq))
        if period.head_seq and sealed != period.head_hash:
            return report(f"period {period.month:%Y-%m}: the chain head it sealed has changed")
        late = db.session.scalar(
            select(Entry.seq)
            .where(
                Entry.seq > period.head_seq,
                func.strftime("%Y-%m", Entry.entry_date) == f"{period.month:%Y-%m}",
            )
            .limit(1)
            if db.session.get_bind().dialect.name == "sqlite"
            else select(Entry.seq)
            .where(Entry.seq > period.head_seq, func.date_trunc("month", Entry.entry_date) == period.month)
            .limit(1)
        )
        if late is not None:
            return report(f"entry {late}: dated in {period.month:%Y-%m}, booked after the month was closed")

    drifted = db.session.execute(
        select(Posting.id, ExchangeRate.currency, ExchangeRate.month)
        .join(ExchangeRate, Posting.fx_rate_id == ExchangeRate.id)
        .where((Posting.rate != ExchangeRate.rate) | (Posting.currency != ExchangeRate.currency))
        .limit(1)
    ).first()
    if drifted is not None:
        return report(
            f"the {drifted[1]} rate of {drifted[2]:%Y-%m} differs from the rate posting {drifted[0]} used"
        )

    for code, dimension, label in (
        (engine.PLEDGES_RECEIVABLE, Posting.pledge_id, "pledge"),
        (engine.WITHHELD_RECEIVABLE, Posting.withholding_id, "withholding"),
    ):
        over = db.session.execute(
            select(dimension, Posting.currency)
            .where(Posting.account_id == engine.account_id(code))
            .group_by(dimension, Posting.currency)
            .having(func.sum(Posting.amount_minor) < 0)
            .limit(1)
        ).first()
        if over is not None:
            return report(f"{label} {over[0]}: more received than was due")
    overspent = db.session.execute(
        select(Posting.project_id)
        .where(Posting.account_id == engine.account_id(engine.GRANTS_PAYABLE))
        .group_by(Posting.project_id, Posting.currency)
        .having(func.sum(Posting.amount_minor) > 0)
        .limit(1)
    ).first()
    if overspent is not None:
        return report(f"project {overspent[0]}: disbursed more than approved")

    for check in subledger_checks():
        if check["difference"]:
            return report(
                f"the {check['name']} sub-ledger ({check['currency']} {check['subledger']}) differs from "
                f"account {check['account']} ({check['control']})"
            )
    return report(None)
