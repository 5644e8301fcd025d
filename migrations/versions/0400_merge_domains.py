"""merge the ledger and the victim-assistance branches
"""

revision = "0400"
down_revision = ("0100", "0300")


def upgrade():
    pass


def downgrade():
    pass
