"""The fund statement beyond the known answers of test_services.py: a reversed pledge, income that
is neither a contribution nor withheld, and the benchmark's hand-written SQL giving the same
figures as the app (tests/bench/sql.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ledger.models import Account, DonorKind, Entry, Pledge
from ledger.services import contributions
from tests.bench.sql import bind, fund_statement_sql
from tests.conftest import BACKEND
from tests.ledger.conftest import Fund
from vat.db import db
from vat.reports.fund import fund_statement

D = Decimal
YEAR = (date(2021, 1, 1), date(2021, 12, 31))


def _manager(world):
    from vat.auth.models import User

    return db.session.get(User, world.fund_manager_id)


def test_a_reversed_pledge_leaves_the_donor_with_nothing_pledged(app, world):
    with app.app_context():
        manager = _manager(world)
        sweden = contributions.create_donor(
            actor=manager, name="Sweden", kind=DonorKind.MEMBER_STATE, country_code="SWE"
        )
        fund = Fund(manager)
        pledge = fund.pledge(sweden, "700", date(2021, 4, 1))
        fund.reverse(db.session.get_one(Entry, pledge.entry_id), date(2021, 4, 2), "pledged twice")
        db.session.commit()
        statement = fund_statement(*YEAR, today=date(2021, 6, 1))
        assert ("Sweden", D("0.00"), D("0.00"), D("0.00")) in statement.pledges
        assert ("Voluntary contributions", "Sweden", D("0.00")) in statement.income
        assert statement.total_income == D("7800.00")  # as before the pledge
        assert db.session.scalar(select(Pledge.id).where(Pledge.donor_id == sweden.id)) == pledge.id


def test_an_exchange_gain_has_its_own_line_and_counts_in_the_balance(app, world):
    """Income on a revenue account other than contributions and withheld payments (an exchange
    gain here, booked through the engine) has the ledger's line for exchange differences."""
    from ledger import engine
    from ledger.engine import Line

    with app.app_context():
        gain = db.session.scalar(select(Account).where(Account.code == engine.EXCHANGE_DIFFERENCES))
        payload = {"event": "test gain"}
        assert engine.begin("gain", payload) is None
        engine.post(
            _manager(world),
            engine.Event(
                key="gain",
                payload=payload,
                kind=engine.EntryKind.RECEIPT,
                entry_date=date(2021, 5, 3),
                memo="exchange gain",
                lines=[Line(engine.CASH, "USD", D("12.34")), Line(gain.code, "USD", D("-12.34"))],
            ),
        )
        db.session.commit()
        statement = fund_statement(*YEAR, today=date(2021, 6, 1))
        assert statement.income[-1] == ("Realised exchange differences and rounding", "", D("12.34"))
        assert statement.total_income == D("7812.34")
        assert statement.closing_balance == D("5932.34")
        assert statement.closing_cash == D("4132.34")
        assert ("2021-05", D("12.34"), D("0.00")) in statement.months


def test_the_benchmark_reference_sql_gives_the_statement_figures(app, world):
    """The hand-written SQL the benchmark sets against fund_statement() must compute what the
    statement shows, or the benchmark's ratio means nothing."""
    backend = "sqlite" if BACKEND == "sqlite" else "postgres"
    start, end, today = date(2021, 2, 1), date(2021, 12, 31), date(2021, 6, 1)
    with app.app_context():
        statement = fund_statement(start, end, today=today)
        connection = db.session.connection()
        period, pledges, withheld, projects, donors = (
            connection.exec_driver_sql(
                sql, bind(backend, sql, {"start": start, "end": end, "today": today})
            ).all()
            for sql in fund_statement_sql(backend)
        )
        accounts = {a.id: a for a in db.session.scalars(select(Account))}
    name = dict(donors)
    in_period = [row for row in period if row[3] is not None]
    before = [row for row in period if row[3] is None]
    fund = {"revenue", "expense", "net_assets"}

    def cents(rows, keep) -> Decimal:
        return D(sum(row[4] for row in rows if keep(accounts[row[0]]))).scaleb(-2)

    assert statement.opening_balance == -cents(before, lambda a: a.type in fund)
    assert statement.closing_balance == -cents(period, lambda a: a.type in fund)
    assert statement.opening_cash == cents(before, lambda a: a.code == "1000")
    assert statement.closing_cash == cents(period, lambda a: a.code == "1000")
    assert statement.total_income == -cents(in_period, lambda a: a.type == "revenue")
    assert statement.total_expenses == cents(in_period, lambda a: a.type == "expense")
    contributions = {name[row[1]]: 0 for row in in_period if accounts[row[0]].code == "4000"}
    for row in in_period:
        if accounts[row[0]].code == "4000":
            contributions[name[row[1]]] -= row[4]
    assert [(s, D(m).scaleb(-2)) for s, m in sorted(contributions.items())] == [
        (source, amount)
        for category, source, amount in statement.income
        if category == "Voluntary contributions"
    ]
    assert [(d, *(D(v).scaleb(-2) for v in values)) for d, *values in pledges] == statement.pledges
    assert [(c, *(D(v).scaleb(-2) for v in values)) for c, *values in withheld] == statement.withheld
    assert [
        (row[0], D(row[9]).scaleb(-2), D(row[10]).scaleb(-2), D(row[11]).scaleb(-2), row[12], bool(row[13]))
        for row in projects
    ] == [
        (p["title"], p["approved"], p["disbursed"], p["remaining"], p["victims_paid"], p["behind_schedule"])
        for p in statement.projects
    ]


