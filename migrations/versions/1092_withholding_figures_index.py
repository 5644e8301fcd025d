"""ledger: what each withholding's postings hold per account, from one index (issue 14)

The withholding reconciliation sums each withholding's receivable postings. An index on
withholding_id alone made that a walk over every posting's row; (withholding_id, account_id,
amount_minor) answers it from the index alone, and still serves the foreign key.
"""

from migrations.schema import replace_index

revision = "1092"
down_revision = "1095"

OLD = ("ix_ledger_posting_withholding_id", ["withholding_id"])
NEW = ("ix_ledger_posting_withholding_id_figures", ["withholding_id", "account_id", "amount_minor"])


def upgrade():
    replace_index("ledger_posting", OLD, NEW)


def downgrade():
    replace_index("ledger_posting", NEW, OLD)
