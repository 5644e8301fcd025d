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
URGENCIES = ("normal", "high_priority", "urgent")  # in rank order
STEPS = t.CLOCK_STEPS


def upgrade():
    t.create_step_counts(TABLE)
    rules = t.step_rules(
        "vat_clock_rule", "step, starts_from, amount, unit, applies_to, reduced_amount, reduced_from"
    )
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for rule in rules:
        if rule.step not in STEPS[1:] or rule.starts_from not in STEPS:
            continue
        bind.execute(sa.text(_fill(rule, postgres)), _parameters(rule))


def _parameters(rule):
    parameters = {"step": rule.step, "amount": rule.amount or 0, "reduced": rule.reduced_amount or 0}
    return parameters | t.rule_categories(rule.applies_to)


def _fill(rule, postgres):
    """One INSERT ... SELECT of a rule's step: vat.allegations.clock._step_state in SQL."""
    done, start = f"{rule.step}_on", f"{rule.starts_from}_on"
    later = " OR ".join(f"{s}_on IS NOT NULL" for s in STEPS[STEPS.index(rule.step) + 1 :]) or "FALSE"
    amount = ":amount"
    if rule.reduced_amount is not None and rule.reduced_from in URGENCIES:
        urgent = t.is_one_of("urgency", URGENCIES[URGENCIES.index(rule.reduced_from) :])
        amount = f"(CASE WHEN {urgent} THEN :reduced ELSE :amount END)"
    amount = f"CAST({amount} AS INTEGER)"
    applies = t.in_rule_categories("personnel_category", rule.applies_to)
    deadline = t.plus_days_or_months(start, amount, rule.unit, postgres)
    state = t.step_state(not_applicable=f"NOT ({applies})", done=done, start=start, done_by=later)
    return t.count_steps(TABLE, "vat_allegation", state=state, deadline=deadline, postgres=postgres)


def downgrade():
    t.drop_tables(TABLE)
