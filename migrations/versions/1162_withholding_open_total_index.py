"""issue 14: the trial balance's withholdings check in one read of one index

The trial balance sets the withholdings' open total against their control account: what the
standing withholdings hold, less what their standing transfers brought in. It summed the
transfers joined to their withholdings (40,000 rows read, then 50,000); it now reads what each
withholding's transfers brought in from the withholding's own row (`transferred_minor`, 1156), in
the same pass as the amounts. The (currency, entry, amount) index of 1153 gains that column, so
the pass reads the index alone.

On SQLite, a database whose planner has statistics gets them for the table again, as in 1153.
"""

from migrations import schema

revision = "1162"
down_revision = "1156"

TABLE = "ledger_withholding"
INDEX = "ix_ledger_withholding_currency_entry_id"
BEFORE = ["currency", "entry_id", "amount_minor"]
AFTER = ["currency", "entry_id", "amount_minor", "transferred_minor"]


def upgrade():
    schema.recreate_index(INDEX, TABLE, AFTER)
    schema.analyze_if_planned(TABLE)


def downgrade():
    schema.recreate_index(INDEX, TABLE, BEFORE)
