"""Each project's postings summed per account over all time (`ledger_project_balance`), with the
day of its latest posting, kept exact by the posting engine in the transaction that posts (the
same write as `ledger.balances`). The project portfolio as at a day on or after every project's
latest posting (the fund report's default: today) reads these, a row per project and account,
instead of adding up a row per project, account and month; for an earlier day it adds up the
monthly balances as before. `differences` and `rebuild` compare with and recompute from the
postings (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Integer, Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ledger.models import Entry, Posting
from vat.db import Base, db, lock_for_chain

KEY = ("project_id", "account_id")
SUMS = ("usd_minor", "usd_debit_minor")

totals = Table(
    "ledger_project_balance",
    Base.metadata,
    Column("project_id", Integer, primary_key=True),
    Column("account_id", Integer, primary_key=True),
    Column("usd_minor", BigInteger, nullable=False),
    Column("usd_debit_minor", BigInteger, nullable=False),  # the debits' part of usd_minor
    Column("last_on", Date, nullable=False),  # the latest entry date of these postings
)


def rows_to_add(entries: list[dict[str, Any]], postings: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows that `entries`' postings on a project add: one per project and account."""
    summed: dict[tuple[int, int], dict[str, Any]] = {}
    for entry, rows in zip(entries, postings, strict=True):
        for row in rows:
            if row["project_id"] is None:
                continue
            key = (row["project_id"], row["account_id"])
            sums = summed.setdefault(
                key, {"usd_minor": 0, "usd_debit_minor": 0, "last_on": entry["entry_date"]}
            )
            sums["usd_minor"] += row["usd_minor"]
            sums["usd_debit_minor"] += max(row["usd_minor"], 0)
            sums["last_on"] = max(sums["last_on"], entry["entry_date"])
    return [dict(zip(KEY, key, strict=True)) | sums for key, sums in summed.items()]


def add(entries: list[dict[str, Any]], postings: list[list[dict[str, Any]]]) -> None:
    """Add the postings just inserted to the totals: one INSERT ... ON CONFLICT DO UPDATE, none
    when no posting is on a project."""
    values = rows_to_add(entries, postings)
    if values:
        db.session.connection().execute(_upsert(db.session.get_bind().dialect.name), values)


@functools.cache
def _upsert(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return adding(dialect.insert(totals))


def adding(statement: Any) -> Any:
    """`statement`, an INSERT of total rows, adding each row's sums to those of the row with its
    key and keeping the later day."""
    later = case(
        (statement.excluded.last_on > totals.c.last_on, statement.excluded.last_on), else_=totals.c.last_on
    )
    return statement.on_conflict_do_update(
        index_elements=[totals.c[name] for name in KEY],
        set_={**{name: totals.c[name] + statement.excluded[name] for name in SUMS}, "last_on": later},
    )


def covers(end: date) -> bool:
    """Whether the totals are the balances as at `end`: no posting on a project is dated after it."""
    latest = db.session.scalar(select(func.max(totals.c.last_on)))
    return latest is None or _day(latest) <= end


# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

NAME = "project balances"


def _from_postings() -> Any:
    return (
        select(
            Posting.project_id,
            Posting.account_id,
            func.sum(Posting.usd_minor).label("usd_minor"),
            func.sum(case((Posting.usd_minor > 0, Posting.usd_minor), else_=0)).label("usd_debit_minor"),
            func.max(Entry.entry_date).label("last_on"),
        )
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Posting.project_id.is_not(None))
        .group_by(Posting.project_id, Posting.account_id)
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _keyed(rows: Iterable[Any]) -> dict[tuple[int, int], tuple[int, int, date]]:
    return {(int(r[0]), int(r[1])): (int(r[2]), int(r[3]), _day(r[4])) for r in rows}


def differences() -> list[str]:
    """Each project's total that differs from what its postings add up to, named by its key."""
    lock_for_chain("ledger")  # no booking between the two reads
    kept = _keyed(db.session.execute(select(*(totals.c[n] for n in (*KEY, *SUMS, "last_on")))))
    computed = _keyed(db.session.execute(_from_postings()))
    return [
        f"{NAME}: project {key[0]}, account {key[1]} holds {kept.get(key) or 'no row'};"
        f" the postings add up to {computed.get(key) or 'no row'}"
        for key in sorted(kept.keys() | computed.keys())
        if kept.get(key) != computed.get(key)
    ]


def rebuild() -> int:
    """Write every total anew from the postings; how many rows there are."""
    lock_for_chain("ledger")
    db.session.execute(delete(totals))
    db.session.execute(totals.insert().from_select([*KEY, *SUMS, "last_on"], _from_postings()))
    return int(db.session.scalar(select(func.count()).select_from(totals)) or 0)
