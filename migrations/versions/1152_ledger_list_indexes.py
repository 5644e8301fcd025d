"""issue 14: the withholdings reconciliation and the direct-support list from indexes

The reconciliation's lines come outstanding first, then oldest first: a page of them was every
live withholding summed with its transfers and its receivable postings, then sorted. An index on
the withholdings' (decided_on, id) lets a page walk them in that order and stop at the page's end,
once among those with something outstanding and once among the others. The withholdings' summary
(countries, ageing, missions) sums each withholding's live transfers: the transfers' index on the
withholding now holds the entry, amount and day too, so they are read from it alone (it still
serves the foreign key).

The direct-support list totals the booked payments per currency and offers their countries as
filters: both read every payment's row for its entry. The usual amount's index on (currency,
amount) now holds the entry, and one on (country, entry) is new, so both are read from an index
(the currencies and countries a seek per value).

On SQLite, a database whose planner has statistics gets them for the three tables again, as in 1148.
"""

from alembic import op

from migrations import schema

revision = "1152"
down_revision = "1155"

DIRECT_SUPPORT = "ledger_direct_support"
TRANSFERS = "ledger_withholding_transfer"
REPLACED = {  # the models' names for them, with their columns before and after
    "ix_ledger_withholding_transfer_withholding_id": (
        TRANSFERS,
        ["withholding_id"],
        ["withholding_id", "entry_id", "amount_minor", "transferred_on"],
    ),
    "ix_ledger_direct_support_currency_amount_minor": (
        DIRECT_SUPPORT,
        ["currency", "amount_minor"],
        ["currency", "amount_minor", "entry_id"],
    ),
}
INDEXES = {
    "ix_ledger_withholding_decided_on": ("ledger_withholding", ["decided_on", "id"]),
    "ix_ledger_direct_support_country_code": (DIRECT_SUPPORT, ["country_code", "entry_id"]),
}


def upgrade():
    _replace(after=True)
    schema.create_named_indexes(INDEXES)
    schema.analyze_if_planned("ledger_withholding", TRANSFERS, DIRECT_SUPPORT)


def downgrade():
    schema.drop_named_indexes(INDEXES)
    _replace(after=False)


def _replace(*, after):
    for name, (table, before, columns) in REPLACED.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns if after else before)
