"""Steps the migrations share. Like the migrations, this module never imports the models: a
migration builds the schema as it stood at its revision."""

import sqlalchemy as sa
from alembic import op


def create_indexes(table: str, *columns: str) -> None:
    """One index on each column, named as the models' `index=True` names it: ix_<table>_<column>."""
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def drop_tables(*tables: str) -> None:
    """Drop the tables in this order (referencing tables first); their indexes go with them."""
    for table in tables:
        op.drop_table(table)


def foreign_key(table: str, column: str, target: str, **options: str) -> sa.ForeignKeyConstraint:
    """A foreign key from `table.column` to `target` ("table.column"), named as the models'
    convention names it: fk_<table>_<column>_<referred table>."""
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=op.f(name), **options)


def replace_index(table: str, old: tuple[str, list[str]], new: tuple[str, list[str]]) -> None:
    """Create the index `new` (name, columns), then drop `old`, which it replaces; a downgrade
    replaces them the other way round."""
    op.create_index(new[0], table, new[1])
    op.drop_index(old[0], table_name=table)
