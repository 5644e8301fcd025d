"""schema: a second factor that holds (issue 15, item 3)

- auth_user.totp_failures: wrong codes since the last right one (a right password keeps it);
- auth_user.locked_at: set when too many wrong codes lock the account;
- auth_totp_enrolment: a new authenticator's secret while it is confirmed, encrypted, kept out of
  the session cookie.
"""

import sqlalchemy as sa
from alembic import op

revision = "1010"
down_revision = "1060"


def upgrade():
    with op.batch_alter_table("auth_user") as batch:
        batch.add_column(sa.Column("totp_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "auth_totp_enrolment",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name=op.f("fk_auth_totp_enrolment_user_id_auth_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_auth_totp_enrolment")),
    )


def downgrade():
    op.drop_table("auth_totp_enrolment")
    with op.batch_alter_table("auth_user") as batch:
        batch.drop_column("locked_at")
        batch.drop_column("totp_failures")
