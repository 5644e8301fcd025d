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

from sqlalchemy import Column, ColumnElement, Date, Integer, String, Table, and_, case, func, select

from vat.allegations.clock import clock, rules
from vat.allegations.models import Allegation, Step
from vat.allegations.step_counts import StepCounts
from vat.db import Base, db
from vat.kept_counts import KeptCounts

OPEN = "open"  # the clock's "due" and "overdue": which of the two depends on the day it is read
NO_DEADLINE = date(1, 1, 1)  # the key's deadline for every state but OPEN (NULL never matches a key)
NO_MISSION = ""
KEY = ("country_code", "mission", "step", "state", "due_on")
Key = tuple[str, str, str, str, date]
CHUNK = 500  # allegations per statement: under SQLite's and psycopg's parameter limits

counts = Table(
    "vat_allegation_clock_count",
    Base.metadata,
    Column("country_code", String(3), primary_key=True),
    Column("mission", String(40), primary_key=True),
    Column("step", String(30), primary_key=True),
    Column("state", String(20), primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("allegations", Integer, nullable=False),
)
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
            place = (allegation.country_code, allegation.mission or NO_MISSION)
            for state in clock(allegation, rule_list=rule_list, on=NO_DEADLINE):
                if state.step not in timed:
                    continue
                if state.state in ("due", "overdue") and state.due_on is not None:
                    found[(*place, str(state.step), OPEN, state.due_on)] += 1
                else:
                    found[(*place, str(state.step), state.state, NO_DEADLINE)] += 1
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


STEP_COUNTS = StepCounts(KEPT, counted)
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

NAME = "allegation clock counts"


def differences() -> list[str]:
    """Each count that disagrees with the allegations, named by its key."""
    return named_differences(NAME, counted(), KEPT.rows())


def named_differences(name: str, expected: Counter[Key], kept: Counter[Key]) -> list[str]:
    """Each key whose kept count is not the expected one (counts by place, step, state and
    deadline day), named."""
    found = []
    for key in sorted(expected.keys() | kept.keys()):
        if kept.get(key, 0) != expected.get(key, 0):
            country, mission, step, state, due_on = key
            place = f"{country} {mission}".strip()
            due = f" due {due_on.isoformat()}" if state == OPEN else ""
            found.append(
                f"{name}: {place} {step} {state}{due} is {kept.get(key, 0)}, should be {expected.get(key, 0)}"
            )
    return found


def rebuild() -> int:
    """Recompute every count from the allegations; returns how many rows were written."""
    return KEPT.replace(counted())
