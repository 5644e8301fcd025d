"""What implementing partners reported giving victims (issue 18, item 5), on the victims' side: a
module of its own beside vat.victims.models (which holds the rest of the victim's file)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vat.db import Base, one_of
from vat.victims.models import OfVictim, ServiceType

# What an implementing partner reports giving a beneficiary: money, or a service of ServiceType.
PARTNER_SUPPORT = ("cash", *(t.value for t in ServiceType))


class PartnerSupport(OfVictim, Base):
    """One line of an implementing partner's per-beneficiary report, as the ledger announced it
    when the report was imported (its project, report and line are plain ids: this domain never
    imports the ledger): what the victim received in the reporting period, in the project's
    currency and in US cents. Support received, counted in the victim's summary."""

    __tablename__ = "vat_partner_support"
    __table_args__ = (
        one_of("support", PARTNER_SUPPORT),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("usd_minor >= 0", name="usd_not_negative"),
    )

    project_id: Mapped[int] = mapped_column(Integer)
    report_id: Mapped[int] = mapped_column(Integer)
    report_line_id: Mapped[int] = mapped_column(Integer, unique=True)
    support: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    usd_minor: Mapped[int] = mapped_column(BigInteger)
    provided_on: Mapped[date | None] = mapped_column(Date)  # None: some time in the report's period
    reported_on: Mapped[date] = mapped_column(Date)  # the day the report was received
