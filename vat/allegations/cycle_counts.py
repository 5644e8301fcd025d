"""Allegations counted per place (country, mission), limited step of the accountability cycle, where
the step stands and, for a step still open, the day it falls due (`vat_cycle_count`), kept exact in
the transaction of each change, as the allegation clock's are (vat.allegations.clock_counts): the
dashboard's "overdue accountability steps" is a sum over the open steps whose deadline is before
today, exact as the days pass with no job to run.

One definition: `counted` runs the Python cycle (`vat.allegations.cycle.cycle`, the allegation
page's) over the allegations and their recorded steps. The allegation services and the recording
of a step call `recounting` around a change, the importer `count_added`; a rule's change recounts
its step (`recount_step`). `differences` and `rebuild` compare with and recompute from every
allegation (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, func, select

from vat.allegations import cycle
from vat.allegations.clock_counts import COLUMNS as CLOCK_COLUMNS
from vat.allegations.cycle_models import AccountabilityStep
from vat.allegations.models import Allegation
from vat.allegations.step_counts import KEY, NO_DEADLINE, OPEN, Key, StepCounts, count_states, counts_table
from vat.db import db
from vat.kept_counts import CHUNK, KeptCounts

NAME = "accountability cycle counts"
counts = counts_table("vat_cycle_count")
KEPT = KeptCounts(counts, KEY, "allegations")

# What the cycle reads of an allegation: the clock's columns (its step dates) and the outcome.
COLUMNS = (*CLOCK_COLUMNS, "outcome")
STEP_COLUMNS = ("id", "allegation_id", "step", "measure", "dated_on")


# --- the one definition: allegations and their steps to counts -------------------------------------


def counted(
    *, allegation_ids: Iterable[int] | None = None, steps: Iterable[str] | None = None
) -> Counter[Key]:
    """The counts the cycle says (every allegation, or those of `allegation_ids`; every rule's
    step, or those of `steps`), by KEY; read with the caller's transaction."""
    rule_list = cycle.rules()
    wanted = {rule.step for rule in rule_list} if steps is None else set(steps)
    if allegation_ids is None:
        chunks: list[list[int] | None] = [None]
    else:
        listed = sorted(set(allegation_ids))
        chunks = [listed[i : i + CHUNK] for i in range(0, len(listed), CHUNK)]
    found: Counter[Key] = Counter()
    columns = [Allegation.__table__.c[name] for name in COLUMNS]
    step_columns = [AccountabilityStep.__table__.c[name] for name in STEP_COLUMNS]
    for ids in chunks:
        # Copies outside the session: the cycle reads the rows as stored, whatever the session holds.
        recorded: dict[int, list[AccountabilityStep]] = {}
        step_rows = select(*step_columns).order_by(AccountabilityStep.dated_on, AccountabilityStep.id)
        conditions = [] if ids is None else [Allegation.id.in_(ids)]
        if ids is not None:
            step_rows = step_rows.where(AccountabilityStep.allegation_id.in_(ids))
        for row in db.session.execute(step_rows):
            recorded.setdefault(row.allegation_id, []).append(AccountabilityStep(**row._asdict()))
        rows = db.session.execute(select(*columns).where(*conditions).execution_options(yield_per=5000))
        for row in rows:
            allegation = Allegation(**row._asdict())
            states = cycle.cycle(
                allegation, recorded.get(allegation.id, []), rule_list=rule_list, on=NO_DEADLINE
            )
            count_states(found, allegation, states, wanted)
    return found


def overdue_on(found: Counter[Key], on: date) -> int:
    """How many steps of `found` are overdue on `on`."""
    return sum(n for (_, _, _, state, due_on), n in found.items() if state == OPEN and due_on < on)


# --- kept by the allegation services ----------------------------------------------------------------


STEP_COUNTS = StepCounts(NAME, KEPT, counted)
recounting = STEP_COUNTS.recounting
count_added = STEP_COUNTS.count_added
recount_step = STEP_COUNTS.recount_step


# --- read by the reports --------------------------------------------------------------------------


def overdue(conditions: list[ColumnElement[bool]], on: date) -> int:
    """The open steps whose deadline is before `on`, added up over the rows matching `conditions`."""
    row = counts.c
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(row.allegations), 0)).where(
                *conditions, row.state == OPEN, row.due_on < on
            )
        )
        or 0
    )


# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

differences = STEP_COUNTS.differences
rebuild = STEP_COUNTS.rebuild
