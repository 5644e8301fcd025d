"""schema: each victim's needs met or unmet, and the victim's feedback on the help (issue 18)

- vat_need: one row per victim and need type (the service types), as assessed and as the
  services since keep it; the reason a need is unmet; a note encrypted at rest.
- vat_feedback: the victim's word on one service or one case update: satisfied or not, a
  complaint (its text encrypted at rest), a follow-up owed.
"""

from alembic import op

from migrations.schema import (
    SERVICE_TYPES,
    check,
    create_indexes,
    day,
    drop_tables,
    flag,
    foreign_key,
    integer,
    key,
    moment,
    one_of,
    string,
    unique,
)

revision = "1080"
down_revision = "1084"

NEED_STATUSES = ("met", "partly_met", "unmet", "declined", "no_longer_needed")
REASONS = ("no_provider", "no_funds", "no_consent", "waiting_list", "victim_unreachable")
SATISFACTION = ("satisfied", "not_satisfied", "unsure")


def upgrade():
    op.create_table(
        "vat_need",
        integer("id"),
        integer("victim_id"),
        string("need_type", 20),
        day("assessed_on"),
        string("status", 20),
        string("reason", 30, nullable=True),
        string("note", nullable=True),
        integer("assessed_by_id", nullable=True),
        moment("created_at"),
        moment("updated_at"),
        one_of("vat_need", "need_type", SERVICE_TYPES),
        one_of("vat_need", "status", NEED_STATUSES),
        one_of("vat_need", "reason", REASONS),
        check("vat_need", "reason_when_unmet", "reason IS NULL OR status IN ('unmet', 'partly_met')"),
        foreign_key("vat_need", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        foreign_key("vat_need", "assessed_by_id", "auth_user.id"),
        key("vat_need"),
        unique("vat_need", "victim_id", "need_type"),
    )
    op.create_index("ix_vat_need_status_need_type", "vat_need", ["status", "need_type", "victim_id"])

    op.create_table(
        "vat_feedback",
        integer("id"),
        integer("victim_id"),
        integer("assistance_id", nullable=True),
        integer("communication_id", nullable=True),
        day("given_on"),
        string("satisfaction", 20),
        flag("complaint"),
        string("complaint_text", nullable=True),
        flag("follow_up_needed"),
        day("follow_up_on", nullable=True),
        integer("recorded_by_id", nullable=True),
        moment("created_at"),
        one_of("vat_feedback", "satisfaction", SATISFACTION),
        check("vat_feedback", "about_one_thing", "(assistance_id IS NULL) <> (communication_id IS NULL)"),
        check("vat_feedback", "follow_up_date_when_needed", "follow_up_on IS NULL OR follow_up_needed"),
        foreign_key("vat_feedback", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        foreign_key("vat_feedback", "assistance_id", "vat_assistance.id", ondelete="CASCADE"),
        foreign_key("vat_feedback", "communication_id", "vat_communication.id", ondelete="CASCADE"),
        foreign_key("vat_feedback", "recorded_by_id", "auth_user.id"),
        key("vat_feedback"),
    )
    create_indexes("vat_feedback", "victim_id", "assistance_id", "communication_id")


def downgrade():
    drop_tables("vat_feedback", "vat_need")
