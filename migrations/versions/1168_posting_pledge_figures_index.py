"""issue 14: each pledge's balance on pledges receivable read from one index

What is outstanding of a pledge is checked and rebuilt (`flask figures verify` / `rebuild`) from its
postings on pledges receivable in its currency, one correlated sum per pledge. With the index on
the pledge alone, SQLite without statistics chose the one on (account, id) instead and read every
posting on the account for each pledge: at 100,000 victims (50,000 pledges, 90,000 such postings)
the rebuild ran for hours. The index on (pledge, account, currency, amount) answers each sum from
itself, on both backends, and replaces the one on the pledge alone (its prefix).
"""

from migrations import schema

revision = "1168"
down_revision = "1167"

TABLE = "ledger_posting"
ALONE = ("ix_ledger_posting_pledge_id", ["pledge_id"])
FIGURES = ("ix_ledger_posting_pledge_id_figures", ["pledge_id", "account_id", "currency", "amount_minor"])


def upgrade():
    schema.replace_index(TABLE, ALONE, FIGURES)
    schema.analyze_if_planned(TABLE)


def downgrade():
    schema.replace_index(TABLE, FIGURES, ALONE)
