"""Allegations counted per place (country, mission), step of the clock, where the step stands and,
for a step still open, the day it falls due (`vat_allegation_clock_count`), kept exact in the
transaction of each change, so that the dashboard reads a few rows instead of running the clock
over every allegation in reach. An open step is "due" until its deadline and "overdue" after it:
overdue on a day is the sum of the open steps whose deadline is before that day, which stays exact
as the days pass without any job to run.

One definition: `counted` runs the Python clock (`vat.allegations.clock.clock`, the allegation
page's) over allegation rows. The allegation services call `recounting` around a change (the counts
of the allegations before it are taken away, those after it added: one atomic increment per row),
the importer `count_added`; a rule's change recounts its step (`recount_step`). `differences` and
`rebuild` compare with and recompute from every allegation (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select

from vat.allegations.clock import clock, rules
from vat.allegations.models import Allegation, Step
from vat.allegations.step_counts import (
    KEY,
    NO_DEADLINE,
    OPEN,
    Key,
    StepCounts,
    count_states,
    counts_table,
)
from vat.db import db
from vat.kept_counts import CHUNK, KeptCounts

NAME = "allegation clock counts"
counts = counts_table("vat_allegation_clock_count")
KEPT = KeptCounts(counts, KEY, "allegations")

# What the clock reads of an allegation.
COLUMNS = (
    "id",
    "country_code",
    "mission",
    "personnel_category",
    "urgency",
    "historical",
    *(f"{step.value}_on" for step in Step),
)


# --- the one definition: allegation rows to counts ------------------------------------------------


def counted(
    *, allegation_ids: Iterable[int] | None = None, steps: Iterable[str] | None = None
) -> Counter[Key]:
    """The counts the clock says (every allegation, or those of `allegation_ids`; every rule's step,
    or those of `steps`), by KEY; read with the caller's transaction."""
    wanted = None if steps is None else set(steps)
    rule_list = [rule for rule in rules() if wanted is None or rule.step in wanted]
    timed = {rule.step for rule in rule_list}
    if allegation_ids is None:
        chunks: list[list[ColumnElement[bool]]] = [[]]
    else:
        listed = sorted(set(allegation_ids))
        chunks = [[Allegation.id.in_(listed[i : i + CHUNK])] for i in range(0, len(listed), CHUNK)]
    found: Counter[Key] = Counter()
    columns = [Allegation.__table__.c[name] for name in COLUMNS]
    for conditions in chunks:
        rows = db.session.execute(select(*columns).where(*conditions).execution_options(yield_per=5000))
        for row in rows:
            # A copy outside the session: the clock reads the row as stored, whatever the session holds.
            allegation = Allegation(**row._asdict())
            count_states(found, allegation, clock(allegation, rule_list=rule_list, on=NO_DEADLINE), timed)
    return found


def states_on(found: Counter[Key], on: date) -> dict[str, Counter[str]]:
    """Counts by KEY as where each step stands on `on`: {step: {state: allegations}}."""
    states: dict[str, Counter[str]] = {}
    for (_, _, step, state, due_on), n in found.items():
        if state == OPEN:
            state = "due" if on <= due_on else "overdue"
        states.setdefault(step, Counter())[state] += n
    return states


# --- kept by the allegation services ----------------------------------------------------------------


STEP_COUNTS = StepCounts(NAME, KEPT, counted)
recounting = STEP_COUNTS.recounting
count_added = STEP_COUNTS.count_added
recount_step = STEP_COUNTS.recount_step


# --- read by the reports --------------------------------------------------------------------------


def states_by_step(conditions: list[ColumnElement[bool]], on: date) -> dict[str, Counter[str]]:
    """Where each step stands on `on`, added up over the rows matching `conditions` (on `counts`):
    {step: {state: allegations}}, a state as the clock names it."""
    row = counts.c
    state = case(
        (and_(row.state == OPEN, row.due_on < on), "overdue"), (row.state == OPEN, "due"), else_=row.state
    )
    found: dict[str, Counter[str]] = {}
    for step, named, n in db.session.execute(
        select(row.step, state, func.sum(row.allegations)).where(*conditions).group_by(row.step, state)
    ):
        found.setdefault(step, Counter())[named] += int(n or 0)
    return found


# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

differences = STEP_COUNTS.differences
rebuild = STEP_COUNTS.rebuild
