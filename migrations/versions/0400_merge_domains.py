"""merge the ledger and the victim-assistance branches

Revision ID: 0400
Revises: 0100, 0300
Create Date: 2026-11-22

"""

revision = "0400"
down_revision = ("0100", "0300")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
