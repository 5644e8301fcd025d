"""The trust fund's ledger: the chart of accounts, journal entries and postings (append-only,
hash-chained), exchange rates, closed periods, and the sub-ledgers whose money moves only
through entries (donors and pledges, withholdings, projects and tranches, direct support)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vat.db import Base, Money, UTCDateTime, one_of, utcnow

# An exchange rate is an exact decimal with up to 8 places, stored like money (integer units).
Rate = Money(8)


class AccountType(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    NET_ASSETS = "net_assets"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class Currency(Base):
    """A currency the fund deals in, with its ISO 4217 exponent (USD 2, JPY 0, KWD 3)."""

    __tablename__ = "ledger_currency"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    exponent: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))


class Account(Base):
    __tablename__ = "ledger_account"
    __table_args__ = (one_of("type", AccountType), one_of("controls", ("pledge", "withholding", "project")))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(12))
    # The sub-ledger this account controls.
    controls: Mapped[str | None] = mapped_column(String(20))
    # Exchange-difference and rounding accounts may carry a line of zero in the original currency.
    residual: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def account_type(self) -> AccountType:
        return AccountType(self.type)


class ExchangeRate(Base):
    """The UN operational rate of exchange: units of `currency` per US dollar, fixed per month.

    A rate that a posting has used is frozen (a database trigger refuses to change or remove it).
    """

    __tablename__ = "ledger_fx_rate"
    __table_args__ = (UniqueConstraint("currency", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    rate: Mapped[Decimal] = mapped_column(Rate)
    source: Mapped[str] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Four eyes: a rate converts nothing until a second fund manager confirms it. (Rates recorded
    # before the rule are confirmed by the migration's default; a new row is proposed.)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=true())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a rate far from the previous month's is right (required beyond the band).
    reason: Mapped[str | None] = mapped_column(String(300))


class Period(Base):
    """A closed month. Rows exist only for closed months and are append-only: no reopening."""

    __tablename__ = "ledger_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    head_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    close_pack: Mapped[str] = mapped_column(Text)  # canonical JSON, as exported


class Entry(Base):
    """A journal entry. Append-only; `seq` is gapless and each hash covers the previous one."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    entry_date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    memo: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    maker_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", lazy="selectin"
    )
    reverses: Mapped[Entry | None] = relationship(remote_side="Entry.id", foreign_keys=[reverses_id])


class Posting(Base):
    """One line of an entry. Amounts are integer minor units (debit positive): `amount_minor` in
    the line's own currency at that currency's exponent, `usd_minor` in US cents. Dimensions make
    every reconciliation one GROUP BY; `running_usd_minor` is the account's balance after it."""

    __tablename__ = "ledger_posting"
    __table_args__ = (
        # An account's latest posting (its running balance) in one probe, on PostgreSQL too.
        Index("ix_ledger_posting_account_id_id", "account_id", "id"),
        # Donors', withholdings' and pledges' figures, each from one of these indexes alone.
        Index("ix_ledger_posting_donor_id_figures", "donor_id", "account_id", "entry_id", "usd_minor"),
        Index("ix_ledger_posting_withholding_id_figures", "withholding_id", "account_id", "amount_minor"),
        Index("ix_ledger_posting_pledge_id_figures", "pledge_id", "account_id", "currency", "amount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[Decimal] = mapped_column(Rate)
    fx_rate_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_fx_rate.id"), index=True)
    usd_minor: Mapped[int] = mapped_column(BigInteger)
    running_usd_minor: Mapped[int] = mapped_column(BigInteger)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_donor.id"))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_pledge.id"))
    withholding_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_withholding.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_project.id"), index=True)
    country_code: Mapped[str | None] = mapped_column(String(3), index=True)
    allegation_ref: Mapped[str | None] = mapped_column(String(40), index=True)
    case_code: Mapped[str | None] = mapped_column(String(40), index=True)

    entry: Mapped[Entry] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship(lazy="joined")


PORTFOLIO_INDEX = ("project_id", "account_id", "detail", "month", "usd_minor", "usd_debit_minor")


