"""Each project's totals per account (ledger.project_balances): kept by every booking on a project
in its transaction, equal to a recount of the postings, named by `flask figures verify` when
altered behind the app, and read by the portfolio as the monthly balances would give it."""

from __future__ import annotations

from datetime import date
from unittest import mock

from sqlalchemy import case, func, select

from ledger import engine, project_balances
from ledger.models import Entry, Posting
from ledger.reports.project_figures import project_portfolio
from tests.figures_checks import altered_behind_the_app, mended_by_rebuild
from tests.ledger.test_balances import book_a_bit_of_everything
from vat.db import db


def recounted() -> dict[tuple[int, int], tuple[int, int, date]]:
    """The totals as the postings give them, counted here without the module's own query."""
    rows = db.session.execute(
        select(
            Posting.project_id,
            Posting.account_id,
            func.sum(Posting.usd_minor),
            func.sum(case((Posting.usd_minor > 0, Posting.usd_minor), else_=0)),
            func.max(Entry.entry_date),
        )
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Posting.project_id.is_not(None))
        .group_by(Posting.project_id, Posting.account_id)
    ).all()
    return {(p, a): (int(u), int(d), day) for p, a, u, d, day in rows}


def kept() -> dict[tuple[int, int], tuple[int, int, date]]:
    c = project_balances.totals.c
    rows = db.session.execute(select(c.project_id, c.account_id, c.usd_minor, c.usd_debit_minor, c.last_on))
    return {(p, a): (int(u), int(d), day) for p, a, u, d, day in rows}


def book_two_projects(fund) -> None:
    book_a_bit_of_everything(fund)  # a grant of 20,000 and a tranche of 5,000 in February 2019
    later = fund.project("1000", on=date(2019, 3, 5))
    fund.disburse(later, "400", on=date(2019, 3, 20))
    tranche = fund.disburse(later, "100", on=date(2019, 4, 2))
    fund.reverse(db.session.get(Entry, tranche.entry_id), date(2019, 4, 9), "paid twice")
    db.session.commit()


def test_every_booking_on_a_project_adds_to_its_totals_at_once(fund):
    book_two_projects(fund)
    assert kept() == recounted() != {}
    assert project_balances.differences() == []
    payable = engine.account_id(engine.GRANTS_PAYABLE)
    later = max(project for project, _account in kept())
    # 1,000 approved, 400 paid, 100 paid and reversed: 600 still payable, last moved on 9 April
    assert kept()[(later, payable)][0] == -600_00
    assert kept()[(later, payable)][2] == date(2019, 4, 9)


def test_verify_names_a_total_altered_behind_the_app_and_rebuild_mends_it(fund, runner):
    book_two_projects(fund)
    result = altered_behind_the_app(runner, "UPDATE ledger_project_balance SET usd_minor = usd_minor + 7")
    assert result.exit_code == 1
    assert "project balances: project" in result.output
    assert "project balances:" in mended_by_rebuild(runner)
    assert kept() == recounted()


def test_the_portfolio_reads_the_totals_as_the_monthly_balances_give_it(fund):
    book_two_projects(fund)
    for end in (date(2019, 2, 13), date(2019, 3, 31), date(2019, 4, 5), date(2019, 4, 9), date(2020, 1, 1)):
        assert project_balances.covers(end) is (end >= date(2019, 4, 9)), end
        read = project_portfolio(end, today=date(2020, 1, 1))
        with mock.patch.object(project_balances, "covers", return_value=False):
            assert read == project_portfolio(end, today=date(2020, 1, 1)), end
    after = project_portfolio(date(2020, 1, 1), today=date(2020, 1, 1))
    assert [p["remaining"] for p in after][-1] == 600
