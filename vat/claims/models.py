"""Paternity and child-support claims: the claim and its steps, the member-state correspondence,
support orders and payments. The alleged father's identity is encrypted at rest and deferred: a
list never loads (or decrypts) it; only the claims service reads it, and audits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vat.allegations.models import Allegation, Labelled, PersonnelCategory, words
from vat.auth.models import User
from vat.crypto import EncryptedDate, EncryptedText, identity_column
from vat.db import Base, Recorded, UTCDateTime, one_of, owned, utcnow
from vat.money import CurrencyFirst, InCurrency
from vat.victims.models import Assistance, Child, Consent, OfVictim, Victim
from vat.victims.outcomes import claim_code

CLAIM_LABELS: dict[str, Any] = {
    "match": _l("match"),
    "exclusion": _l("exclusion"),
    "inconclusive": _l("inconclusive"),
    "court_decision": _l("court decision"),
    "acknowledgment": _l("acknowledgment by the father"),
    "court_presumption": _l("court decision on presumption (no DNA)"),
    "court_refusal": _l("court decision on the father's refusal of sampling"),
    "refused_sampling": _l("refuses DNA sampling"),
    "untraceable": _l("cannot be traced"),
    "left_service": _l("has left service"),
    "member_state_courts": _l("courts of the member state"),
    "host_state_courts": _l("courts of the host state"),
    "agreement": _l("agreement between the parents"),
    "none": _l("none"),
    "counsel": _l("counsel"),
    "legal_aid": _l("legal aid"),
    "member_state": _l("the member state"),
    "united_nations": _l("the United Nations"),
    "trust_fund": _l("the trust fund"),
    "resolved": _l("resolved"),
    "unresolved": _l("unresolved"),
    "withdrawn": _l("withdrawn by the victim"),
    "father_excluded": _l("alleged father excluded"),
    "monthly": _l("monthly"),
    "quarterly": _l("quarterly"),
    "yearly": _l("yearly"),
    "once": _l("once (lump sum)"),
    "sent": _l("sent to the member state"),
    "received": _l("reply from the member state"),
    "permanent_mission": _l("through the permanent mission"),
    "note_verbale": _l("note verbale"),
    "embassy": _l("embassy"),
    "email": _l("email"),
    "meeting": _l("meeting"),
    "other": _l("other"),
    "bank_transfer": _l("bank transfer"),
    "mobile_money": _l("mobile money"),
    "through_mission": _l("through the mission"),
    "through_member_state": _l("through the member state"),
    "cash": _l("cash"),
}


@words(CLAIM_LABELS)
class ClaimLabelled(Labelled):
    """The claims' enumerations, in the claims' words."""


class ClaimStep(ClaimLabelled):
    """The pipeline from report to outcome (DOMAIN.md), in order."""

    RECORDED = "recorded"
    CONSENT_OBTAINED = "consent_obtained"
    REFERRED = "referred"
    DNA_REQUESTED = "dna_requested"
    SAMPLES_TAKEN = "samples_taken"
    FATHER_UNAVAILABLE = "father_unavailable"
    DNA_RESULT = "dna_result"
    PATERNITY_ESTABLISHED = "paternity_established"
    SUPPORT_ORDERED = "support_ordered"
    PAYING = "paying"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]

    @property
    def action(self) -> str:
        """The button that moves a claim to this step."""
        return STEP_ACTIONS.get(self, STEP_LABELS[self])


# Lazy strings: translated when shown, in the reader's language.
STEP_LABELS: dict[ClaimStep, Any] = {
    ClaimStep.RECORDED: _l("Recorded"),
    ClaimStep.CONSENT_OBTAINED: _l("Consent obtained"),
    ClaimStep.REFERRED: _l("Referred to the member state"),
    ClaimStep.DNA_REQUESTED: _l("DNA sampling requested"),
    ClaimStep.SAMPLES_TAKEN: _l("Samples taken"),
    ClaimStep.FATHER_UNAVAILABLE: _l("Alleged father unavailable"),
    ClaimStep.DNA_RESULT: _l("DNA result"),
    ClaimStep.PATERNITY_ESTABLISHED: _l("Paternity established"),
    ClaimStep.SUPPORT_ORDERED: _l("Child-support order"),
    ClaimStep.PAYING: _l("Payments"),
    ClaimStep.CLOSED: _l("Closed"),
}

STEP_ACTIONS: dict[ClaimStep, Any] = {
    ClaimStep.CONSENT_OBTAINED: _l("Record the consent"),
    ClaimStep.REFERRED: _l("Refer to the member state"),
    ClaimStep.DNA_REQUESTED: _l("Request DNA sampling"),
    ClaimStep.SAMPLES_TAKEN: _l("Record samples taken"),
    ClaimStep.FATHER_UNAVAILABLE: _l("Record that the alleged father is unavailable"),
    ClaimStep.DNA_RESULT: _l("Record the DNA result"),
    ClaimStep.PATERNITY_ESTABLISHED: _l("Record paternity established"),
    ClaimStep.SUPPORT_ORDERED: _l("Record a child-support order"),
    ClaimStep.CLOSED: _l("Close the claim"),
}


class DnaResult(ClaimLabelled):
    MATCH = "match"
    EXCLUSION = "exclusion"
    INCONCLUSIVE = "inconclusive"


class PaternityBasis(ClaimLabelled):
    COURT_DECISION = "court_decision"  # on the DNA evidence
    ACKNOWLEDGMENT = "acknowledgment"
    COURT_PRESUMPTION = "court_presumption"  # without DNA: on a presumption the law allows
    COURT_REFUSAL = "court_refusal"  # without DNA: on the alleged father's refusal to be sampled


COURT_BASES = frozenset(
    {PaternityBasis.COURT_DECISION, PaternityBasis.COURT_PRESUMPTION, PaternityBasis.COURT_REFUSAL}
)


class FatherObstacle(ClaimLabelled):
    """Why the alleged father cannot be sampled (the claim may still go on: courts decide on
    presumption or on his refusal; a traced father can be sampled)."""

    REFUSED_SAMPLING = "refused_sampling"
    UNTRACEABLE = "untraceable"
    LEFT_SERVICE = "left_service"


class Forum(ClaimLabelled):
    MEMBER_STATE_COURTS = "member_state_courts"
    HOST_STATE_COURTS = "host_state_courts"
    AGREEMENT = "agreement"


class Representation(ClaimLabelled):
    NONE = "none"
    COUNSEL = "counsel"
    LEGAL_AID = "legal_aid"


class CostPayer(ClaimLabelled):
    MEMBER_STATE = "member_state"
    UNITED_NATIONS = "united_nations"
    TRUST_FUND = "trust_fund"
    OTHER = "other"


class ClosingReason(ClaimLabelled):
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    WITHDRAWN = "withdrawn"
    FATHER_EXCLUDED = "father_excluded"


class Frequency(ClaimLabelled):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONCE = "once"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "yearly": 12, "once": 0}[self.value]


class LetterDirection(ClaimLabelled):
    SENT = "sent"
    RECEIVED = "received"


class LetterChannel(ClaimLabelled):
    PERMANENT_MISSION = "permanent_mission"
    NOTE_VERBALE = "note_verbale"
    EMBASSY = "embassy"
    EMAIL = "email"
    MEETING = "meeting"
    OTHER = "other"


class PaymentRoute(ClaimLabelled):
    BANK_TRANSFER = "bank_transfer"
    MOBILE_MONEY = "mobile_money"
    THROUGH_MISSION = "through_mission"
    THROUGH_MEMBER_STATE = "through_member_state"
    CASH = "cash"
    OTHER = "other"


claim_child = Table(
    "vat_claim_child",
    Base.metadata,
    Column("claim_id", ForeignKey("vat_claim.id", ondelete="CASCADE"), primary_key=True),
    Column("child_id", ForeignKey("vat_child.id", ondelete="CASCADE"), primary_key=True),
)


claim_support = Table(
    "vat_claim_support",
    Base.metadata,
    Column("claim_id", ForeignKey("vat_claim.id", ondelete="CASCADE"), primary_key=True),
    Column("assistance_id", ForeignKey("vat_assistance.id", ondelete="CASCADE"), primary_key=True),
)


class Claim(OfVictim, Base):
    __tablename__ = "vat_claim"
    __table_args__ = (
        one_of("father_category", PersonnelCategory),
        one_of("step", ClaimStep),
        one_of("step_before_close", ClaimStep),
        one_of("referral_channel", LetterChannel),
        one_of("closing_reason", ClosingReason),
        one_of("dna_result", DnaResult),
        one_of("paternity_basis", PaternityBasis),
        one_of("father_obstacle", FatherObstacle),
        one_of("forum", Forum),
        one_of("representation", Representation),
        one_of("dna_cost_paid_by", CostPayer),
        CheckConstraint("dna_cost > 0", name="dna_cost_positive"),
    )

    allegation_id: Mapped[int | None] = mapped_column(ForeignKey("vat_allegation.id", ondelete="SET NULL"))
    # The consent to share the claim with the member state (the victims domain keeps consents).
    share_consent_id: Mapped[int | None] = mapped_column(ForeignKey("vat_consent.id", ondelete="SET NULL"))
    member_state: Mapped[str] = mapped_column(String(3), index=True)
    father_nationality: Mapped[str | None] = mapped_column(String(3))
    father_category: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30), default=ClaimStep.RECORDED, index=True)
    # The date the current step happened (the victim is owed an update given on or after it),
    # and the date it was recorded (how late steps reach the system).
    step_on: Mapped[date] = mapped_column(Date)
    step_recorded_on: Mapped[date] = mapped_column(Date)
    opened_on: Mapped[date] = mapped_column(Date, index=True)
    # When the wait on the member state began: the first letter sent that no reply follows (None:
    # nothing unanswered), kept as letters are added (vat.claims.waits).
    waiting_since: Mapped[date | None] = mapped_column(Date)
    closing_reason: Mapped[str | None] = mapped_column(String(20))
    step_before_close: Mapped[str | None] = mapped_column(String(30))
    referral_channel: Mapped[str | None] = mapped_column(String(30))
    referral_reference: Mapped[str | None] = mapped_column(String(100))
    referred_on: Mapped[date | None] = mapped_column(Date)
    dna_requested_on: Mapped[date | None] = mapped_column(Date)
    mother_child_sampled_on: Mapped[date | None] = mapped_column(Date)
    father_sampled_on: Mapped[date | None] = mapped_column(Date)
    dna_result: Mapped[str | None] = mapped_column(String(20))
    dna_result_on: Mapped[date | None] = mapped_column(Date)
    paternity_basis: Mapped[str | None] = mapped_column(String(20))
    paternity_established_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    father_obstacle: Mapped[str | None] = mapped_column(String(20))
    father_obstacle_on: Mapped[date | None] = mapped_column(Date)
    # The law that applies (a country code) and where the claim is decided; the dates of the case.
    applicable_law: Mapped[str | None] = mapped_column(String(3))
    forum: Mapped[str | None] = mapped_column(String(20))
    representation: Mapped[str | None] = mapped_column(String(20))
    filed_on: Mapped[date | None] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)
    judgment_on: Mapped[date | None] = mapped_column(Date)
    # The DNA test's cost, in minor units of its currency, and who paid it.
    dna_cost_currency: Mapped[str | None] = mapped_column(String(3))
    dna_cost_minor: Mapped[int | None] = mapped_column("dna_cost", BigInteger)
    dna_cost: InCurrency[Decimal | None] = InCurrency("dna_cost_minor", "dna_cost_currency")
    dna_cost_paid_by: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    father_name: Mapped[str | None] = identity_column("vat_claim.father_name")
    father_service_number: Mapped[str | None] = identity_column("vat_claim.father_service_number")
    father_unit: Mapped[str | None] = identity_column("vat_claim.father_unit")
    # A claim opened during pregnancy: the expected birth, until the child born is linked.
    # Encrypted like a child's birth date (it dates a birth); lists never decrypt it.
    expected_birth_on: Mapped[date | None] = mapped_column(
        EncryptedDate("vat_claim.expected_birth_on"), deferred=True
    )
    # The lawyer or legal-aid provider (a person or an organisation that can name one).
    represented_by: Mapped[str | None] = mapped_column(
        EncryptedText("vat_claim.represented_by"), deferred=True
    )

    victim: Mapped[Victim] = relationship()
    allegation: Mapped[Allegation | None] = relationship()
    share_consent: Mapped[Consent | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    children: Mapped[list[Child]] = relationship(secondary=claim_child, order_by="Child.id")
    # Interim support to mother and child: services on the victim's file (money paid by the fund
    # reaches them only through the ledger's posting service), linked to the claim.
    interim_support: Mapped[list[Assistance]] = relationship(
        secondary=claim_support, order_by="Assistance.id"
    )
    events: Mapped[list[ClaimEvent]] = owned("claim", "ClaimEvent.id")
    letters: Mapped[list[Letter]] = owned("claim", lambda: [Letter.dated_on, Letter.id])
    orders: Mapped[list[SupportOrder]] = owned("claim", lambda: [SupportOrder.starts_on, SupportOrder.id])
    payments: Mapped[list[Payment]] = owned("claim", lambda: [Payment.received_on, Payment.id])

    @property
    def code(self) -> str:
        return claim_code(self.id)

    @property
    def current_step(self) -> ClaimStep:
        return ClaimStep(self.step)

    @property
    def expecting(self) -> bool:
        """Opened during pregnancy, the child not linked yet."""
        return not self.children


EVENT_KINDS = ("step", "reopen")


class ClaimEvent(Base):
    """One step taken (or a reopening): when it happened, who recorded it. Never edited."""

    __tablename__ = "vat_claim_event"
    __table_args__ = (
        one_of("from_step", ClaimStep),
        one_of("to_step", ClaimStep),
        one_of("kind", EVENT_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("vat_claim.id", ondelete="CASCADE"), index=True)
    from_step: Mapped[str | None] = mapped_column(String(30))
    to_step: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20), default="step")
    note: Mapped[str | None] = mapped_column(String(200))  # non-identifying: "match", "court decision"
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="events")
    recorded_by: Mapped[User | None] = relationship()


class Letter(Recorded, Base):
    """One letter to the member state, or one reply from it, about a paternity claim or about an
    allegation's accountability cycle (vat.allegations.accountability): one log, one wait."""

    __tablename__ = "vat_claim_letter"
    __table_args__ = (
        one_of("direction", LetterDirection),
        one_of("channel", LetterChannel),
        CheckConstraint("(claim_id IS NULL) <> (allegation_id IS NULL)", name="one_subject"),
        # A claim's last letter (the dashboard's "waiting") read from the index alone.
        Index("ix_vat_claim_letter_last", "claim_id", "dated_on", "id", "direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("vat_claim.id", ondelete="CASCADE"), index=True)
    allegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("vat_allegation.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(10))
    dated_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(EncryptedText("vat_claim_letter.summary"), deferred=True)

    claim: Mapped[Claim] = relationship(back_populates="letters")


class SupportOrder(Recorded, CurrencyFirst, Base):
    """A child-support order: `amount` due each period from `starts_on` (to `ends_on`, if set).
    A later order ends the one before it the day before it starts."""

    __tablename__ = "vat_claim_order"
    __table_args__ = (one_of("frequency", Frequency), CheckConstraint("amount > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("vat_claim.id", ondelete="CASCADE"), index=True)
    ordered_on: Mapped[date] = mapped_column(Date)
    # In minor units of its currency (ISO 4217 exponent); `amount` reads it as a Decimal.
    amount_minor: Mapped[int] = mapped_column("amount", BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount: InCurrency[Decimal] = InCurrency("amount_minor")
    frequency: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    claim: Mapped[Claim] = relationship(back_populates="orders")


class Payment(Recorded, CurrencyFirst, Base):
    """Money received for the child; `token` makes a resubmitted form book once. Never edited nor
    deleted: a mistake is undone by a reversal (a row that `reverses` it, same amount, with a
    reason), then the right payment is recorded."""

    __tablename__ = "vat_claim_payment"
    __table_args__ = (one_of("route", PaymentRoute), CheckConstraint("amount > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("vat_claim.id", ondelete="CASCADE"), index=True)
    # In minor units of its currency (ISO 4217 exponent); `amount` reads it as a Decimal.
    amount_minor: Mapped[int] = mapped_column("amount", BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount: InCurrency[Decimal] = InCurrency("amount_minor")
    received_on: Mapped[date] = mapped_column(Date)
    route: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(100))
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("vat_claim_payment.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(EncryptedText("vat_claim_payment.reason"), deferred=True)
    # An amount far beyond the order was confirmed by the person who recorded it (support.py).
    confirmed_unusual: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    claim: Mapped[Claim] = relationship(back_populates="payments")
    reverses: Mapped[Payment | None] = relationship(remote_side=[id], foreign_keys=[reverses_id])

    @property
    def signed_amount(self) -> Decimal:
        """What it adds to the money received: a reversal takes its payment back."""
        return -self.amount if self.reverses_id is not None else self.amount


class Framework(Base):
    """How paternity claims go with one member state: its focal point, the usual forum, the
    documents it asks for, the laboratory, and the typical times (days). Shown on its claims."""

    __tablename__ = "vat_claim_framework"
    __table_args__ = (one_of("forum", Forum),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_state: Mapped[str] = mapped_column(String(3), unique=True)
    focal_point: Mapped[str | None] = mapped_column(EncryptedText("vat_claim_framework.focal_point"))
    forum: Mapped[str | None] = mapped_column(String(20))
    documents: Mapped[str | None] = mapped_column(Text)
    laboratory: Mapped[str | None] = mapped_column(String(200))
    reply_days: Mapped[int | None] = mapped_column(Integer)
    dna_days: Mapped[int | None] = mapped_column(Integer)
    decision_days: Mapped[int | None] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
