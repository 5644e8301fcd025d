"""The ledger's balances per account, month, currency and dimensions (`ledger_balance`), kept
exact by the posting engine in the transaction that posts: one upsert per booking.

Each posting counts in two rows: its detail row (every dimension) and its total row, where the
dimensions with a value per record (pledge, project, allegation, case) only say whether the
posting had one. Fund-wide figures read the total rows: a few per account and month, where
there are nearly as many detail rows as postings.

Every figure that adds up postings reads these instead: a range of whole months straight from
the table, and a range that starts or ends inside a month as that month's rows less the postings
of its days outside the range (few, as ranges start on the 1st or end today). `differences`
recomputes them from the postings and names each row that differs; `rebuild` writes them anew
(`flask figures verify` and `flask figures rebuild`)."""

from __future__ import annotations

import functools
from calendar import monthrange
from collections.abc import Iterable
from datetime import date
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Subquery,
    Table,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from ledger.models import Balance, Entry, Posting
from vat.db import db, lock_for_chain

# Dimensions and the value that stands for "none" (a NULL would never match ON CONFLICT).
DIMENSIONS: dict[str, Any] = {
    "donor_id": 0,
    "pledge_id": 0,
    "project_id": 0,
    "country_code": "",
    "allegation_ref": "",
    "case_code": "",
}
# In total rows, these dimensions hold this marker when the posting had a value.
MARKED: dict[str, Any] = {"pledge_id": -1, "project_id": -1, "allegation_ref": "*", "case_code": "*"}
KEY = ("detail", "account_id", "month", "currency", *DIMENSIONS)
SUMS = ("amount_minor", "usd_minor", "usd_debit_minor", "postings")
ROWS_PER_STATEMENT = 2000  # 14 parameters a row: under SQLite's and psycopg's limits


def _table() -> Table:
    return typed(Table, Balance.__table__)


# --- kept by the engine ------------------------------------------------------------------------


def add(entries: list[dict[str, Any]], postings: list[list[dict[str, Any]]]) -> None:
    """Add the postings just inserted (each entry's rows, as the engine built them) to the
    balances: summed per key here, then one INSERT ... ON CONFLICT DO UPDATE."""
    values = rows_to_add(entries, postings)
    upsert = _upsert(db.session.get_bind().dialect.name)
    for start in range(0, len(values), ROWS_PER_STATEMENT):
        db.session.connection().execute(upsert, values[start : start + ROWS_PER_STATEMENT])


def rows_to_add(entries: list[dict[str, Any]], postings: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The balance rows that `entries`' postings add: one per key, its columns KEY + SUMS."""
    summed: dict[tuple[Any, ...], list[int]] = {}
    for entry, rows in zip(entries, postings, strict=True):
        month = entry["entry_date"].replace(day=1)
        for row in rows:
            dims = [row[name] if row[name] is not None else none for name, none in DIMENSIONS.items()]
            marked = [
                MARKED[name] if name in MARKED and row[name] is not None else value
                for name, value in zip(DIMENSIONS, dims, strict=True)
            ]
            for detail, values in ((True, dims), (False, marked)):
                sums = summed.setdefault(
                    (detail, row["account_id"], month, row["currency"], *values), [0, 0, 0, 0]
                )
                sums[0] += row["amount_minor"]
                sums[1] += row["usd_minor"]
                sums[2] += max(row["usd_minor"], 0)
                sums[3] += 1
    return [dict(zip(KEY + SUMS, (*key, *sums), strict=True)) for key, sums in summed.items()]


@functools.cache
def _upsert(dialect_name: str) -> Any:
    """Sent as one multi-row statement (insertmanyvalues); built once, so compiled once: a
    statement with its rows in it (`.values(rows)`) is compiled anew for every booking."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return adding(dialect.insert(_table()))


def adding(statement: Any) -> Any:
    """`statement`, an INSERT of balance rows (PostgreSQL's or SQLite's), adding each row's sums
    to those of the row with its key, if there is one."""
    table = _table()
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in KEY],
        set_={name: table.c[name] + statement.excluded[name] for name in SUMS},
    )


# --- read by the reports -----------------------------------------------------------------------


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def _dimensions(detail: bool, posting: Any = Posting) -> list[Any]:
    """The postings' dimensions as the detail or the total rows hold them (unlabelled), from
    `posting`: the model, or its table's columns."""
    columns: list[Any] = []
    for name, none in DIMENSIONS.items():
        column = getattr(posting, name)
        if detail or name not in MARKED:
            columns.append(func.coalesce(column, none))
        else:
            columns.append(case((column.is_(None), none), else_=MARKED[name]))
    return columns


def _labelled(columns: list[Any]) -> list[Any]:
    return [column.label(name) for column, name in zip(columns, DIMENSIONS, strict=True)]


def _postings_on(first: date, last: date, detail: bool, projects_only: bool = False) -> Any:
    """The postings dated from `first` to `last` (within one month), negated and shaped like
    balance rows: what a range that starts or ends inside that month leaves out of it. A Core
    select (the tables' columns): a report reads one range in several statements, and compiling
    one of them set the ORM's compile options on an ORM select inside, which changed the others'
    cache keys, so that they were compiled again on the next views."""
    posting, entry = Posting.__table__.c, Entry.__table__.c
    return (
        select(
            literal(detail).label("detail"),
            posting.account_id,
            literal(first.replace(day=1), Date).label("month"),
            posting.currency,
            *_labelled(_dimensions(detail, posting)),
            (-posting.amount_minor).label("amount_minor"),
            (-posting.usd_minor).label("usd_minor"),
            (-case((posting.usd_minor > 0, posting.usd_minor), else_=0)).label("usd_debit_minor"),
            literal(-1, Integer).label("postings"),
        )
        .join(Entry.__table__, entry.id == posting.entry_id)
        .where(
            entry.entry_date.between(first, last),
            *([posting.project_id.is_not(None)] if projects_only else []),
        )
    )


def balances(
    start: date | None = None,
    end: date | None = None,
    *,
    detail: bool = False,
    projects_only: bool = False,
    columns: tuple[str, ...] | None = None,
    grouped: tuple[str, ...] = (),
) -> Subquery:
    """The total rows (or with `detail` the detail rows) of the postings dated from `start` to
    `end` (inclusive; open when None), with the columns of `ledger_balance`: group and sum them
    as a report needs. An absent dimension is 0 or '' (see `DIMENSIONS` and `MARKED`). With
    `projects_only` (detail rows), only the rows of postings on a project: the condition is inside
    each part of the union, where an index serves it, not on the union as a whole; with `columns`,
    only those columns; with `grouped` (some of `columns`), each part already summed by those
    columns: the kept rows grouped in the order of an index that starts with them, so a report
    adds up a few rows per group, not every month's."""
    table = _table()
    kept = select(*(table.c[name] for name in KEY + SUMS)).where(table.c.detail == detail)
    if projects_only:
        kept = kept.where(table.c.project_id > 0)  # project ids are positive; 0 is none, -1 marked
    parts = []
    if start is not None:
        kept = kept.where(table.c.month >= start.replace(day=1))
        if start.day > 1:
            first, last = start.replace(day=1), date.fromordinal(start.toordinal() - 1)
            parts.append(_postings_on(first, last, detail, projects_only))
    if end is not None:
        kept = kept.where(table.c.month <= end.replace(day=1))
        if end < month_end(end):
            first, last = date.fromordinal(end.toordinal() + 1), month_end(end)
            parts.append(_postings_on(first, last, detail, projects_only))
    if columns is not None:  # only these: an index that holds them answers without the rows
        kept = kept.with_only_columns(*_summed_by(table.c, columns, grouped)).group_by(
            *(table.c[name] for name in grouped)
        )
        narrowed = [part.subquery() for part in parts]
        parts = [
            select(*_summed_by(part.c, columns, grouped)).group_by(*(part.c[name] for name in grouped))
            for part in narrowed
        ]
    if not parts:
        return kept.subquery("balance")
    return union_all(kept, *parts).subquery("balance")


def _summed_by(c: Any, columns: tuple[str, ...], grouped: tuple[str, ...]) -> list[Any]:
    """`columns` of `c`, those not in `grouped` summed (unless nothing is grouped)."""
    if not grouped:
        return [c[name] for name in columns]
    return [c[name] if name in grouped else func.sum(c[name]).label(name) for name in columns]


def summed(column: Any) -> ColumnElement[int]:
    """A sum of minor units as an integer on both backends (PostgreSQL sums bigints as numeric)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def none_if_absent(name: str, value: Any) -> Any:
    """A dimension's value as the postings hold it: None where the balances hold 0 or ''."""
    return None if value == DIMENSIONS[name] else value


# --- verify and rebuild ------------------------------------------------------------------------


def _month_of_entry() -> ColumnElement[Any]:
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc(literal_column("'month'"), Entry.entry_date), Date)
    return func.date(Entry.entry_date, literal_column("'start of month'"))


