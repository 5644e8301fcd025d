"""ledger: postings indexed by account in id order (issue 7)

Every booking reads each account's running balance from its latest posting. With an index on
`account_id` alone, PostgreSQL finds that posting by walking the primary key backwards until it
meets the account: 175 ms at 1,000,000 postings for an account last used long ago (the grant
expense), growing with the table. An index on (account_id, id) finds it in one probe on both
backends and serves every lookup by account the old one served, so it replaces it.

Revision ID: 0600
Revises: 0500
Create Date: 2026-11-22

"""

from alembic import op

revision = "0600"
down_revision = "0500"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ledger_posting_account_id_id", "ledger_posting", ["account_id", "id"])
    op.drop_index("ix_ledger_posting_account_id", table_name="ledger_posting")


def downgrade():
    op.create_index("ix_ledger_posting_account_id", "ledger_posting", ["account_id"])
    op.drop_index("ix_ledger_posting_account_id_id", table_name="ledger_posting")
