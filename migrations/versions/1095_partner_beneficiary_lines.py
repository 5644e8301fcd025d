"""issue 18: a partner report's period and its per-beneficiary lines; missions' envelopes

ledger_project_report.period_start and .period_end: the reporting period a partner's report covers
(NULL on reports scheduled before). ledger_project_report_line: what the partner reported giving
each beneficiary in the period, by case code only (money or a service), in the project's currency
and in US cents; imported all at once with its report. ledger_mission_envelope: what a mission may
pay in urgent direct support before each payment's approval (confirmed by a second fund manager),
and ledger_direct_support.envelope_id, the envelope a payment was made from (NULL: none).
"""

from alembic import op

from migrations import schema as t

revision = "1095"
down_revision = "1093"

SUPPORT = "cash medical psychosocial legal material shelter education livelihood protection other".split()


def upgrade():
    with op.batch_alter_table("ledger_project_report") as batch:
        batch.add_column(t.day("period_start", nullable=True))
        batch.add_column(t.day("period_end", nullable=True))
    lines = "ledger_project_report_line"
    op.create_table(
        lines,
        t.integer("id"),
        t.string("support", 20),
        t.day("provided_on", nullable=True),
        t.integer("report_id"),
        t.foreign_key(lines, "report_id", "ledger_project_report.id"),
        t.integer("project_id"),
        t.foreign_key(lines, "project_id", "ledger_project.id"),
        t.string("case_code", 40),
        t.minor("amount_minor"),
        t.minor("usd_minor"),
        t.check(lines, "amount_not_negative", "amount_minor >= 0"),
        t.check(lines, "usd_not_negative", "usd_minor >= 0"),
        t.one_of(lines, "support", SUPPORT),
        t.key(lines),
        t.unique(lines, "report_id", "case_code", "support"),
    )
    t.create_indexes(lines, "report_id", "project_id", "case_code")
    envelope = "ledger_mission_envelope"
    op.create_table(
        envelope,
        t.integer("id"),
        t.string("mission", 40),
        t.string("country_code", 3),
        t.check(envelope, "usd_positive", "usd_minor > 0"),
        t.minor("usd_minor"),
        t.check(envelope, "victim_cap_positive", "victim_cap_minor > 0"),
        t.minor("victim_cap_minor"),
        t.day("opens_on"),
        t.day("closes_on"),
        t.string("basis", 200),
        t.integer("maker_id"),
        t.foreign_key(envelope, "maker_id", "auth_user.id"),
        t.integer("checker_id", nullable=True),
        t.foreign_key(envelope, "checker_id", "auth_user.id"),
        t.moment("confirmed_at", nullable=True),
        t.key(envelope),
    )
    t.add_reference("ledger_direct_support", "envelope_id", f"{envelope}.id")


def downgrade():
    t.drop_reference("ledger_direct_support", "envelope_id", "ledger_mission_envelope.id")
    op.drop_table("ledger_mission_envelope")
    op.drop_table("ledger_project_report_line")
    with op.batch_alter_table("ledger_project_report") as batch:
        batch.drop_column("period_end")
        batch.drop_column("period_start")
