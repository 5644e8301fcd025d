"""issue 14: what is outstanding of each pledge, kept on the pledge

The receipt form offers a donor's oldest open pledges. It joined every posting on pledges
receivable of all the donor's pledges, summed them per pledge and kept those with something left:
at 100,000 victims (about a million postings) 45-69 ms a request. Each pledge now keeps its
balance on pledges receivable in its own currency (`outstanding_minor`): its amount when it is
booked, less each receipt against it, the receipt's amount back when the receipt is reversed, and
nothing once the pledge is reversed, in that transaction (`ledger.pledged_outstanding`). The
index on the donor becomes (donor, pledged on, id, outstanding): a donor's open pledges oldest
first are one range of it, and its pages of pledges newest first the same range read backwards.
Filled here from the postings, as `flask figures rebuild` would.

On SQLite, a database whose planner has statistics gets them for the table again, as in 1152.
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema

revision = "1167"
down_revision = "1166"

TABLE = "ledger_pledge"
INDEX = "ix_ledger_pledge_donor_id"
BEFORE = ["donor_id"]
AFTER = ["donor_id", "pledged_on", "id", "outstanding_minor"]
PLEDGES_RECEIVABLE = "1100"
BALANCE = (
    "SELECT coalesce(sum(p.amount_minor), 0) FROM ledger_posting AS p"
    f" WHERE p.pledge_id = {TABLE}.id AND p.currency = {TABLE}.currency"
    # The unary plus keeps SQLite off the index on (account, id) when it has no statistics: it
    # would scan every posting on the account for each pledge (1168 gives it a better index).
    f" AND +p.account_id = (SELECT id FROM ledger_account WHERE code = '{PLEDGES_RECEIVABLE}')"
)


def upgrade():
    op.add_column(TABLE, sa.Column("outstanding_minor", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(sa.text(f"UPDATE {TABLE} SET outstanding_minor = ({BALANCE})"))
    schema.recreate_index(INDEX, TABLE, AFTER)
    schema.analyze_if_planned(TABLE)


def downgrade():
    schema.recreate_index(INDEX, TABLE, BEFORE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("outstanding_minor")
