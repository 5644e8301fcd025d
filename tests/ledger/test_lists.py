"""The trust fund's list pages: donors, projects and direct support, a page at a time with their
figures and totals worked out in SQL, and the figures they read (services and reports)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from ledger import engine
from ledger.models import DirectSupport, DonorKind, Entry
from ledger.reports import direct_support_list, donor_figures, project_figures
from ledger.services import contributions, grants
from tests.conftest import BACKEND
from tests.ledger.conftest import Fund
from tests.statements import statements_sent
from vat.auth.models import Role
from vat.db import db


def pay(fund: Fund, case_code: str, amount: str, on: date, currency: str = "USD") -> None:
    fund.pay(case_code, amount, on, currency=currency, country_code="CAF")


# --- the figures -----------------------------------------------------------------------------


def test_the_fund_position_reads_the_running_balances_the_postings_add_up_to(fund):
    fund.contribute("100000")
    project = fund.project("40000")
    fund.disburse(project, "10000")
    position = grants.fund_position()
    assert position["cash"] == engine.usd_balance(engine.CASH) == D("100000") - D("10000") * D("1.13")
    assert position["commitments"] == -engine.usd_balance(engine.GRANTS_PAYABLE) == D("30000")
    assert position["available"] == position["cash"] - D("30000") * D("1.13")


def test_donor_figures_count_live_pledges_receipts_and_what_is_outstanding(fund):
    norway, sweden = fund.donor("NOR"), fund.donor("SWE")
    fund.donor("FIN")  # nothing booked yet
    pledge = fund.pledge(norway, "1000", date(2019, 1, 1))
    withdrawn = fund.pledge(norway, "500", date(2019, 1, 2))
    fund.reverse(db.session.get(Entry, withdrawn.entry_id), on=date.today(), reason="x")
    fund.receive(norway, "400", date(2019, 1, 3), pledge=pledge)
    fund.contribute("250", donor=sweden)  # unpledged

    figures = donor_figures.donor_figures()
    assert figures[norway.id] == donor_figures.DonorFigures(D("1000"), D("400"), D("600"))
    assert figures[sweden.id] == donor_figures.DonorFigures(D("0"), D("250"), D("0"))
    assert len(figures) == 2
    summary = {row["donor"].country_code: row for row in donor_figures.donor_summary()}
    assert summary["FIN"]["pledged"] == summary["FIN"]["received"] == 0
    assert (summary["NOR"]["pledged"], summary["NOR"]["outstanding"]) == (D("1000"), D("600"))


def test_direct_support_rows_and_totals_follow_the_filters(fund):
    fund.contribute("10000")
    pay(fund, "CAR-1", "100", date(2019, 2, 1))
    pay(fund, "CAR-2", "200", date(2019, 3, 1))
    pay(fund, "CAR-2", "300", date(2019, 4, 1))

    def shown(filters: direct_support_list.DirectSupportFilters) -> list[str]:
        return [
            f"{r.case_code} {r.paid_on:%m}"
            for r in db.session.scalars(direct_support_list.direct_support_rows(filters))
        ]

    everything = direct_support_list.DirectSupportFilters()
    assert shown(everything) == ["CAR-2 04", "CAR-2 03", "CAR-1 02"]  # the latest paid first
    assert direct_support_list.direct_support_totals(everything) == [
        direct_support_list.SupportTotal("USD", 3, D("600"))
    ]
    march_on = direct_support_list.DirectSupportFilters(start=date(2019, 3, 1), end=date(2019, 3, 31))
    assert shown(march_on) == ["CAR-2 03"]
    assert direct_support_list.direct_support_totals(march_on) == [
        direct_support_list.SupportTotal("USD", 1, D("200"))
    ]
    one_case = direct_support_list.DirectSupportFilters(case_code=" car-2 ")
    assert direct_support_list.direct_support_totals(one_case) == [
        direct_support_list.SupportTotal("USD", 2, D("500"))
    ]
    assert (
        direct_support_list.direct_support_totals(direct_support_list.DirectSupportFilters(currency="EUR"))
        == []
    )


def test_projects_figures_read_the_given_projects_only(fund):
    fund.contribute("100000")
    first, second = fund.project("10000"), fund.project("20000")
    fund.disburse(first, "4000")
    fund.disburse(second, "5000")
    [figures] = project_figures.projects_figures([second])
    assert (figures["approved"], figures["disbursed"], figures["remaining"]) == (
        D("20000"),
        D("5000"),
        D("15000"),
    )
    assert project_figures.projects_figures([]) == []


def test_the_filters_offer_each_currency_and_country_of_the_listed_payments_once(fund):
    """Read a value at a time, each the least after the one before: every currency and country
    of a listed payment once, in order; none of a payment awaiting its approval, no country
    where none was recorded."""
    fund.contribute("10000")
    fund.rate("EUR", date(2019, 2, 1), "0.8")
    fund.pay("CAR-1", "100", date(2019, 2, 1), country_code="COD")
    fund.pay("CAR-2", "100", date(2019, 2, 1), currency="EUR", country_code="CAF")
    fund.pay("CAR-3", "100", date(2019, 2, 1), country_code="COD")
    fund.pay("CAR-4", "100", date(2019, 2, 1))
    waiting = DirectSupport(
        case_code="CAR-5", country_code="SOM", purpose="rent", currency="CHF", amount_minor=100,
        paid_on=date(2019, 2, 1), route="mission", basis="TFC decision 2019/01",
    )  # fmt: skip
    db.session.add(waiting)
    db.session.flush()
    assert direct_support_list.filter_values() == (["EUR", "USD"], ["CAF", "COD"])


@pytest.mark.skipif(BACKEND != "sqlite", reason="the plans of SQLite's planner")
def test_the_direct_support_totals_and_filters_are_read_from_indexes(fund):
    """The list's totals per currency and the currencies and countries it offers as filters read
    every booked payment: from an index that holds the columns they read and the payment's entry,
    not from each payment's row."""
    fund.contribute("10000")
    pay(fund, "CAR-1", "100", date(2019, 2, 1))
    everything = direct_support_list.DirectSupportFilters()
    with statements_sent(db.engine, lambda sql: "ledger_direct_support" in sql) as sent:
        direct_support_list.filter_values()
        direct_support_list.direct_support_totals(everything)
    assert len(sent) == 3
    for statement in sent:
        plan = " | ".join(
            row[-1] for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
        )
        assert "COVERING INDEX" in plan and "TEMP B-TREE" not in plan, plan


