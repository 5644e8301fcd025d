"""issue 14: when each claim's wait on its member state began, kept on the claim

The claims list ordered every claim in scope by when its wait began, and the dashboard counted
the waits and their flags, each by searching every claim's letters for the first one sent that no
reply follows (a NOT EXISTS over the letters for every sent letter). Each claim now keeps that date
(`waiting_since`), set in the transaction that adds a letter (`vat.claims.waits`); the list's rows
no longer load their letters either. Filled here from the letters, as `flask figures rebuild`
would.
"""

import sqlalchemy as sa
from alembic import op

revision = "1160"
down_revision = "1163"

FIRST_UNANSWERED = (
    "SELECT min(s.dated_on) FROM vat_claim_letter AS s"
    " WHERE s.claim_id = vat_claim.id AND s.direction = 'sent' AND NOT EXISTS ("
    "SELECT 1 FROM vat_claim_letter AS r WHERE r.claim_id = s.claim_id AND r.direction = 'received'"
    " AND (r.dated_on > s.dated_on OR (r.dated_on = s.dated_on AND r.id > s.id)))"
)


def upgrade():
    op.add_column("vat_claim", sa.Column("waiting_since", sa.Date(), nullable=True))
    op.execute(sa.text(f"UPDATE vat_claim SET waiting_since = ({FIRST_UNANSWERED})"))  # noqa: S608


def downgrade():
    with op.batch_alter_table("vat_claim") as batch:
        batch.drop_column("waiting_since")
