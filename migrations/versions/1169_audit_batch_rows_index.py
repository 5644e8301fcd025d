"""issue 16: a batch's audit rows read from an index of their own

The ledger's import holds its transaction open while it books up to 2,000 rows through the
services; it held the audit chain's lock throughout, so every audited writer (a victim's page, a
booking) waited for it. Its events now go to a batch, written without that lock and committed to
the chain by one event at the end (`vat.audit.batched`). Each event follows the batch's last row,
and the batch is counted when it is committed: this partial index holds only batches' rows, so
each read is a range of it, whatever the size of the log.
"""

import sqlalchemy as sa
from alembic import op

revision = "1169"
down_revision = "1168"

INDEX = "ix_audit_event_batch_id"


def upgrade():
    batches = sa.text("batch IS NOT NULL")
    op.create_index(INDEX, "audit_event", ["batch", "id"], sqlite_where=batches, postgresql_where=batches)


def downgrade():
    op.drop_index(INDEX, table_name="audit_event")
