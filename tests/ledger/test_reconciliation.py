"""The withheld-payments reconciliation on a hand-built set with known answers: every line, the
ageing buckets at their edges, each country per currency, the totals against the accounts, and
reversed withholdings and transfers left out."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledger import withheld_transferred
from ledger.models import Account, Entry, Withholding, WithholdingTransfer
from ledger.reports import withheld
from tests.bench.sql import ageing_limits, bind, reconciliation_sql
from tests.conftest import BACKEND
from tests.figures_checks import altered_behind_the_app, mended_by_rebuild
from tests.ledger.conftest import Fund
from vat.auth.models import Role
from vat.db import db

D = Decimal
TODAY = date(2020, 6, 30)


def transfer(fund: Fund, withholding: Withholding, amount: str, on: date) -> Entry:
    return db.session.get(Entry, fund.transfer(withholding, amount, on).entry_id)


def reverse(fund: Fund, entry: Entry) -> None:
    fund.reverse(entry, on=TODAY, reason="booked by mistake")


@pytest.fixture
def recon(fund: Fund) -> withheld.Reconciliation:
    days_ago = lambda n: TODAY - timedelta(days=n)  # noqa: E731
    fund.rate("EUR", date(2019, 12, 1), "0.8")
    a = fund.withhold("A", "ZAF", "100000", date(2019, 1, 10))
    transfer(fund, a, "60000", date(2019, 6, 1))
    fund.withhold("B", "ZAF", "25000", days_ago(30))
    fund.withhold("C", "NPL", "10000", days_ago(90))
    d = fund.withhold("D", "NPL", "20000", days_ago(91))
    reverse(fund, transfer(fund, d, "1000", days_ago(10)))
    e = fund.withhold("E", "NPL", "5000", days_ago(365))
    transfer(fund, e, "5000", days_ago(300))
    fund.withhold("F", "NPL", "7000", days_ago(366))
    fund.withhold("G", "RWA", "8000", days_ago(200), currency="EUR")
    h = fund.withhold("H", "RWA", "3000", date(2019, 5, 1))
    reverse(fund, db.session.get(Entry, h.entry_id))
    fund.withhold("I", "ZAF", "1000", TODAY + timedelta(days=5))
    db.session.commit()
    return withheld.reconciliation(TODAY)


def test_lines_outstanding_first_oldest_first_without_reversed_records(recon):
    summary = [
        (line.allegation_ref, line.currency, line.outstanding, line.days_outstanding) for line in recon.lines
    ]
    assert summary == [
        ("A", "USD", D("40000.00"), 537),
        ("F", "USD", D("7000.00"), 366),
        ("G", "EUR", D("8000.00"), 200),
        ("D", "USD", D("20000.00"), 91),
        ("C", "USD", D("10000.00"), 90),
        ("B", "USD", D("25000.00"), 30),
        ("I", "USD", D("1000.00"), -5),
        ("E", "USD", D("0.00"), 365),
    ]


def test_each_line_shows_its_transfers_the_receivable_and_its_ageing(recon):
    lines = {line.allegation_ref: line for line in recon.lines}
    a, d, e = lines["A"], lines["D"], lines["E"]
    assert (a.withheld, a.transferred, a.last_transfer) == (D("100000.00"), D("60000.00"), date(2019, 6, 1))
    assert (d.transferred, d.last_transfer, d.ledger_outstanding) == (D("0.00"), None, D("20000.00"))
    assert e.transferred == e.withheld and e.ageing is None
    assert all(line.ledger_outstanding == line.outstanding for line in recon.lines)
    assert {ref: lines[ref].ageing for ref in "ABCDFGI"} == {
        "A": "over 365 days",
        "B": "0–90 days",
        "C": "0–90 days",
        "D": "91–180 days",
        "F": "over 365 days",
        "G": "181–365 days",
        "I": "0–90 days",  # decided in the future: counted as new
    }


def test_ageing_counts_us_dollars_outstanding_by_bucket(recon):
    assert recon.ageing == {
        "0–90 days": D("36000.00"),
        "91–180 days": D("20000.00"),
        "181–365 days": D(0),  # E is transferred; G is in euros
        "over 365 days": D("47000.00"),
    }


def test_by_country_per_currency_with_the_oldest_outstanding(recon):
    assert [
        (r["country"], r["currency"], r["allegations"], r["withheld"], r["transferred"], r["outstanding"])
        for r in recon.by_country
    ] == [
        ("ZAF", "USD", 3, D("126000.00"), D("60000.00"), D("66000.00")),
        ("NPL", "USD", 4, D("42000.00"), D("5000.00"), D("37000.00")),
        ("RWA", "EUR", 1, D("8000.00"), D("0.00"), D("8000.00")),
    ]
    # NPL's oldest is F (366 days): E is older than nothing outstanding.
    assert [r["oldest_days"] for r in recon.by_country] == [537, 366, 200]


def test_totals_per_currency_tie_to_the_accounts(recon):
    assert recon.totals == {
        "EUR": {"withheld": D("8000.00"), "transferred": D("0.00"), "outstanding": D("8000.00")},
        "USD": {"withheld": D("168000.00"), "transferred": D("65000.00"), "outstanding": D("103000.00")},
    }
    assert recon.ledger == recon.totals
    assert recon.ties
    for currency, totals in recon.totals.items():
        lines = [line for line in recon.lines if line.currency == currency]
        assert sum(line.outstanding for line in lines) == totals["outstanding"]


def test_a_ledger_that_disagrees_with_the_records_shows_the_difference(recon, fund):
    """A transfer recorded in the sub-ledger whose cash posting is missing (as after a failed
    import run outside the app, then `flask figures rebuild`) leaves the records and the accounts
    apart by its amount."""
    withholding = db.session.scalar(select(Withholding).where(Withholding.allegation_ref == "B"))
    last_entry = db.session.scalar(select(Entry.id).order_by(Entry.id.desc()).limit(1))
    db.session.add(
        WithholdingTransfer(
            withholding_id=withholding.id,
            amount_minor=250000,
            transferred_on=TODAY,
            reference="no posting",
            entry_id=last_entry,
        )
    )
    db.session.flush()
    [named] = withheld_transferred.KEPT.differences()
    assert f"withholding {withholding.id} holds 0; its standing transfers add up to 250000" in named
    withheld_transferred.KEPT.rebuild()
    changed = withheld.reconciliation(TODAY)
    assert not changed.ties
    assert changed.differences["USD"] == {
        "withheld": D("0.00"),
        "transferred": D("2500.00"),
        "outstanding": D("-2500.00"),
    }
    [line] = [x for x in changed.lines if x.allegation_ref == "B"]
    assert (line.outstanding, line.ledger_outstanding) == (D("22500.00"), D("25000.00"))


def test_the_benchmark_reference_sql_gives_the_page_figures(recon):
    """The hand-written SQL the benchmark sets against reconciliation() (tests/bench/sql.py) must
    compute what the page shows, or the benchmark's ratio means nothing."""
    backend = "sqlite" if BACKEND == "sqlite" else "postgres"
    connection = db.session.connection()
    lines, groups, accounts = (
        connection.exec_driver_sql(sql, bind(backend, sql, ageing_limits(TODAY))).all()
        for sql in reconciliation_sql(backend)
    )
    labels = [label for _, _, label in withheld.AGEING_BUCKETS]
    assert [
        (row[0], row[1], D(row[5] - row[6]).scaleb(-2), D(row[8]).scaleb(-2), labels[row[9]]) for row in lines
    ] == [
        (x.withholding_id, x.allegation_ref, x.outstanding, x.ledger_outstanding, x.age) for x in recon.lines
    ]
    countries: dict[tuple[str, str], list[int]] = {}
    for country, currency, _bucket, count, withheld_minor, paid, _oldest in groups:
        sums = countries.setdefault((country, currency), [0, 0, 0])
        sums[0], sums[1], sums[2] = sums[0] + count, sums[1] + withheld_minor, sums[2] + paid
    assert countries == {
        (r["country"], r["currency"]): [r["allegations"], r["withheld"] * 100, r["transferred"] * 100]
        for r in recon.by_country
    }
    code = {a.id: a.code for a in db.session.scalars(select(Account))}
    ledger = {(code[account], currency): D(minor).scaleb(-2) for account, currency, minor in accounts}
    names = {"4100": "withheld", "1000": "transferred", "1200": "outstanding"}
    assert ledger == {
        (account, currency): (-1 if account == "4100" else 1) * recon.ledger[currency][name]
        for currency in recon.ledger
        for account, name in names.items()
        if recon.ledger[currency][name]
    }


