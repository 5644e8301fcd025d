"""schema: each victim's needs met or unmet, and the victim's feedback on the help (issue 18)

- vat_need: one row per victim and need type (the service types), as assessed and as the
  services since keep it; the reason a need is unmet; a note encrypted at rest.
- vat_feedback: the victim's word on one service or one case update: satisfied or not, a
  complaint (its text encrypted at rest), a follow-up owed.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import create_indexes, drop_tables, foreign_key

revision = "1080"
down_revision = "1084"

TYPES = (
    "medical",
    "psychosocial",
    "legal",
    "material",
    "shelter",
    "education",
    "livelihood",
    "protection",
    "other",
)
NEED_STATUSES = ("met", "partly_met", "unmet", "declined", "no_longer_needed")
REASONS = ("no_provider", "no_funds", "no_consent", "waiting_list", "victim_unreachable")
SATISFACTION = ("satisfied", "not_satisfied", "unsure")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade():
    op.create_table(
        "vat_need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("need_type", sa.String(length=20), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"need_type IN ({_listed(TYPES)})", name=op.f("ck_vat_need_need_type")),
        sa.CheckConstraint(f"status IN ({_listed(NEED_STATUSES)})", name=op.f("ck_vat_need_status")),
        sa.CheckConstraint(f"reason IN ({_listed(REASONS)})", name=op.f("ck_vat_need_reason")),
        sa.CheckConstraint(
            "reason IS NULL OR status IN ('unmet', 'partly_met')", name=op.f("ck_vat_need_reason_when_unmet")
        ),
        foreign_key("vat_need", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        foreign_key("vat_need", "assessed_by_id", "auth_user.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_need")),
        sa.UniqueConstraint("victim_id", "need_type", name=op.f("uq_vat_need_victim_id")),
    )
    op.create_index("ix_vat_need_status_need_type", "vat_need", ["status", "need_type", "victim_id"])

    op.create_table(
        "vat_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("assistance_id", sa.Integer(), nullable=True),
        sa.Column("communication_id", sa.Integer(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("satisfaction", sa.String(length=20), nullable=False),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("complaint_text", sa.Text(), nullable=True),
        sa.Column("follow_up_needed", sa.Boolean(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"satisfaction IN ({_listed(SATISFACTION)})", name=op.f("ck_vat_feedback_satisfaction")
        ),
        sa.CheckConstraint(
            "(assistance_id IS NULL) <> (communication_id IS NULL)", name=op.f("ck_vat_feedback_about_one_thing")
        ),
        sa.CheckConstraint(
            "follow_up_on IS NULL OR follow_up_needed", name=op.f("ck_vat_feedback_follow_up_date_when_needed")
        ),
        foreign_key("vat_feedback", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        foreign_key("vat_feedback", "assistance_id", "vat_assistance.id", ondelete="CASCADE"),
        foreign_key("vat_feedback", "communication_id", "vat_communication.id", ondelete="CASCADE"),
        foreign_key("vat_feedback", "recorded_by_id", "auth_user.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_feedback")),
    )
    create_indexes("vat_feedback", "victim_id", "assistance_id", "communication_id")


def downgrade():
    drop_tables("vat_feedback", "vat_need")
