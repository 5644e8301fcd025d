"""issue 16: the importer's audit events written as a batch before the chain's lock

A 10,000-row import writes about 16,000 audit events. Chained one after another onto the log, they
were hashed and inserted under the audit chain's lock, which every audited writer (a receipt, a
victim's page) waits for: ~1.2 s of the save's 1.3 s under the lock at 100,000 victims. They are
now inserted before the lock as a batch, chained among themselves, and the chain gets one event
that names the batch's rows and last hash (`vat.audit.insert_batch`, `commit_batch`). This column
names the batch a row belongs to; events written before have none and verify as they did. The
chain's head is read from a partial index of the chain's own events, so no reader walks back past a
batch's rows (an import's are there, not yet committed, while it saves).
"""

import sqlalchemy as sa
from alembic import op

revision = "1166"
down_revision = "1165"

INDEX = "ix_audit_event_chain_id"


def upgrade():
    op.add_column("audit_event", sa.Column("batch", sa.String(32), nullable=True))
    chain = sa.text("batch IS NULL")
    op.create_index(INDEX, "audit_event", ["id"], sqlite_where=chain, postgresql_where=chain)


def downgrade():
    op.drop_index(INDEX, table_name="audit_event")
    # Not a batch operation: SQLite would copy the table and lose its append-only triggers.
    op.drop_column("audit_event", "batch")
