"""ledger: every outflow as the four-eyes policy decided it (issue 15, item 1)

ledger_outflow: one row per request to move money out of the fund (a tranche, direct support to
a victim, the reversal of income), posted at once within the limits or pending until a second
fund manager approves. The rolling 30-day limits per project, case code and payee are sums over
these rows. Tranches still pending are carried over as pending outflows (their dollar value at
the month's rate), so that they are decided through the same approvals.

Revision ID: 1020
Revises: 1040
Create Date: 2026-12-05

"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, foreign_key

revision = "1020"
down_revision = "1040"
branch_labels = None
depends_on = None

TABLE = "ledger_outflow"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("case_code", sa.String(length=40), nullable=True),
        sa.Column("payee", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("held_because", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=True),
        sa.Column("maker_id", sa.Integer(), nullable=False),
        sa.Column("checker_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('tranche', 'direct_support', 'reversal')", name=op.f("ck_ledger_outflow_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'rejected')", name=op.f("ck_ledger_outflow_status")
        ),
        sa.CheckConstraint("usd_minor >= 0", name=op.f("ck_ledger_outflow_usd_not_negative")),
        foreign_key(TABLE, "project_id", "ledger_project.id"),
        foreign_key(TABLE, "maker_id", "auth_user.id"),
        foreign_key(TABLE, "checker_id", "auth_user.id"),
        foreign_key(TABLE, "entry_id", "ledger_entry.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_outflow")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_outflow_idempotency_key")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_ledger_outflow_entry_id")),
    )
    create_indexes(TABLE, "status", "value_date", "project_id", "case_code", "payee", "requested_at")
    _carry_pending_tranches()


def _carry_pending_tranches():
    connection = op.get_bind()
    pending = connection.execute(
        sa.text(
            "SELECT t.id, t.project_id, t.amount_minor, t.paid_on, t.idempotency_key, t.request_hash, "
            "t.maker_id, t.requested_at, p.partner, p.currency, c.exponent "
            "FROM ledger_tranche t JOIN ledger_project p ON p.id = t.project_id "
            "JOIN ledger_currency c ON c.code = p.currency "
            "WHERE t.status = 'pending' AND t.maker_id IS NOT NULL"
        )
    ).all()
    for row in pending:
        amount = Decimal(row.amount_minor).scaleb(-row.exponent)
        if row.currency != "USD":
            units = connection.scalar(
                sa.text("SELECT rate FROM ledger_fx_rate WHERE currency = :c AND month = :m"),
                {"c": row.currency, "m": row.paid_on.replace(day=1)},
            )
            amount = amount / Decimal(units).scaleb(-8) if units else amount
        connection.execute(
            sa.text(
                f"INSERT INTO {TABLE} (kind, status, idempotency_key, request_hash, usd_minor, "  # noqa: S608
                "value_date, project_id, payee, record_id, held_because, maker_id, requested_at) "
                "VALUES ('tranche', 'pending', :key, :hash, :usd, :on, :project, :payee, :record, "
                "'project', :maker, :at)"
            ),
            {
                "key": row.idempotency_key,
                "hash": row.request_hash,
                "usd": int(amount.scaleb(2).to_integral_value()),
                "on": row.paid_on,
                "project": row.project_id,
                "payee": row.partner,
                "record": row.id,
                "maker": row.maker_id,
                "at": row.requested_at,
            },
        )


def downgrade():
    op.drop_table(TABLE)
