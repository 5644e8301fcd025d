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
