"""issue 14: needs attention, over a whole scope, finds the needs not met from an index by day

The page's needs assessed unmet or partly met, oldest assessed first, were found from the victims
in the reader's scope: every victim read, each one's needs looked up, then all of them sorted, for
the first 101 (at 100,000 victims, 75,000 needs not met: 0.57 s on SQLite). Over a whole scope
they are now walked by the day they were assessed, from an index with their state and victim,
until 101 in reach are found.

On SQLite, a database whose planner has statistics gets them for the table again, as in 1153.
"""

from migrations import schema

revision = "1163"
down_revision = "1162"

INDEXES = {"ix_vat_need_assessed_on": ("vat_need", ["assessed_on", "status", "victim_id"])}


def upgrade():
    schema.create_named_indexes(INDEXES)
    schema.analyze_if_planned(*schema.indexed_tables(INDEXES))


def downgrade():
    schema.drop_named_indexes(INDEXES)
