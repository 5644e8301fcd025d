"""issue 19: a ledger import's file once, by a UNIQUE digest

ledger_import_file: the SHA-256 of each file imported into the ledger (UNIQUE), who and when. The
import looked its digest up in the audit log under the ledger's lock; now a second import of the
same file is refused by the schema too, from any server. Files imported before come from their
audit rows.
"""

from alembic import op

from migrations import schema as t

revision = "1130"
down_revision = "1115"

TABLE = "ledger_import_file"


def upgrade():
    op.create_table(
        TABLE,
        t.integer("id"),
        t.string("digest", 64),
        t.integer("imported_by_id", nullable=True),
        t.foreign_key(TABLE, "imported_by_id", "auth_user.id"),
        t.moment("imported_at"),
        t.key(TABLE),
        t.unique(TABLE, "digest"),
    )
    op.execute(
        f"INSERT INTO {TABLE} (digest, imported_by_id, imported_at) "
        "SELECT object_id, MIN(actor_id), MIN(at) FROM audit_event "
        "WHERE action = 'ledger.import' AND object_id IS NOT NULL GROUP BY object_id"
    )


def downgrade():
    op.drop_table(TABLE)
