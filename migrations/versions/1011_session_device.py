"""schema: the device a session was opened from (issue 15, item 9)

auth_session.user_agent: the browser's User-Agent (cut to 200 characters), shown with the address
and last-seen time on the user's own sessions page.
"""

import sqlalchemy as sa
from alembic import op

revision = "1011"
down_revision = "1010"


def upgrade():
    op.add_column("auth_session", sa.Column("user_agent", sa.String(length=200), nullable=True))


def downgrade():
    op.drop_column("auth_session", "user_agent")
