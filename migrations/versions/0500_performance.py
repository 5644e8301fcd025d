"""performance: indexes the victim list needs at 100,000 victims (issue 7)

The list walks victims in registration order and skips to its page on an index that also holds
the columns it filters and scopes on; the count reads an index that starts with the status.
Measured in docs/benchmarks.md.
"""

from alembic import op

revision = "0500"
down_revision = "0400"

LISTING = ["registered_on", "id", "status", "country_code", "mission", "advocate_id"]
SCOPE = ["status", "country_code", "mission", "advocate_id"]


def upgrade():
    op.create_index("ix_vat_victim_listing", "vat_victim", LISTING)
    op.create_index("ix_vat_victim_scope", "vat_victim", SCOPE)


def downgrade():
    op.drop_index("ix_vat_victim_scope", table_name="vat_victim")
    op.drop_index("ix_vat_victim_listing", table_name="vat_victim")