class Balance(Base):
    """The sum of the postings of one account, month, currency and combination of dimensions,
    written by the posting engine in the transaction that posts them (ledger.balances): a detail
    row, or a total row where a dimension with a value per record only says whether there was
    one. An absent dimension is 0 or '' rather than NULL, so that the upsert's conflict target
    matches it."""

    __tablename__ = "ledger_balance"
    __table_args__ = (
        UniqueConstraint(
            "detail",
            "account_id",
            "month",
            "currency",
            "donor_id",
            "pledge_id",
            "project_id",
            "country_code",
            "allegation_ref",
            "case_code",
        ),
        Index("ix_ledger_balance_project_id", *PORTFOLIO_INDEX),  # the portfolio reads it alone
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    detail: Mapped[bool] = mapped_column(Boolean)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    donor_id: Mapped[int] = mapped_column(Integer)
    pledge_id: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(Integer)
    country_code: Mapped[str] = mapped_column(String(3))
    allegation_ref: Mapped[str] = mapped_column(String(40))
    case_code: Mapped[str] = mapped_column(String(40))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    usd_minor: Mapped[int] = mapped_column(BigInteger)
    usd_debit_minor: Mapped[int] = mapped_column(BigInteger)  # the debits' part of usd_minor
    postings: Mapped[int] = mapped_column(Integer)


# --- sub-ledgers -----------------------------------------------------------------------------


class Booked:
    """A sub-ledger row booked by one entry: written first (its id is a dimension of the postings),
    its `entry_id` set in the same transaction once the entry is posted; NULL is never committed."""

    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)


class DonorKind(enum.StrEnum):
    MEMBER_STATE = "member_state"
    OTHER = "other"


