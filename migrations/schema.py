"""What the migrations share: enumerations frozen at the baseline, column and constraint builders
named as the models' convention names them, and steps. Like the migrations, this module never
imports the models: a migration builds the schema as it stood at its revision."""

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic import op

# --- enumerations frozen as they stood at the baseline (1073); later migrations build on them --

CLAIM_STEPS = (
    "recorded",
    "consent_obtained",
    "referred",
    "dna_requested",
    "samples_taken",
    "dna_result",
    "paternity_established",
    "support_ordered",
    "paying",
    "closed",
)
# The allegation clock's dated steps, in order (each is the date column <step>_on of vat_allegation).
CLOCK_STEPS = (
    "received",
    "assessed",
    "referred",
    "nio_decision",
    "investigation_completed",
    "report_submitted",
)
SERVICE_TYPES = (
    "medical",
    "psychosocial",
    "legal",
    "material",
    "shelter",
    "education",
    "livelihood",
    "protection",
    "other",
)

# The accountability cycle's measures as 1087 created them (1105 adds the disciplinary referrals).
CYCLE_MEASURES = (
    "acquitted",
    "administrative_leave",
    "confined_to_barracks",
    "convicted",
    "prosecution_declined",
    "demotion",
    "dismissal",
    "fine",
    "imprisonment",
    "investigating",
    "leave_without_pay",
    "left_before_action",
    "no_action",
    "no_reply_content",
    "none",
    "ongoing",
    "other",
    "payments_suspended",
    "prosecution_opened",
    "referred",
    "repatriation",
    "repatriation_and_ban",
    "reprimand",
    "separation",
    "suspension",
    "written_censure",
)

# --- columns and constraints, named as the models' convention names them ------------------


def key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key, on `id` unless named."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def unique(table: str, *columns: str) -> sa.UniqueConstraint:
    """A unique constraint, named after its first column as the models' convention does."""
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{columns[0]}"))


def is_one_of(column: str, values: Iterable[str]) -> str:
    """The SQL condition that `column` holds one of `values`."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def one_of(table: str, column: str, values: Iterable[str]) -> sa.CheckConstraint:
    """The CHECK that an enumerated column holds one of `values`: ck_<table>_<column>."""
    return check(table, column, is_one_of(column, values))


def check(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def integer(name: str, nullable: bool = False, **options: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=nullable, **options)


def minor(name: str, nullable: bool = False) -> sa.Column[Any]:
    """An amount in its currency's minor units (or US cents)."""
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def string(name: str, length: int | None = None, nullable: bool = False) -> sa.Column[Any]:
    """String(length) when a length is given, else Text."""
    return sa.Column(name, sa.String(length=length) if length else sa.Text(), nullable=nullable)


def day(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Date(), nullable=nullable)


def moment(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def flag(name: str, nullable: bool = False, **options: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=nullable, **options)


# --- SQL ----------------------------------------------------------------------------------


def plus_days_or_months(start: str, amount: str, unit: str, postgres: bool) -> str:
    """The SQL of the day `start` plus `amount` (an integer expression) days, or calendar months
    clamped to the month's end as the clock's add_months does, on PostgreSQL or SQLite."""
    if postgres:
        if unit == "months":
            return f"CAST({start} + make_interval(0, {amount}) AS DATE)"
        return f"({start} + {amount})"
    if unit == "months":
        plain = f"date({start}, '+' || CAST({amount} AS TEXT) || ' months')"
        months = f"'+' || CAST({amount} + 1 AS TEXT) || ' months'"
        month_end = f"date({start}, 'start of month', {months}, '-1 day')"
        return f"min({plain}, {month_end})"
    return f"date({start}, '+' || CAST({amount} AS TEXT) || ' days')"


# --- steps --------------------------------------------------------------------------------


def create_indexes(table: str, *columns: str) -> None:
    """One index on each column, named as the models' `index=True` names it: ix_<table>_<column>."""
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def create_named_indexes(indexes: dict[str, tuple[str, list[str]]]) -> None:
    """Each index, by name: (its table, its columns)."""
    for name, (table, columns) in indexes.items():
        op.create_index(name, table, columns)


def indexed_tables(indexes: dict[str, tuple[str, list[str]]]) -> list[str]:
    """The tables that the indexes of `create_named_indexes` are on, each once, in name order."""
    return sorted({table for table, _columns in indexes.values()})


def drop_named_indexes(indexes: dict[str, tuple[str, list[str]]]) -> None:
    """What `create_named_indexes` made, dropped."""
    for name, (table, _columns) in indexes.items():
        op.drop_index(name, table_name=table)


def recreate_index(name: str, table: str, columns: list[str]) -> None:
    """The index `name` on `table`, made again on `columns` (an upgrade's, or a downgrade's)."""
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns)


# A victim's cell in the counts kept per victim place and category (vat.victims.support_counts).
VICTIM_CELL = ("country_code", "mission", "year", "sex", "age_group")


def victim_cell_columns() -> list[sa.Column[Any]]:
    """The cell's columns of a table of such counts (the first of its primary key)."""
    return [
        string("country_code", 3),
        string("mission", 40),
        integer("year"),
        string("sex", 10),
        string("age_group", 10),
    ]


def victim_cell(victim: str) -> str:
    """The SQL of the cell of the victim row `victim`, as the counts' services compute it."""
    if op.get_bind().dialect.name == "postgresql":
        year = f"CAST(EXTRACT(YEAR FROM {victim}.registered_on) AS INTEGER)"
    else:
        year = f"CAST(STRFTIME('%Y', {victim}.registered_on) AS INTEGER)"
    return f"{victim}.country_code, COALESCE({victim}.mission, ''), {year}, {victim}.sex, {victim}.age_group"


