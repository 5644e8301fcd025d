"""victims: support added up by place and category, kept in the summary's transaction; the
project portfolio's balances from one index (issue 14)

The dashboards, the per-victim report's totals and its headline counted every victim in reach,
and summed every service's cost, on each view (0.2–0.9 s each at 100,000 victims). They now read
`vat_victim_support_count`: the per-victim support summary added up per country, mission, year of
registration, sex and age group. The summary gains the cost of services the trust fund paid
outside the ledger (the headline's third sum), so the counts can hold it too. Both are filled
here from the rows already there, as `flask figures rebuild` would.

The project portfolio summed its money from every detail balance row (a million at 100,000
victims); it now reads only the rows on a project, and this index holds what it sums.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import SERVICE_TYPES, VICTIM_CELL, integer, key, minor, victim_cell, victim_cell_columns

revision = "1097"
down_revision = "1096"

SUMMARY = "vat_victim_support_summary"
COUNTS = "vat_victim_support_count"
SERVICE_STATUSES = ("referred", "in_progress", "completed", "declined", "not_available", "cancelled")
COUNTED = [f"status_{s}" for s in SERVICE_STATUSES] + [f"type_{t}" for t in SERVICE_TYPES]
KEY = VICTIM_CELL
SUMS = ("victims", *COUNTED, "direct_usd_minor", "project_usd_minor", "supported", "funded_usd_minor")
TRUST_FUND = "('trust_fund_project', 'direct_trust_fund')"
PROJECTS = "ix_ledger_balance_project_id"  # the same name, wider
OLD_INDEX = ["project_id", "account_id"]
NEW_INDEX = ["project_id", "account_id", "detail", "month", "usd_minor", "usd_debit_minor"]


def _project_index(columns):
    op.drop_index(PROJECTS, table_name="ledger_balance")
    op.create_index(PROJECTS, "ledger_balance", columns)


def upgrade():
    _project_index(NEW_INDEX)
    with op.batch_alter_table(SUMMARY) as batch:
        batch.add_column(minor("funded_usd_minor", nullable=True))
    op.execute(
        f"UPDATE {SUMMARY} SET funded_usd_minor = COALESCE((SELECT SUM(a.cost) FROM vat_assistance a"  # noqa: S608
        f" WHERE a.victim_id = {SUMMARY}.victim_id AND a.funding_source IN {TRUST_FUND}"
        " AND a.ledger_entry_id IS NULL AND a.currency = 'USD'), 0)"
    )
    with op.batch_alter_table(SUMMARY) as batch:
        batch.alter_column("funded_usd_minor", existing_type=sa.BigInteger(), nullable=False)

    op.create_table(
        COUNTS,
        *victim_cell_columns(),
        *[minor(n) if n.endswith("_minor") else integer(n) for n in SUMS],
        key(COUNTS, *KEY),
    )
    cell = victim_cell("v")
    sums = ", ".join(
        "SUM(CASE WHEN s.supported THEN 1 ELSE 0 END)" if n == "supported" else f"SUM(s.{n})"
        for n in SUMS[1:]
    )
    op.execute(
        f"INSERT INTO {COUNTS} ({', '.join(KEY + SUMS)})"  # noqa: S608
        f" SELECT {cell}, COUNT(*), {sums}"
        f" FROM {SUMMARY} s JOIN vat_victim v ON v.id = s.victim_id"
        f" GROUP BY {cell}"
    )


def downgrade():
    _project_index(OLD_INDEX)
    op.drop_table(COUNTS)
    with op.batch_alter_table(SUMMARY) as batch:
        batch.drop_column("funded_usd_minor")
