"""Steps the migrations share. Like the migrations, this module never imports the models: a
migration builds the schema as it stood at its revision."""

from alembic import op


def create_indexes(table: str, *columns: str) -> None:
    """One index on each column, named as the models' `index=True` names it: ix_<table>_<column>."""
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def drop_tables(*tables: str) -> None:
    """Drop the tables in this order (referencing tables first); their indexes go with them."""
    for table in tables:
        op.drop_table(table)
