"""ledger: postings indexed by account in id order (issue 7)

Every booking reads each account's running balance from its latest posting. With an index on
`account_id` alone, PostgreSQL finds that posting by walking the primary key backwards until it
meets the account: 175 ms at 1,000,000 postings for an account last used long ago (the grant
expense), growing with the table. An index on (account_id, id) finds it in one probe on both
backends and serves every lookup by account the old one served, so it replaces it.
"""

from migrations.schema import replace_index

revision = "0600"
down_revision = "0500"

BY_ACCOUNT = ("ix_ledger_posting_account_id", ["account_id"])
BY_ACCOUNT_IN_ORDER = ("ix_ledger_posting_account_id_id", ["account_id", "id"])


def upgrade():
    replace_index("ledger_posting", BY_ACCOUNT, BY_ACCOUNT_IN_ORDER)


def downgrade():
    replace_index("ledger_posting", BY_ACCOUNT_IN_ORDER, BY_ACCOUNT)
