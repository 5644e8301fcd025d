"""issue 18: direct support's route and basis, deadline to inform, follow-ups, partner reports

vat_fund_payment.route and .basis record how a direct-support payment reached the victim
(implementing_partner, mission) and its approved basis, as the ledger announces them; rows
announced before keep NULL (never recorded). vat_victim_task.due_on is the date the victim is to be
told an outcome by; tasks opened before keep NULL and count from their opening. vat_feedback.
followed_up_on closes a follow-up the victim's feedback asked for. ledger_project_report: the
reports an implementing partner owes on its project (narrative, financial, what each beneficiary
received), each due on a date and received (or not) on another.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, foreign_key

revision = "1088"
down_revision = "1087"


def upgrade():
    op.create_table(
        "ledger_project_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('narrative', 'financial', 'beneficiaries')", name=op.f("ck_ledger_project_report_kind")
        ),
        foreign_key("ledger_project_report", "project_id", "ledger_project.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_project_report")),
    )
    create_indexes("ledger_project_report", "project_id")
    op.create_index(
        op.f("ix_ledger_project_report_received_on_due_on"), "ledger_project_report", ["received_on", "due_on"]
    )
    with op.batch_alter_table("vat_fund_payment") as batch:
        batch.add_column(sa.Column("route", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("basis", sa.String(length=200), nullable=True))
    with op.batch_alter_table("vat_victim_task") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
    with op.batch_alter_table("vat_feedback") as batch:
        batch.add_column(sa.Column("followed_up_on", sa.Date(), nullable=True))


def downgrade():
    op.drop_table("ledger_project_report")
    with op.batch_alter_table("vat_feedback") as batch:
        batch.drop_column("followed_up_on")
    with op.batch_alter_table("vat_victim_task") as batch:
        batch.drop_column("due_on")
    with op.batch_alter_table("vat_fund_payment") as batch:
        batch.drop_column("basis")
        batch.drop_column("route")
