"""issue 14: needs attention and the trial balance's sub-ledger checks read from indexes

Needs attention, for an advocate's own victims, listed the active ones without assistance by
walking every victim in registration order and keeping the advocate's: all 100,000 of them for a
senior advocate with no victims of their own. An index on (advocate, status, registered day),
with the scope's columns, gives an advocate's active victims in that order.

The trial balance sets each sub-ledger's open total, summed from its records, against its control
account. Each sum read every record's row for its entry (a record counts while its entry stands)
and, for a receipt, its pledge: the (currency, amount) indexes of 1131 lack both. An index per
table with every column its sum reads answers it from the index alone (the transfers' from the
one 1152 gave them).

On SQLite, a database whose planner has statistics gets them for these tables again, as in 1148.
"""

from migrations import schema

revision = "1153"
down_revision = "1152"

INDEXES = {
    "ix_vat_victim_advocate_id_status": (
        "vat_victim",
        ["advocate_id", "status", "registered_on", "country_code", "mission"],
    ),
    "ix_ledger_pledge_currency_entry_id": ("ledger_pledge", ["currency", "entry_id", "amount_minor"]),
    "ix_ledger_receipt_currency_entry_id": (
        "ledger_receipt",
        ["currency", "entry_id", "pledge_id", "amount_minor"],
    ),
    "ix_ledger_withholding_currency_entry_id": (
        "ledger_withholding",
        ["currency", "entry_id", "amount_minor"],
    ),
    "ix_ledger_tranche_project_id_status": (
        "ledger_tranche",
        ["project_id", "status", "entry_id", "amount_minor"],
    ),
}


def upgrade():
    schema.create_named_indexes(INDEXES)
    schema.analyze_if_planned(*schema.indexed_tables(INDEXES))


def downgrade():
    schema.drop_named_indexes(INDEXES)
