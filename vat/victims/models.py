"""Victims and what is recorded for and with them. Identity fields are encrypted at rest and
deferred: a list never loads (or decrypts) them; only the victims service reads them, and audits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from vat.allegations.models import Allegation, Labelled, Outcome, words
from vat.auth.models import User
from vat.crypto import EncryptedDate, EncryptedText, identity_column
from vat.db import Base, Recorded, Timestamped, UTCDateTime, one_of, owned, utcnow
from vat.money import CurrencyFirst, InCurrency


class Sex(Labelled):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class AgeGroup(Labelled):
    ADULT = "adult"
    MINOR = "minor"
    UNKNOWN = "unknown"


class VictimStatus(Labelled):
    ACTIVE = "active"
    CLOSED = "closed"
    LOST_CONTACT = "lost_contact"


@words(
    {
        "services": "receive services",
        "referral": "be referred to a named provider",
        "share_member_state": "share with a member state",
        "paternity_disclosure": "paternity disclosure",
        "dna_testing": "DNA testing",
        "contact": "be contacted",
        "aggregate_reporting": "share de-identified records for analysis",
    }
)
class ConsentPurpose(Labelled):
    SERVICES = "services"
    REFERRAL = "referral"
    SHARE_MEMBER_STATE = "share_member_state"
    PATERNITY_DISCLOSURE = "paternity_disclosure"
    DNA_TESTING = "dna_testing"
    CONTACT = "contact"
    AGGREGATE_REPORTING = "aggregate_reporting"


class ConsentMethod(Labelled):
    WRITTEN = "written"
    VERBAL = "verbal"
    THUMBPRINT = "thumbprint"
    GUARDIAN = "guardian"
    OTHER = "other"


@words({"material": "material / basic needs"})
class ServiceType(Labelled):
    MEDICAL = "medical"
    PSYCHOSOCIAL = "psychosocial"
    LEGAL = "legal"
    MATERIAL = "material"
    SHELTER = "shelter"
    EDUCATION = "education"
    LIVELIHOOD = "livelihood"
    PROTECTION = "protection"
    OTHER = "other"


@words({"declined": "declined by the victim", "cancelled": "cancelled (consent withdrawn)"})
class ServiceStatus(Labelled):
    REFERRED = "referred"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    NOT_AVAILABLE = "not_available"
    CANCELLED = "cancelled"  # set when the consent it needed was withdrawn


@words({"trust_fund_project": "trust-fund project", "direct_trust_fund": "direct trust-fund support"})
class FundingSource(Labelled):
    TRUST_FUND_PROJECT = "trust_fund_project"
    DIRECT_TRUST_FUND = "direct_trust_fund"
    MISSION_BUDGET = "mission_budget"
    AGENCY = "agency"
    PETTY_CASH = "petty_cash"
    UNKNOWN = "unknown"


@words({"message": "text message", "third_party": "through a third party"})
class Channel(Labelled):
    IN_PERSON = "in_person"
    PHONE = "phone"
    MESSAGE = "message"
    LETTER = "letter"
    THIRD_PARTY = "third_party"
    OTHER = "other"


class RecipientKind(Labelled):
    MEMBER_STATE = "member_state"
    PROVIDER = "provider"


class OfVictim:
    """The columns a row of a victim's file starts with: its own id, and the victim's (the row is
    deleted with the victim), indexed unless an index of the table's own leads with it."""

    victim_id_indexed: ClassVar[bool] = True

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)

    @declared_attr
    def victim_id(cls) -> Mapped[int]:
        return mapped_column(
            ForeignKey("vat_victim.id", ondelete="CASCADE"), index=cls.victim_id_indexed, sort_order=-1
        )


