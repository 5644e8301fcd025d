"""schema: notices to users of events on their own account; identity checked before a
second-factor reset (issue 15, ASVS 6.3.5 / 6.3.7 / 6.4.4)

- auth_security_notice: a failed password or code, a sign-in from a new device, a password or
  second factor changed or reset, an unlock; shown in the app until its owner marks it seen;
- auth_admin_request.identity_check: how the administrator made sure of the person before a
  second-factor reset (NULL for the other kinds, and for resets asked before this revision).
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
    with op.batch_alter_table("auth_admin_request") as batch:
        batch.add_column(sa.Column("identity_check", sa.String(20), nullable=True))
        batch.create_check_constraint(
            op.f("ck_auth_admin_request_identity_check"),
            "identity_check IN ('in_person', 'video_call', 'call_back')",
        )


def downgrade():
    with op.batch_alter_table("auth_admin_request") as batch:
        batch.drop_constraint(op.f("ck_auth_admin_request_identity_check"), type_="check")
        batch.drop_column("identity_check")
    op.drop_table("auth_security_notice")
