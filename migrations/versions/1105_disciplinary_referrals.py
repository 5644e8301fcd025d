"""allegations: referral for disciplinary action, a measure of the administrative action step
(issue 17, SG §66)

Civilian personnel are referred for disciplinary action rather than sanctioned by the mission:
staff to OHRM, UN Volunteers to their programme, an agency's personnel to its own process (SG
§66: 5 persons to OHRM, 2 to the UNV programme). The measure's CHECK gains the three targets;
SQLite rebuilds the table in batch mode to change it.
"""

from alembic import op

from migrations.schema import CYCLE_MEASURES, is_one_of

revision = "1105"
down_revision = "1104"

TABLE = "vat_accountability_step"
REFERRALS = ("referred_to_ohrm", "referred_to_unv", "referred_to_entity")


def _measures(values: tuple[str, ...]) -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{TABLE}_measure"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{TABLE}_measure"), is_one_of("measure", sorted(values)))


def upgrade():
    _measures((*CYCLE_MEASURES, *REFERRALS))


def downgrade():
    # Steps recorded as a referral cannot go back: the downgrade refuses them (the CHECK fails).
    _measures(CYCLE_MEASURES)
