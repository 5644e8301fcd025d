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

from migrations.schema import CYCLE_MEASURES as MEASURES
from migrations.schema import create_indexes, day, flag, foreign_key, integer, key, moment, one_of, string

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


def upgrade():
    op.create_table(
        "vat_accountability_step",
        integer("id"),
        integer("allegation_id"),
        string("step", 30),
        string("measure", 30),
        day("dated_on"),
        day("ends_on", nullable=True),
        string("reference", 100, nullable=True),
        string("note", nullable=True),
        integer("recorded_by_id", nullable=True),
        moment("created_at"),
        one_of("vat_accountability_step", "step", STEPS),
        one_of("vat_accountability_step", "measure", sorted(MEASURES)),
        foreign_key("vat_accountability_step", "allegation_id", "vat_allegation.id", ondelete="CASCADE"),
        foreign_key("vat_accountability_step", "recorded_by_id", "auth_user.id"),
        key("vat_accountability_step"),
    )
    create_indexes("vat_accountability_step", "allegation_id")
    rules = op.create_table(
        "vat_cycle_rule",
        string("step", 30),
        integer("position"),
        string("starts_from", 30),
        integer("amount"),
        string("unit", 10),
        string("applies_to", 200),
        flag("substantiated_only", server_default=sa.false()),
        moment("updated_at"),
        key("vat_cycle_rule", "step"),
    )
    names = ("step", "position", "starts_from", "amount", "unit", "applies_to", "substantiated_only")
    now = datetime.now(UTC)
    op.bulk_insert(rules, [{**dict(zip(names, row, strict=True)), "updated_at": now} for row in RULES])
    with op.batch_alter_table("vat_claim_letter") as batch:
        batch.alter_column("claim_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(integer("allegation_id", nullable=True))
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
