"""claims: paternity as it really goes (issue 18, item 4)

Claims opened during pregnancy (an expected birth date, encrypted like a birth date); the alleged
father unavailable (refuses sampling, cannot be traced, has left service) as a step; courts that
decide on a presumption or on his refusal, without DNA; the applicable law, the forum, the legal
representation (who represents the victim is encrypted) and the case's dates; the DNA test's cost
and who paid it; interim support linked to the claim; payments reversed (never edited) and
unusual amounts confirmed; and a framework per member state (its focal point encrypted).

The step and paternity-basis CHECKs are rebuilt with the new values (SQLite copies the tables).
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import (
    CLAIM_STEPS,
    day,
    drop_tables,
    flag,
    foreign_key,
    integer,
    is_one_of,
    key,
    minor,
    moment,
    one_of,
    string,
    unique,
)

revision = "1082"
down_revision = "1080"  # assigned "1073"; chained after main's head (1084, then 1080)

# Frozen here as they stand at this revision (a migration never imports the models' enums).
STEPS_BEFORE = CLAIM_STEPS
STEPS = (*STEPS_BEFORE, "father_unavailable")
BASES_BEFORE = ("court_decision", "acknowledgment")
BASES = (*BASES_BEFORE, "court_presumption", "court_refusal")
OBSTACLES = ("refused_sampling", "untraceable", "left_service")
FORUMS = ("member_state_courts", "host_state_courts", "agreement")
REPRESENTATIONS = ("none", "counsel", "legal_aid")
PAYERS = ("member_state", "united_nations", "trust_fund", "other")

CLAIM_COLUMNS = [
    string("father_obstacle", 20, nullable=True),
    day("father_obstacle_on", nullable=True),
    string("applicable_law", 3, nullable=True),
    string("forum", 20, nullable=True),
    string("representation", 20, nullable=True),
    day("filed_on", nullable=True),
    day("hearing_on", nullable=True),
    day("judgment_on", nullable=True),
    string("dna_cost_currency", 3, nullable=True),
    minor("dna_cost", nullable=True),
    string("dna_cost_paid_by", 20, nullable=True),
    string("expected_birth_on", nullable=True),
    string("represented_by", nullable=True),
]

# table, column, values before, values after (CHECK named ck_<table>_<column>)
REBUILT = [
    ("vat_claim", "step", STEPS_BEFORE, STEPS),
    ("vat_claim", "step_before_close", STEPS_BEFORE, STEPS),
    ("vat_claim", "paternity_basis", BASES_BEFORE, BASES),
    ("vat_claim_event", "from_step", STEPS_BEFORE, STEPS),
    ("vat_claim_event", "to_step", STEPS_BEFORE, STEPS),
]
NEW_CHECKS = [
    ("father_obstacle", OBSTACLES),
    ("forum", FORUMS),
    ("representation", REPRESENTATIONS),
    ("dna_cost_paid_by", PAYERS),
]


def _rebuild_checks(after):
    for table in ("vat_claim", "vat_claim_event"):
        with op.batch_alter_table(table) as batch:
            for name, column, before, now in ((t, c, b, a) for t, c, b, a in REBUILT if t == table):
                batch.drop_constraint(op.f(f"ck_{name}_{column}"), type_="check")
                batch.create_check_constraint(
                    op.f(f"ck_{name}_{column}"), is_one_of(column, now if after else before)
                )


def upgrade():
    with op.batch_alter_table("vat_claim") as batch:
        for column in CLAIM_COLUMNS:
            batch.add_column(column)
        for column, values in NEW_CHECKS:
            batch.create_check_constraint(op.f(f"ck_vat_claim_{column}"), is_one_of(column, values))
        batch.create_check_constraint(op.f("ck_vat_claim_dna_cost_positive"), "dna_cost > 0")
    _rebuild_checks(after=True)
    with op.batch_alter_table("vat_claim_payment") as batch:
        batch.add_column(integer("reverses_id", nullable=True))
        batch.add_column(string("reason", nullable=True))
        batch.add_column(flag("confirmed_unusual", server_default=sa.false()))
        batch.create_unique_constraint(op.f("uq_vat_claim_payment_reverses_id"), ["reverses_id"])
        batch.create_foreign_key(
            op.f("fk_vat_claim_payment_reverses_id_vat_claim_payment"),
            "vat_claim_payment",
            ["reverses_id"],
            ["id"],
        )
    op.create_table(
        "vat_claim_support",
        integer("claim_id"),
        integer("assistance_id"),
        foreign_key("vat_claim_support", "claim_id", "vat_claim.id", ondelete="CASCADE"),
        foreign_key("vat_claim_support", "assistance_id", "vat_assistance.id", ondelete="CASCADE"),
        key("vat_claim_support", "claim_id", "assistance_id"),
    )
    op.create_table(
        "vat_claim_framework",
        integer("id"),
        string("member_state", 3),
        string("focal_point", nullable=True),
        string("forum", 20, nullable=True),
        string("documents", nullable=True),
        string("laboratory", 200, nullable=True),
        integer("reply_days", nullable=True),
        integer("dna_days", nullable=True),
        integer("decision_days", nullable=True),
        integer("updated_by_id", nullable=True),
        moment("updated_at"),
        one_of("vat_claim_framework", "forum", FORUMS),
        foreign_key("vat_claim_framework", "updated_by_id", "auth_user.id"),
        key("vat_claim_framework"),
        unique("vat_claim_framework", "member_state"),
    )


def downgrade():
    drop_tables("vat_claim_framework", "vat_claim_support")
    with op.batch_alter_table("vat_claim_payment") as batch:
        batch.drop_constraint(op.f("fk_vat_claim_payment_reverses_id_vat_claim_payment"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_vat_claim_payment_reverses_id"), type_="unique")
        for column in ("confirmed_unusual", "reason", "reverses_id"):
            batch.drop_column(column)
    # Rows at the new step or bases cannot go back: the downgrade refuses them (the CHECK fails).
    _rebuild_checks(after=False)
    with op.batch_alter_table("vat_claim") as batch:
        for column, _ in NEW_CHECKS:
            batch.drop_constraint(op.f(f"ck_vat_claim_{column}"), type_="check")
        batch.drop_constraint(op.f("ck_vat_claim_dna_cost_positive"), type_="check")
        for column in reversed(CLAIM_COLUMNS):
            batch.drop_column(column.name)
