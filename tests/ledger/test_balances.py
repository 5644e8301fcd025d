"""The balances the posting engine keeps (ledger.balances): written with every post, batch and
reversal in the same transaction, read for any range of days, verified and rebuilt from the
postings by `flask figures`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import func, select, text

from ledger import balances, engine
from ledger.models import Balance, Entry, Posting
from ledger.services import months
from tests.conftest import make_app
from tests.figures_checks import altered_behind_the_app, mended_by_rebuild
from tests.ledger.conftest import key
from tests.ledger.pages import seed_cash_and_project
from tests.ledger.test_post_many import payment
from vat.auth.models import Role
from vat.db import db
from vat.errors import DomainError


def kept_usd(code: str, detail: bool = True, **where: object) -> int:
    query = select(func.coalesce(func.sum(Balance.usd_minor), 0)).where(
        Balance.account_id == engine.account_id(code), Balance.detail.is_(detail)
    )
    for name, value in where.items():
        query = query.where(getattr(Balance, name) == value)
    return db.session.scalar(query) or 0


def book_a_bit_of_everything(fund) -> None:
    """Receipts, a pledge in euros received at another rate, a withholding and its transfer, a
    grant and a tranche with its programme support cost, direct support, and a reversal."""
    fund.rate("EUR", date(2019, 1, 1), "0.90")
    fund.rate("EUR", date(2019, 2, 1), "0.80")
    donor = fund.donor()
    fund.contribute("100000", on=date(2019, 1, 10), donor=donor)
    pledge = fund.pledge(donor, "9000", date(2019, 1, 15), currency="EUR")
    fund.receive(donor, "4000", date(2019, 2, 3), currency="EUR", pledge=pledge)
    withholding = fund.withhold("A-1", "NPL", "2500", date(2019, 1, 20))
    fund.transfer(withholding, "1000", date(2019, 2, 10))
    project = fund.project("20000", on=date(2019, 2, 1))
    fund.disburse(project, "5000", on=date(2019, 2, 12))
    payment_ = fund.pay("CAR-7", "300", on=date(2019, 2, 14), country_code="CAF")
    fund.reverse(db.session.get(Entry, payment_.entry_id), date(2019, 3, 1), "paid twice")
    db.session.commit()


def test_every_booking_adds_its_postings_to_the_balances_at_once(fund):
    book_a_bit_of_everything(fund)
    assert balances.differences() == []
    donor = fund.donor()
    assert kept_usd(engine.CASH, month=date(2019, 1, 1), donor_id=donor.id) == 100000_00
    assert kept_usd(engine.WITHHELD_RECEIVABLE, allegation_ref="A-1", country_code="NPL") == 1500_00
    # the payment and its reversal: a month each, netting to nothing
    assert kept_usd(engine.VICTIM_SUPPORT, case_code="CAR-7", month=date(2019, 2, 1)) == 300_00
    assert kept_usd(engine.VICTIM_SUPPORT, case_code="CAR-7", month=date(2019, 3, 1)) == -300_00
    # the total rows: the case code only marked, the same sums
    assert kept_usd(engine.VICTIM_SUPPORT, detail=False, case_code="*", month=date(2019, 2, 1)) == 300_00
    for code in (engine.CASH, engine.PLEDGES_RECEIVABLE, engine.GRANTS_PAYABLE, engine.EXCHANGE_DIFFERENCES):
        assert (
            D(kept_usd(code)).scaleb(-2)
            == D(kept_usd(code, detail=False)).scaleb(-2)
            == engine.usd_balance(code)
        )


def test_a_batch_writes_its_balances_in_one_statement(fund, app):
    from tests.bench.conftest import logged_queries

    fund.contribute("1000")
    db.session.commit()
    events = [payment("100", case="CAR-1"), payment("250", case="CAR-1"), payment("50", case="CAR-2")]
    with logged_queries(app) as log:
        engine.post_many(actor=fund.maker, events=events)
    db.session.commit()
    assert sum("ledger_balance" in statement for statement, _ in log.statements) == 1
    assert kept_usd(engine.VICTIM_SUPPORT, case_code="CAR-1") == 350_00
    assert kept_usd(engine.CASH) == 1000_00 - 400_00
    assert balances.differences() == []


def test_any_range_of_days_reads_what_its_postings_add_up_to(fund):
    book_a_bit_of_everything(fund)
    ranges = [
        (None, None),
        (date(2019, 1, 1), date(2019, 1, 31)),
        (date(2019, 1, 12), date(2019, 2, 11)),
        (date(2019, 1, 16), None),
        (None, date(2019, 2, 3)),
        (date(2019, 2, 11), date(2019, 2, 11)),
    ]
    for start, end in ranges:
        kept = balances.balances(start, end)
        read = dict(
            db.session.execute(
                select(kept.c.account_id, balances.summed(kept.c.usd_minor)).group_by(kept.c.account_id)
            ).all()
        )
        posted = (
            select(Posting.account_id, func.sum(Posting.usd_minor)).join(Entry).group_by(Posting.account_id)
        )
        if start:
            posted = posted.where(Entry.entry_date >= start)
        if end:
            posted = posted.where(Entry.entry_date <= end)
        expected = dict(db.session.execute(posted).all())
        assert {k: v for k, v in read.items() if v} == {k: v for k, v in expected.items() if v}, (start, end)


def test_verify_names_a_balance_altered_behind_the_app_and_rebuild_mends_it(app, fund, runner):
    book_a_bit_of_everything(fund)
    cash = engine.account_id(engine.CASH)
    result = altered_behind_the_app(
        runner,
        (
            "UPDATE ledger_balance SET usd_minor = usd_minor + 7 WHERE account_id = :a AND case_code = :c",
            {"a": cash, "c": "CAR-7"},
        ),
        ("DELETE FROM ledger_balance WHERE allegation_ref = 'A-1' AND account_id = :a", {"a": cash}),
    )
    assert result.exit_code == 1
    assert (
        f"account_id {cash}, month 2019-02-01, currency USD, country_code CAF, case_code CAR-7"
        in result.output
    )
    assert "usd_minor -29993" in result.output and "usd_minor -30000" in result.output
    assert "allegation_ref A-1" in result.output and "holds no row" in result.output
    assert "ledger balances:" in mended_by_rebuild(runner)


def test_a_month_does_not_close_while_the_balances_differ(fund):
    book_a_bit_of_everything(fund)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_balance SET postings = postings + 1"))
    try:
        months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    except DomainError as error:
        assert "balance" in str(error)
    else:
        raise AssertionError("closed a month over altered balances")
    db.session.rollback()
    balances.rebuild()
    months.close_period(actor=fund.maker, month=date(2019, 1, 1))


def test_another_app_on_the_same_database_sees_a_booking_at_once(app, client, login, database_url):
    """Two app servers (two app objects) on one database: no figure is kept in either."""
    login(Role.FUND_MANAGER, "")
    other = make_app(database_url)
    with other.app_context():
        manager = db.session.scalar(select(__import__("vat.auth.models", fromlist=["User"]).User))
    other_client = other.test_client()
    from tests.conftest import TestUser, sign_in

    sign_in(other, other_client, TestUser(manager.id, manager.username, Role.FUND_MANAGER))
    pages = (
        "/ledger/",
        "/ledger/trial-balance",
        "/ledger/statement",
        "/reports/fund?start=2019-01-01&end=2019-12-31",
    )
    before = {path: other_client.get(path).get_data(as_text=True) for path in pages}
    assert "200,000.00" not in before["/ledger/"]
    seed_cash_and_project(client)  # 200,000 received, a grant of 100,000 approved
    for path in pages:
        assert "200,000.00" in other_client.get(path).get_data(as_text=True), path


def test_a_key_already_booked_adds_nothing(fund):
    fund.contribute("1000")
    event = payment("100", k=key())
    engine.post_many(actor=fund.maker, events=[event])
    engine.post_many(actor=fund.maker, events=[event])
    db.session.commit()
    assert kept_usd(engine.VICTIM_SUPPORT) == 100_00
    assert balances.differences() == []


def test_the_projects_rows_alone_sum_as_every_rows_on_a_project(fund):
    """`projects_only` and `columns` (the portfolio's narrow read) give, for any range, the same
    sums per project and account as every detail row filtered afterwards."""
    book_a_bit_of_everything(fund)
    fund.disburse(fund.project("1000", on=date(2019, 3, 5)), "400", on=date(2019, 3, 20))
    db.session.commit()

    def per_project(kept, projects_only):
        rows = db.session.execute(
            select(
                kept.c.project_id,
                kept.c.account_id,
                func.sum(kept.c.usd_minor),
                func.sum(kept.c.usd_debit_minor),
            )
            .where(*([] if projects_only else [kept.c.project_id > 0]))
            .group_by(kept.c.project_id, kept.c.account_id)
        ).all()
        return {(p, a): (int(u), int(d)) for p, a, u, d in rows}

    columns = ("project_id", "account_id", "usd_minor", "usd_debit_minor")
    for start, end in (
        (None, None),
        (None, date(2019, 2, 13)),
        (date(2019, 2, 12), date(2019, 3, 10)),
        (None, date(2019, 3, 31)),
    ):
        narrow = balances.balances(start, end, detail=True, projects_only=True, columns=columns)
        whole = balances.balances(start, end, detail=True)
        assert per_project(narrow, True) == per_project(whole, False), (start, end)
        assert per_project(narrow, True)  # the range holds project rows: the comparison is not empty
