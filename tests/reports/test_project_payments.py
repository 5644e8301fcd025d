"""A tranche's payments to victims (issue 14, item 4): recorded with the tranche, each victim
sees their own amount, a reversal takes them back; and `flask figures verify` compares what the
ledger paid each case code with what the victims' records hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from ledger import project_balances
from ledger.models import DonorKind, Entry, ProjectPayment, Tranche
from ledger.reports.project_figures import (
    PortfolioTotals,
    individual_share,
    portfolio_totals,
    project_portfolio,
)
from ledger.services import contributions, corrections, grants
from tests.conftest import sign_in
from tests.ledger.conftest import Fund, key
from tests.ledger.pages import book, seed_cash_and_project
from vat.auth.models import Role, User
from vat.db import db
from vat.errors import DomainError
from vat.figures import differences
from vat.reports import fund_money
from vat.reports.fund import fund_statement
from vat.reports.scope import VictimFilters
from vat.reports.support import headline, support_rows
from vat.victims import identity, support_summary
from vat.victims.consents import record_consent
from vat.victims.models import FundPayment, SupportSummary, Victim


@pytest.fixture
def on(today: date) -> date:
    """The day the fund's events are dated: five days before the test's (read as it runs)."""
    return today - timedelta(days=5)


@pytest.fixture
def people(app: Flask, make_user: Callable[..., Any], on: date) -> Any:
    advocate_id = make_user(Role.SENIOR_ADVOCATE, "CAF").id
    manager_id = make_user(Role.FUND_MANAGER, "").id
    checker_id = make_user(Role.FUND_MANAGER, "").id
    with app.test_request_context():
        advocate = db.session.get_one(User, advocate_id)
        manager = db.session.get_one(User, manager_id)
        checker = db.session.get_one(User, checker_id)
        codes = [
            identity.register_victim(actor=advocate, country_code="CAF", mission="MINUSCA").case_code
            for _ in range(3)
        ]
        donor = contributions.create_donor(actor=manager, name="Donor", kind=DonorKind.OTHER)
        fund = Fund(manager, checker)
        fund.receive(donor, "100000.00", on, bank_reference="B-1")
        project = fund.project(
            "20000.00", on, until=on + timedelta(days=200), title="Cash for rent", case_codes=codes
        )
        db.session.commit()
        yield advocate, fund, project, codes


def summary(code: str) -> SupportSummary:
    victim_id = db.session.scalar(select(Victim.id).where(Victim.case_code == code))
    row = db.session.get(SupportSummary, victim_id, populate_existing=True)
    assert row is not None
    return row


def report_rows(advocate: User) -> dict[str, Any]:
    return {row.case_code: row for row in db.session.execute(support_rows(advocate, VictimFilters()))}


def test_a_tranche_paying_two_victims_different_amounts(people: Any, on: date) -> None:
    advocate, fund, project, (first, second, listed_only) = people
    tranche = fund.disburse(
        project,
        "1000.00",
        on,
        victim_payments=[(first.lower(), Decimal("250.00")), (second, Decimal("75.50"))],
    )
    db.session.commit()
    assert tranche.status == "posted"
    assert (summary(first).project_usd_minor, summary(first).projects, summary(first).supported) == (
        25000,
        1,
        True,
    )
    assert (summary(second).project_usd_minor, summary(second).supported) == (7550, True)
    assert (summary(listed_only).project_usd_minor, summary(listed_only).supported) == (0, False)
    rows = report_rows(advocate)
    assert (rows[first].project_minor, rows[second].project_minor, rows[listed_only].project_minor) == (
        25000,
        7550,
        0,
    )
    assert headline(advocate, VictimFilters()).project_usd == Decimal("325.50")
    assert differences() == []

    corrections.reverse_entry(
        actor=fund.maker, key=key(), entry=db.session.get_one(Entry, tranche.entry_id), on=on, reason="wrong"
    )
    db.session.commit()
    for code in (first, second):
        assert (summary(code).project_usd_minor, summary(code).projects, summary(code).supported) == (
            0,
            0,
            False,
        )
    assert db.session.scalar(select(func.count()).where(FundPayment.reversed.is_(True))) == 2
    assert headline(advocate, VictimFilters(), money=False).supported == 0
    assert differences() == []


def test_a_tranche_above_the_threshold_pays_its_victims_when_approved(people: Any, on: date) -> None:
    advocate, fund, project, (first, *_) = people
    with pytest.raises(DomainError, match="No victim has case code NOBODY-2"):
        fund.disburse(
            project, "15000.00", on, victim_payments=[(first, Decimal("1")), ("NOBODY-2", Decimal("1"))]
        )
    db.session.rollback()
    tranche = fund.disburse(project, "15000.00", on, victim_payments=[(first, Decimal("500"))])
    db.session.commit()
    assert tranche.status == "pending"
    assert not summary(first).supported  # waiting with its tranche
    grants.approve_disbursement(actor=fund.checker, tranche=tranche)
    db.session.commit()
    assert (summary(first).project_usd_minor, summary(first).supported) == (50000, True)
    assert differences() == []


@pytest.mark.parametrize(
    ("payments", "message"),
    [
        ([(0, "600"), (1, "500")], "more than the tranche"),
        ([(0, "1"), (0, "2")], "given twice"),
        ([(0, "0")], "more than zero"),
        ([(None, "10")], "No victim has case code NOBODY-1"),
    ],
)
def test_refused_payments_book_nothing(people: Any, payments: Any, message: str, on: date) -> None:
    advocate, fund, project, codes = people
    named = [("NOBODY-1" if n is None else codes[n], Decimal(v)) for n, v in payments]
    with pytest.raises(DomainError, match=message):
        fund.disburse(project, "1000.00", on, victim_payments=named)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Tranche)) == 0
    assert db.session.scalar(select(func.count()).select_from(ProjectPayment)) == 0


def test_verify_names_a_payment_altered_behind_the_app(
    app: Flask, people: Any, runner: Any, on: date
) -> None:
    advocate, fund, project, (first, second, _) = people
    victim = db.session.scalars(select(Victim).where(Victim.case_code == first)).one()
    record_consent(
        actor=advocate, victim=victim, purpose="services", given_on=on, method="written", version="1"
    )
    fund.pay(first, "120.00", on, purpose="rent")
    fund.disburse(project, "1000.00", on, victim_payments=[(second, Decimal("40"))])
    db.session.commit()
    assert fund_money.differences() == []
    db.session.execute(text("UPDATE vat_fund_payment SET usd_minor = usd_minor + 1"))
    db.session.commit()
    found = fund_money.differences()
    assert found == [
        f"payments to victims: case {first} direct support is US$120.00 in the ledger, "
        "US$120.01 recorded for the victim",
        f"payments to victims: case {second} project payments is US$40.00 in the ledger, "
        "US$40.01 recorded for the victim",
    ]
    result = runner.invoke(args=["figures", "verify"])
    assert result.exit_code == 1
    assert f"case {first} direct support is US$120.00 in the ledger" in result.output
    db.session.rollback()
    assert support_summary.differences() != []  # the summaries read the altered rows too


def test_the_disbursement_form_records_what_it_paid_each_victim(
    app: Flask, client: Any, login: Callable[..., Any], make_user: Callable[..., Any], on: date
) -> None:
    advocate_user = make_user(Role.SENIOR_ADVOCATE, "CAF")
    advocate_id = advocate_user.id
    with app.test_request_context():
        advocate = db.session.get_one(User, advocate_id)
        codes = [identity.register_victim(actor=advocate, country_code="CAF").case_code for _ in range(2)]
        db.session.commit()
    login(Role.FUND_MANAGER, "")
    seed_cash_and_project(client)
    path = "/ledger/projects/1/disburse"
    page = client.get(path).get_data(as_text=True)
    assert "Paid to victims" in page
    form = {"amount": "1000", "paid_on": on.isoformat(), "reference": "P-1"}
    refused = book(client, path, **form, victim_payments=f"{codes[0]} two hundred")
    assert refused.status_code == 200 and "Line 1: give a case code and an amount" in refused.get_data(
        as_text=True
    )
    too_much = book(client, path, **form, victim_payments=f"{codes[0]} 900\n{codes[1]} 200")
    assert too_much.status_code == 422 and "more than the tranche" in too_much.get_data(as_text=True)
    done = book(client, path, **form, victim_payments=f"{codes[0]} 250.00\n\n{codes[1]}, 80")
    assert done.status_code == 302
    with app.app_context():
        assert {
            (p.case_code, p.amount_minor, p.usd_minor) for p in db.session.scalars(select(ProjectPayment))
        } == {
            (codes[0], 25000, 25000),
            (codes[1], 8000, 8000),
        }
        assert differences() == []
    project_page = client.get("/ledger/projects/1").get_data(as_text=True)
    assert codes[0] in project_page and "250.00" in project_page

    client.post("/auth/logout")
    sign_in(app, client, advocate_user)
    with app.app_context():
        victim_ids = [db.session.scalar(select(Victim.id).where(Victim.case_code == c)) for c in codes]
    first, second = (client.get(f"/vat/victims/{i}").get_data(as_text=True) for i in victim_ids)
    assert "Money from the trust fund" in first
    assert ">$250.00<" in first and ">$80.00<" not in first
    assert ">$80.00<" in second and ">$250.00<" not in second


def test_an_advocate_cannot_disburse(client: Any, login: Callable[..., Any]) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    response = client.post("/ledger/projects/1/disburse", data={"amount": "1", "victim_payments": "CAR-1 1"})
    assert response.status_code == 403


def test_the_fund_statement_shows_the_share_paid_to_named_victims(people: Any, on: date) -> None:
    """Issue 18, item 5: what partners reported paying named victims against what the projects
    drew; a project that paid too few victims to show hides its amount and share with its count."""
    _advocate, fund, project, (first, second, _listed) = people
    fund.disburse(
        project, "1000.00", on, victim_payments=[(first, Decimal("250.00")), (second, Decimal("150.00"))]
    )
    db.session.commit()
    [row] = project_portfolio(on, today=on)
    assert (row["disbursed"], row["paid_to_victims"], row["individual_share"]) == (
        Decimal("1000.00"),
        Decimal("400.00"),
        Decimal("40.0"),
    )
    shown = fund_statement(on, on, today=on)
    assert shown.individual == (Decimal("400.00"), Decimal("1000.00"), Decimal("40.0"))
    hidden = fund_statement(on, on, today=on, small_counts_below=5)
    assert hidden.individual is None
    assert (hidden.projects[0]["paid_to_victims"], hidden.projects[0]["individual_share"]) == (None, None)
    assert individual_share(Decimal(0), Decimal(0)) is None


def recounted_payments(end: date) -> dict[str, tuple[int, int]]:
    """Per project title: the victims its standing tranches paid by `end` and their US cents,
    counted here from the payments, their tranches and the reversals."""
    reversed_ids = set(db.session.scalars(select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))))
    found: dict[str, tuple[set[str], int]] = {}
    rows = db.session.execute(
        select(ProjectPayment.case_code, ProjectPayment.usd_minor, ProjectPayment.entry_id, Tranche).join(
            Tranche, Tranche.id == ProjectPayment.tranche_id
        )
    ).all()
    for code, usd, entry_id, tranche in rows:
        if entry_id is None or entry_id in reversed_ids or tranche.paid_on > end:
            continue
        codes, total = found.setdefault(tranche.project.title, (set(), 0))
        found[tranche.project.title] = (codes | {code}, total + usd)
    return {title: (len(codes), total) for title, (codes, total) in found.items()}


def test_the_portfolio_counts_the_victims_paid_by_its_end_read_either_way(people: Any, on: date) -> None:
    """As at a day on or after every posting on a project the portfolio counts the payments
    without their tranches' days (ledger.project_balances.covers): the same figures as reading
    each tranche's day, and as a recount, for ends before, between and after the payments."""
    _advocate, fund, project, (first, second, third) = people
    other = fund.project(
        "5000.00", on, until=on + timedelta(days=200), title="School fees", case_codes=[third]
    )
    fund.disburse(project, "500.00", on, victim_payments=[(first, Decimal("100.00"))])
    fund.disburse(
        project,
        "600.00",
        on + timedelta(days=1),
        victim_payments=[(first, Decimal("50.00")), (second, Decimal("20.00"))],
    )
    fund.disburse(other, "300.00", on + timedelta(days=1), victim_payments=[(third, Decimal("30.00"))])
    undone = fund.disburse(
        other, "200.00", on + timedelta(days=2), victim_payments=[(third, Decimal("40.00"))]
    )
    fund.reverse(db.session.get_one(Entry, undone.entry_id), on + timedelta(days=3), "paid twice")
    db.session.commit()
    covered = []
    for end in (on - timedelta(days=1), *(on + timedelta(days=n) for n in range(5))):
        covered.append(project_balances.covers(end))
        read = project_portfolio(end, today=end)
        with mock.patch.object(project_balances, "covers", return_value=False):
            assert read == project_portfolio(end, today=end), end
        paid = {
            p["title"]: (p["victims_paid"], int(p["paid_to_victims"] * 100))
            for p in read
            if p["victims_paid"]
        }
        assert paid == recounted_payments(end), end
    assert covered == [False, False, False, False, True, True]
    assert recounted_payments(on + timedelta(days=4)) == {
        "Cash for rent": (2, 17000),
        "School fees": (1, 3000),
    }


