"""Child-support payments checked against the order (issue 18): 99,999,999,999 XAF against a
25,000 XAF monthly order needs an explicit confirmation; arrears never go negative (an
overpayment is the payer's credit, claim by claim); a payment recorded by mistake is corrected by
a reversal with a reason, never edited nor deleted."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.claims.conftest import S, claim_at, order_support, pay
from vat.audit import AuditEvent
from vat.claims import listing, support
from vat.claims.history import IllegalMove
from vat.claims.models import Payment
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.reports import claims as claims_report
from vat.reports.scope import VictimFilters

HUGE = "99999999999"


def xaf_claim(advocate, amount: str = "25000", starts_days_ago: int = 0):  # type: ignore[no-untyped-def]
    claim = claim_at(advocate, S.PATERNITY_ESTABLISHED)
    order_support(
        advocate,
        claim,
        on=claim.step_on,
        amount=amount,
        currency="XAF",
        frequency="monthly",
        starts_on=date.today() - timedelta(days=starts_days_ago),
    )
    return claim


def test_a_payment_far_beyond_the_order_needs_a_confirmation(advocate):
    claim = xaf_claim(advocate)
    with pytest.raises(InvalidField, match="far beyond the order") as refused:
        pay(advocate, claim, HUGE, currency_code="XAF", received_on=date.today())
    assert refused.value.field == "confirm_unusual"
    assert claim.payments == []
    confirmed = pay(
        advocate, claim, HUGE, currency_code="XAF", received_on=date.today(), confirm_unusual=True
    )
    assert confirmed.amount == Decimal(HUGE) and confirmed.confirmed_unusual
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "claim.payment")).all()[-1]
    assert json.loads(audit.detail)["confirmed_unusual"] is True


def test_the_unusual_rule_lets_three_instalments_or_the_arrears_through(advocate):
    # 25,000 XAF a month since ~6 months ago: 7 instalments due (175,000 owed)
    claim = xaf_claim(advocate, starts_days_ago=183)
    today = date.today()
    owed = support.schedule(claim.orders, claim.payments, today).balances[0].arrears
    assert support.unusual_above(claim, "XAF", today) == owed + Decimal(25000)
    pay(
        advocate, claim, str(owed + 25000), currency_code="XAF", received_on=today
    )  # arrears and a month ahead
    # nothing owed any more: three instalments are the ceiling
    assert support.unusual_above(claim, "XAF", today) == Decimal(75000)
    pay(advocate, claim, "75000", currency_code="XAF", received_on=today)
    with pytest.raises(InvalidField, match="above 75000 XAF"):
        pay(advocate, claim, "75001", currency_code="XAF", received_on=today)


def test_arrears_never_go_negative_an_overpayment_is_credit(advocate):
    claim = xaf_claim(advocate)  # one instalment due today
    pay(advocate, claim, "75000", currency_code="XAF", received_on=date.today())
    [balance] = support.schedule(claim.orders, claim.payments).balances
    assert (balance.due, balance.received) == (Decimal(25000), Decimal(75000))
    assert (balance.arrears, balance.credit) == (Decimal(0), Decimal(50000))
    assert str(balance.arrears) == "0"  # XAF has no decimals, and no minus sign


def test_one_claims_credit_does_not_pay_another_claims_arrears(advocate):
    ahead = xaf_claim(advocate)
    pay(advocate, ahead, "75000", currency_code="XAF", received_on=date.today())  # 50,000 ahead
    xaf_claim(advocate)  # 25,000 owed, nothing paid
    [totals] = listing.dashboard(advocate).arrears
    assert (totals.due, totals.received) == (Decimal(50000), Decimal(75000))
    assert (totals.arrears, totals.credit) == (Decimal(25000), Decimal(50000))
    [line] = claims_report.claims_report(advocate, VictimFilters()).arrears  # an advocate: no suppression
    assert (line.arrears, line.claims_in_arrears) == (Decimal(25000), 1)


def test_a_payment_is_corrected_by_a_reversal_with_a_reason(advocate):
    claim = claim_at(advocate, S.SUPPORT_ORDERED)  # 50.00 USD a month
    wrong = pay(advocate, claim, "500.00", received_on=claim.step_on, confirm_unusual=True)
    with pytest.raises(InvalidField, match="why the payment is reversed"):
        support.reverse_payment(actor=advocate, claim=claim, payment_id=wrong.id, reason="  ")
    reversal = support.reverse_payment(
        actor=advocate, claim=claim, payment_id=wrong.id, reason="Typed 500 for 50 (receipt MM-88)"
    )
    right = pay(advocate, claim, "50.00", received_on=claim.step_on)
    db.session.commit()
    db.session.expire_all()
    assert (wrong.amount, wrong.reverses_id) == (Decimal("500.00"), None)  # untouched
    assert (reversal.amount, reversal.signed_amount, reversal.reverses_id) == (
        Decimal("500.00"),
        Decimal("-500.00"),
        wrong.id,
    )
    assert reversal.reason == "Typed 500 for 50 (receipt MM-88)"
    [balance] = support.schedule(claim.orders, claim.payments).balances
    assert balance.received == right.amount == Decimal("50.00")
    stored = db.session.execute(select(Payment.reason).where(Payment.id == reversal.id)).scalar()
    assert stored == "Typed 500 for 50 (receipt MM-88)"
    raw = (
        db.session.connection()
        .exec_driver_sql(
            f"SELECT reason FROM vat_claim_payment WHERE id = {reversal.id}"  # noqa: S608 - an int id
        )
        .scalar()
    )
    assert raw.startswith("v1:")  # the reason can name people: encrypted at rest
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == claim.code)).all()
    assert "claim.payment_reversed" in actions


def test_a_payment_is_reversed_once_and_a_reversal_never(advocate):
    claim = claim_at(advocate, S.SUPPORT_ORDERED)
    payment = pay(advocate, claim, "50.00", received_on=claim.step_on)
    reversal = support.reverse_payment(actor=advocate, claim=claim, payment_id=payment.id, reason="duplicate")
    with pytest.raises(IllegalMove, match="already reversed"):
        support.reverse_payment(actor=advocate, claim=claim, payment_id=payment.id, reason="again")
    with pytest.raises(IllegalMove, match="cannot be reversed"):
        support.reverse_payment(actor=advocate, claim=claim, payment_id=reversal.id, reason="undo")
    other = claim_at(advocate, S.SUPPORT_ORDERED)
    with pytest.raises(DomainError, match="this claim's payments"):
        support.reverse_payment(actor=advocate, claim=other, payment_id=payment.id, reason="wrong claim")
    [balance] = support.schedule(claim.orders, claim.payments).balances
    assert balance.received == Decimal("0.00") and balance.arrears == balance.due > 0
