"""issue 14: what each withholding's transfers brought in, kept on the withholding

The withholdings reconciliation's summary (countries, ageing, missions, the lines' counts) joined
every standing withholding with its standing transfers and summed them per withholding before
grouping: at 100,000 victims, 50,000 withholdings and 40,000 transfers, the one statement of a
first view that cost most. Each withholding now keeps what its standing transfers brought in
(`transferred_minor`), added to where a transfer is booked and taken off where one is reversed,
in that transaction (`ledger.withheld_transferred`). The index on the country now holds every
column the summary reads, so it is one read of that index. Filled here from the transfers, as
`flask figures rebuild` would.

On SQLite, a database whose planner has statistics gets them for the table again, as in 1152.
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema

revision = "1156"
down_revision = "1158"

TABLE = "ledger_withholding"
INDEX = "ix_ledger_withholding_country_code"
BEFORE = ["country_code"]
AFTER = ["country_code", "currency", "mission", "decided_on", "amount_minor", "transferred_minor", "entry_id"]
STANDING_TRANSFERS = (
    "SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_withholding_transfer AS t"
    f" WHERE t.withholding_id = {TABLE}.id AND t.entry_id IS NOT NULL"
    " AND t.entry_id NOT IN (SELECT reverses_id FROM ledger_entry WHERE reverses_id IS NOT NULL)"
)


def upgrade():
    op.add_column(TABLE, sa.Column("transferred_minor", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(sa.text(f"UPDATE {TABLE} SET transferred_minor = ({STANDING_TRANSFERS})"))
    _index(AFTER)
    schema.analyze_if_planned(TABLE)


def downgrade():
    _index(BEFORE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("transferred_minor")


def _index(columns):
    op.drop_index(INDEX, table_name=TABLE)
    op.create_index(INDEX, TABLE, columns)
