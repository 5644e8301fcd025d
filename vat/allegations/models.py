"""Allegations and the rules of their clock (kept as data). The victims named in an allegation are
linked from the victims domain (vat.victims.models.VictimAllegation)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Boolean, CheckConstraint, Date, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from vat.crypto import EncryptedText
from vat.db import Base, Timestamped, UTCDateTime, one_of, utcnow

LABELS: dict[str, Any] = {
    "military_expert": "military expert on mission",
    "formed_police": "formed police unit",
    "individual_police": "individual police",
    "un_volunteer": "UN volunteer",
    "non_un_force": "non-UN force",
    "high_priority": "high priority",
    "peacekeeping": "peacekeeping operations and special political missions",
    "agency": "agencies, funds and programmes",
    "national_investigation_officer": "contributing country (national investigation officer)",
    "oios": "OIOS",
    "national_authorities": "national authorities",
    "under_review": "under review",
    "closed_without_investigation": "closed without investigation",
}


WORDS: dict[type, Mapping[str, Any]] = {}  # an enumeration's own words, by value (`words`)


class Labelled(enum.StrEnum):
    """A member reads as words: those of its enumeration (or one it extends), else the allegations'
    LABELS, else its value with spaces."""

    @property
    def label(self) -> str:
        own = next((WORDS[kind] for kind in type(self).__mro__ if kind in WORDS), LABELS)
        return own.get(self.value) or self.value.replace("_", " ")


E = TypeVar("E", bound=type[Labelled])


def words(labels: Mapping[str, Any]) -> Callable[[E], E]:
    """Class decorator: the words of an enumeration's members (by value) where the value with
    spaces will not do."""

    def give(enumeration: E) -> E:
        WORDS[enumeration] = labels
        return enumeration

    return give


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


class SubType(Labelled):
    """The sub-types the UN reports; `other` is read with its type (other exploitation, other
    abuse)."""

    TRANSACTIONAL_SEX = "transactional_sex"
    EXPLOITATIVE_RELATIONSHIP = "exploitative_relationship"
    RAPE = "rape"
    SEXUAL_ASSAULT = "sexual_assault"
    SEXUAL_ACTIVITY_WITH_MINOR = "sexual_activity_with_minor"
    OTHER = "other"


# Which sub-types each type has; a type not listed has none.
SUB_TYPES_OF: dict[str, tuple[SubType, ...]] = {
    AllegationType.EXPLOITATION: (
        SubType.TRANSACTIONAL_SEX,
        SubType.EXPLOITATIVE_RELATIONSHIP,
        SubType.OTHER,
    ),
    AllegationType.ABUSE: (
        SubType.RAPE,
        SubType.SEXUAL_ASSAULT,
        SubType.SEXUAL_ACTIVITY_WITH_MINOR,
        SubType.OTHER,
    ),
}


class EntityCategory(Labelled):
    """The UN's four groups of entities whose personnel an allegation concerns (SG report §61–68)."""

    PEACEKEEPING = "peacekeeping"
    AGENCY = "agency"
    IMPLEMENTING_PARTNER = "implementing_partner"
    NON_UN_FORCE = "non_un_force"


class InvestigatingEntity(Labelled):
    NATIONAL_INVESTIGATION_OFFICER = "national_investigation_officer"
    OIOS = "oios"
    MISSION = "mission"
    AGENCY = "agency"
    NATIONAL_AUTHORITIES = "national_authorities"
    JOINT = "joint"


class InvestigationStatus(Labelled):
    """Where the investigation stands, as the UN reports it; kept apart from the step dates, which
    old trackers often lack."""

    UNDER_REVIEW = "under_review"
    REFERRED = "referred"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    CLOSED_WITHOUT_INVESTIGATION = "closed_without_investigation"


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


class Allegation(Timestamped, Base):
    __tablename__ = "vat_allegation"
    __table_args__ = (
        one_of("personnel_category", PersonnelCategory),
        one_of("entity_category", EntityCategory),
        one_of("type", AllegationType),
        one_of("sub_type", SubType),
        one_of("investigating_entity", InvestigatingEntity),
        one_of("investigation_status", InvestigationStatus),
        CheckConstraint("perpetrators >= 1", name="perpetrators"),
        one_of("urgency", Urgency),
        one_of("outcome", Outcome),
        # The UN report's and the statistics page's reads of the allegations, from this alone (1161).
        Index(
            None,
            "received_on",
            "country_code",
            "mission",
            "outcome",
            "investigation_status",
            "investigating_entity",
            "perpetrator_country",
            "investigation_completed_on",
            "report_submitted_on",
            "personnel_category",
            "perpetrators",
            "referred_on",
            "entity_category",
            "type",
            "sub_type",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    country_code: Mapped[str] = mapped_column(String(3), index=True)
    mission: Mapped[str | None] = mapped_column(String(40))
    # NULL: not recorded (old records, and trackers that never kept it).
    entity_category: Mapped[str | None] = mapped_column(String(30))
    personnel_category: Mapped[str] = mapped_column(String(30), default=PersonnelCategory.UNKNOWN)
    perpetrator_country: Mapped[str | None] = mapped_column(String(3))
    perpetrators: Mapped[int | None] = mapped_column(Integer)  # alleged perpetrators; NULL: not recorded
    type: Mapped[str] = mapped_column(String(20), default=AllegationType.UNKNOWN)
    sub_type: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20), default=Urgency.NORMAL)
    received_on: Mapped[date | None] = mapped_column(Date)
    assessed_on: Mapped[date | None] = mapped_column(Date)
    referred_on: Mapped[date | None] = mapped_column(Date)
    nio_decision_on: Mapped[date | None] = mapped_column(Date)
    investigation_completed_on: Mapped[date | None] = mapped_column(Date)
    report_submitted_on: Mapped[date | None] = mapped_column(Date)
    investigating_entity: Mapped[str | None] = mapped_column(String(40))
    investigation_status: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), default=Outcome.PENDING)
    actions_taken: Mapped[str | None] = mapped_column(EncryptedText("vat_allegation.actions_taken"))
    # Imported from a tracker that did not keep every step: a step without a date is "not
    # recorded", never overdue.
    historical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def step_date(self, step: Step) -> date | None:
        return getattr(self, f"{step.value}_on")


class TimeLimit:
    """The columns of a rule for how long a step may take (the clock's and the cycle's): the step,
    its place in the order, the step it is counted from, the limit, and whom it applies to."""

    step: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    starts_from: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10))  # "days" or "months"
    # Comma-separated personnel categories the step applies to; empty = every allegation.
    applies_to: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ClockRule(TimeLimit, Base):
    """How long a step may take, counted from an earlier step. Edited by a senior advocate, so
    that a change of policy needs no release. `reduced_amount` applies from `reduced_from` up."""

    __tablename__ = "vat_clock_rule"

    reduced_amount: Mapped[int | None] = mapped_column(Integer)
    reduced_from: Mapped[str | None] = mapped_column(String(20))  # an Urgency value
