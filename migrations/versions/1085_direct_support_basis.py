"""ledger: each direct-support payment's route and approved basis (issue 18, item 6)

The fund does not pay victims itself (OIOS annex C): ledger_direct_support.route says how a payment
reaches the victim (implementing_partner, mission), project_id the project whose implementing
partner carries it, basis the approved basis (e.g. a decision reference). The rows already there
keep NULL in all three: their route and basis were never recorded, and inventing one would be
false; the service requires them for every new payment.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import add_reference, drop_reference

revision = "1085"
down_revision = "1081"


def upgrade():
    with op.batch_alter_table("ledger_direct_support") as batch:
        batch.add_column(sa.Column("route", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("basis", sa.String(length=200), nullable=True))
        batch.create_check_constraint(
            op.f("ck_ledger_direct_support_route"), "route IN ('implementing_partner', 'mission')"
        )
    add_reference("ledger_direct_support", "project_id", "ledger_project.id")


def downgrade():
    drop_reference("ledger_direct_support", "project_id", "ledger_project.id")
    with op.batch_alter_table("ledger_direct_support") as batch:
        batch.drop_constraint(op.f("ck_ledger_direct_support_route"), type_="check")
        batch.drop_column("basis")
        batch.drop_column("route")
