"""schema: a service remembers the spreadsheet row it was imported from (issue 14, item 7)

vat_assistance.import_key: the keyed digest of the row (its row_key, or the content of every
column), so that importing a file again skips the rows already imported and lists them.
Services recorded before have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0970"
down_revision = "0960"


def upgrade():
    with op.batch_alter_table("vat_assistance") as batch:
        batch.add_column(sa.Column("import_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_vat_assistance_import_key"), ["import_key"])


def downgrade():
    with op.batch_alter_table("vat_assistance") as batch:
        batch.drop_constraint(batch.f("uq_vat_assistance_import_key"), type_="unique")
        batch.drop_column("import_key")
