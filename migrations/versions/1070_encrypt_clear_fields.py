"""schema: the clear-text fields that can carry identity, encrypted like the others (issue 15)

Break-glass reasons, allegations' actions taken, children's birth dates, and the recipients and
purposes of disclosures become encrypted text (AES-GCM under VAT_DATA_KEY, the column as
associated data, as vat.crypto does); the rows already there are encrypted here.
"""

from alembic import op
from sqlalchemy import Date, String, Text, column, select, table, update

from vat.crypto import keyring

revision = "1070"
down_revision = "0980"

# table, column, its type before
COLUMNS = [
    ("auth_break_glass", "reason", Text()),
    ("vat_allegation", "actions_taken", Text()),
    ("vat_child", "birth_date", Date()),
    ("vat_disclosure", "recipient", String(200)),
    ("vat_disclosure", "purpose", String(200)),
]


def _retype(name, field, new_type, old_type):
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            name,
            field,
            type_=new_type,
            existing_type=old_type,
            postgresql_using=f"{field}::{new_type.compile(dialect=op.get_bind().dialect)}",
        )
    else:
        with op.batch_alter_table(name) as batch:
            batch.alter_column(field, type_=new_type, existing_type=old_type)


def _rewrite(name, field, change):
    rows = table(name, column("id"), column(field, Text()))
    connection = op.get_bind()
    for row_id, value in connection.execute(
        select(rows.c.id, rows.c[field]).where(rows.c[field].is_not(None))
    ).all():
        connection.execute(update(rows).where(rows.c.id == row_id).values({field: change(str(value))}))


def upgrade():
    ring = keyring()
    for name, field, old_type in COLUMNS:
        _retype(name, field, Text(), old_type)
        context = f"{name}.{field}"
        _rewrite(name, field, lambda plain, context=context: ring.encrypt(plain, context))


def downgrade():
    ring = keyring()
    for name, field, old_type in COLUMNS:
        context = f"{name}.{field}"
        _rewrite(name, field, lambda stored, context=context: ring.decrypt(stored, context))
        if isinstance(old_type, Date) and op.get_bind().dialect.name == "sqlite":
            continue  # SQLite keeps dates as ISO text in any column; its CAST to DATE makes numbers
        _retype(name, field, old_type, Text())