class Victim(Base):
    __tablename__ = "vat_victim"
    __table_args__ = (  # the list pages and counts from these alone (migration 0500)
        Index(
            "ix_vat_victim_listing", "registered_on", "id", "status", "country_code", "mission", "advocate_id"
        ),
        Index("ix_vat_victim_scope", "status", "country_code", "mission", "advocate_id"),
        # An advocate's victims in case-code order: the "needs attention" page stops at its limit (0700).
        Index("ix_vat_victim_advocate_id_case_code", "advocate_id", "case_code"),
        # An advocate's victims of a status in registration order, with the scope's columns: the
        # unassisted section of needs attention, which stops at its limit (migration 1153).
        Index(
            "ix_vat_victim_advocate_id_status",
            "advocate_id",
            "status",
            "registered_on",
            "country_code",
            "mission",
        ),
        # The statistics page's count by place and month reads this alone (migration 1145).
        Index("ix_vat_victim_place_registered_on", "country_code", "mission", "registered_on"),
        # The per-victim report's page, in country and case-code order within the scope (migration 1148).
        Index("ix_vat_victim_country_code_case_code", "country_code", "case_code", "mission"),
        Index(None, "id", "sex", "age_group", "country_code", "mission"),  # the UN report's victims (1151)
        # Victims registered in a period by sex and age group, in the scope (statistics, figures pack; 1154).
        Index(None, "registered_on", "country_code", "mission", "sex", "age_group"),
        one_of("status", VictimStatus),
        one_of("sex", Sex),
        one_of("age_group", AgeGroup),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_code: Mapped[str] = mapped_column(String(40), unique=True)
    country_code: Mapped[str] = mapped_column(String(3), index=True)
    mission: Mapped[str | None] = mapped_column(String(40))
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    status: Mapped[str] = mapped_column(String(20), default=VictimStatus.ACTIVE, index=True)
    sex: Mapped[str] = mapped_column(String(10), default=Sex.UNKNOWN)
    age_group: Mapped[str] = mapped_column(String(10), default=AgeGroup.UNKNOWN)
    registered_on: Mapped[date] = mapped_column(Date)
    # The date of the last communication that gave a case update (None: never informed).
    last_update_on: Mapped[date | None] = mapped_column(Date, index=True)
    next_update_due: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Retention (vat.victims.retention): the day the case was closed (None while open), a senior
    # advocate's request to erase the identity once the period has run, and when it was erased.
    closed_on: Mapped[date | None] = mapped_column(Date)
    erasure_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), index=True)
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    name: Mapped[str | None] = identity_column("vat_victim.name")
    aliases: Mapped[str | None] = identity_column("vat_victim.aliases")
    date_of_birth: Mapped[str | None] = identity_column("vat_victim.date_of_birth")
    contact: Mapped[str | None] = identity_column("vat_victim.contact")
    location: Mapped[str | None] = identity_column("vat_victim.location")
    notes: Mapped[str | None] = identity_column("vat_victim.notes")

    advocate: Mapped[User | None] = relationship(foreign_keys=[advocate_id])
    erasure_requested_by: Mapped[User | None] = relationship(foreign_keys=[erasure_requested_by_id])
    allegation_links: Mapped[list[VictimAllegation]] = owned("victim")
    consents: Mapped[list[Consent]] = owned("victim", "Consent.id")
    services: Mapped[list[Assistance]] = owned("victim", "Assistance.id")
    children: Mapped[list[Child]] = owned("victim", "Child.id")
    communications: Mapped[list[Communication]] = owned("victim", "Communication.id")
    tasks: Mapped[list[VictimTask]] = owned("victim", "VictimTask.id")
    disclosures: Mapped[list[Disclosure]] = owned("victim", "Disclosure.id")
    needs: Mapped[list[Need]] = owned("victim", "Need.id")
    feedback: Mapped[list[Feedback]] = owned("victim", "Feedback.id")

    @property
    def allegations(self) -> list[Allegation]:
        return [link.allegation for link in self.allegation_links]


