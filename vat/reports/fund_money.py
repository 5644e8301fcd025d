"""The fund's money that reached victims, as the ledger booked it and as the victims' records
hold it (vat_fund_payment, which the support summaries count), compared per case code: a check
of `flask figures verify`. Both sides are source rows; a difference needs a correction, not a
rebuild."""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.engine import EntryKind, cents
from ledger.models import Account, AccountType, Posting, ProjectPayment, ProjectReportLine
from ledger.reports.amounts import effective_kind, postings, summed
from ledger.services.booking import standing
from vat.db import db
from vat.victims.models import FundPayment, PaymentSource, Victim
from vat.victims.partner_support import PartnerSupport

NAME = "payments to victims"


def direct_support_by_case() -> dict[str, int]:
    """US cents the ledger paid each case code directly (reversals netted)."""
    query = (
        postings(Posting.case_code, summed(Posting.usd_minor))
        .where(Posting.case_code.is_not(None), effective_kind() == EntryKind.VICTIM_SUPPORT)
        .where(Account.type == AccountType.EXPENSE.value)
        .group_by(Posting.case_code)
    )
    return {code: int(minor or 0) for code, minor in db.session.execute(query)}


def project_payments_by_case() -> dict[str, int]:
    """US cents the standing tranches paid each case code (ledger_project_payment)."""
    query = standing(
        select(ProjectPayment.case_code, summed(ProjectPayment.usd_minor)).group_by(ProjectPayment.case_code),
        ProjectPayment,
    )
    return {code: int(minor or 0) for code, minor in db.session.execute(query)}


def recorded_by_case(source: PaymentSource) -> dict[str, int]:
    """US cents the victims' records hold as paid by `source` (not reversed), per case code."""
    query = (
        select(Victim.case_code, summed(FundPayment.usd_minor))
        .join(Victim, Victim.id == FundPayment.victim_id)
        .where(FundPayment.source == source.value, FundPayment.reversed.is_(False))
        .group_by(Victim.case_code)
    )
    return {code: int(minor or 0) for code, minor in db.session.execute(query)}


def reported_lines_by_case() -> dict[str, int]:
    """US cents partners reported giving each case code (their per-beneficiary report lines)."""
    query = select(ProjectReportLine.case_code, summed(ProjectReportLine.usd_minor)).group_by(
        ProjectReportLine.case_code
    )
    return {code: int(minor or 0) for code, minor in db.session.execute(query)}


def recorded_lines_by_case() -> dict[str, int]:
    """US cents the victims' records hold as reported by partners, per case code."""
    query = (
        select(Victim.case_code, summed(PartnerSupport.usd_minor))
        .join(Victim, Victim.id == PartnerSupport.victim_id)
        .group_by(Victim.case_code)
    )
    return {code: int(minor or 0) for code, minor in db.session.execute(query)}


def unrecorded_lines() -> int:
    """Partners' lines the victims' records do not hold (a line of no money still counts)."""
    recorded = select(PartnerSupport.report_line_id)
    query = select(func.count(ProjectReportLine.id)).where(ProjectReportLine.id.not_in(recorded))
    return int(db.session.scalar(query) or 0)


def differences() -> list[str]:
    """Each case code whose payments the ledger and the victims' records disagree on."""
    found = []
    for what, booked, recorded in (
        ("direct support", direct_support_by_case(), recorded_by_case(PaymentSource.DIRECT)),
        ("project payments", project_payments_by_case(), recorded_by_case(PaymentSource.PROJECT)),
        ("partner-reported support", reported_lines_by_case(), recorded_lines_by_case()),
    ):
        for code in sorted(booked.keys() | recorded.keys()):
            in_ledger, for_victim = booked.get(code, 0), recorded.get(code, 0)
            if in_ledger != for_victim:
                found.append(
                    f"{NAME}: case {code} {what} is US${cents(in_ledger):,.2f} in the ledger, "
                    f"US${cents(for_victim):,.2f} recorded for the victim"
                )
    if missing := unrecorded_lines():
        found.append(f"{NAME}: {missing} partner report lines are not recorded for their victims")
    return found
