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

from migrations.schema import drop_tables, foreign_key

revision = "1082"
down_revision = "1080"  # assigned "1073"; chained after main's head (1084, then 1080)

# Frozen here as they stand at this revision (a migration never imports the models' enums).
STEPS_BEFORE = (
    "recorded",
    "consent_obtained",
    "referred",
    "dna_requested",
    "samples_taken",
    "dna_result",
    "paternity_established",
    "support_ordered",
    "paying",
    "closed",
)
STEPS = (*STEPS_BEFORE, "father_unavailable")
BASES_BEFORE = ("court_decision", "acknowledgment")
BASES = (*BASES_BEFORE, "court_presumption", "court_refusal")
OBSTACLES = ("refused_sampling", "untraceable", "left_service")
FORUMS = ("member_state_courts", "host_state_courts", "agreement")
REPRESENTATIONS = ("none", "counsel", "legal_aid")
PAYERS = ("member_state", "united_nations", "trust_fund", "other")

CLAIM_COLUMNS = [
    sa.Column("father_obstacle", sa.String(20), nullable=True),
    sa.Column("father_obstacle_on", sa.Date(), nullable=True),
    sa.Column("applicable_law", sa.String(3), nullable=True),
    sa.Column("forum", sa.String(20), nullable=True),
    sa.Column("representation", sa.String(20), nullable=True),
    sa.Column("filed_on", sa.Date(), nullable=True),
    sa.Column("hearing_on", sa.Date(), nullable=True),
    sa.Column("judgment_on", sa.Date(), nullable=True),
    sa.Column("dna_cost_currency", sa.String(3), nullable=True),
    sa.Column("dna_cost", sa.BigInteger(), nullable=True),
    sa.Column("dna_cost_paid_by", sa.String(20), nullable=True),
    sa.Column("expected_birth_on", sa.Text(), nullable=True),
    sa.Column("represented_by", sa.Text(), nullable=True),
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


def _in(column, values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def _rebuild_checks(after):
    for table in ("vat_claim", "vat_claim_event"):
        with op.batch_alter_table(table) as batch:
            for name, column, before, now in ((t, c, b, a) for t, c, b, a in REBUILT if t == table):
                batch.drop_constraint(op.f(f"ck_{name}_{column}"), type_="check")
                batch.create_check_constraint(op.f(f"ck_{name}_{column}"), _in(column, now if after else before))


def upgrade():
    with op.batch_alter_table("vat_claim") as batch:
        for column in CLAIM_COLUMNS:
            batch.add_column(column)
        for column, values in NEW_CHECKS:
            batch.create_check_constraint(op.f(f"ck_vat_claim_{column}"), _in(column, values))
        batch.create_check_constraint(op.f("ck_vat_claim_dna_cost_positive"), "dna_cost > 0")
    _rebuild_checks(after=True)
    with op.batch_alter_table("vat_claim_payment") as batch:
        batch.add_column(sa.Column("reverses_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("confirmed_unusual", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_unique_constraint(op.f("uq_vat_claim_payment_reverses_id"), ["reverses_id"])
        batch.create_foreign_key(
            op.f("fk_vat_claim_payment_reverses_id_vat_claim_payment"),
            "vat_claim_payment",
            ["reverses_id"],
            ["id"],
        )
    op.create_table(
        "vat_claim_support",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("assistance_id", sa.Integer(), nullable=False),
        foreign_key("vat_claim_support", "claim_id", "vat_claim.id", ondelete="CASCADE"),
        foreign_key("vat_claim_support", "assistance_id", "vat_assistance.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("claim_id", "assistance_id", name=op.f("pk_vat_claim_support")),
    )
    op.create_table(
        "vat_claim_framework",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_state", sa.String(3), nullable=False),
        sa.Column("focal_point", sa.Text(), nullable=True),
        sa.Column("forum", sa.String(20), nullable=True),
        sa.Column("documents", sa.Text(), nullable=True),
        sa.Column("laboratory", sa.String(200), nullable=True),
        sa.Column("reply_days", sa.Integer(), nullable=True),
        sa.Column("dna_days", sa.Integer(), nullable=True),
        sa.Column("decision_days", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("forum", FORUMS), name=op.f("ck_vat_claim_framework_forum")),
        foreign_key("vat_claim_framework", "updated_by_id", "auth_user.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_claim_framework")),
        sa.UniqueConstraint("member_state", name=op.f("uq_vat_claim_framework_member_state")),
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
