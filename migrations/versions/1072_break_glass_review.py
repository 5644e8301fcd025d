"""schema: each use of the glass acknowledged by another senior advocate or an auditor (issue 15)
"""

from alembic import op
from sqlalchemy import Column, DateTime, ForeignKey, Integer

revision = "1072"
down_revision = "1011"


def upgrade():
    with op.batch_alter_table("auth_break_glass") as batch:
        reviewer = ForeignKey("auth_user.id", name="fk_break_glass_acknowledged_by")
        batch.add_column(Column("acknowledged_by_id", Integer, reviewer, nullable=True))
        batch.add_column(Column("acknowledged_at", DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("auth_break_glass") as batch:
        batch.drop_column("acknowledged_at")
        batch.drop_column("acknowledged_by_id")