class VictimAllegation(OfVictim, Base):
    """A victim named in an allegation (many-to-many). Kept on the victims' side: this domain
    knows allegations, the allegations domain does not know victims."""

    __tablename__ = "vat_victim_allegation"
    __table_args__ = (
        UniqueConstraint("victim_id", "allegation_id"),
        Index(None, "allegation_id", "victim_id"),  # the UN report's victims from it alone (1151)
    )

    allegation_id: Mapped[int] = mapped_column(ForeignKey("vat_allegation.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allegation: Mapped[Allegation] = relationship()
    victim: Mapped[Victim] = relationship(back_populates="allegation_links")


class VictimNameKey(OfVictim, Base):
    """Blind indexes of a victim's name and aliases, for exact-match search without decryption."""

    __tablename__ = "vat_victim_name_key"
    __table_args__ = (UniqueConstraint("victim_id", "digest"),)

    digest: Mapped[str] = mapped_column(String(64), index=True)


class CaseCounter(Base):
    """The last number used for a case-code prefix and year (CAR-2017-0042)."""

    __tablename__ = "vat_case_counter"

    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Consent(OfVictim, Recorded, Base):
    """One consent given for one purpose; withdrawn (never deleted) when the victim says so."""

    __tablename__ = "vat_consent"
    __table_args__ = (one_of("purpose", ConsentPurpose), one_of("method", ConsentMethod))

    purpose: Mapped[str] = mapped_column(String(30))
    given_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str | None] = mapped_column(String(200))  # the named provider or state, if any
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    victim: Mapped[Victim] = relationship(back_populates="consents")

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None and not self.superseded


class Assistance(OfVictim, CurrencyFirst, Base):
    """One service for one victim; a historical one, from an old tracker, may lack its dates and consent."""

    __tablename__ = "vat_assistance"
    __table_args__ = (  # whether a victim received assistance, and stuck referrals oldest first (0700)
        Index("ix_vat_assistance_victim_id_status", "victim_id", "status"),
        Index("ix_vat_assistance_status_referral_date", "status", "referral_date", "start_date"),
        one_of("service_type", ServiceType),
        one_of("status", ServiceStatus),
        one_of("funding_source", FundingSource),
        CheckConstraint("cost >= 0", name="cost_not_negative"),
    )
    victim_id_indexed = False  # ix_vat_assistance_victim_id_status leads with it
    service_type: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(200))
    referral_date: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    # The cost in minor units of its currency (ISO 4217 exponent); `cost` reads it as a Decimal.
    cost_minor: Mapped[int | None] = mapped_column("cost", BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    cost: InCurrency[Decimal | None] = InCurrency("cost_minor")
    funding_source: Mapped[str] = mapped_column(String(30), default=FundingSource.UNKNOWN)
    ledger_entry_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # that paid it (a plain id)
    notes: Mapped[str | None] = mapped_column(EncryptedText("vat_assistance.notes"), deferred=True)
    # The keyed digest of the spreadsheet row it was imported from (vat.victims.importer).
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("vat_provider.id"), index=True)  # directory

    victim: Mapped[Victim] = relationship(back_populates="services")


class Child(OfVictim, Base):
    """A child born as a result of SEA (a paternity claim links to it in the claims domain)."""

    __tablename__ = "vat_child"
    __table_args__ = (one_of("sex", Sex),)

    birth_date: Mapped[date | None] = mapped_column(EncryptedDate("vat_child.birth_date"))
    sex: Mapped[str] = mapped_column(String(10), default=Sex.UNKNOWN)
    notes: Mapped[str | None] = mapped_column(EncryptedText("vat_child.notes"), deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    victim: Mapped[Victim] = relationship(back_populates="children")


class Communication(OfVictim, Base):
    """One contact with the victim."""

    __tablename__ = "vat_communication"
    __table_args__ = (one_of("channel", Channel),)

    occurred_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(40))
    by_whom: Mapped[str] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    case_update_given: Mapped[bool] = mapped_column(Boolean, default=False)
    next_update_due: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(EncryptedText("vat_communication.summary"), deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    victim: Mapped[Victim] = relationship(back_populates="communications")


class VictimTask(OfVictim, Base):
    """Something owed to the victim, open until done: "inform the victim of the outcome"."""

    __tablename__ = "vat_victim_task"
    __table_args__ = (
        Index("ix_vat_victim_task_open", "closed_at", "created_at"),  # oldest open first
        one_of("outcome", Outcome),
    )

    allegation_id: Mapped[int | None] = mapped_column(ForeignKey("vat_allegation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_on: Mapped[date | None] = mapped_column(Date)  # to inform by; NULL on tasks opened before 1088
    closed_by_communication_id: Mapped[int | None] = mapped_column(
        ForeignKey("vat_communication.id", ondelete="SET NULL")
    )
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("vat_claim.id"), index=True)  # a step to tell
    claim_step: Mapped[str | None] = mapped_column(String(30))  # checked by the claims service

    victim: Mapped[Victim] = relationship(back_populates="tasks")
    allegation: Mapped[Allegation | None] = relationship()


class Disclosure(OfVictim, Recorded, Base):
    """The victim's file shared with a member state or referred to a named provider; it needs
    the matching consent and is cancelled when that consent is withdrawn."""

    __tablename__ = "vat_disclosure"
    __table_args__ = (one_of("recipient_kind", RecipientKind),)

    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(EncryptedText("vat_disclosure.recipient"))
    purpose: Mapped[str] = mapped_column(EncryptedText("vat_disclosure.purpose"))
    shared_on: Mapped[date] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)

    victim: Mapped[Victim] = relationship(back_populates="disclosures")


class NeedStatus(Labelled):
    MET = "met"
    PARTLY_MET = "partly_met"
    UNMET = "unmet"
    DECLINED = "declined"  # by the victim
    NO_LONGER_NEEDED = "no_longer_needed"


class UnmetReason(Labelled):
    NO_PROVIDER = "no_provider"
    NO_FUNDS = "no_funds"
    NO_CONSENT = "no_consent"
    WAITING_LIST = "waiting_list"
    VICTIM_UNREACHABLE = "victim_unreachable"


class Need(OfVictim, Timestamped, Base):
    """One of the victim's individual needs (the 2008 strategy's medical, legal, psychosocial and
    immediate material care, and the rest), as last assessed or as the services since keep it.
    The kinds are the service types, so a service keeps the need of its own type current."""

    __tablename__ = "vat_need"
    __table_args__ = (
        UniqueConstraint("victim_id", "need_type"),
        # Victims with a need in a given state, by type: the lists, attention and reports (1080).
        Index("ix_vat_need_status_need_type", "status", "need_type", "victim_id"),
        Index(None, "assessed_on", "status", "victim_id"),  # attention's needs not met, by day (1163)
        one_of("need_type", ServiceType),
        one_of("status", NeedStatus),
        one_of("reason", UnmetReason),
        CheckConstraint("reason IS NULL OR status IN ('unmet', 'partly_met')", name="reason_when_unmet"),
    )
    victim_id_indexed = False  # its unique (victim_id, need_type) leads with it
    need_type: Mapped[str] = mapped_column(String(20))
    assessed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))  # why unmet or partly met, if known
    note: Mapped[str | None] = mapped_column(EncryptedText("vat_need.note"), deferred=True)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))

    victim: Mapped[Victim] = relationship(back_populates="needs")


