"""ledger: the mission holding each withheld payment, reconciled per mission (issue 17, item 4)

OIOS §115 found it unclear which mission held the money withheld. Rows already there take the
mission of their allegation where one is recorded.
"""

from alembic import op
from sqlalchemy import Column, String

revision = "1073"
down_revision = "1021"


def upgrade():
    op.add_column("ledger_withholding", Column("mission", String(40), nullable=True))
    op.execute(
        "UPDATE ledger_withholding SET mission = (SELECT a.mission FROM vat_allegation a "
        "WHERE a.reference = ledger_withholding.allegation_ref)"
    )


def downgrade():
    with op.batch_alter_table("ledger_withholding") as batch:
        batch.drop_column("mission")
