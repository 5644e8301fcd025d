"""issue 14: the fund report's portfolio reads project payments from one index

ix_ledger_project_payment_project_id (project_id) becomes (project_id, tranche_id, entry_id,
case_code, usd_minor): the victims each project's tranches paid, and what they were paid, are
counted from the index alone, without reading every payment's row.
"""

from alembic import op

revision = "1115"
down_revision = "1106"

TABLE = "ledger_project_payment"
INDEX = "ix_ledger_project_payment_project_id"  # the same name, wider


def _index(columns):
    op.drop_index(INDEX, table_name=TABLE)
    op.create_index(INDEX, TABLE, columns)


def upgrade():
    _index(["project_id", "tranche_id", "entry_id", "case_code", "usd_minor"])


def downgrade():
    _index(["project_id"])