# --- the pages -------------------------------------------------------------------------------


def test_direct_support_is_listed_a_page_at_a_time_with_the_totals_of_all_matching(
    fund, client, login, two_a_page
):
    fund.contribute("10000")
    for month, amount in ((2, "100"), (3, "200"), (4, "300")):
        pay(fund, f"CAR-{month}", amount, date(2019, month, 1))
    db.session.commit()
    login(Role.FUND_MANAGER, "")

    first = client.get("/ledger/direct-support").get_data(as_text=True)
    assert "CAR-4" in first and "CAR-3" in first and "CAR-2" not in first
    assert "Total of 3 payments" in first and "USD 600.00" in first
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/ledger/direct-support?page=2").get_data(as_text=True)
    assert "CAR-2" in second and "CAR-4" not in second and "Total of 3 payments" in second

    spring = client.get("/ledger/direct-support?start=2019-03-01&end=2019-04-30").get_data(as_text=True)
    assert "CAR-2" not in spring and "Total of 2 payments" in spring and "USD 500.00" in spring
    assert "Page 1 of" not in spring  # one page: no pager
    # The filters offer the currencies and countries the payments are in: chosen, not typed.
    assert '<option value="USD">USD</option>' in first and "EUR</option>" not in first
    assert '<option value="CAF">Central African Republic (CAF)</option>' in first
    assert "Total of 3 payments" in client.get("/ledger/direct-support?country=CAF").get_data(as_text=True)
    refused = client.get(
        "/ledger/direct-support?currency=EUR"
    )  # none held: ignored, as the journal's filters are
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    assert "Total of 3 payments" in refused.get_data(as_text=True)


