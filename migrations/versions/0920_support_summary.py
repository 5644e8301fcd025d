"""schema: one definition of "supported", kept per victim (issue 14, item 4)

- vat_fund_payment: the fund's money that reached a victim (direct support, or a project's
  payment out of a tranche), as the ledger announces it; filled here from the direct support
  already booked.
- ledger_project_payment: what a tranche paid each of its project's beneficiaries.
- vat_victim_support_summary: per victim, services by status and type, money by source, and
  whether they are supported; filled here from the services and payments.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, drop_tables, foreign_key

revision = "0920"
down_revision = "0910"

STATUSES = ("referred", "in_progress", "completed", "declined", "not_available", "cancelled")
TYPES = (
    "medical",
    "psychosocial",
    "legal",
    "material",
    "shelter",
    "education",
    "livelihood",
    "protection",
    "other",
)
VICTIM_SUPPORT_ACCOUNT = "5100"


def upgrade():
    op.create_table(
        "vat_fund_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reversed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_vat_fund_payment_amount_positive")),
        sa.CheckConstraint("usd_minor >= 0", name=op.f("ck_vat_fund_payment_usd_not_negative")),
        sa.CheckConstraint("source IN ('direct', 'project')", name=op.f("ck_vat_fund_payment_source")),
        foreign_key("vat_fund_payment", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_fund_payment")),
        sa.UniqueConstraint("ledger_entry_id", "victim_id", name=op.f("uq_vat_fund_payment_ledger_entry_id")),
    )
    create_indexes("vat_fund_payment", "victim_id", "ledger_entry_id")

    op.create_table(
        "ledger_project_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tranche_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_project_payment_amount_positive")),
        sa.CheckConstraint("usd_minor >= 0", name=op.f("ck_ledger_project_payment_usd_not_negative")),
        foreign_key("ledger_project_payment", "entry_id", "ledger_entry.id"),
        foreign_key("ledger_project_payment", "project_id", "ledger_project.id"),
        foreign_key("ledger_project_payment", "tranche_id", "ledger_tranche.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_project_payment")),
        sa.UniqueConstraint("tranche_id", "case_code", name=op.f("uq_ledger_project_payment_tranche_id")),
    )
    create_indexes("ledger_project_payment", "tranche_id", "project_id", "case_code", "entry_id")

    op.create_table(
        "vat_victim_support_summary",
        sa.Column("victim_id", sa.Integer(), nullable=False),
        *[sa.Column(f"status_{s}", sa.Integer(), nullable=False) for s in STATUSES],
        *[sa.Column(f"type_{t}", sa.Integer(), nullable=False) for t in TYPES],
        sa.Column("direct_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("project_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("supported", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        foreign_key("vat_victim_support_summary", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("victim_id", name=op.f("pk_vat_victim_support_summary")),
    )
    create_indexes("vat_victim_support_summary", "supported")
    _fill()


def _fill():
    """Direct support already booked becomes the victims' fund payments; then one summary row
    per victim (the same definition as vat.victims.support_summary, frozen here)."""
    now = sa.bindparam("now", datetime.now(UTC), type_=sa.DateTime(timezone=True))
    op.get_bind().execute(
        sa.text(
            "INSERT INTO vat_fund_payment (victim_id, source, ledger_entry_id, currency, amount_minor,"
            " usd_minor, paid_on, reversed, created_at)"
            " SELECT v.id, 'direct', d.entry_id, d.currency, d.amount_minor,"
            "  (SELECT COALESCE(SUM(p.usd_minor), 0) FROM ledger_posting p"
            "   JOIN ledger_account a ON a.id = p.account_id"
            "   WHERE p.entry_id = d.entry_id AND a.code = :account),"
            "  d.paid_on,"
            "  EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses_id = d.entry_id), :now"
            " FROM ledger_direct_support d JOIN vat_victim v ON v.case_code = d.case_code"
            " WHERE d.entry_id IS NOT NULL"
        ).bindparams(now, account=VICTIM_SUPPORT_ACCOUNT)
    )
    counts = [f"status_{s}" for s in STATUSES] + [f"type_{t}" for t in TYPES]
    sums = [f"SUM(CASE WHEN status = '{s}' THEN 1 ELSE 0 END) AS status_{s}" for s in STATUSES] + [
        f"SUM(CASE WHEN service_type = '{t}' THEN 1 ELSE 0 END) AS type_{t}" for t in TYPES
    ]
    standing = "FROM vat_fund_payment f WHERE f.victim_id = v.id AND NOT f.reversed"
    op.get_bind().execute(
        sa.text(
            f"INSERT INTO vat_victim_support_summary (victim_id, {', '.join(counts)}, direct_usd_minor,"  # noqa: S608
            " project_usd_minor, projects, supported, updated_at)"
            f" SELECT v.id, {', '.join(f'COALESCE(s.{c}, 0)' for c in counts)},"
            f"  COALESCE((SELECT SUM(f.usd_minor) {standing} AND f.source = 'direct'), 0), 0, 0,"
            f"  COALESCE(s.status_in_progress, 0) + COALESCE(s.status_completed, 0) > 0"
            f"   OR EXISTS (SELECT 1 {standing}), :now"
            " FROM vat_victim v LEFT JOIN"
            f" (SELECT victim_id, {', '.join(sums)} FROM vat_assistance GROUP BY victim_id) s"
            " ON s.victim_id = v.id"
        ).bindparams(now)
    )


def downgrade():
    drop_tables("vat_victim_support_summary", "ledger_project_payment", "vat_fund_payment")
