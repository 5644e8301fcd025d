"""ledger: each direct-support payment's route and approved basis (issue 18, item 6)

The fund does not pay victims itself (OIOS annex C): ledger_direct_support.route says how a payment
reaches the victim (implementing_partner, mission), project_id the project whose implementing
partner carries it, basis the approved basis (e.g. a decision reference). The rows already there
keep NULL in all three: their route and basis were never recorded, and inventing one would be
false; the service requires them for every new payment.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes

revision = "1085"
down_revision = "1081"


def upgrade():
    with op.batch_alter_table("ledger_direct_support") as batch:
        batch.add_column(sa.Column("route", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("basis", sa.String(length=200), nullable=True))
        batch.create_check_constraint(
            op.f("ck_ledger_direct_support_route"), "route IN ('implementing_partner', 'mission')"
        )
        batch.create_foreign_key(
            op.f("fk_ledger_direct_support_project_id_ledger_project"), "ledger_project", ["project_id"], ["id"]
        )
    create_indexes("ledger_direct_support", "project_id")


def downgrade():
    op.drop_index(op.f("ix_ledger_direct_support_project_id"), table_name="ledger_direct_support")
    with op.batch_alter_table("ledger_direct_support") as batch:
        batch.drop_constraint(op.f("fk_ledger_direct_support_project_id_ledger_project"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_ledger_direct_support_route"), type_="check")
        batch.drop_column("basis")
        batch.drop_column("project_id")
        batch.drop_column("route")
