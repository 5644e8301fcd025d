"""Counts kept exact in the transaction of each change (the allegation clock counts, the service
tally, the need counts): a table of rows by key, each with one count, to which a change adds its
difference in one atomic INSERT ... ON CONFLICT DO UPDATE per row, so that changes to rows of one
key at once each add their own count; and the recount around a change (the counts of the changed
records before it taken away, those after it added). `SummedCounts`: counts that one statement sums
from their records (the allegation month counts, the need counts), checked and rebuilt from it."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute

from vat.db import db, lock_for_chain

Key = tuple[Any, ...]
BATCH = 1000  # rows per statement: under SQLite's and psycopg's parameter limits
CHUNK = 500  # ids per IN (...): likewise


@dataclass(frozen=True, eq=False)
class KeptCounts:
    """`table`'s rows, by the columns `key`, each counting in the column `count`."""

    table: Table
    key: tuple[str, ...]
    count: str
    # The same counts with part of the key added up (its key: some of this key's columns, in
    # their order), kept by every change to these: a few rows for the readers who need no more.
    coarser: KeptCounts | None = None

    def add(self, changes: Counter[Key]) -> None:
        """Add each key's change to its row (a row made when there is none), and to the coarser
        counts' rows; zeros left out."""
        # Keys in one order, so that two transactions adding to the same rows lock them in one order.
        names = (*self.key, self.count)
        values = [dict(zip(names, (*key, n), strict=True)) for key, n in sorted(changes.items()) if n]
        upsert = _upsert(self, db.session.get_bind().dialect.name)
        for start in range(0, len(values), BATCH):
            db.session.connection().execute(upsert, values[start : start + BATCH])
        if self.coarser is not None:
            self.coarser.add(self.coarser.rolled_up(changes, self.key))

    def rolled_up(self, counts: Counter[Key], key: tuple[str, ...]) -> Counter[Key]:
        """`counts`, by the finer `key`, added up by this key (some of its columns)."""
        parts = [key.index(name) for name in self.key]
        rolled: Counter[Key] = Counter()
        for values, n in counts.items():
            rolled[tuple(values[i] for i in parts)] += n
        return rolled

    def adding(self, insert: Any) -> Any:
        """`insert`, an INSERT of rows (PostgreSQL's or SQLite's), adding each row's count to that
        of the row with its key, if there is one."""
        return insert.on_conflict_do_update(
            index_elements=[self.table.c[name] for name in self.key],
            set_={self.count: self.table.c[self.count] + insert.excluded[self.count]},
        )

    def rows(self) -> Counter[Key]:
        """The kept rows, by key."""
        kept: Counter[Key] = Counter()
        columns = [self.table.c[name] for name in (*self.key, self.count)]
        for *key, n in db.session.execute(select(*columns)):
            kept[tuple(key)] += int(n)
        return kept

    def replace(self, found: Counter[Key]) -> int:
        """Every row rewritten from `found` (the coarser counts' too); how many keys it has."""
        db.session.execute(delete(self.table))
        if self.coarser is not None:
            db.session.execute(delete(self.coarser.table))
        self.add(found)
        return len(found)

    def differences(self, name: str, expected: Iterable[Any], *, blank: Any) -> list[str]:
        """Each row that disagrees with `expected` (rows of the key's values and a count), named
        by its key (parts equal to `blank`, which stands for none, left out)."""
        kept = by_key(db.session.execute(select(*[self.table.c[n] for n in (*self.key, self.count)])))
        wanted = by_key(expected)
        return [
            f"{name}: {' '.join(str(part) for part in key if part != blank)} is {kept.get(key, 0)},"
            f" should be {wanted.get(key, 0)}"
            for key in sorted(kept.keys() | wanted.keys(), key=repr)
            if kept.get(key, 0) != wanted.get(key, 0)
        ]

    @contextmanager
    def recounting(
        self,
        ids: Iterable[int],
        *,
        lock: Callable[[list[int]], None],
        counted: Callable[[list[int]], Counter[Key]],
    ) -> Iterator[None]:
        """Around a change to the records of `ids`: they are locked (`lock`), counted before and
        after (`counted`), and the difference added when the block ends, in the same transaction."""
        listed = sorted(set(ids))
        db.session.flush()
        lock(listed)
        before = counted(listed)
        yield
        db.session.flush()
        after = counted(listed)
        after.subtract(before)
        self.add(after)