class Donor(Base):
    __tablename__ = "ledger_donor"
    __table_args__ = (one_of("kind", DonorKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    country_code: Mapped[str | None] = mapped_column(String(3), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Pledge(Booked, Base):
    __tablename__ = "ledger_pledge"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # The sub-ledger check's open total from this alone (ledger.reports.subledgers, 1153).
        Index("ix_ledger_pledge_currency_entry_id", "currency", "entry_id", "amount_minor"),
        # A donor's open pledges oldest first, and its pledges newest first, from this (1167).
        Index(None, "donor_id", "pledged_on", "id", "outstanding_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("ledger_donor.id"))
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    pledged_on: Mapped[date] = mapped_column(Date)
    earmark: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(80))
    # Its balance on pledges receivable, in its currency, kept by `ledger.pledged_outstanding` (1167).
    outstanding_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    donor: Mapped[Donor] = relationship(lazy="joined")


class Receipt(Booked, Base):
    """Money received from a donor, against a pledge or unpledged."""

    __tablename__ = "ledger_receipt"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # The same (1153).
        Index("ix_ledger_receipt_currency_entry_id", "currency", "entry_id", "pledge_id", "amount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("ledger_donor.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_pledge.id"), index=True)
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    bank_reference: Mapped[str] = mapped_column(String(80))
    rate: Mapped[Decimal] = mapped_column(Rate)

    donor: Mapped[Donor] = relationship(lazy="joined")


# What the reconciliation's summary reads of each withholding, in its index's order (1156).
SUMMARY_COLUMNS = (
    "country_code",
    "currency",
    "mission",
    "decided_on",
    "amount_minor",
    "transferred_minor",
    "entry_id",
)


class Withholding(Booked, Base):
    """A payment withheld from a contributing country for a substantiated allegation."""

    __tablename__ = "ledger_withholding"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index(None, "decided_on", "id"),  # the reconciliation's lines, a page at a time (1152)
        # The sub-ledger's open total for the trial balance, from the index alone (1153, 1162).
        Index(
            "ix_ledger_withholding_currency_entry_id",
            "currency",
            "entry_id",
            "amount_minor",
            "transferred_minor",
        ),
        # The reconciliation's summary from the index alone; it serves lookups by country too (1156).
        Index(None, *SUMMARY_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allegation_ref: Mapped[str] = mapped_column(String(40), index=True)
    country_code: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    decided_on: Mapped[date] = mapped_column(Date)
    decision_reference: Mapped[str | None] = mapped_column(String(80))
    mission: Mapped[str | None] = mapped_column(String(40))  # the mission holding the money
    # What its standing transfers brought in, kept by `ledger.withheld_transferred` (1156).
    transferred_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class WithholdingTransfer(Booked, Base):
    __tablename__ = "ledger_withholding_transfer"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # A withholding's live transfers summed from the index alone (the reconciliation, 1152;
        # the trial balance's sub-ledger check too).
        Index(None, "withholding_id", "entry_id", "amount_minor", "transferred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    withholding_id: Mapped[int] = mapped_column(ForeignKey("ledger_withholding.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    transferred_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80))


class ProjectStatus(enum.StrEnum):
    APPROVED = "approved"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProjectFocus(enum.StrEnum):
    DIRECT_SUPPORT = "direct_support"
    SERVICES = "services"
    INCOME_GENERATION = "income_generation"
    OUTREACH = "outreach"
    EDUCATION = "education"

    @property
    def label(self) -> Any:
        return {
            "direct_support": _l("Direct victim support"),
            "services": _l("Medical, psychosocial and legal services"),
            "income_generation": _l("Income generation"),
            "outreach": _l("Outreach"),
            "education": _l("Education and vocational training"),
        }[self.value]


class Project(Booked, Base):
    """A grant approved by the review committee. Status and actual dates change as it runs;
    the money (approval, tranches, cancellation) moves only through entries."""

    __tablename__ = "ledger_project"
    __table_args__ = (
        one_of("status", ProjectStatus),
        one_of("focus", ProjectFocus),
        CheckConstraint("approved_minor > 0", name="approved_positive"),
        CheckConstraint("released_minor >= 0", name="released_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    partner: Mapped[str] = mapped_column(String(120))
    country_code: Mapped[str] = mapped_column(String(3), index=True)
    focus: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    approved_minor: Mapped[int] = mapped_column(BigInteger)
    approved_on: Mapped[date] = mapped_column(Date)
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ProjectStatus.APPROVED.value)
    victims_supported: Mapped[int] = mapped_column(Integer, default=0)
    # The undisbursed balance given back to the fund when the project was cancelled or completed.
    released_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    beneficiaries: Mapped[list[ProjectBeneficiary]] = relationship(
        order_by="ProjectBeneficiary.case_code", lazy="selectin"
    )


class ProjectBeneficiary(Base):
    """A victim directly supported by a project, by case code only."""

    __tablename__ = "ledger_project_beneficiary"
    __table_args__ = (UniqueConstraint("project_id", "case_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("ledger_project.id"))
    case_code: Mapped[str] = mapped_column(String(40))


class ReportKind(enum.StrEnum):
    """What an implementing partner reports on its project (issue 18, item 5)."""

    NARRATIVE = "narrative"
    FINANCIAL = "financial"
    BENEFICIARIES = "beneficiaries"  # what each beneficiary received, by case code


class ProjectReport(Base):
    """A report the implementing partner owes on its project: due on a date, received on another,
    overdue while not received after its due date."""

    __tablename__ = "ledger_project_report"
    __table_args__ = (
        one_of("kind", ReportKind),
        Index("ix_ledger_project_report_received_on_due_on", "received_on", "due_on"),  # overdue ones
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[int] = mapped_column(ForeignKey("ledger_project.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(120))  # the document received
    due_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The reporting period it covers (NULL on reports scheduled before periods were asked for).
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)

    project: Mapped[Project] = relationship(lazy="joined")


# What a partner reports giving one beneficiary: money, or a service of the victims' service types.
BENEFICIARY_SUPPORT = tuple(
    "cash medical psychosocial legal material shelter education livelihood protection other".split()
)


class ProjectReportLine(Base):
    """One line of a partner's per-beneficiary report: what one victim, known by case code only,
    received in the reporting period, in the project's currency and in US cents at the rate of the
    period's last month. Imported all at once with its report; no money moves here."""

    __tablename__ = "ledger_project_report_line"
    __table_args__ = (
        UniqueConstraint("report_id", "case_code", "support"),
        one_of("support", BENEFICIARY_SUPPORT),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("usd_minor >= 0", name="usd_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    support: Mapped[str] = mapped_column(String(20))
    provided_on: Mapped[date | None] = mapped_column(Date)
    report_id: Mapped[int] = mapped_column(ForeignKey("ledger_project_report.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("ledger_project.id"), index=True)
    case_code: Mapped[str] = mapped_column(String(40), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    usd_minor: Mapped[int] = mapped_column(BigInteger)


class TrancheStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Tranche(Base):
    """A disbursement to a project's partner. Above the approval threshold it is requested by one
    fund manager and posts only when another approves it."""

    __tablename__ = "ledger_tranche"
    __table_args__ = (
        one_of("status", TrancheStatus),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # The same (1153).
        Index("ix_ledger_tranche_project_id_status", "project_id", "status", "entry_id", "amount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("ledger_project.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    maker_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    psc_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)

    project: Mapped[Project] = relationship(lazy="joined")


class ProjectPayment(Base):
    """What a tranche paid one of its project's beneficiaries, by case code: in the project's
    currency and in US cents at the tranche's rate. It stands while the tranche's entry stands
    (`entry_id` is set when the tranche posts; a pending tranche's payments wait with it)."""

    __tablename__ = "ledger_project_payment"
    __table_args__ = (
        UniqueConstraint("tranche_id", "case_code"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("usd_minor >= 0", name="usd_not_negative"),
        Index(None, "project_id", "tranche_id", "entry_id", "case_code", "usd_minor"),  # portfolio (1115)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tranche_id: Mapped[int] = mapped_column(ForeignKey("ledger_tranche.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("ledger_project.id"))
    case_code: Mapped[str] = mapped_column(String(40), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    usd_minor: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), index=True)


class SupportRoute(enum.StrEnum):
    """How a direct payment reaches the victim: the fund never pays a victim itself (OIOS annex C)."""

    IMPLEMENTING_PARTNER = "implementing_partner"
    MISSION = "mission"


class DirectSupport(Base):
    """A payment from the fund to one victim, known here by case code only."""

    __tablename__ = "ledger_direct_support"
    # The list's order, latest paid first: a page reads its own rows, not a sort of them all.
    __table_args__ = (
        Index("ix_ledger_direct_support_paid_on_id", "paid_on", "id"),
        # The usual amount's median (ledger.usual_amounts) and the list's totals of the booked
        # payments, from the index alone; the list's countries likewise (1152).
        Index("ix_ledger_direct_support_currency_amount_minor", "currency", "amount_minor", "entry_id"),
        Index(None, "country_code", "entry_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        one_of("route", SupportRoute),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_code: Mapped[str] = mapped_column(String(40), index=True)
    country_code: Mapped[str | None] = mapped_column(String(3))
    purpose: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(ForeignKey("ledger_currency.code"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    # Route and approved basis (issue 18, item 6): NULL only on payments recorded before they were
    # asked for; the service requires both, and the project when the route is a partner's.
    route: Mapped[str | None] = mapped_column(String(30))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_project.id"), index=True)
    basis: Mapped[str | None] = mapped_column(String(200))
    # The mission's rapid-response envelope it was paid from, before any approval of its own.
    envelope_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_mission_envelope.id"), index=True)
    project: Mapped[Project | None] = relationship(lazy="joined")


class MissionEnvelope(Base):
    """What a mission may pay in urgent direct support to victims (OIOS §113, SG §30) before any
    payment's own approval: opened by one fund manager, in force once a second confirms it, for a
    period, within a total and a cap per victim (US cents). What it paid is its standing payments,
    booked through the posting engine like any direct support."""

    __tablename__ = "ledger_mission_envelope"
    __table_args__ = (
        CheckConstraint("usd_minor > 0", name="usd_positive"),
        CheckConstraint("victim_cap_minor > 0", name="victim_cap_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mission: Mapped[str] = mapped_column(String(40))
    country_code: Mapped[str] = mapped_column(String(3))
    usd_minor: Mapped[int] = mapped_column(BigInteger)
    victim_cap_minor: Mapped[int] = mapped_column(BigInteger)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(200))
    maker_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
