"""auth_form_draft: what a user typed in a form they left to record a missing consent (issue 19,
item 6), kept encrypted under the hash of the random token their way back carries.
"""

from alembic import op

from migrations.schema import create_indexes, foreign_key, integer, key, moment, string, unique

revision = "1101"
down_revision = "1099"


def upgrade():
    op.create_table(
        "auth_form_draft",
        integer("id"),
        string("token_hash", 64),
        integer("user_id"),
        string("path", 300),
        string("fields"),  # encrypted
        moment("created_at"),
        foreign_key("auth_form_draft", "user_id", "auth_user.id", ondelete="CASCADE"),
        key("auth_form_draft"),
        unique("auth_form_draft", "token_hash"),
    )
    create_indexes("auth_form_draft", "user_id")


def downgrade():
    op.drop_table("auth_form_draft")
