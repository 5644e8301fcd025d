"""schema: notices to users of events on their own account (issue 15, ASVS 6.3.5 / 6.3.7)

auth_security_notice: a failed password or code, a sign-in from a new device, a password or second
factor changed or reset, an unlock; shown in the app until its owner marks it seen.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, foreign_key

revision = "1089"
down_revision = "1085"

KINDS = (
    "'failed_password', 'failed_code', 'new_device', 'password_changed', 'password_reset', "
    "'second_factor_set', 'second_factor_reset', 'account_unlocked'"
)


def upgrade():
    table = "auth_security_notice"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(200), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_auth_security_notice_kind")),
        foreign_key(table, "user_id", "auth_user.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_security_notice")),
    )
    create_indexes(table, "user_id")


def downgrade():
    op.drop_table("auth_security_notice")
