"""The fund's money that reached a victim, as the ledger announces it through its signals (the
ledger never imports this code): direct support paid or reversed, a tranche's payments to a
project's beneficiaries or their reversal, and the lines of a partner's per-beneficiary report.
Each keeps the victims' support summaries exact."""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vat import money
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.victims import support_summary
from vat.victims.history import add_audited, audit_victim
from vat.victims.identity import in_scope_condition
from vat.victims.models import FundPayment, PaymentSource, Victim
from vat.victims.partner_support import PartnerSupport

# How a direct payment reached the victim: the fund never pays a victim itself (OIOS annex C).
DIRECT_ROUTES = {
    "implementing_partner": _l("Through an implementing partner"),
    "mission": _l("Through the mission"),
}


def _all_known(case_codes: Iterable[str], found: Container[str]) -> None:
    """Refuse the first of `case_codes` that is not `found` among the actor's victims."""
    for code in case_codes:
        if code not in found:
            raise DomainError(_l("No victim has case code %(code)s.", code=code))


def _victims_by_case_code(actor: Actor, case_codes: list[str]) -> dict[str, Victim]:
    """The actor's victims with these case codes, by code; refused if any code names none."""
    found = {
        victim.case_code: victim
        for victim in db.session.scalars(
            select(Victim).where(Victim.case_code.in_(case_codes), in_scope_condition(actor))
        )
    }
    _all_known(case_codes, found)
    return found


def victim_by_case_code(actor: Actor, case_code: str) -> Victim:
    code = case_code.strip().upper()
    return _victims_by_case_code(actor, [code])[code]


def check_payees(*, actor: Actor, case_codes: list[str]) -> None:
    """Called by the ledger when a tranche names the victims it pays: each must be a victim."""
    found = set(
        db.session.scalars(
            select(Victim.case_code).where(Victim.case_code.in_(case_codes), in_scope_condition(actor))
        )
    )
    _all_known(case_codes, found)


def known_payees(*, actor: Actor, country_code: str, case_codes: list[str]) -> set[str]:
    """Called by the ledger while a partner's per-beneficiary report is checked: those of
    `case_codes` that are victims of `country_code` within the actor's scope."""
    return set(
        db.session.scalars(
            select(Victim.case_code).where(
                Victim.case_code.in_(case_codes),
                Victim.country_code == country_code,
                in_scope_condition(actor),
            )
        )
    )


def record_payment(
    *,
    actor: Actor,
    victim: Victim,
    source: PaymentSource,
    ledger_entry_id: int,
    currency: str,
    amount_minor: int,
    usd_minor: int,
    paid_on: date,
    project_id: int | None = None,
    route: str | None = None,
    basis: str | None = None,
) -> FundPayment:
    """One payment that reached `victim`; the same entry announced again returns the same row.
    A direct payment says its route and approved basis (the ledger requires both since 1085)."""
    if route is not None and route not in DIRECT_ROUTES:
        raise DomainError(_l("Unknown route for a direct payment."))
    existing = db.session.scalar(
        select(FundPayment).where(
            FundPayment.ledger_entry_id == ledger_entry_id, FundPayment.victim_id == victim.id
        )
    )
    if existing is not None:
        return existing
    payment = FundPayment(
        victim_id=victim.id,
        source=source.value,
        ledger_entry_id=ledger_entry_id,
        project_id=project_id,
        currency=currency,
        amount_minor=amount_minor,
        usd_minor=usd_minor,
        paid_on=paid_on,
        route=route,
        basis=(basis or "").strip()[:200] or None,
        reversed=False,
    )
    add_audited(
        payment,
        "victim.fund_payment",
        actor=actor,
        victim=victim,
        detail=lambda row: {
            "source": row.source,
            "entry": ledger_entry_id,
            "project": project_id,
            "usd": usd_minor,
            "route": route,
        },
    )
    support_summary.refresh(victim.id)
    return payment


def record_project_payments(
    *,
    actor: Actor,
    project_id: int,
    ledger_entry_id: int,
    currency: str,
    paid_on: date,
    payments: list[dict[str, Any]],
) -> list[FundPayment]:
    """Called by the ledger when a tranche that pays victims posts: `payments` holds each
    beneficiary's `case_code`, `amount_minor` (the project's currency) and `usd_minor`."""
    return [
        record_payment(
            actor=actor,
            victim=victim_by_case_code(actor, paid["case_code"]),
            source=PaymentSource.PROJECT,
            ledger_entry_id=ledger_entry_id,
            project_id=project_id,
            currency=currency,
            amount_minor=int(paid["amount_minor"]),
            usd_minor=int(paid["usd_minor"]),
            paid_on=paid_on,
        )
        for paid in payments
    ]


def reverse_payments(*, actor: Actor, ledger_entry_id: int) -> list[FundPayment]:
    """Called by the ledger when the entry that paid victims is reversed: its payments no longer
    count (kept, marked reversed, for the record)."""
    reversed_now = list(
        db.session.scalars(
            select(FundPayment).where(
                FundPayment.ledger_entry_id == ledger_entry_id, FundPayment.reversed.is_(False)
            )
        )
    )
    for payment in reversed_now:
        payment.reversed = True
        db.session.flush()
        victim = db.session.get_one(Victim, payment.victim_id)
        audit_victim(
            "victim.fund_payment_reversed", actor=actor, victim=victim, detail={"entry": ledger_entry_id}
        )
        support_summary.refresh(victim.id)
    return reversed_now


def record_partner_lines(
    *,
    actor: Actor,
    project_id: int,
    report_id: int,
    currency: str,
    reported_on: date,
    lines: list[dict[str, Any]],
) -> list[PartnerSupport]:
    """Called by the ledger when a partner's per-beneficiary report is imported: each line (its
    `line_id`, `case_code`, `support`, `amount_minor`, `usd_minor`, `provided_on`) recorded on the
    victim it names as support received; one audit row per victim; their summaries refreshed."""
    codes = sorted({line["case_code"] for line in lines})
    victims = _victims_by_case_code(actor, codes)
    rows = [
        PartnerSupport(
            victim_id=victims[line["case_code"]].id,
            project_id=project_id,
            report_id=report_id,
            report_line_id=line["line_id"],
            support=line["support"],
            currency=currency,
            amount_minor=int(line["amount_minor"]),
            usd_minor=int(line["usd_minor"]),
            provided_on=line["provided_on"],
            reported_on=reported_on,
        )
        for line in lines
    ]
    db.session.add_all(rows)
    db.session.flush()
    for code in codes:
        mine = [row for row in rows if row.victim_id == victims[code].id]
        detail = {"project": project_id, "report": report_id, "lines": len(mine)}
        detail["usd"] = sum(row.usd_minor for row in mine)
        audit_victim("victim.partner_support", actor=actor, victim=victims[code], detail=detail)
    support_summary.refresh_many(sorted(victim.id for victim in victims.values()))
    return rows


def payments_of(victim_id: int) -> list[tuple[FundPayment, Decimal]]:
    """The fund's payments to one victim, latest first, each with its amount in its currency
    (the victim page)."""
    rows = db.session.scalars(
        select(FundPayment)
        .where(FundPayment.victim_id == victim_id)
        .order_by(FundPayment.paid_on.desc(), FundPayment.id.desc())
    )
    return [(row, money.from_minor(row.amount_minor, row.currency)) for row in rows]