def test_the_page_lists_every_line_with_its_figures(recon, client, login):
    """What the page shows of each line, through the client: the link to its withholding, the
    country, the amounts in its currency, the days and the ageing bucket (as at today, so every
    line is over a year old) — the line transferred in full last, without days."""
    db.session.rollback()  # the fixture's transaction: SQLite lets one writer in at a time
    login(Role.FUND_MANAGER, "")
    page = client.get("/ledger/withholdings").get_data(as_text=True)
    table = page.split('id="by-allegation"')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    decided = {w.allegation_ref: w.decided_on for w in db.session.scalars(select(Withholding))}
    days = {ref: str((date.today() - on).days) for ref, on in decided.items()}
    late = "over 365 days"
    assert [row[:2] + row[3:] for row in rows] == [
        ["A", "ZAF", "USD 100,000.00", "USD 60,000.00", "USD 40,000.00", days["A"], late],
        ["F", "NPL", "USD 7,000.00", "USD 0.00", "USD 7,000.00", days["F"], late],
        ["G", "RWA", "EUR 8,000.00", "EUR 0.00", "EUR 8,000.00", days["G"], late],
        ["D", "NPL", "USD 20,000.00", "USD 0.00", "USD 20,000.00", days["D"], late],
        ["C", "NPL", "USD 10,000.00", "USD 0.00", "USD 10,000.00", days["C"], late],
        ["B", "ZAF", "USD 25,000.00", "USD 0.00", "USD 25,000.00", days["B"], late],
        ["I", "ZAF", "USD 1,000.00", "USD 0.00", "USD 1,000.00", days["I"], late],
        ["E", "NPL", "USD 5,000.00", "USD 5,000.00", "USD 0.00", "—", "transferred"],
    ]
    assert rows[0][2] == "Jan 10, 2019"
    ids = {w.allegation_ref: w.id for w in db.session.scalars(select(Withholding))}
    assert re.findall(r'href="/ledger/withholdings/(\d+)"', table) == [str(ids[ref]) for ref in "AFGDCBIE"]


