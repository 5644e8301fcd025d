"""schema: allegations imported from old trackers are marked historical (issue 17, item 3)

A step without a date on a historical record is "not recorded", never overdue.
"""

from alembic import op
from sqlalchemy import Boolean, Column, false

revision = "1071"
down_revision = "1070"


def upgrade():
    op.add_column("vat_allegation", Column("historical", Boolean, nullable=False, server_default=false()))


def downgrade():
    with op.batch_alter_table("vat_allegation") as batch:
        batch.drop_column("historical")
