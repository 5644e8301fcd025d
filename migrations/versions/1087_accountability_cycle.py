"""allegations: the accountability cycle after the report, and its limits (issue 17, item 2)

vat_accountability_step holds each dated step after the investigation report (interim measure,
administrative action, referral to the member state and its outcome, criminal referral of
officials and experts on mission and the response); vat_cycle_rule their limits, seeded with the
house defaults of docs/accountability-cycle.md (editable, like the clock's rules). Member-state
letters about an allegation join the claims' letters (vat_claim_letter gains allegation_id; a
letter concerns exactly one claim or one allegation), so one log and one days-waiting serve both.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, foreign_key

revision = "1087"
down_revision = "1086"

STEPS = (
    "interim_measure",
    "administrative_action",
    "member_state_referral",
    "member_state_outcome",
    "criminal_referral",
    "criminal_response",
)
MEASURES = (
    "acquitted",
    "administrative_leave",
    "confined_to_barracks",
    "convicted",
    "prosecution_declined",
    "demotion",
    "dismissal",
    "fine",
    "imprisonment",
    "investigating",
    "leave_without_pay",
    "left_before_action",
    "no_action",
    "no_reply_content",
    "none",
    "ongoing",
    "other",
    "payments_suspended",
    "prosecution_opened",
    "referred",
    "repatriation",
    "repatriation_and_ban",
    "reprimand",
    "separation",
    "suspension",
    "written_censure",
)
CONTINGENTS = "military_contingent,formed_police"
OFFICIALS_AND_EXPERTS = "civilian,military_expert,individual_police"
# step, position, starts_from, amount, unit, applies_to, substantiated_only
RULES = (
    ("administrative_action", 1, "report_submitted", 3, "months", "", True),
    ("member_state_referral", 2, "report_submitted", 15, "days", CONTINGENTS, True),
    ("member_state_outcome", 3, "member_state_referral", 90, "days", CONTINGENTS, False),
    ("criminal_referral", 4, "report_submitted", 1, "months", OFFICIALS_AND_EXPERTS, True),
    ("criminal_response", 5, "criminal_referral", 90, "days", OFFICIALS_AND_EXPERTS, False),
)


def _in(column, values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def upgrade():
    op.create_table(
        "vat_accountability_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allegation_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("measure", sa.String(length=30), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("step", STEPS), name=op.f("ck_vat_accountability_step_step")),
        sa.CheckConstraint(_in("measure", sorted(MEASURES)), name=op.f("ck_vat_accountability_step_measure")),
        foreign_key("vat_accountability_step", "allegation_id", "vat_allegation.id", ondelete="CASCADE"),
        foreign_key("vat_accountability_step", "recorded_by_id", "auth_user.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_accountability_step")),
    )
    create_indexes("vat_accountability_step", "allegation_id")
    rules = op.create_table(
        "vat_cycle_rule",
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_from", sa.String(length=30), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("applies_to", sa.String(length=200), nullable=False),
        sa.Column("substantiated_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("step", name=op.f("pk_vat_cycle_rule")),
    )
    names = ("step", "position", "starts_from", "amount", "unit", "applies_to", "substantiated_only")
    now = datetime.now(UTC)
    op.bulk_insert(rules, [{**dict(zip(names, row, strict=True)), "updated_at": now} for row in RULES])
    with op.batch_alter_table("vat_claim_letter") as batch:
        batch.alter_column("claim_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("allegation_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_vat_claim_letter_allegation_id_vat_allegation"),
            "vat_allegation",
            ["allegation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_check_constraint(
            op.f("ck_vat_claim_letter_one_subject"), "(claim_id IS NULL) <> (allegation_id IS NULL)"
        )
    create_indexes("vat_claim_letter", "allegation_id")


def downgrade():
    op.drop_index(op.f("ix_vat_claim_letter_allegation_id"), table_name="vat_claim_letter")
    op.execute("DELETE FROM vat_claim_letter WHERE claim_id IS NULL")
    with op.batch_alter_table("vat_claim_letter") as batch:
        batch.drop_constraint(op.f("ck_vat_claim_letter_one_subject"), type_="check")
        batch.drop_constraint(op.f("fk_vat_claim_letter_allegation_id_vat_allegation"), type_="foreignkey")
        batch.drop_column("allegation_id")
        batch.alter_column("claim_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("vat_cycle_rule")
    op.drop_index(op.f("ix_vat_accountability_step_allegation_id"), table_name="vat_accountability_step")
    op.drop_table("vat_accountability_step")
