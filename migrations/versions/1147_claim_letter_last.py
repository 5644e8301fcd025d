"""issue 14: a claim's last letter read from an index

The dashboard counts the open claims waiting on a member state as those whose last letter, by date
then by the order recorded, is one sent (vat.reports.claims.waiting_total): one search a claim.
An index on (claim_id, dated_on, id, direction) answers it from the index alone.
"""

from migrations import schema

revision = "1147"
down_revision = "1146"

INDEXES = {
    "ix_vat_claim_letter_last": ("vat_claim_letter", ["claim_id", "dated_on", "id", "direction"]),
}


def upgrade():
    schema.create_named_indexes(INDEXES)


def downgrade():
    schema.drop_named_indexes(INDEXES)
