"""ledger: indexes for the donors and direct-support lists (issue 7)

The direct-support list shows a page of payments, the latest paid first. Without an index on
the payment date each page sorted all of them: 200,000 at 100,000 victims. With (paid_on, id)
a page walks the index from its end and stops after its rows, and a date range reads only its
own part of it.

The donors list sums each donor's pledges, receipts and outstanding balance. Read from the
postings table it joined 150,000 pledge postings to their entries and looked up 250,000 rows
(seconds at 100,000 victims). An index on the postings' (donor_id, account_id, entry_id,
usd_minor) holds all that one pass needs; it serves every lookup by donor the index on
`donor_id` alone served, so it replaces it.
"""

from alembic import op

from migrations.schema import replace_index

revision = "0800"
down_revision = "0700"

BY_DONOR = ("ix_ledger_posting_donor_id", ["donor_id"])
DONOR_FIGURES = ("ix_ledger_posting_donor_id_figures", ["donor_id", "account_id", "entry_id", "usd_minor"])


def upgrade():
    op.create_index("ix_ledger_direct_support_paid_on_id", "ledger_direct_support", ["paid_on", "id"])
    replace_index("ledger_posting", BY_DONOR, DONOR_FIGURES)


def downgrade():
    replace_index("ledger_posting", DONOR_FIGURES, BY_DONOR)
    op.drop_index("ix_ledger_direct_support_paid_on_id", table_name="ledger_direct_support")
