"""schema: the time zone a user reads times in (issue 14, item 8)

auth_user.time_zone: an IANA name (Europe/Paris); NULL shows times in the deployment's zone
(VAT_TIME_ZONE, UTC unless set).
"""


from alembic import op
from sqlalchemy import Column, String

revision = "0980"
down_revision = "0970"


def upgrade():
    op.add_column("auth_user", Column("time_zone", String(64), nullable=True))


def downgrade():
    op.drop_column("auth_user", "time_zone")