@dataclass(frozen=True, eq=False)
class SummedCounts:
    """Kept counts that one statement sums from their records: `summed(ids)` counts by key the
    rows of the records of `ids` (a list or a SELECT of ids), or of every record given none."""

    name: str  # in `flask figures verify`'s lines
    kept: KeptCounts
    summed: Callable[..., Select[Any]]
    lock: Callable[[list[int]], None]  # holds the records of the ids until the transaction ends
    blank: Any  # a key's part that stands for none (left out of a difference's name)

    def counted(self, ids: list[int]) -> Counter[Key]:
        return counted_in_chunks(self.summed, ids)

    def recounting(self, ids: Iterable[int]) -> AbstractContextManager[None]:
        """Around a change to these records: what it changes in the counts is added to them when
        the block ends, in the same transaction."""
        return self.kept.recounting(ids, lock=self.lock, counted=self.counted)

    def differences(self) -> list[str]:
        """Each count that disagrees with its records (the coarser counts' too), named by its key."""
        found = by_key(db.session.execute(self.summed()))
        rows = [(*key, n) for key, n in found.items()]
        differences = self.kept.differences(self.name, rows, blank=self.blank)
        coarser = self.kept.coarser
        if coarser is not None:
            rolled = coarser.rolled_up(found, self.kept.key)
            differences += coarser.differences(
                f"{self.name} ({coarser.table.name})",
                [(*key, n) for key, n in rolled.items()],
                blank=self.blank,
            )
        return differences

    def rebuild(self) -> int:
        """Rewrite every row from the records (the coarser counts' from those rows); how many rows
        there are."""
        kept = self.kept
        table = kept.table
        db.session.execute(delete(table))
        db.session.execute(table.insert().from_select([*kept.key, kept.count], self.summed()))
        if kept.coarser is not None:
            coarser = kept.coarser
            keys = [table.c[name] for name in coarser.key]
            db.session.execute(delete(coarser.table))
            db.session.execute(
                coarser.table.insert().from_select(
                    [*coarser.key, coarser.count],
                    select(*keys, func.sum(table.c[kept.count])).group_by(*keys),
                )
            )
        return int(db.session.scalar(select(func.count()).select_from(table)) or 0)


def by_key(rows: Iterable[Any]) -> Counter[Key]:
    """Rows of a key's values and a count, added up by key."""
    found: Counter[Key] = Counter()
    for *key, n in rows:
        found[tuple(key)] += int(n)
    return found


def counted_in_chunks(summed: Callable[[list[int]], Any], ids: list[int]) -> Counter[Key]:
    """`summed(ids)` (a statement counting those records' rows by key) run CHUNK ids at a time,
    its counts added up by key."""
    found: Counter[Key] = Counter()
    for start in range(0, len(ids), CHUNK):
        found.update(by_key(db.session.execute(summed(ids[start : start + CHUNK]))))
    return found


def lock_rows(id_column: InstrumentedAttribute[int], ids: list[int]) -> None:
    """Hold the rows of these ids (sorted) until the transaction ends (PostgreSQL; SQLite's writer
    already holds its lock), so that two changes to one record never count from each other's old
    state."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    # Every change counted is audited in its transaction: the audit chain's lock first, so every
    # writer takes it before any count row's (one order: no deadlock between writers).
    lock_for_chain("audit_event")
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            select(id_column)
            .where(id_column.in_(ids[start : start + CHUNK]))
            .order_by(id_column)
            .with_for_update()
        )


@functools.cache
def _upsert(kept: KeptCounts, dialect_name: str) -> Any:
    """The INSERT ... ON CONFLICT DO UPDATE adding to the row of the key (built once a dialect)."""
    return kept.adding((postgresql if dialect_name == "postgresql" else sqlite).insert(kept.table))
