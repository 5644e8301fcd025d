"""ledger: balances per account, month, currency and dimensions, kept by the posting engine

The trial balance, fund statement, reconciliation totals and donor figures added up every
posting, so they were kept per worker (ledger/kept.py) and could differ between workers and
servers. The engine now adds each booking's postings to `ledger_balance` in the same
transaction; the figures read it. An absent dimension is 0 or '' so that the upsert's
conflict target matches it on both backends. Filled here from the postings already booked.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import foreign_key

revision = "0950"
down_revision = "0920"

KEY = (
    "account_id",
    "month",
    "currency",
    "donor_id",
    "pledge_id",
    "project_id",
    "country_code",
    "allegation_ref",
    "case_code",
)


def upgrade():
    op.create_table(
        "ledger_balance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=3), nullable=False),
        sa.Column("allegation_ref", sa.String(length=40), nullable=False),
        sa.Column("case_code", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("usd_debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("postings", sa.Integer(), nullable=False),
        foreign_key("ledger_balance", "account_id", "ledger_account.id"),
        foreign_key("ledger_balance", "currency", "ledger_currency.code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_balance")),
        sa.UniqueConstraint(*KEY, name=op.f("uq_ledger_balance_account_id")),
    )
    op.create_index("ix_ledger_balance_project_id", "ledger_balance", ["project_id", "account_id"])
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', e.entry_date) AS DATE)"
    else:
        month = "date(e.entry_date, 'start of month')"
    op.execute(
        f"""
        INSERT INTO ledger_balance ({", ".join(KEY)}, amount_minor, usd_minor, usd_debit_minor, postings)
        SELECT p.account_id, {month}, p.currency, COALESCE(p.donor_id, 0), COALESCE(p.pledge_id, 0),
               COALESCE(p.project_id, 0), COALESCE(p.country_code, ''), COALESCE(p.allegation_ref, ''),
               COALESCE(p.case_code, ''), SUM(p.amount_minor), SUM(p.usd_minor),
               SUM(CASE WHEN p.usd_minor > 0 THEN p.usd_minor ELSE 0 END), COUNT(*)
        FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry_id
        GROUP BY p.account_id, {month}, p.currency, COALESCE(p.donor_id, 0), COALESCE(p.pledge_id, 0),
                 COALESCE(p.project_id, 0), COALESCE(p.country_code, ''), COALESCE(p.allegation_ref, ''),
                 COALESCE(p.case_code, '')
        """  # noqa: S608  # nosec B608 - no input: column names and a dialect's month expression
    )


def downgrade():
    op.drop_table("ledger_balance")  # its index goes with it
