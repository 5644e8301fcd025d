"""allegations: counted per place, accountability-cycle step, state and deadline day, kept in each
change's transaction (issue 14)

The dashboard counted the overdue steps of the accountability cycle in SQL over every allegation
in reach, one query a rule, on each view. It now reads `vat_cycle_count`
(vat.allegations.cycle_counts): allegations per country, mission, limited step of the cycle, where
the step stands and, for a step still open, the day it falls due. Filled here in SQL from the
allegations, their recorded steps and the cycle's rules as they are, as `flask figures rebuild`
would (the cycle's clock, vat.allegations.cycle, written once more in SQL for this upgrade), so
that an upgraded database is right at once.
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema as t

revision = "1146"
down_revision = "1145"

TABLE = "vat_cycle_count"
NOT_REFERRED = "none"


def upgrade():
    t.create_step_counts(TABLE)
    rules = t.step_rules("vat_cycle_rule", "step, starts_from, amount, unit, applies_to, substantiated_only")
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for rule in rules:
        later = [r.step for r in rules if r.starts_from == rule.step]
        bind.execute(sa.text(_fill(rule, later, postgres)), _parameters(rule, later))


def _parameters(rule, later):
    parameters = {
        "step": rule.step,
        "starts_from": rule.starts_from,
        "amount": rule.amount,
        "none": NOT_REFERRED,
    }
    parameters |= t.rule_categories(rule.applies_to)
    parameters |= {f"l{i}": step for i, step in enumerate(later)}
    return parameters


def _first(step, *, starting=False):
    """The first date a step of the allegation `a` was recorded (one that starts a limit: not "none")."""
    measure = " AND s.measure <> :none" if starting else ""
    return (
        "(SELECT MIN(s.dated_on) FROM vat_accountability_step s"  # noqa: S608
        f" WHERE s.allegation_id = a.id AND s.step = {step}{measure})"
    )


def _fill(rule, later, postgres):
    """One INSERT ... SELECT of a rule's step: vat.allegations.cycle._state in SQL."""
    if rule.starts_from in t.CLOCK_STEPS:
        start = f"a.{rule.starts_from}_on"
    else:
        start = _first(":starts_from", starting=True)
    listed_later = ", ".join(f":l{i}" for i in range(len(later)))
    next_done = (
        f"EXISTS (SELECT 1 FROM vat_accountability_step n WHERE n.allegation_id = a.id AND n.step IN ({listed_later}))"
        if later
        else "FALSE"
    )
    applies = t.in_rule_categories("COALESCE(personnel_category, '')", rule.applies_to)
    substantiated = "COALESCE(outcome, '') = 'substantiated'" if rule.substantiated_only else "TRUE"
    deadline = t.plus_days_or_months("start", "CAST(:amount AS INTEGER)", rule.unit, postgres)
    not_applicable = f"NOT ({applies}) OR (done IS NULL AND NOT ({substantiated}))"
    state = t.step_state(not_applicable=not_applicable, done="done", start="start", done_by="next_done")
    allegations = (
        "SELECT a.country_code, a.mission, a.personnel_category, a.outcome,"
        f" a.historical, {_first(':step')} AS done, {start} AS start, {next_done} AS next_done"
        " FROM vat_allegation a"
    )
    return t.count_steps(TABLE, f"({allegations})", state=state, deadline=deadline, postgres=postgres)


def downgrade():
    t.drop_tables(TABLE)