class Satisfaction(Labelled):
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    UNSURE = "unsure"


class Feedback(OfVictim, Recorded, Base):
    """What the victim said of a service, or of a case update (a communication): satisfied or
    not, a complaint, a follow-up owed. Reported per provider and per service type."""

    __tablename__ = "vat_feedback"
    __table_args__ = (
        one_of("satisfaction", Satisfaction),
        CheckConstraint("(assistance_id IS NULL) <> (communication_id IS NULL)", name="about_one_thing"),
        CheckConstraint("follow_up_on IS NULL OR follow_up_needed", name="follow_up_date_when_needed"),
    )

    assistance_id: Mapped[int | None] = mapped_column(
        ForeignKey("vat_assistance.id", ondelete="CASCADE"), index=True
    )
    communication_id: Mapped[int | None] = mapped_column(
        ForeignKey("vat_communication.id", ondelete="CASCADE"), index=True
    )
    given_on: Mapped[date] = mapped_column(Date)
    satisfaction: Mapped[str] = mapped_column(String(20))
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint_text: Mapped[str | None] = mapped_column(
        EncryptedText("vat_feedback.complaint_text"), deferred=True
    )
    follow_up_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    followed_up_on: Mapped[date | None] = mapped_column(Date)

    victim: Mapped[Victim] = relationship(back_populates="feedback")
    service: Mapped[Assistance | None] = relationship()
    communication: Mapped[Communication | None] = relationship()


class PaymentSource(Labelled):
    DIRECT = "direct"  # direct support from the fund to the victim
    PROJECT = "project"  # a project's payment to the victim, out of a tranche


