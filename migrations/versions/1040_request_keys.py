"""schema: the keys of submitted forms, so that every create form records once (issue 16, item 1)

vat_request_key: one row per key a create form was submitted with — the form (endpoint), the user,
a keyed digest of the values (never the values), the row created and the page the answer led to.
The primary key lets one submission of a key through; the others are sent to its result.
"""

import sqlalchemy as sa
from alembic import op


revision = "1040"
down_revision = "1072"


def upgrade():
    op.create_table(
        "vat_request_key",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("record", sa.String(length=80), nullable=True),
        sa.Column("target", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_vat_request_key_user_id_auth_user")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_vat_request_key")),
    )


def downgrade():
    op.drop_table("vat_request_key")