def test_the_lines_come_a_page_at_a_time_in_their_order(recon, client, login, monkeypatch):
    from ledger.views import withholdings

    db.session.rollback()  # the fixture's transaction: SQLite lets one writer in at a time
    monkeypatch.setattr(withholdings, "LIST_PAGE", 3)
    login(Role.FUND_MANAGER, "")
    shown = []
    for number in (1, 2, 3):
        page = client.get(f"/ledger/withholdings?page={number}").get_data(as_text=True)
        assert f"Page {number} of 3" in page
        table = page.split('id="by-allegation"')[1].split("</tbody>")[0]
        shown.append(re.findall(r'href="/ledger/withholdings/\d+">(\w+)</a>', table))
        assert ("page=4" in page) is False
    assert shown == [["A", "F", "G"], ["D", "C", "B"], ["I", "E"]]
    countries = page.split("By contributing country")[1].split("</tbody>")[0]
    assert all(f"<td>{code}</td>" in countries for code in ("ZAF", "NPL", "RWA")), (
        "every line counts, on every page"
    )


@pytest.mark.parametrize("per_page", [1, 2, 3, 6, 7, 8, 9])
def test_line_pages_walk_the_lines_in_their_order_whatever_the_page_size(recon, per_page):
    """A page is read from the owing lines, the others or both (the last owing line, I, and the
    transferred E meet on page 7 of 1, 4 of 2, 3 of 3, 2 of 6, 1 of 9): the pages laid end to end
    are the lines, each with its figures, and each page knows whether another follows."""
    summary = withheld.reconciliation(TODAY, lines=False)
    assert (summary.line_count, summary.owing_count, summary.lines) == (8, 7, [])
    shown, number = [], 1
    while True:
        page = withheld.line_page(summary, TODAY, page=number, per_page=per_page)
        assert page.total == 8 and len(page.items) == min(per_page, 8 - len(shown))
        shown += page.items
        if not page.has_next:
            break
        number += 1
    assert number == -(-8 // per_page)
    assert shown == recon.lines
    assert withheld.line_page(summary, TODAY, page=number + 1, per_page=per_page).items == []


def test_the_summary_counts_each_mission_as_the_lines_add_up(recon, fund):
    """The missions, the countries and the line counts come from one pass over the withholdings:
    each mission's figures are its lines' figures, whatever country they are in."""
    fund.withhold("J", "NPL", "4000", TODAY - timedelta(days=20)).mission = "MINUSCA"
    k = fund.withhold("K", "ZAF", "6000", TODAY - timedelta(days=200))
    k.mission = "MINUSCA"
    transfer(fund, k, "6000", TODAY - timedelta(days=100))
    db.session.flush()
    summary = withheld.reconciliation(TODAY)
    lines = {line.allegation_ref: line for line in summary.lines}
    missions = {"": [ref for ref in lines if ref not in "JK"], "MINUSCA": ["J", "K"]}
    expected = {}
    for mission, refs in missions.items():
        for currency in ("EUR", "USD"):
            mine = [lines[ref] for ref in refs if lines[ref].currency == currency]
            if mine:
                withheld_, transferred = sum(x.withheld for x in mine), sum(x.transferred for x in mine)
                expected[(mission, currency)] = {
                    "withheld": withheld_,
                    "transferred": transferred,
                    "outstanding": withheld_ - transferred,
                }
    assert summary.by_mission == expected == withheld.by_mission()
    assert list(summary.by_mission) == [("", "EUR"), ("", "USD"), ("MINUSCA", "USD")]
    assert (summary.line_count, summary.owing_count) == (10, 8)


def test_each_withholding_keeps_what_its_standing_transfers_brought_in(recon):
    """Added to as a transfer is booked, taken off as one is reversed (D's), in that transaction."""
    kept = dict(db.session.execute(select(Withholding.allegation_ref, Withholding.transferred_minor)).all())
    assert kept == dict.fromkeys("BCDFGHI", 0) | {"A": 6_000_000, "E": 500_000}
    assert withheld_transferred.KEPT.differences() == []


def test_verify_names_a_withholding_altered_behind_the_app_and_rebuild_mends_it(recon, runner):
    altered = "UPDATE ledger_withholding SET transferred_minor = transferred_minor + 7"
    result = altered_behind_the_app(runner, f"{altered} WHERE allegation_ref = 'A'")
    assert result.exit_code == 1
    assert "withholding transfers: withholding" in result.output
    assert "holds 6000007; its standing transfers add up to 6000000" in result.output
    assert "withholding transfers: 9 rows" in mended_by_rebuild(runner)
    assert withheld.reconciliation(TODAY).totals == recon.totals
