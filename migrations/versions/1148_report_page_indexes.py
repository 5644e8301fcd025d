"""issue 14: report pages from indexes; projects' totals and allegations by month kept

A senior advocate's /reports/victims chooses its page of victims in country and case-code order
over every victim in their scope; SQLite walked the victims by country and sorted the case codes of
each country it reached, a sort that grew with the page number. An index on (country, case code,
mission) holds the order and every column the scope's conditions read, so the page is found in
the index alone. (An index on (country, case code) without the mission left the scope's missions
to the rows: SQLite then chose a multi-index OR and sorted every victim in reach; not kept.)

The needs table (the dashboard, the per-victim report) sums the need counts by type and status;
an index in that order holding every column lets it add them up without sorting them.

The fund report's project portfolio added up a balance row per project, account and month (130,000
at 100,000 victims). `ledger_project_balance` (ledger.project_balances) keeps each project's
postings summed per account over all time, with the day of the latest, in the posting engine's
transaction; the portfolio as at a day on or after every latest posting reads it. Filled here
from the postings, as `flask figures rebuild` would.

The statistics page and the UN report judge whether a quarter or a year may be shown from the
allegations counted by country, mission and month received, which grouped every allegation on each
view. `vat_allegation_month_count` (vat.allegations.month_counts) keeps those counts in the
transaction of each change; filled here from the allegations.

On SQLite, a database whose planner has statistics (`ANALYZE`, as `make bench` runs it) gets them
for the two tables again: with statistics for the other indexes and none for these, SQLite chose
the new victims' index for the scope's claims and the report's filtered pages and read them slower
than before. One without statistics is left without (its plans use these indexes well).
"""

from alembic import op

from migrations import schema

revision = "1148"
down_revision = "1147"

INDEXES = {
    "ix_vat_victim_country_code_case_code": ("vat_victim", ["country_code", "case_code", "mission"]),
    "ix_vat_need_count_need_type_status": (
        "vat_need_count",
        ["need_type", "status", "country_code", "mission", "year", "sex", "age_group", "victims"],
    ),
}
TOTALS = "ledger_project_balance"
MONTHS = "vat_allegation_month_count"


def upgrade():
    bind = op.get_bind()
    schema.create_named_indexes(INDEXES)
    op.create_table(
        TOTALS,
        schema.integer("project_id"),
        schema.integer("account_id"),
        schema.minor("usd_minor"),
        schema.minor("usd_debit_minor"),
        schema.day("last_on"),
        schema.key(TOTALS, "project_id", "account_id"),
    )
    op.execute(
        f"INSERT INTO {TOTALS} (project_id, account_id, usd_minor, usd_debit_minor, last_on)"  # noqa: S608
        " SELECT p.project_id, p.account_id, SUM(p.usd_minor),"
        " SUM(CASE WHEN p.usd_minor > 0 THEN p.usd_minor ELSE 0 END), MAX(e.entry_date)"
        " FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry_id"
        " WHERE p.project_id IS NOT NULL GROUP BY p.project_id, p.account_id"
    )
    op.create_table(
        MONTHS,
        schema.string("country_code", 3),
        schema.string("mission", 40),
        schema.string("month", 7),
        schema.integer("allegations"),
        schema.key(MONTHS, "country_code", "mission", "month"),
    )
    if bind.dialect.name == "postgresql":
        month = "TO_CHAR(received_on, 'YYYY-MM')"
    else:
        month = "STRFTIME('%Y-%m', received_on)"
    keys = f"country_code, COALESCE(mission, ''), COALESCE({month}, '')"
    op.execute(
        f"INSERT INTO {MONTHS} (country_code, mission, month, allegations)"  # noqa: S608
        f" SELECT {keys}, COUNT(*) FROM vat_allegation GROUP BY {keys}"
    )
    schema.analyze_if_planned(*schema.indexed_tables(INDEXES))


def downgrade():
    schema.drop_tables(MONTHS, TOTALS)
    schema.drop_named_indexes(INDEXES)
