"""issue 18: partners' per-beneficiary lines reach the victims' records and summaries

vat_partner_support: each line of an implementing partner's per-beneficiary report, on the victim
it names (by the ledger's plain ids of project, report and line), kept by the victims' side when the
ledger imports the report. vat_victim_support_summary.reported_usd_minor: the US cents partners
reported giving the victim. Lines imported before this revision are copied across, and the
summaries they change are brought up to date (a partner's line is support received); the
summaries' sums per place (vat_victim_support_count) gain the column, and a database that held
partner lines before this revision needs `flask figures rebuild` for those sums.
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema as t

revision = "1100"
down_revision = "1097"

SUPPORT = ("cash", *t.SERVICE_TYPES)
TABLE = "vat_partner_support"


def upgrade():
    op.create_table(
        TABLE,
        t.integer("id"),
        t.integer("victim_id"),
        t.foreign_key(TABLE, "victim_id", "vat_victim.id", ondelete="CASCADE"),
        t.integer("project_id"),
        t.integer("report_id"),
        t.integer("report_line_id"),
        t.string("support", 20),
        t.string("currency", 3),
        t.minor("amount_minor"),
        t.minor("usd_minor"),
        t.day("provided_on", nullable=True),
        t.day("reported_on"),
        t.one_of(TABLE, "support", SUPPORT),
        t.check(TABLE, "amount_not_negative", "amount_minor >= 0"),
        t.check(TABLE, "usd_not_negative", "usd_minor >= 0"),
        t.key(TABLE),
        t.unique(TABLE, "report_line_id"),
    )
    t.create_indexes(TABLE, "victim_id")
    for table in ("vat_victim_support_summary", "vat_victim_support_count"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("reported_usd_minor", sa.BigInteger(), nullable=False, server_default="0")
            )
    op.execute(
        f"""
        INSERT INTO {TABLE} (victim_id, project_id, report_id, report_line_id, support, currency,
                             amount_minor, usd_minor, provided_on, reported_on)
        SELECT v.id, l.project_id, l.report_id, l.id, l.support, p.currency,
               l.amount_minor, l.usd_minor, l.provided_on, COALESCE(r.received_on, r.due_on)
        FROM ledger_project_report_line l
        JOIN ledger_project_report r ON r.id = l.report_id
        JOIN ledger_project p ON p.id = l.project_id
        JOIN vat_victim v ON v.case_code = l.case_code
        """
    )
    reported = f"SELECT {{}} FROM {TABLE} s WHERE s.victim_id = vat_victim_support_summary.victim_id"
    op.execute(
        f"""
        UPDATE vat_victim_support_summary
        SET reported_usd_minor = ({reported.format("COALESCE(SUM(s.usd_minor), 0)")}),
            supported = TRUE
        WHERE EXISTS ({reported.format("1")})
        """
    )


def downgrade():
    for table in ("vat_victim_support_count", "vat_victim_support_summary"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reported_usd_minor")
    op.drop_table(TABLE)
