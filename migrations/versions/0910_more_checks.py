"""schema: CHECKs on the claim's referral channel and the victim task's outcome

Two enumerated columns 0900 left unchecked: the channel a claim was referred through (a letter
channel) and the allegation outcome a victim is to be told of.
"""

from alembic import op

revision = "0910"
down_revision = "0900"

# table, column, the values it may hold (CHECK named ck_<table>_<column>)
ENUMS = [
    (
        "vat_claim",
        "referral_channel",
        ("permanent_mission", "note_verbale", "embassy", "email", "meeting", "other"),
    ),
    ("vat_victim_task", "outcome", ("pending", "substantiated", "unsubstantiated")),
]


def upgrade():
    for table, column, values in ENUMS:
        listed = ", ".join(f"'{value}'" for value in values)
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), f"{column} IN ({listed})")


def downgrade():
    for table, column, _ in ENUMS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
