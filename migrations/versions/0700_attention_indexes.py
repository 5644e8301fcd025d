"""performance: indexes the "needs attention" page walks in order (issue 7)

Each section of the page lists its first rows in an order of its own. With these indexes a
section walks that order and stops at the page's limit instead of reading all of an advocate's
victims (10,000 at 100,000 victims) and sorting them: victims by advocate then case code (it
replaces the index on the advocate alone), referrals waiting to start by referral date (it
replaces the index on the status alone), open tasks oldest first. Whether a victim received
assistance is read from an index alone (it replaces the index on the victim alone).
Measured in docs/benchmarks.md.

Revision ID: 0700
Revises: 0600
Create Date: 2026-11-22

"""

from alembic import op

revision = "0700"
down_revision = "0600"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_vat_victim_advocate_id_case_code", "vat_victim", ["advocate_id", "case_code"])
    op.drop_index("ix_vat_victim_advocate_id", table_name="vat_victim")
    op.create_index("ix_vat_assistance_victim_id_status", "vat_assistance", ["victim_id", "status"])
    op.drop_index("ix_vat_assistance_victim_id", table_name="vat_assistance")
    op.create_index(
        "ix_vat_assistance_status_referral_date", "vat_assistance", ["status", "referral_date", "start_date"]
    )
    op.drop_index("ix_vat_assistance_status", table_name="vat_assistance")
    op.create_index("ix_vat_victim_task_open", "vat_victim_task", ["closed_at", "created_at"])


def downgrade():
    op.drop_index("ix_vat_victim_task_open", table_name="vat_victim_task")
    op.create_index("ix_vat_assistance_status", "vat_assistance", ["status"])
    op.drop_index("ix_vat_assistance_status_referral_date", table_name="vat_assistance")
    op.create_index("ix_vat_assistance_victim_id", "vat_assistance", ["victim_id"])
    op.drop_index("ix_vat_assistance_victim_id_status", table_name="vat_assistance")
    op.create_index("ix_vat_victim_advocate_id", "vat_victim", ["advocate_id"])
    op.drop_index("ix_vat_victim_advocate_id_case_code", table_name="vat_victim")
