"""ledger: total balance rows beside the detail rows

Nearly every posting has a dimension of its own (a case code, an allegation, a pledge), so the
detail rows of ledger_balance were nearly as many as the postings (98,339 rows for 105,210
postings at 10,000 victims) and a fund-wide figure read them all. Each posting now also counts
in a total row, where the pledge, project, allegation and case code only say whether it had one
(-1 or '*'); fund-wide figures read those. Filled here from the postings already booked.
"""

import sqlalchemy as sa
from alembic import op

revision = "0960"
down_revision = "0950"

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
    with op.batch_alter_table("ledger_balance", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("detail", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.drop_constraint("uq_ledger_balance_account_id", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_balance_detail", ["detail", *KEY])
    with op.batch_alter_table("ledger_balance") as batch_op:
        batch_op.alter_column("detail", server_default=None, existing_type=sa.Boolean(), existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', e.entry_date) AS DATE)"
    else:
        month = "date(e.entry_date, 'start of month')"
    dims = (
        "COALESCE(p.donor_id, 0), CASE WHEN p.pledge_id IS NULL THEN 0 ELSE -1 END, "
        "CASE WHEN p.project_id IS NULL THEN 0 ELSE -1 END, COALESCE(p.country_code, ''), "
        "CASE WHEN p.allegation_ref IS NULL THEN '' ELSE '*' END, "
        "CASE WHEN p.case_code IS NULL THEN '' ELSE '*' END"
    )
    op.execute(
        f"""
        INSERT INTO ledger_balance (detail, {", ".join(KEY)}, amount_minor, usd_minor, usd_debit_minor, postings)
        SELECT false, p.account_id, {month}, p.currency, {dims}, SUM(p.amount_minor), SUM(p.usd_minor),
               SUM(CASE WHEN p.usd_minor > 0 THEN p.usd_minor ELSE 0 END), COUNT(*)
        FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry_id
        GROUP BY p.account_id, {month}, p.currency, {dims}
        """  # noqa: S608  # nosec B608 - no input: column names and a dialect's month expression
    )


def downgrade():
    op.execute("DELETE FROM ledger_balance WHERE NOT detail")
    with op.batch_alter_table("ledger_balance", recreate="always") as batch_op:
        batch_op.drop_constraint("uq_ledger_balance_detail", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_balance_account_id", list(KEY))
        batch_op.drop_column("detail")
