"""Allegations and the rules of their clock (kept as data). The victims named in an allegation are
linked from the victims domain (vat.victims.models.VictimAllegation)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from vat.crypto import EncryptedText
from vat.db import Base, UTCDateTime, one_of, utcnow


class Labelled(enum.StrEnum):
    @property
    def label(self) -> str:
        return LABELS.get(self.value, self.value.replace("_", " "))


LABELS = {
    "military_expert": "military expert on mission",
    "formed_police": "formed police unit",
    "individual_police": "individual police",
    "un_volunteer": "UN volunteer",
    "non_un_force": "non-UN force",
    "high_priority": "high priority",
}


class PersonnelCategory(Labelled):
    MILITARY_CONTINGENT = "military_contingent"
    MILITARY_EXPERT = "military_expert"
    FORMED_POLICE = "formed_police"
    INDIVIDUAL_POLICE = "individual_police"
    CIVILIAN = "civilian"
    UN_VOLUNTEER = "un_volunteer"
    CONTRACTOR = "contractor"
    IMPLEMENTING_PARTNER = "implementing_partner"
    NON_UN_FORCE = "non_un_force"
    UNKNOWN = "unknown"


class AllegationType(Labelled):
    EXPLOITATION = "exploitation"
    ABUSE = "abuse"
    OTHER = "other"
    UNKNOWN = "unknown"


# Sub-types named in the reports; free choice within a type is kept simple (one list).
SUB_TYPES = [
    ("", "—"),
    ("rape", "rape"),
    ("sexual_assault", "sexual assault"),
    ("sexual_activity_with_minor", "sexual activity with a minor"),
    ("transactional_sex", "transactional sex"),
    ("exploitative_relationship", "exploitative relationship"),
    ("other", "other"),
]


class Urgency(Labelled):
    """Ordered: an urgent case is also high priority (it gets every shortened limit)."""

    NORMAL = "normal"
    HIGH_PRIORITY = "high_priority"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Urgency).index(self)


class Outcome(Labelled):
    PENDING = "pending"
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"


class Step(Labelled):
    """The dated steps of the clock, in order (DOMAIN.md, OIOS §72)."""

    RECEIVED = "received"
    ASSESSED = "assessed"
    REFERRED = "referred"
    NIO_DECISION = "nio_decision"
    INVESTIGATION_COMPLETED = "investigation_completed"
    REPORT_SUBMITTED = "report_submitted"


STEP_LABELS = {
    Step.RECEIVED: "Received",
    Step.ASSESSED: "Assessed and reported",
    Step.REFERRED: "Referred for investigation",
    Step.NIO_DECISION: "National investigation officer decision",
    Step.INVESTIGATION_COMPLETED: "Investigation completed",
    Step.REPORT_SUBMITTED: "Report submitted for action",
}


class Allegation(Base):
    __tablename__ = "vat_allegation"
    __table_args__ = (
        one_of("personnel_category", PersonnelCategory),
        one_of("type", AllegationType),
        one_of("urgency", Urgency),
        one_of("outcome", Outcome),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    country_code: Mapped[str] = mapped_column(String(3), index=True)
    mission: Mapped[str | None] = mapped_column(String(40))
    personnel_category: Mapped[str] = mapped_column(String(30), default=PersonnelCategory.UNKNOWN)
    perpetrator_country: Mapped[str | None] = mapped_column(String(3))
    type: Mapped[str] = mapped_column(String(20), default=AllegationType.UNKNOWN)
    sub_type: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20), default=Urgency.NORMAL)
    received_on: Mapped[date | None] = mapped_column(Date)
    assessed_on: Mapped[date | None] = mapped_column(Date)
    referred_on: Mapped[date | None] = mapped_column(Date)
    nio_decision_on: Mapped[date | None] = mapped_column(Date)
    investigation_completed_on: Mapped[date | None] = mapped_column(Date)
    report_submitted_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20), default=Outcome.PENDING)
    actions_taken: Mapped[str | None] = mapped_column(EncryptedText("vat_allegation.actions_taken"))
    # Imported from a tracker that did not keep every step: a step without a date is "not
    # recorded", never overdue.
    historical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def step_date(self, step: Step) -> date | None:
        return getattr(self, f"{step.value}_on")


class ClockRule(Base):
    """How long a step may take, counted from an earlier step. Edited by a senior advocate, so
    that a change of policy needs no release. `reduced_amount` applies from `reduced_from` up."""

    __tablename__ = "vat_clock_rule"

    step: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    starts_from: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10))  # "days" or "months"
    reduced_amount: Mapped[int | None] = mapped_column(Integer)
    reduced_from: Mapped[str | None] = mapped_column(String(20))  # an Urgency value
    # Comma-separated personnel categories the step applies to; empty = every allegation.
    applies_to: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