STEP_COUNT_KEY = ("country_code", "mission", "step", "state", "due_on")
# The deadline day counted for a step that is not open: due_on is part of the key, never NULL.
NO_DEADLINE = "0001-01-01"


def create_step_counts(table: str) -> None:
    """A table of allegations counted per place, step, state and deadline day (the clock's, 1110;
    the accountability cycle's, 1146)."""
    op.create_table(
        table,
        string("country_code", 3),
        string("mission", 40),
        string("step", 30),
        string("state", 20),
        day("due_on"),
        integer("allegations"),
        key(table, *STEP_COUNT_KEY),
    )


def step_rules(table: str, columns: str) -> list[Any]:
    """The rows of a table of deadline rules (the clock's, the cycle's), in their order."""
    query = f"SELECT {columns} FROM {table} ORDER BY position"  # noqa: S608
    return list(op.get_bind().execute(sa.text(query)).all())


def rule_categories(applies_to: str | None) -> dict[str, str]:
    """The personnel categories a rule applies to (stored comma-separated; none: every category),
    as the bound parameters :c0, :c1, … that `in_rule_categories` names."""
    categories = [category for category in (applies_to or "").split(",") if category]
    return {f"c{i}": category for i, category in enumerate(categories)}


def in_rule_categories(column: str, applies_to: str | None) -> str:
    """The SQL condition that `column` holds one of a rule's categories (TRUE when it names none)."""
    names = rule_categories(applies_to)
    return f"{column} IN ({', '.join(f':{name}' for name in names)})" if names else "TRUE"


def step_state(*, not_applicable: str, done: str, start: str, done_by: str) -> str:
    """The SQL of where an allegation's step stands, as the clock and the cycle judge it: `done`
    and `start` are the days the step and the one it runs from were recorded, `done_by` whether
    a later step was, and `due` the day the step falls due."""
    return (
        f"CASE WHEN {not_applicable} THEN 'not_applicable'"
        f" WHEN {done} IS NULL AND ({done_by}) THEN 'done_by'"
        f" WHEN {done} IS NULL AND historical THEN 'not_recorded'"
        f" WHEN {start} IS NULL AND {done} IS NOT NULL THEN 'done'"
        f" WHEN {start} IS NULL THEN 'waiting'"
        f" WHEN {done} IS NOT NULL AND {done} <= due THEN 'on_time'"
        f" WHEN {done} IS NOT NULL THEN 'late'"
        " ELSE 'open' END"
    )


def count_steps(table: str, allegations: str, *, state: str, deadline: str, postgres: bool) -> str:
    """The INSERT into a step-count table (`create_step_counts`) of the step :step of each of
    `allegations` (a table, or a SELECT in brackets): where it stands (`state`, see `step_state`)
    and, for a step still open, the day it falls due (`deadline`), counted per place."""
    no_deadline = f"CAST('{NO_DEADLINE}' AS DATE)" if postgres else f"'{NO_DEADLINE}'"
    states = (
        f"SELECT country_code, COALESCE(mission, '') AS mission, {state} AS state, due"
        f" FROM (SELECT a.*, {deadline} AS due FROM {allegations} AS a) AS b"
    )
    rows = (
        f"SELECT country_code, mission, state, CASE WHEN state = 'open' THEN due ELSE {no_deadline} END"
        f" AS due_on FROM ({states}) AS c"
    )
    return (
        f"INSERT INTO {table} ({', '.join(STEP_COUNT_KEY)}, allegations)"  # noqa: S608
        f" SELECT country_code, mission, :step, state, due_on, COUNT(*) FROM ({rows}) AS d"
        " GROUP BY country_code, mission, state, due_on"
    )


def drop_tables(*tables: str) -> None:
    """Drop the tables in this order (referencing tables first); their indexes go with them."""
    for table in tables:
        op.drop_table(table)


def foreign_key(table: str, column: str, target: str, **options: str) -> sa.ForeignKeyConstraint:
    """A foreign key from `table.column` to `target` ("table.column"), named as the models'
    convention names it: fk_<table>_<column>_<referred table>."""
    name = _foreign_key_name(table, column, target)
    return sa.ForeignKeyConstraint([column], [target], name=name, **options)


def _foreign_key_name(table: str, column: str, target: str) -> str:
    return op.f(f"fk_{table}_{column}_{target.split('.')[0]}")


def add_reference(table: str, column: str, target: str) -> None:
    """Add to an existing table the nullable integer `column` referring to `target`
    ("table.column"), with its foreign key and its index; `drop_reference` undoes it."""
    referred, referred_column = target.split(".")
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
        name = _foreign_key_name(table, column, target)
        batch.create_foreign_key(name, referred, [column], [referred_column])
    create_indexes(table, column)


def drop_reference(table: str, column: str, target: str) -> None:
    op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(_foreign_key_name(table, column, target), type_="foreignkey")
        batch.drop_column(column)


def replace_index(table: str, old: tuple[str, list[str]], new: tuple[str, list[str]]) -> None:
    """Create the index `new` (name, columns), then drop `old`, which it replaces; a downgrade
    replaces them the other way round."""
    op.create_index(new[0], table, new[1])
    op.drop_index(old[0], table_name=table)


def analyze_if_planned(*tables: str) -> None:
    """On SQLite, statistics for `tables` again when the database has any (`ANALYZE`, as `make
    bench` runs it): with statistics for the other indexes and none for new ones, the planner
    misjudges them. A database without statistics is left without (its plans use them well)."""
    bind = op.get_bind()
    planned = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
    if bind.dialect.name == "sqlite" and bind.scalar(sa.text(planned)):
        for table in tables:
            bind.execute(sa.text(f"ANALYZE {table}"))