def test_the_totals_follow_a_payment_booked_after_they_were_shown(fund, client, login):
    fund.contribute("10000")
    pay(fund, "CAR-1", "100", date(2019, 2, 1))
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    assert "Total of 1 payment" in client.get("/ledger/direct-support").get_data(as_text=True)
    pay(fund, "CAR-2", "50", date(2019, 2, 2))
    db.session.commit()
    page = client.get("/ledger/direct-support").get_data(as_text=True)
    assert "Total of 2 payments" in page and "USD 150.00" in page


def test_projects_are_listed_a_page_at_a_time_and_filtered(fund, client, login, two_a_page):
    fund.contribute("100000")
    for day in (1, 2, 3):
        fund.project("1000", on=date(2019, 2, day))
    project = fund.project("2000", on=date(2019, 2, 4))
    fund.start(project, date(2019, 2, 5), victims=3)
    db.session.commit()
    login(Role.FUND_MANAGER, "")

    first = client.get("/ledger/projects").get_data(as_text=True)
    assert "4 projects" in first and "Page 1 of 2" in first and "USD 2,000.00" in first
    ongoing = client.get("/ledger/projects?status=ongoing").get_data(as_text=True)
    assert "1 project." in ongoing and "USD 2,000.00" in ongoing and "USD 1,000.00" not in ongoing
    assert '<option value="CAF">Central African Republic (CAF)</option>' in first and "(LBR)" not in first
    assert "4 projects" in client.get("/ledger/projects?country=CAF").get_data(as_text=True)
    assert "Not a valid choice" in client.get("/ledger/projects?country=LBR").get_data(as_text=True)


def test_donors_are_listed_a_page_at_a_time_with_the_totals_of_all_donors(fund, client, login, two_a_page):
    for country, amount in (("DEU", "100"), ("NOR", "200"), ("SWE", "300")):
        fund.contribute(
            amount,
            donor=contributions.create_donor(
                actor=fund.maker, name="", kind=DonorKind.MEMBER_STATE, country_code=country
            ),
        )
    db.session.commit()
    login(Role.FUND_MANAGER, "")

    first = client.get("/ledger/donors").get_data(as_text=True)
    assert "Germany" in first and "Norway" in first and "Sweden" not in first
    assert "Total, all donors" in first and "US$600.00" in first and "Page 1 of 2" in first
    second = client.get("/ledger/donors?page=2").get_data(as_text=True)
    assert "Sweden" in second and "US$300.00" in second and "US$600.00" in second


def test_the_new_project_form_says_what_is_available_to_commit(fund, client, login):
    fund.contribute("1000")
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    page = client.get("/ledger/projects/new").get_data(as_text=True)
    assert "Available to commit: US$1,000.00" in page


def test_the_new_project_form_says_it_the_readers_way(fund, client, login):
    fund.contribute("1000")
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    page = client.get("/ledger/projects/new", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Disponible pour engagement : US$1\u202f000,00" in page


def test_the_country_list_is_in_the_readers_language_and_order(client, login):
    """Issue 19, item 1: sorted by the name the reader sees (Afrique du Sud before Allemagne),
    not by pycountry's English (Germany before South Africa)."""
    login(Role.FUND_MANAGER, "")
    form = client.get("/ledger/withholdings/new", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    south_africa = form.index('<option value="ZAF">Afrique du Sud (ZAF)</option>')
    assert south_africa < form.index('<option value="DEU">Allemagne (DEU)</option>')