def test_the_portfolio_read_a_page_at_a_time_gives_the_whole_portfolios_rows_and_totals(
    people: Any,
    on: date,
) -> None:
    """Issue 14: the fund page reads only its page of the portfolio (ordered, cut in SQL) and the
    totals from an aggregate statement: over every page, the same rows in the same order with the
    same small counts hidden, and on each page the whole portfolio's count, sums and shares."""
    _advocate, fund, project, (first, second, third) = people
    fund.disburse(
        project, "900.00", on, victim_payments=[(first, Decimal("100.00")), (second, Decimal("5.00"))]
    )
    one = fund.project("700.00", on, until=on + timedelta(days=90), title="One paid", case_codes=[third])
    fund.disburse(one, "300.00", on + timedelta(days=1), victim_payments=[(third, Decimal("30.00"))])
    for title in ("Nothing paid", "Not yet drawn", "Last"):
        fund.project("100.00", on + timedelta(days=1), until=on + timedelta(days=90), title=title)
    db.session.commit()
    for end in (on, on + timedelta(days=1)):  # before the last postings (the balances) and after
        every = project_portfolio(end, today=end)
        paid = sum((p["paid_to_victims"] for p in every), Decimal(0))
        disbursed = sum((p["disbursed"] for p in every), Decimal(0))
        assert disbursed > 0 and len(every) in (2, 5)
        for below in (1, 2, 3):
            whole = fund_statement(on, end, today=end, small_counts_below=below)
            few = [p for p in every if 0 < p["victims_paid"] < below]
            assert whole.individual == (None if few else (paid, disbursed, individual_share(paid, disbursed)))
            assert whole.project_count == len(whole.projects) == len(every)
            assert portfolio_totals(end, few_below=below) == _summed(every, below)  # a page past the end
            pages = [
                fund_statement(on, end, today=end, small_counts_below=below, page=(offset, 2))
                for offset in (0, 2, 4, 6)
            ]
            assert [len(page.projects) for page in pages] == [
                min(2, max(0, len(every) - o)) for o in (0, 2, 4, 6)
            ]
            assert [p for page in pages for p in page.projects] == whole.projects, (end, below)
            for page in pages:
                assert (page.project_count, page.individual, page.reported) == (
                    whole.project_count,
                    whole.individual,
                    whole.reported,
                )


def _summed(projects: list[dict[str, Any]], few_below: int) -> PortfolioTotals:
    """The portfolio's totals added up from its rows, as the reader would."""

    def added(name: str) -> Decimal:
        return sum((p[name] for p in projects), Decimal(0))

    def few(name: str) -> int:
        return sum(1 for p in projects if 0 < p[name] < few_below)

    return PortfolioTotals(
        len(projects),
        added("disbursed"),
        added("paid_to_victims"),
        added("reported_to_victims"),
        few("victims_paid"),
        few("victims_reported"),
    )