def test_the_portfolio_nets_a_reversed_approval_from_the_day_it_is_reversed(app, world):
    """The portfolio reads the balances: a project whose approval was reversed shows nothing
    approved from the reversal's day, as the reference SQL over the postings says."""
    from ledger.models import ProjectFocus

    backend = "sqlite" if BACKEND == "sqlite" else "postgres"
    with app.app_context():
        manager = _manager(world)
        fund = Fund(manager)
        terms = {"title": "P2", "focus": ProjectFocus.SERVICES, "planned_start": date(2021, 5, 1)}
        project = fund.project("100.00", date(2021, 4, 1), until=date(2021, 12, 31), **terms)
        fund.reverse(db.session.get_one(Entry, project.entry_id), date(2021, 5, 3), "approved twice")
        db.session.commit()
        for end, approved in ((date(2021, 4, 30), D("100.00")), (date(2021, 12, 31), D("0.00"))):
            statement = fund_statement(date(2021, 1, 1), end, today=date(2021, 6, 1))
            mistake = next(p for p in statement.projects if p["title"] == "P2")
            assert (mistake["approved"], mistake["disbursed"], mistake["remaining"]) == (
                approved,
                0,
                approved,
            )
            projects_sql = fund_statement_sql(backend)[3]
            params = bind(
                backend, projects_sql, {"start": date(2021, 1, 1), "end": end, "today": date(2021, 6, 1)}
            )
            reference = db.session.connection().exec_driver_sql(projects_sql, params).all()
            assert [
                (row[0], D(row[9]).scaleb(-2), D(row[10]).scaleb(-2), D(row[11]).scaleb(-2))
                for row in reference
            ] == [(p["title"], p["approved"], p["disbursed"], p["remaining"]) for p in statement.projects]


def test_the_fund_page_opens_on_the_funds_life(app, client, login, world):
    """Issue 19, item 9: with no dates asked for, the page shows the fund's life (its first entry
    to today), not an empty current year."""
    from sqlalchemy import func

    from vat.auth.models import Role

    with app.app_context():
        first = db.session.scalar(select(func.min(Entry.entry_date)))
    login(Role.FUND_MANAGER, "")
    page = client.get("/reports/fund").get_data(as_text=True)
    assert f'value="{first.isoformat()}"' in page
    assert f'value="{date.today().isoformat()}"' in page
    this_year = client.get(f"/reports/fund?start={date.today().year}-01-01").get_data(as_text=True)
    assert f'value="{first.isoformat()}"' not in this_year  # a date asked for is kept


def test_the_portfolio_is_shown_a_page_at_a_time_with_the_same_figures(app, client, login, world):
    """Issue 14: the fund page lists its projects 50 at a time; every project still counts in the
    statement, so the figures above and below the list are the same on every page."""
    import re

    from vat.auth.models import Role

    with app.app_context():
        fund = Fund(_manager(world))
        for number in range(52):
            fund.project("10", date(2021, 3, 1), until=date(2021, 12, 1), title=f"Portfolio {number:02d}")
        db.session.commit()
        titles = [p["title"] for p in fund_statement(date(2021, 1, 1), date(2021, 12, 31)).projects]
    login(Role.FUND_MANAGER, "")
    pages = [
        client.get(f"/reports/fund?start=2021-01-01&end=2021-12-31&page={n}").get_data(as_text=True)
        for n in (1, 2)
    ]
    shown = [re.findall(r'<th scope="row">([^<]+) <small>', page) for page in pages]
    assert len(shown[0]) == 50 and shown[0] + shown[1] == titles
    assert "page=2" in pages[0] and "start=2021-01-01" in pages[0]

    statement = [page.split("<h2>Project portfolio</h2>")[0].split("</form>")[-1] for page in pages]
    share = [re.findall(r'<p id="individual-share">(.+?)</p>', page) for page in pages]
    assert "<table" in statement[0] and statement[0] == statement[1]
    assert share[0] == share[1]


