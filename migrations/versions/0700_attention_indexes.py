"""performance: indexes the "needs attention" page walks in order (issue 7)

Each section of the page lists its first rows in an order of its own. With these indexes a
section walks that order and stops at the page's limit instead of reading all of an advocate's
victims (10,000 at 100,000 victims) and sorting them: victims by advocate then case code (it
replaces the index on the advocate alone), referrals waiting to start by referral date (it
replaces the index on the status alone), open tasks oldest first. Whether a victim received
assistance is read from an index alone (it replaces the index on the victim alone).
Measured in docs/benchmarks.md.
"""

from alembic import op

from migrations.schema import replace_index

revision = "0700"
down_revision = "0600"

# table, the index replaced, the index replacing it (name, columns)
REPLACED = [
    (
        "vat_victim",
        ("ix_vat_victim_advocate_id", ["advocate_id"]),
        ("ix_vat_victim_advocate_id_case_code", ["advocate_id", "case_code"]),
    ),
    (
        "vat_assistance",
        ("ix_vat_assistance_victim_id", ["victim_id"]),
        ("ix_vat_assistance_victim_id_status", ["victim_id", "status"]),
    ),
    (
        "vat_assistance",
        ("ix_vat_assistance_status", ["status"]),
        ("ix_vat_assistance_status_referral_date", ["status", "referral_date", "start_date"]),
    ),
]


def upgrade():
    for table, old, new in REPLACED:
        replace_index(table, old, new)
    op.create_index("ix_vat_victim_task_open", "vat_victim_task", ["closed_at", "created_at"])


def downgrade():
    op.drop_index("ix_vat_victim_task_open", table_name="vat_victim_task")
    for table, old, new in reversed(REPLACED):
        replace_index(table, new, old)
