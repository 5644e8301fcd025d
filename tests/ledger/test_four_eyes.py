"""The four-eyes policy on the ledger's services: rolling limits per project, case code and payee,
the per-victim cap, approval by a second fund manager only, reversals of income, and rates that
convert only once a second fund manager has confirmed them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger import engine
from ledger.models import Entry, Tranche
from ledger.outflows import Outflow, OutflowStatus
from ledger.services import contributions, four_eyes, grants, months
from tests.ledger.conftest import PASSWORD, key
from vat.auth import services as auth
from vat.auth.models import Role
from vat.db import db
from vat.errors import Conflict, DomainError, NotAllowed


def entries(kind: str) -> int:
    return db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == kind)) or 0


def outflow_of(record_id: int, kind: str) -> Outflow:
    return db.session.scalars(
        select(Outflow).where(Outflow.record_id == record_id, Outflow.kind == kind)
    ).one()


@pytest.fixture
def funded(fund):
    fund.contribute("500000")
    return fund


def test_direct_support_of_150000_waits_and_posts_once_another_manager_approves(funded):
    support = funded.pay("CAR-2017-0042", "150000", on=date(2019, 2, 1))
    assert support.entry_id is None and entries("victim_support") == 0
    outflow = outflow_of(support.id, "direct_support")
    assert outflow.status == OutflowStatus.PENDING and outflow.held_because == "case"
    with pytest.raises(NotAllowed):
        four_eyes.approve(actor=funded.maker, outflow=outflow)
    four_eyes.approve(actor=funded.checker, outflow=outflow)
    entry = db.session.get_one(Entry, support.entry_id)
    assert (entry.maker_id, entry.checker_id) == (funded.maker.id, funded.checker.id)
    assert engine.usd_balance(engine.VICTIM_SUPPORT) == Decimal("150000.00")
    with pytest.raises(Conflict):
        four_eyes.approve(actor=funded.checker, outflow=outflow)


def test_five_tranches_of_9600_the_second_onward_wait(funded):
    project = funded.project("60000", on=date(2019, 2, 1))
    tranches = [funded.disburse(project, "9600", on=date(2019, 3, 1)) for _ in range(5)]
    assert [t.status for t in tranches] == ["posted", "pending", "pending", "pending", "pending"]
    assert entries("disbursement") == 1
    assert {outflow_of(t.id, "tranche").held_because for t in tranches[1:]} == {"project"}
    grants.approve_disbursement(actor=funded.checker, tranche=tranches[1])
    assert tranches[1].status == "posted" and entries("disbursement") == 2


def test_spreading_value_dates_does_not_escape_the_rolling_sum(funded):
    """Requested today, dated three months apart: both count (requested within 30 days)."""
    project = funded.project("60000", on=date(2019, 2, 1))
    assert funded.disburse(project, "9600", on=date(2019, 3, 1)).status == "posted"
    assert funded.disburse(project, "9600", on=date(2019, 6, 1)).status == "pending"


def test_one_partner_across_projects_is_one_payee(funded):
    first = funded.project("20000", on=date(2019, 2, 1), partner="IRC")
    second = funded.project("20000", on=date(2019, 2, 1), partner="IRC", title="Schools")
    assert funded.disburse(first, "6000").status == "posted"
    held = funded.disburse(second, "6000")
    assert held.status == "pending" and outflow_of(held.id, "tranche").held_because == "payee"


def test_direct_support_beyond_the_per_victim_cap_waits(funded, app):
    assert app.config.get("LEDGER_VICTIM_CAP_USD", four_eyes.DEFAULT_VICTIM_CAP_USD) == Decimal("5000")
    assert funded.pay("CAR-2017-0042", "2000").entry_id is not None
    assert funded.pay("CAR-2017-0042", "2000").entry_id is not None
    third = funded.pay("CAR-2017-0042", "2000")
    assert third.entry_id is None and outflow_of(third.id, "direct_support").held_because == "victim_cap"
    assert funded.pay("CAR-2017-0043", "2000").entry_id is not None  # another victim


def test_a_rejected_request_posts_nothing_and_does_not_count(funded):
    project = funded.project("60000", on=date(2019, 2, 1))
    assert funded.disburse(project, "9600").status == "posted"
    held = funded.disburse(project, "9600")
    with pytest.raises(DomainError):
        four_eyes.reject(actor=funded.checker, outflow=outflow_of(held.id, "tranche"), reason=" ")
    grants.reject_disbursement(actor=funded.checker, tranche=held, reason="wrong partner")
    assert held.status == "rejected" and entries("disbursement") == 1
    assert four_eyes.window_total(on=date(2019, 3, 1), project_id=project.id) == 960000


def test_reversing_income_beyond_the_threshold_waits_for_a_second_manager(funded):
    receipt = db.session.scalar(select(Entry).where(Entry.kind == "receipt"))
    pending = funded.reverse(receipt, on=date(2019, 2, 1), reason="wrong donor")
    assert isinstance(pending, Outflow) and entries("reversal") == 0
    assert pending.payee.startswith("donor:")
    with pytest.raises(Conflict):
        funded.reverse(receipt, on=date(2019, 2, 1), reason="again")
    four_eyes.approve(actor=funded.checker, outflow=pending)
    assert entries("reversal") == 1 and engine.reversal_of(receipt) is not None


def test_reversing_a_small_receipt_posts_at_once(fund):
    fund.contribute("500000")
    small = fund.contribute("5000", donor=fund.donor("SWE"))
    reversal = fund.reverse(db.session.get_one(Entry, small.entry_id), on=date(2019, 2, 1), reason="dup")
    assert isinstance(reversal, Entry) and reversal.kind == "reversal"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SENIOR_ADVOCATE, Role.ADMIN])
def test_only_a_fund_manager_makes_or_checks(funded, role):
    other = auth.create_user(actor=None, username=f"x{role.value}", password=PASSWORD, role=role, scope="CAF")
    held = funded.pay("CAR-2017-0042", "150000")
    with pytest.raises(NotAllowed):
        four_eyes.approve(actor=other, outflow=outflow_of(held.id, "direct_support"))
    with pytest.raises(NotAllowed):
        funded.pay("CAR-2017-0042", "10", actor=other)
    row = months.set_rate(
        actor=funded.maker, currency="EUR", month=date(2019, 2, 1), rate=Decimal("0.9"), source="UN"
    )
    with pytest.raises(NotAllowed):
        months.confirm_rate(actor=other, rate=row)


def test_a_rate_converts_only_once_another_manager_confirms_it(funded):
    row = months.set_rate(
        actor=funded.maker, currency="EUR", month=date(2019, 3, 1), rate=Decimal("100000"), source="UN"
    )
    assert not row.confirmed
    with pytest.raises(DomainError, match="awaits confirmation"):
        engine.rate_for("EUR", date(2019, 3, 5))
    with pytest.raises(NotAllowed):
        months.confirm_rate(actor=funded.maker, rate=row)
    months.confirm_rate(actor=funded.checker, rate=row)
    assert engine.rate_for("EUR", date(2019, 3, 5)) is row


def test_the_eur_attack_posts_nothing(funded):
    funded.rate("EUR", date(2019, 2, 1), "0.92")
    project = funded.project("60000", on=date(2019, 2, 1), currency="EUR")
    months.set_rate(
        actor=funded.maker,
        currency="EUR",
        month=date(2019, 3, 1),
        rate=Decimal("100000"),
        source="UN",
        reason="market moved",
    )
    with pytest.raises(DomainError, match="awaits confirmation"):
        funded.disburse(project, "50000", on=date(2019, 3, 5))
    assert db.session.scalar(select(func.count(Tranche.id))) == 0 and entries("disbursement") == 0


def test_a_rate_beyond_the_band_needs_a_reason(funded):
    funded.rate("EUR", date(2019, 2, 1), "0.92")
    march = {"actor": funded.maker, "currency": "EUR", "month": date(2019, 3, 1), "source": "UN"}
    with pytest.raises(DomainError, match="more than 10%"):
        months.set_rate(rate=Decimal("1.02"), **march)
    assert months.set_rate(rate=Decimal("1.01"), **march).reason is None  # within 10%
    assert months.set_rate(rate=Decimal("1.2"), reason="devaluation", **march).reason == "devaluation"


UN_FILE = """currency_code,currency_name,rate_per_usd,effective_date,reason
EUR,Euro,0.921,2019-03-01,
XAF,CFA franc,603.5,2019-03-01,
USD,US dollar,1,2019-03-01,
"""


def test_the_un_rates_file_is_loaded_by_one_and_confirmed_by_another(funded):
    rows = months.import_rates(actor=funded.maker, data=UN_FILE, source="UN operational rates 2019-03")
    assert [(r.currency, r.rate, r.confirmed) for r in rows] == [
        ("EUR", Decimal("0.921"), False),
        ("XAF", Decimal("603.5"), False),
    ]
    assert months.confirm_rates(actor=funded.maker) == []  # not one's own
    assert len(months.confirm_rates(actor=funded.checker)) == 2
    assert engine.rate_for("XAF", date(2019, 3, 9)).rate == Decimal("603.5")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("currency,rate\nEUR,0.9\n", "lacks the column"),
        ("currency_code,rate_per_usd,effective_date\nEUR,abc,2019-03-01\n", "Line 2"),
        ("currency_code,rate_per_usd,effective_date\nEUR,0.9,2019-03-01\nZZZ,1,2019-03-01\n", "Line 3"),
        ("currency_code,rate_per_usd,effective_date\n", "no rate"),
    ],
)
def test_a_bad_rates_file_loads_nothing(funded, data, problem):
    with pytest.raises(DomainError, match=problem):
        months.import_rates(actor=funded.maker, data=data, source="UN")


def test_a_request_sent_twice_is_one_request(funded):
    request = {
        "actor": funded.maker,
        "key": key(),
        "case_code": "CAR-2017-0042",
        "amount": Decimal("150000"),
        "currency": "USD",
        "paid_on": date(2019, 2, 1),
        "purpose": "relocation",
        "route": "mission",
        "basis": "TFC decision 2019/01",
    }
    from ledger.services import victim_support

    first = victim_support.pay_direct_support(**request)
    again = victim_support.pay_direct_support(**request)
    assert first.id == again.id and db.session.scalar(select(func.count(Outflow.id))) == 1
    with pytest.raises(Conflict):
        victim_support.pay_direct_support(**(request | {"amount": Decimal("140000")}))


def test_receipts_need_a_confirmed_rate(funded):
    donor = funded.donor("DEU")
    months.set_rate(
        actor=funded.maker, currency="EUR", month=date(2019, 4, 1), rate=Decimal("0.9"), source="UN"
    )
    with pytest.raises(DomainError, match="awaits confirmation"):
        contributions.record_receipt(
            actor=funded.maker,
            key=key(),
            donor=donor,
            amount=Decimal("100"),
            currency="EUR",
            received_on=date(2019, 4, 2),
            bank_reference="B",
        )
