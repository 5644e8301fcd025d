"""How the posting engine writes what it checked: the entries, their postings, the balances they
add to (`ledger.balances`, and for postings on a project `ledger.project_balances`) and one audit
event per entry (with its actor's row, `vat.audit.AuditActor`), all in the caller's transaction.

On PostgreSQL a single booking whose entry id was drawn with its key (`ledger.state`) goes in one
statement: each insert a data-modifying CTE of the audit event's INSERT, so a form's booking is
three round trips (lock, read, write) and the commit. Otherwise (SQLite, batches, a second
booking of a transaction with no id drawn) one statement per table, each entry's id returned (the
projects' totals only when a posting is on a project)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.dialects import postgresql

from ledger import balances, project_balances
from ledger.models import Balance, Entry, Posting
from ledger.state import Ledger
from vat import audit
from vat.audit import AuditActor, AuditEvent
from vat.db import db, execute_numbered, numbered

Rows = list[dict[str, Any]]
# The audit event's fields (as for `audit.record_many`) for an entry's row and its id.
Audited = Callable[[dict[str, Any], int], dict[str, Any]]


def write(
    actor: Any | None, ledger: Ledger, entries: Rows, postings: list[Rows], audited: Audited
) -> list[int]:
    """Write `entries` (each with its `postings`), their balances and audit events; the entries'
    ids in order. Spends the id drawn in advance, if any."""
    if ledger.spare_ids and len(entries) == 1:
        # The smallest: an entry's id follows the one before it in the chain (`ledger verify`).
        spare = ledger.spare_ids.pop(0)
        _write_at_once(actor, spare, entries[0], postings[0], audited)
        return [spare]
    ledger.spare_ids.clear()  # the sequence's next ids go to these entries: those drawn are below
    ids = _insert(entries, postings)
    balances.add(entries, postings)  # in this transaction: the figures are exact once it commits
    project_balances.add(entries, postings)
    audit.record_many(
        actor=actor, events=[audited(entry, entry_id) for entry, entry_id in zip(entries, ids, strict=True)]
    )
    return ids


def _insert(entries: Rows, postings: list[Rows]) -> list[int]:
    """Entries (their ids returned), then their postings, each in one executemany; the entries'
    ids in order."""
    entry_table, posting_table = cast(Table, Entry.__table__), cast(Table, Posting.__table__)
    # Each id by its entry's seq: asking for them in order would cost a statement per row on SQLite.
    returning = insert(entry_table).returning(entry_table.c.seq, entry_table.c.id)
    by_seq: dict[int, int] = dict(db.session.connection().execute(returning, entries).all())
    ids = [by_seq[entry["seq"]] for entry in entries]
    rows = [
        row | {"entry_id": entry_id} for entry_id, lines in zip(ids, postings, strict=True) for row in lines
    ]
    db.session.connection().execute(insert(posting_table), rows)
    return ids


def _write_at_once(
    actor: Any | None, entry_id: int, entry: dict[str, Any], postings: Rows, audited: Audited
) -> None:
    """One entry, its postings, its balances and its audit event in one statement (PostgreSQL)."""
    sums = balances.rows_to_add([entry], [postings])
    events = audit.chained(actor, [audited(entry, entry_id)])
    parts = {
        "e": [entry | {"id": entry_id}],
        "p": [row | {"entry_id": entry_id} for row in postings],
        "b": sums,
        "t": project_balances.rows_to_add([entry], [postings]),
        "a": events,
        "w": audit.actor_rows(events),
    }
    parts = {name: rows for name, rows in parts.items() if rows}  # a booking on no project adds no total
    shape = tuple((name, tuple(rows[0]), len(rows)) for name, rows in parts.items())
    values = {
        f"{name}{i}_{column}": value
        for name, rows in parts.items()
        for i, row in enumerate(rows)
        for column, value in row.items()
    }
    sql, order, processors = _at_once(shape)
    for name, process in processors.items():
        values[name] = process(values[name])
    execute_numbered(sql, [values[name] for name in order])


def _tables() -> dict[str, Table]:
    return {
        "e": cast(Table, Entry.__table__),
        "p": cast(Table, Posting.__table__),
        "b": cast(Table, Balance.__table__),
        "t": project_balances.totals,
        "a": cast(Table, AuditEvent.__table__),
        "w": cast(Table, AuditActor.__table__),
    }


@functools.lru_cache(maxsize=64)
def _at_once(shape: tuple[tuple[str, tuple[str, ...], int], ...]) -> tuple[str, list[str], dict[str, Any]]:
    """The SQL for one shape (each part's columns and number of rows), the names of its
    parameters in order, and their converters (money, rates, times) by name: built and compiled
    once per shape."""
    tables = _tables()
    inserts, binds = {}, []
    for name, columns, count in shape:
        table = tables[name]
        rows = [
            {column: bindparam(f"{name}{i}_{column}", type_=table.c[column].type) for column in columns}
            for i in range(count)
        ]
        binds += [bind for row in rows for bind in row.values()]
        statement = postgresql.insert(table).values(rows)
        adding = {"b": balances.adding, "t": project_balances.adding, "w": audit.ACTORS.adding}.get(name)
        inserts[name] = adding(statement) if adding else statement
    # Rows of one statement's CTEs are not visible to each other, but the foreign keys are checked
    # at its end, when the entry is there for its postings.
    statement = inserts["a"].add_cte(*(insert.cte(name) for name, insert in inserts.items() if name != "a"))
    # Compiled here, once: SQLAlchemy's own cache compiles these CTEs again for every booking.
    dialect = db.session.get_bind().dialect
    processors = {bind.key: bind.type.bind_processor(dialect) for bind in binds}
    sql, order = numbered(statement, dialect)
    return sql, order, {k: p for k, p in processors.items() if p is not None}
