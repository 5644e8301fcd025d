"""The accountability cycle after the investigation report (OIOS §86–102, recommendation 12): the
dated steps recorded for an allegation, and the limits they are held to, kept as data like the
clock's rules (vat.allegations.models.ClockRule). Their clock is vat.allegations.cycle."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vat.allegations.models import Labelled, TimeLimit
from vat.crypto import EncryptedText
from vat.db import Base, Recorded, one_of


class CycleStep(Labelled):
    """What happens after the report, in the order it usually happens."""

    INTERIM_MEASURE = "interim_measure"  # leave without pay, repatriation... (no limit)
    ADMINISTRATIVE_ACTION = "administrative_action"  # the UN's own sanction (§86, §89)
    MEMBER_STATE_REFERRAL = "member_state_referral"  # to the contributing country, for its action (§90)
    MEMBER_STATE_OUTCOME = "member_state_outcome"  # its disciplinary or judicial outcome: results received
    CRIMINAL_REFERRAL = "criminal_referral"  # officials and experts on mission (§99–102, res. 62/63)
    CRIMINAL_RESPONSE = "criminal_response"  # the state's answer to that referral


# Civilian personnel are referred for disciplinary action rather than sanctioned by the mission:
# staff to OHRM, UN Volunteers to their programme, an agency's personnel to its own process (SG §66:
# 5 persons to OHRM, 2 to the UNV programme). A referral, not a sanction.
DISCIPLINARY_REFERRALS = ("referred_to_ohrm", "referred_to_unv", "referred_to_entity")

# What each step may record; "none" on a referral means the step was decided without referring:
# it meets its own limit and starts no later one.
MEASURES: dict[str, tuple[str, ...]] = {
    CycleStep.INTERIM_MEASURE: (
        "leave_without_pay",
        "administrative_leave",
        "suspension",
        "repatriation",
        "confined_to_barracks",
        "payments_suspended",
        "other",
    ),
    CycleStep.ADMINISTRATIVE_ACTION: (
        "dismissal",
        "separation",
        "repatriation_and_ban",
        "demotion",
        "fine",
        "written_censure",
        *DISCIPLINARY_REFERRALS,
        "left_before_action",
        "no_action",
        "other",
    ),
    CycleStep.MEMBER_STATE_REFERRAL: ("referred", "none"),
    CycleStep.MEMBER_STATE_OUTCOME: (
        "imprisonment",
        "dismissal",
        "demotion",
        "reprimand",
        "fine",
        "acquitted",
        "no_action",
        "ongoing",
        "other",
    ),
    CycleStep.CRIMINAL_REFERRAL: ("referred", "none"),
    CycleStep.CRIMINAL_RESPONSE: (
        "prosecution_opened",
        "convicted",
        "acquitted",
        "prosecution_declined",
        "investigating",
        "no_reply_content",
        "other",
    ),
}
ALL_MEASURES = sorted({m for values in MEASURES.values() for m in values})
NOT_REFERRED = "none"


class AccountabilityStep(Recorded, Base):
    """One dated step of an allegation's accountability cycle. The note is free text that may
    name people, so it is encrypted like the allegation's actions taken."""

    __tablename__ = "vat_accountability_step"
    __table_args__ = (one_of("step", CycleStep), one_of("measure", ALL_MEASURES))

    id: Mapped[int] = mapped_column(primary_key=True)
    allegation_id: Mapped[int] = mapped_column(
        ForeignKey("vat_allegation.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(30))
    measure: Mapped[str] = mapped_column(String(30))
    dated_on: Mapped[date] = mapped_column(Date)
    # The end of an interim measure (leave without pay lasted 7 months on average, §86).
    ends_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(EncryptedText("vat_accountability_step.note"), deferred=True)
    # Whom the step concerns: the UN counts sanctions per person (SG §66, OIOS §86–90), and the
    # alleged perpetrators of one allegation can meet different fates.
    persons: Mapped[list[StepPerson]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="StepPerson.person"
    )

    @property
    def person_numbers(self) -> list[int]:
        return [p.person for p in self.persons]


class StepPerson(Base):
    """One alleged perpetrator a step concerns, by their number within the allegation (1 to its
    number of alleged perpetrators; 1 when that number is not recorded). Numbers, not names: who
    they are stays with the investigators."""

    __tablename__ = "vat_accountability_step_person"
    __table_args__ = (CheckConstraint("person >= 1", name="person"),)

    step_id: Mapped[int] = mapped_column(
        ForeignKey("vat_accountability_step.id", ondelete="CASCADE"), primary_key=True
    )
    person: Mapped[int] = mapped_column(Integer, primary_key=True)


class CycleRule(TimeLimit, Base):
    """How long a step of the cycle may take, counted from a step of the allegation's clock
    (`received` ... `report_submitted`) or from an earlier step of the cycle. Applies to the
    listed personnel categories (empty: all), and to substantiated allegations only if so set."""

    __tablename__ = "vat_cycle_rule"

    substantiated_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
