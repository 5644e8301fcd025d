"""issue 14: whether a victim is supported, answered from an index on PostgreSQL too

The summary's supported flag was indexed alone. On SQLite such an index holds the victim's id
too (the table's rowid), so "is this victim supported" and "how many of these victims are" were
answered from the index; PostgreSQL read each victim's summary row from the table instead (the
UN report's named victims: 9,572 rows, ~20 ms). The index now names both columns, the same index
on SQLite, and the conditions compare the flag with `= true`, which PostgreSQL can look up in an
index (`IS TRUE` it cannot).
"""

from migrations import schema

revision = "1165"
down_revision = "1164"

TABLE = "vat_victim_support_summary"
INDEX = "ix_vat_victim_support_summary_supported"


def upgrade():
    schema.recreate_index(INDEX, TABLE, ["supported", "victim_id"])
    schema.analyze_if_planned(TABLE)


def downgrade():
    schema.recreate_index(INDEX, TABLE, ["supported"])