class FundPayment(OfVictim, Base):
    """Money from the trust fund that reached a victim, as the ledger announced it (its entry and
    project are plain ids: this domain never imports the ledger). A reversed entry marks it
    reversed; the row stays for the record."""

    __tablename__ = "vat_fund_payment"
    __table_args__ = (
        UniqueConstraint("ledger_entry_id", "victim_id"),
        one_of("source", PaymentSource),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("usd_minor >= 0", name="usd_not_negative"),
    )

    source: Mapped[str] = mapped_column(String(10))
    ledger_entry_id: Mapped[int] = mapped_column(Integer, index=True)
    project_id: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    usd_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    route: Mapped[str | None] = mapped_column(String(30))  # direct support: implementing_partner, mission
    basis: Mapped[str | None] = mapped_column(String(200))  # direct support: the approved basis
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupportSummary(Base):
    """One row per victim: services by status and by type, the fund's money that reached them by
    source (US cents, reversals out) and whether they are supported. Kept by the victim services
    in the transaction of each change (vat.victims.support_summary); `flask figures verify`
    recomputes it from the services and payments."""

    __tablename__ = "vat_victim_support_summary"
    # With the victim: PostgreSQL answers "supported?" of a victim, or of many, from the index.
    __table_args__ = (Index("ix_vat_victim_support_summary_supported", "supported", "victim_id"),)

    victim_id: Mapped[int] = mapped_column(ForeignKey("vat_victim.id", ondelete="CASCADE"), primary_key=True)
    status_referred: Mapped[int] = mapped_column(Integer, default=0)
    status_in_progress: Mapped[int] = mapped_column(Integer, default=0)
    status_completed: Mapped[int] = mapped_column(Integer, default=0)
    status_declined: Mapped[int] = mapped_column(Integer, default=0)
    status_not_available: Mapped[int] = mapped_column(Integer, default=0)
    status_cancelled: Mapped[int] = mapped_column(Integer, default=0)
    type_medical: Mapped[int] = mapped_column(Integer, default=0)
    type_psychosocial: Mapped[int] = mapped_column(Integer, default=0)
    type_legal: Mapped[int] = mapped_column(Integer, default=0)
    type_material: Mapped[int] = mapped_column(Integer, default=0)
    type_shelter: Mapped[int] = mapped_column(Integer, default=0)
    type_education: Mapped[int] = mapped_column(Integer, default=0)
    type_livelihood: Mapped[int] = mapped_column(Integer, default=0)
    type_protection: Mapped[int] = mapped_column(Integer, default=0)
    type_other: Mapped[int] = mapped_column(Integer, default=0)
    direct_usd_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    project_usd_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reported_usd_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # partners' reported lines
    projects: Mapped[int] = mapped_column(Integer, default=0)  # projects whose payments reached them
    # US services paid from the trust fund outside the ledger (cost in cents): the headline's third sum.
    funded_usd_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    supported: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


TALLY_KEY = ("facet", "detail", "country_code", "mission", "registered_year", "sex", "minor", "value",
             "provider_id", "service_type", "status", "wait", "days")  # fmt: skip


class ServiceTally(Base):
    """Services counted per victim cell (country, mission, year registered, sex, minor) and per
    facet of the service (vat.victims.service_tally): kept in the transaction of each change by
    atomic increments; the assistance and referral reports and the ad-hoc providers read it."""

    __tablename__ = "vat_service_tally"
    __table_args__ = (
        # The key, facet first: the reports read one facet's total or detail rows of a country.
        UniqueConstraint(*TALLY_KEY),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    detail: Mapped[bool] = mapped_column(Boolean)  # False: a total row (year, sex, minor all 0/"")
    country_code: Mapped[str] = mapped_column(String(3))
    mission: Mapped[str] = mapped_column(String(40))  # "" when the victim has none
    registered_year: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(10))
    minor: Mapped[bool] = mapped_column(Boolean)
    facet: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(Integer)  # 0: none chosen from the directory
    service_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    wait: Mapped[str] = mapped_column(String(5))  # "", "start" (referral to start), "end" (start to end)
    days: Mapped[int] = mapped_column(Integer)
    services: Mapped[int] = mapped_column(Integer)


class Availability(Labelled):
    AVAILABLE = "available"
    LIMITED = "limited"
    NOT_AVAILABLE = "not_available"


class Provider(Timestamped, Base):
    """A provider in the directory (issue 18); its contact is an organisation's, stored in clear."""

    __tablename__ = "vat_provider"
    __table_args__ = (UniqueConstraint("country_code", "name"), one_of("availability", Availability))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str] = mapped_column(String(3), index=True)
    location: Mapped[str | None] = mapped_column(String(120))
    contact: Mapped[str | None] = mapped_column(String(500))
    languages: Mapped[str | None] = mapped_column(String(200))
    availability: Mapped[str] = mapped_column(String(20), default=Availability.AVAILABLE)
    availability_on: Mapped[date] = mapped_column(Date)
    services: Mapped[list[ProviderService]] = relationship(
        back_populates="provider", cascade="all, delete-orphan"
    )

    @property
    def service_types(self) -> list[str]:
        return sorted(s.service_type for s in self.services)


class ProviderService(Base):  # one type of service a provider offers
    __tablename__ = "vat_provider_service"
    __table_args__ = (UniqueConstraint("provider_id", "service_type"), one_of("service_type", ServiceType))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("vat_provider.id", ondelete="CASCADE"), index=True)
    service_type: Mapped[str] = mapped_column(String(20))

    provider: Mapped[Provider] = relationship(back_populates="services")