def _from_postings(detail: bool) -> Any:
    """The detail or the total rows computed from the postings."""
    dims = _dimensions(detail)
    return (
        select(
            literal(detail).label("detail"),
            Posting.account_id,
            _month_of_entry().label("month"),
            Posting.currency,
            *_labelled(dims),
            func.sum(Posting.amount_minor).label("amount_minor"),
            func.sum(Posting.usd_minor).label("usd_minor"),
            func.sum(case((Posting.usd_minor > 0, Posting.usd_minor), else_=0)).label("usd_debit_minor"),
            func.count().label("postings"),
        )
        .join(Entry, Entry.id == Posting.entry_id)
        .group_by(Posting.account_id, _month_of_entry(), Posting.currency, *dims)
    )


def _keyed(rows: Iterable[Any]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    keyed = {}
    for row in rows:
        key = (bool(row[0]), row[1], _day(row[2]), *row[3 : len(KEY)])
        keyed[key] = tuple(int(value) for value in row[len(KEY) :])
    return keyed


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def differences() -> list[str]:
    """Each balance row that differs from what the postings add up to, named by its key."""
    lock_for_chain("ledger")  # no booking between the two reads
    table = _table()
    kept = _keyed(db.session.execute(select(*(table.c[name] for name in KEY + SUMS))))
    computed = _keyed(db.session.execute(_from_postings(detail=True)))
    computed.update(_keyed(db.session.execute(_from_postings(detail=False))))
    found = []
    for key in sorted(kept.keys() | computed.keys(), key=repr):
        held, due = kept.get(key), computed.get(key)
        if held != due:
            named = ", ".join(
                f"{name} {value}"
                for name, value in zip(KEY[1:], key[1:], strict=True)
                if name not in DIMENSIONS or value != DIMENSIONS[name]
            )
            grain = "detail" if key[0] else "total"
            found.append(
                f"{grain} balance ({named}): holds {_sums(held)}; the postings add up to {_sums(due)}"
            )
    return found


def _sums(values: tuple[int, ...] | None) -> str:
    if values is None:
        return "no row"
    return ", ".join(f"{name} {value}" for name, value in zip(SUMS, values, strict=True))


def rebuild() -> int:
    """Write every balance anew from the postings; how many rows there are."""
    lock_for_chain("ledger")
    table = _table()
    db.session.execute(delete(table))
    for detail in (True, False):
        db.session.execute(table.insert().from_select(list(KEY + SUMS), _from_postings(detail)))
    return db.session.scalar(select(func.count()).select_from(table)) or 0
