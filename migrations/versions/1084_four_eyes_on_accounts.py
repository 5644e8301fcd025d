"""schema: four eyes on privileged accounts, password and second-factor resets (issue 15, item 5)

- auth_admin_request: one administrator's act on an account that sees identities, moves money or
  administers, waiting for a second administrator (or done alone in a one-admin office);
- auth_user.reset_code_hash / reset_expires_at: a one-time, expiring password-reset code (hashed);
- auth_user.must_enrol_totp: the second factor was reset, enrol again at next sign-in.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, flag, foreign_key, integer, key, moment, one_of, string

revision = "1084"
down_revision = "1073"

KINDS = ("create_user", "change_user", "reset_password", "reset_second_factor")
STATUSES = ("pending", "approved", "refused", "alone")


def upgrade():
    with op.batch_alter_table("auth_user") as batch:
        batch.add_column(string("reset_code_hash", 64, nullable=True))
        batch.add_column(moment("reset_expires_at", nullable=True))
        batch.add_column(flag("must_enrol_totp", server_default=sa.false()))
    table = "auth_admin_request"
    op.create_table(
        table,
        integer("id"),
        string("kind", 30),
        string("status", 20),
        integer("user_id", nullable=True),
        string("username", 64, nullable=True),
        string("role", 20, nullable=True),
        string("scope", 500, nullable=True),
        flag("active", nullable=True),
        string("password_hash", 200, nullable=True),
        integer("requested_by_id"),
        moment("requested_at"),
        moment("expires_at"),
        integer("decided_by_id", nullable=True),
        moment("decided_at", nullable=True),
        integer("reviewed_by_id", nullable=True),
        moment("reviewed_at", nullable=True),
        one_of(table, "kind", KINDS),
        one_of(table, "status", STATUSES),
        foreign_key(table, "user_id", "auth_user.id"),
        foreign_key(table, "requested_by_id", "auth_user.id"),
        foreign_key(table, "decided_by_id", "auth_user.id"),
        foreign_key(table, "reviewed_by_id", "auth_user.id"),
        key(table),
    )
    create_indexes(table, "status", "user_id")


def downgrade():
    op.drop_table("auth_admin_request")
    with op.batch_alter_table("auth_user") as batch:
        batch.drop_column("must_enrol_totp")
        batch.drop_column("reset_expires_at")
        batch.drop_column("reset_code_hash")
