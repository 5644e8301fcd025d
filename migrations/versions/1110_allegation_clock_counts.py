"""allegations: counted per place, clock step, state and deadline day, kept in each change's
transaction (issue 14)

The dashboard ran the allegation clock over every allegation in reach on each view (~0.5 s of CPU
at 100,000 victims). It now reads `vat_allegation_clock_count` (vat.allegations.clock_counts):
allegations per country, mission, step with a rule, where the step stands and, for a step still
open, the day it falls due. Filled here in SQL from the allegations and the clock's rules as they
are, as `flask figures rebuild` would (the clock's rule, vat.allegations.clock, written once more
in SQL for this upgrade), so that an upgraded database is right at once.
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema as t

revision = "1110"
down_revision = "1131"

TABLE = "vat_allegation_clock_count"
KEY = ("country_code", "mission", "step", "state", "due_on")
URGENCIES = ("normal", "high_priority", "urgent")  # in rank order
STEPS = t.CLOCK_STEPS
NO_DEADLINE = "0001-01-01"


def upgrade():
    t.create_step_counts(TABLE)
    bind = op.get_bind()
    rules = bind.execute(
        sa.text(
            "SELECT step, starts_from, amount, unit, applies_to, reduced_amount, reduced_from"
            " FROM vat_clock_rule ORDER BY position"
        )
    ).all()
    postgres = bind.dialect.name == "postgresql"
    for rule in rules:
        if rule.step not in STEPS[1:] or rule.starts_from not in STEPS:
            continue
        bind.execute(sa.text(_fill(rule, postgres)), _parameters(rule))


def _parameters(rule):
    parameters = {"step": rule.step, "amount": rule.amount or 0, "reduced": rule.reduced_amount or 0}
    categories = [c for c in (rule.applies_to or "").split(",") if c]
    parameters |= {f"c{i}": category for i, category in enumerate(categories)}
    return parameters


def _fill(rule, postgres):
    """One INSERT ... SELECT of a rule's step: vat.allegations.clock._step_state in SQL."""
    done, start = f"{rule.step}_on", f"{rule.starts_from}_on"
    later = " OR ".join(f"{s}_on IS NOT NULL" for s in STEPS[STEPS.index(rule.step) + 1 :]) or "FALSE"
    amount = ":amount"
    if rule.reduced_amount is not None and rule.reduced_from in URGENCIES:
        urgent = ", ".join(f"'{u}'" for u in URGENCIES[URGENCIES.index(rule.reduced_from) :])
        amount = f"(CASE WHEN urgency IN ({urgent}) THEN :reduced ELSE :amount END)"
    amount = f"CAST({amount} AS INTEGER)"
    categories = [c for c in (rule.applies_to or "").split(",") if c]
    listed = ", ".join(f":c{i}" for i in range(len(categories)))
    applies = f"personnel_category IN ({listed})" if categories else "TRUE"
    sentinel = f"CAST('{NO_DEADLINE}' AS DATE)" if postgres else f"'{NO_DEADLINE}'"
    deadline = t.plus_days_or_months(start, amount, rule.unit, postgres)
    state = (
        f"CASE WHEN NOT ({applies}) THEN 'not_applicable'"
        f" WHEN {done} IS NULL AND ({later}) THEN 'done_by'"
        f" WHEN {done} IS NULL AND historical THEN 'not_recorded'"
        f" WHEN {start} IS NULL AND {done} IS NOT NULL THEN 'done'"
        f" WHEN {start} IS NULL THEN 'waiting'"
        f" WHEN {done} IS NOT NULL AND {done} <= due THEN 'on_time'"
        f" WHEN {done} IS NOT NULL THEN 'late'"
        " ELSE 'open' END"
    )
    rows = (
        f"SELECT country_code, COALESCE(mission, '') AS mission, {state} AS state,"
        f" CASE WHEN {state} = 'open' THEN due ELSE {sentinel} END AS due_on"
        f" FROM (SELECT *, {deadline} AS due FROM vat_allegation) AS a"
    )
    return (
        f"INSERT INTO {TABLE} ({', '.join(KEY)}, allegations)"  # noqa: S608
        f" SELECT country_code, mission, :step, state, due_on, COUNT(*) FROM ({rows}) AS s"
        " GROUP BY country_code, mission, state, due_on"
    )


def downgrade():
    t.drop_tables(TABLE)
