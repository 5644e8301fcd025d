"""Every request to move money out of the fund (or to take income back), as the four-eyes policy
decided it (`ledger.services.four_eyes`): kept beside the ledger's own models, which it points to."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vat.db import Base, UTCDateTime, one_of, utcnow


class OutflowKind(enum.StrEnum):
    TRANCHE = "tranche"
    DIRECT_SUPPORT = "direct_support"
    REVERSAL = "reversal"  # of income: a receipt, a withheld transfer, a pledge or a withholding


class OutflowStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    REJECTED = "rejected"


class Outflow(Base):
    """Every request to move money out of the fund (or to take income back), as the four-eyes
    policy decided it: posted at once within the limits, or pending until a second fund manager
    approves. The rolling limits are sums over these rows (`ledger.services.four_eyes`)."""

    __tablename__ = "ledger_outflow"
    __table_args__ = (
        one_of("kind", OutflowKind),
        one_of("status", OutflowStatus),
        CheckConstraint("usd_minor >= 0", name="usd_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    usd_minor: Mapped[int] = mapped_column(BigInteger)  # at the month's confirmed rate
    value_date: Mapped[date] = mapped_column(Date, index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_project.id"), index=True)
    case_code: Mapped[str | None] = mapped_column(String(40), index=True)
    payee: Mapped[str] = mapped_column(String(200), index=True)
    # The tranche or direct-support row it pays, or the entry it reverses.
    record_id: Mapped[int] = mapped_column(Integer)
    held_because: Mapped[str | None] = mapped_column(String(20))  # project, case, payee, victim_cap
    reason: Mapped[str | None] = mapped_column(String(300))  # why an entry is reversed
    decision_note: Mapped[str | None] = mapped_column(String(300))  # why it was rejected
    maker_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    # HMACs of the request and of its decision (ledger.services.four_eyes.sign): checked before
    # posting and by `flask ledger verify`, so an altered amount, maker or checker is refused.
    request_mac: Mapped[str | None] = mapped_column(String(64))
    decision_mac: Mapped[str | None] = mapped_column(String(64))
