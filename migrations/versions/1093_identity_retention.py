"""vat_victim: retention of closed cases' identities (issue 15, ASVS 14.2.7); ledger_outflow: signed
requests and decisions (ASVS 4.1.5)

- closed_on: the day the case was closed (NULL while it is open). Cases already closed take the
  day of their last change: never earlier than the real closing, so no identity is erased early.
- erasure_requested_by_id / erasure_requested_at: a senior advocate asked to erase the identity
  once the retention period has run; another one erases it (vat.victims.retention).
- identity_erased_at: when the identity fields were erased.
- ledger_outflow.request_mac / decision_mac: HMACs under VAT_MAC_KEY of the request (amount in
  USD, maker, time, what it pays) and of its decision (checker, time, entry). Outflows recorded
  before this revision stay unsigned: `flask ledger verify` accepts them only as the oldest rows.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import add_reference, drop_reference

revision = "1093"
down_revision = "1088"


def upgrade():
    with op.batch_alter_table("vat_victim") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("erasure_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("identity_erased_at", sa.DateTime(timezone=True), nullable=True))
    add_reference("vat_victim", "erasure_requested_by_id", "auth_user.id")
    with op.batch_alter_table("ledger_outflow") as batch:
        batch.add_column(sa.Column("request_mac", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("decision_mac", sa.String(length=64), nullable=True))
    victim = sa.table(
        "vat_victim", sa.column("status", sa.String), sa.column("closed_on", sa.Date), sa.column("updated_at")
    )
    op.execute(
        victim.update().where(victim.c.status == "closed").values(closed_on=sa.func.date(victim.c.updated_at))
    )


def downgrade():
    with op.batch_alter_table("ledger_outflow") as batch:
        batch.drop_column("decision_mac")
        batch.drop_column("request_mac")
    drop_reference("vat_victim", "erasure_requested_by_id", "auth_user.id")
    with op.batch_alter_table("vat_victim") as batch:
        batch.drop_column("identity_erased_at")
        batch.drop_column("erasure_requested_at")
        batch.drop_column("closed_on")
