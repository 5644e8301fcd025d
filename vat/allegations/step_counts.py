"""What the clock counts and the accountability cycle's counts share: allegations counted per place,
step, state and deadline day, kept by the allegation services around each change. Each module gives
its table and its own `counted` (the rule it applies); the keeping is the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import delete

from vat.allegations.models import Allegation
from vat.db import db, lock_for_chain
from vat.kept_counts import KeptCounts, Key, lock_rows


class Counted(Protocol):
    def __call__(
        self, *, allegation_ids: Iterable[int] | None = None, steps: Iterable[str] | None = None
    ) -> Counter[Key]: ...


@dataclass(frozen=True)
class StepCounts:
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

    def _of(self, allegation_ids: list[int]) -> Counter[Any]:
        return self.counted(allegation_ids=allegation_ids)
