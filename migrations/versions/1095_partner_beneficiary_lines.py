"""issue 18: a partner report's period and its per-beneficiary lines; missions' envelopes

ledger_project_report.period_start and .period_end: the reporting period a partner's report covers
(NULL on reports scheduled before). ledger_project_report_line: what the partner reported giving
each beneficiary in the period, by case code only (money or a service), in the project's currency
and in US cents; imported all at once with its report. ledger_mission_envelope: what a mission may
pay in urgent direct support before each payment's approval (confirmed by a second fund manager),
and ledger_direct_support.envelope_id, the envelope a payment was made from (NULL: none).
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import add_reference, create_indexes, drop_reference, foreign_key

revision = "1095"
down_revision = "1088"

SUPPORT = "cash', 'medical', 'psychosocial', 'legal', 'material', 'shelter', 'education', 'livelihood', 'protection', 'other"


def upgrade():
    with op.batch_alter_table("ledger_project_report") as batch:
        batch.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("period_end", sa.Date(), nullable=True))
    table = "ledger_project_report_line"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("support", sa.String(length=20), nullable=False),
        sa.Column("provided_on", sa.Date(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=False),
        foreign_key(table, "report_id", "ledger_project_report.id"),
        sa.Column("project_id", sa.Integer(), nullable=False),
        foreign_key(table, "project_id", "ledger_project.id"),
        sa.Column("case_code", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("usd_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f(f"ck_{table}_amount_not_negative")),
        sa.CheckConstraint("usd_minor >= 0", name=op.f(f"ck_{table}_usd_not_negative")),
        sa.CheckConstraint(f"support IN ('{SUPPORT}')", name=op.f(f"ck_{table}_support")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("report_id", "case_code", "support", name=op.f(f"uq_{table}_report_id")),
    )
    create_indexes(table, "report_id", "project_id", "case_code")
    envelope = "ledger_mission_envelope"
    op.create_table(
        envelope,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission", sa.String(length=40), nullable=False),
        sa.Column("country_code", sa.String(length=3), nullable=False),
        sa.CheckConstraint("usd_minor > 0", name=op.f(f"ck_{envelope}_usd_positive")),
        sa.Column("usd_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("victim_cap_minor > 0", name=op.f(f"ck_{envelope}_victim_cap_positive")),
        sa.Column("victim_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("maker_id", sa.Integer(), nullable=False),
        foreign_key(envelope, "maker_id", "auth_user.id"),
        sa.Column("checker_id", sa.Integer(), nullable=True),
        foreign_key(envelope, "checker_id", "auth_user.id"),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{envelope}")),
    )
    add_reference("ledger_direct_support", "envelope_id", f"{envelope}.id")


def downgrade():
    drop_reference("ledger_direct_support", "envelope_id", "ledger_mission_envelope.id")
    op.drop_table("ledger_mission_envelope")
    op.drop_table("ledger_project_report_line")
    with op.batch_alter_table("ledger_project_report") as batch:
        batch.drop_column("period_end")
        batch.drop_column("period_start")
