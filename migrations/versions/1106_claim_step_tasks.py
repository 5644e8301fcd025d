"""issue 18: the victim told of each claim step, as of each allegation outcome

vat_victim_task.claim_id, claim_step: a claim reaching a step opens a task to tell the victim (with
the same deadline and the same "told when, how, by whom" as an outcome's); NULL on outcome tasks.
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema as t

revision = "1106"
down_revision = "1105"

TABLE = "vat_victim_task"


def upgrade():
    t.add_reference(TABLE, "claim_id", "vat_claim.id")
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("claim_step", sa.String(30), nullable=True))


def downgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("claim_step")
    t.drop_reference(TABLE, "claim_id", "vat_claim.id")
