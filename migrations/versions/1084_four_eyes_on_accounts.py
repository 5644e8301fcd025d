"""schema: four eyes on privileged accounts, password and second-factor resets (issue 15, item 5)

- auth_admin_request: one administrator's act on an account that sees identities, moves money or
  administers, waiting for a second administrator (or done alone in a one-admin office);
- auth_user.reset_code_hash / reset_expires_at: a one-time, expiring password-reset code (hashed);
- auth_user.must_enrol_totp: the second factor was reset, enrol again at next sign-in.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, foreign_key

revision = "1084"
down_revision = "1073"

KINDS = "'create_user', 'change_user', 'reset_password', 'reset_second_factor'"
STATUSES = "'pending', 'approved', 'refused', 'alone'"


def upgrade():
    with op.batch_alter_table("auth_user") as batch:
        batch.add_column(sa.Column("reset_code_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("reset_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("must_enrol_totp", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    table = "auth_admin_request"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("scope", sa.String(500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_auth_admin_request_kind")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_auth_admin_request_status")),
        foreign_key(table, "user_id", "auth_user.id"),
        foreign_key(table, "requested_by_id", "auth_user.id"),
        foreign_key(table, "decided_by_id", "auth_user.id"),
        foreign_key(table, "reviewed_by_id", "auth_user.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_admin_request")),
    )
    create_indexes(table, "status", "user_id")


def downgrade():
    op.drop_table("auth_admin_request")
    with op.batch_alter_table("auth_user") as batch:
        batch.drop_column("must_enrol_totp")
        batch.drop_column("reset_expires_at")
        batch.drop_column("reset_code_hash")
