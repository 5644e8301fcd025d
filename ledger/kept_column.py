"""A figure kept on each row of a ledger table (what a withholding's transfers brought in, what is
outstanding of a pledge), exact in the transaction of each booking that changes it, so a reader
takes it from the row, from an index, instead of adding up the row's postings or records. Checked
against and recomputed from those (`flask figures verify` / `rebuild`, as a `vat.figures.Summary`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from vat.db import db, lock_for_chain


@dataclass(frozen=True)
class KeptColumn:
    """`column` of its table's rows (each with an `id`), whose source adds up to it."""

    name: str
    column: InstrumentedAttribute[int]
    # What the row's source adds up to, a scalar subquery correlated to the row's table.
    source: Callable[[], Any]
    # How a difference names the row ("withholding") and its source ("its standing transfers").
    row_noun: str
    source_words: str

    def add(self, row_id: int, minor: int) -> None:
        """Add `minor` (less than zero to take off) to the row's figure: in the database, not from
        a value read earlier (two bookings cannot both add to one they read)."""
        table = self.column.class_
        db.session.execute(
            update(table).where(table.id == row_id).values({self.column.key: self.column + minor})
        )

    def differences(self) -> list[str]:
        """Each row whose kept figure differs from what its source adds up to."""
        lock_for_chain("ledger")  # no booking between the two reads
        table = self.column.class_
        computed = self.source()
        query = select(table.id, self.column, computed).where(self.column != computed).order_by(table.id)
        return [
            f"{self.name}: {self.row_noun} {row_id} holds {kept}; {self.source_words} add up to {summed}"
            for row_id, kept, summed in db.session.execute(query)
        ]

    def rebuild(self) -> int:
        """Write every row's figure anew from its source; how many rows there are."""
        lock_for_chain("ledger")
        table = self.column.class_
        db.session.execute(
            update(table)
            .values({self.column.key: self.source()})
            .execution_options(synchronize_session=False)
        )
        db.session.expire_all()
        return int(db.session.scalar(select(func.count()).select_from(table)) or 0)
