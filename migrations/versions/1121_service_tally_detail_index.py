"""issue 14: the service tally's detail rows read from one index

A report filtered on the year registered, sex or minor reads every detail row of one facet of the
tally (272,775 of the `type` facet at 100,000 victims), each looked up in the table for its count.
This index holds the count too, the year registered first: a year reads its own rows only.
"""

from alembic import op

revision = "1121"
down_revision = "1120"

TABLE = "vat_service_tally"
INDEX = "ix_vat_service_tally_detail"
COLUMNS = [
    "facet", "detail", "registered_year", "sex", "minor", "country_code", "mission",
    "value", "provider_id", "service_type", "status", "wait", "days", "services",
]  # fmt: skip


def upgrade():
    op.create_index(INDEX, TABLE, COLUMNS)


def downgrade():
    op.drop_index(INDEX, table_name=TABLE)
