"""issue 18: letter templates a senior advocate edits, per kind of letter and language

vat_letter_template: the template of an outcome letter or a claim-step letter in one language, as
last saved (who, when); a kind and language without a row use the template shipped with the app.
"""

from alembic import op

from migrations import schema as t

revision = "1104"
down_revision = "1100"

TABLE = "vat_letter_template"


def upgrade():
    op.create_table(
        TABLE,
        t.integer("id"),
        t.string("kind", 20),
        t.string("language", 5),
        t.string("body"),
        t.integer("updated_by_id"),
        t.foreign_key(TABLE, "updated_by_id", "auth_user.id"),
        t.moment("updated_at"),
        t.one_of(TABLE, "kind", ("outcome", "claim_step")),
        t.one_of(TABLE, "language", ("en", "fr", "zh")),
        t.key(TABLE),
        t.unique(TABLE, "kind", "language"),
    )


def downgrade():
    op.drop_table(TABLE)
