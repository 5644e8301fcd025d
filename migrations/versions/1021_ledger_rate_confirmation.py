"""ledger: a month's exchange rate takes effect once a second fund manager confirms it (issue 15,
item 2)

ledger_fx_rate.confirmed: false while a rate is only proposed; no conversion uses it until then
(confirmed_by_id and confirmed_at say who confirmed it and when). ledger_fx_rate.reason: why a
rate more than the band away from the previous month's is right. Rates recorded before this
revision were accepted under the one-person rule and stay in effect: the column's default marks
them confirmed, with no confirming user (the table is not rewritten: its freeze triggers stay).

Revision ID: 1021
Revises: 1020
Create Date: 2026-12-05

"""

import sqlalchemy as sa
from alembic import op

revision = "1021"
down_revision = "1020"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "ledger_fx_rate", sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column's reference, never a constraint
        op.execute("ALTER TABLE ledger_fx_rate ADD COLUMN confirmed_by_id INTEGER REFERENCES auth_user (id)")
    else:
        op.add_column("ledger_fx_rate", sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_ledger_fx_rate_confirmed_by_id_auth_user"),
            "ledger_fx_rate",
            "auth_user",
            ["confirmed_by_id"],
            ["id"],
        )
    op.add_column("ledger_fx_rate", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("ledger_fx_rate", sa.Column("reason", sa.String(length=300), nullable=True))


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_ledger_fx_rate_confirmed_by_id_auth_user"), "ledger_fx_rate", type_="foreignkey"
        )
    for column in ("reason", "confirmed_at", "confirmed_by_id", "confirmed"):
        op.drop_column("ledger_fx_rate", column)