def _portfolio_from_postings(end):
    """Each project's approved, disbursed and remaining (US cents) and its victims paid and their
    money, added up here from every posting and payment dated by `end`."""
    from ledger import engine
    from ledger.models import Posting, Project, ProjectPayment, Tranche

    reversed_ids = set(db.session.scalars(select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))))
    withdrawn = {
        entry.reverses_id: entry.entry_date
        for entry in db.session.scalars(select(Entry).where(Entry.reverses_id.is_not(None)))
    }
    account = {name: engine.account_id(name) for name in (engine.GRANT_EXPENSE, engine.CASH)}
    account |= {name: engine.account_id(name) for name in (engine.PROGRAMME_SUPPORT, engine.GRANTS_PAYABLE)}
    money = {}
    for posting, day in db.session.execute(select(Posting, Entry.entry_date).join(Entry)):
        if posting.project_id is None or day > end:
            continue
        figures = money.setdefault(posting.project_id, [0, 0, 0])
        if posting.account_id == account[engine.GRANT_EXPENSE] and posting.usd_minor > 0:
            figures[0] += posting.usd_minor
        if posting.account_id in (account[engine.CASH], account[engine.PROGRAMME_SUPPORT]):
            figures[1] -= posting.usd_minor
        if posting.account_id == account[engine.GRANTS_PAYABLE]:
            figures[2] -= posting.usd_minor
    paid = {}
    for payment, paid_on in db.session.execute(select(ProjectPayment, Tranche.paid_on).join(Tranche)):
        if payment.entry_id is None or payment.entry_id in reversed_ids or paid_on > end:
            continue
        codes, usd = paid.setdefault(payment.project_id, (set(), [0]))
        codes.add(payment.case_code)
        usd[0] += payment.usd_minor
    rows = []
    for project in db.session.scalars(select(Project).where(Project.approved_on <= end)):
        approved, disbursed, remaining = money.get(project.id, [0, 0, 0])
        if withdrawn.get(project.entry_id, date.max) <= end:
            approved = 0
        codes, usd = paid.get(project.id, (set(), [0]))
        rows.append((project.title, approved, disbursed, remaining, len(codes), usd[0]))
    return sorted(rows)


def test_the_portfolio_equals_its_postings_added_up_after_new_and_reversed_tranches(app, world):
    """Issue 14: the portfolio reads the balances already summed per project and account; its
    figures equal the postings and payments added up one by one, for ends inside and at the end of
    a month (where the balances' month is less the postings after the end), after a project
    approved, tranches paid and one reversed."""
    from ledger.models import ProjectFocus
    from ledger.reports.project_figures import project_portfolio

    ends = [date(2021, 3, 9), date(2021, 3, 10), date(2021, 4, 15), date(2021, 4, 20)]
    ends += [date(2021, 5, 15), date(2021, 5, 19), date(2021, 5, 31), date(2021, 12, 31)]

    def compared():
        for end in ends:
            shown = sorted(
                (
                    p["title"],
                    int(p["approved"] * 100),
                    int(p["disbursed"] * 100),
                    int(p["remaining"] * 100),
                    p["victims_paid"],
                    int(p["paid_to_victims"] * 100),
                )
                for p in project_portfolio(end, today=date(2021, 6, 1))
            )
            assert shown == _portfolio_from_postings(end), end

    with app.app_context():
        compared()
        fund = Fund(_manager(world))
        terms = {"title": "P3", "focus": ProjectFocus.SERVICES, "planned_start": date(2021, 4, 10)}
        project = fund.project("300.00", date(2021, 4, 10), until=date(2021, 12, 31), **terms)
        fund.disburse(project, "100.00", date(2021, 4, 20), reference="P3-1")
        tranche = fund.disburse(project, "50.00", date(2021, 5, 12), reference="P3-2")
        db.session.commit()
        compared()
        fund.reverse(db.session.get_one(Entry, tranche.entry_id), date(2021, 5, 20), "paid twice")
        db.session.commit()
        compared()
        assert any(row[0] == "P3" and row[2] for row in _portfolio_from_postings(date(2021, 5, 15)))
