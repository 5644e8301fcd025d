"""What the clock counts and the accountability cycle's counts share: allegations counted per place,
step, state and deadline day (KEY), in a table of that shape, kept by the allegation services around
each change, checked and rebuilt alike. Each module gives its table's name and its own `counted`
(the rule it applies); the counting of a step's state, the keeping and the checks are the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Column, Date, Integer, String, Table, delete

from vat.allegations.clock import StepState
from vat.allegations.models import Allegation
from vat.db import Base, db, lock_for_chain
from vat.kept_counts import KeptCounts, lock_rows

OPEN = "open"  # the clock's "due" and "overdue": which of the two depends on the day it is read
NO_DEADLINE = date(1, 1, 1)  # the key's deadline for every state but OPEN (NULL never matches a key)
NO_MISSION = ""
KEY = ("country_code", "mission", "step", "state", "due_on")
Key = tuple[str, str, str, str, date]


def counts_table(name: str) -> Table:
    """The table of allegations counted by KEY."""
    return Table(
        name,
        Base.metadata,
        Column("country_code", String(3), primary_key=True),
        Column("mission", String(40), primary_key=True),
        Column("step", String(30), primary_key=True),
        Column("state", String(20), primary_key=True),
        Column("due_on", Date, primary_key=True),
        Column("allegations", Integer, nullable=False),
    )


def count_states(
    found: Counter[Key], allegation: Allegation, states: Iterable[StepState], steps: Container[str]
) -> None:
    """Add to `found` where each of the allegation's steps among `steps` stands: an open step
    (due or overdue) by its deadline day, any other state by itself."""
    place = (allegation.country_code, allegation.mission or NO_MISSION)
    for state in states:
        if state.step not in steps:
            continue
        if state.state in ("due", "overdue") and state.due_on is not None:
            found[(*place, str(state.step), OPEN, state.due_on)] += 1
        else:
            found[(*place, str(state.step), state.state, NO_DEADLINE)] += 1


class Counted(Protocol):
    def __call__(
        self, *, allegation_ids: Iterable[int] | None = None, steps: Iterable[str] | None = None
    ) -> Counter[Key]: ...


@dataclass(frozen=True)
class StepCounts:
    name: str  # in `flask figures verify`'s lines
    kept: KeptCounts
    counted: Counted

    def recounting(self, allegation_ids: Iterable[int]) -> AbstractContextManager[None]:
        """Around a change to these allegations or their steps: what it changes in the counts is
        added to them when the block ends, in the same transaction."""
        # An allegation is counted as its row says: two changes to it never count from each other's
        # old state.
        return self.kept.recounting(allegation_ids, lock=partial(lock_rows, Allegation.id), counted=self._of)

    def count_added(self, allegation_ids: list[int]) -> None:
        """Add the counts of allegations just inserted (one created, or the importer's)."""
        db.session.flush()
        lock_for_chain("audit_event")
        self.kept.add(self._of(allegation_ids))

    def recount_step(self, step: str) -> None:
        """A rule changed: its step's counts again, from every allegation."""
        db.session.flush()
        lock_for_chain("audit_event")
        db.session.execute(delete(self.kept.table).where(self.kept.table.c.step == step))
        self.kept.add(self.counted(steps=[step]))

    def differences(self) -> list[str]:
        """Each count that disagrees with what `counted` says of every allegation, named by its key."""
        expected: Counter[Any] = self.counted()
        kept = self.kept.rows()
        found = []
        for key in sorted(expected.keys() | kept.keys()):
            if kept.get(key, 0) != expected.get(key, 0):
                country, mission, step, state, due_on = key
                place = f"{country} {mission}".strip()
                due = f" due {due_on.isoformat()}" if state == OPEN else ""
                found.append(
                    f"{self.name}: {place} {step} {state}{due} is {kept.get(key, 0)}, "
                    f"should be {expected.get(key, 0)}"
                )
        return found

    def rebuild(self) -> int:
        """Recompute every count from the allegations; returns how many rows were written."""
        return self.kept.replace(self.counted())

    def _of(self, allegation_ids: list[int]) -> Counter[Any]:
        return self.counted(allegation_ids=allegation_ids)
