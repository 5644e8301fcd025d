"""Issue 19, item 3: every report table that grows with the data (one row per donor, contributing
country, allegation…) is shown a page at a time, server-side, 50 rows at most, and its page links
keep the report's filters; in English and in French."""

from __future__ import annotations

import re
from datetime import date

import pycountry
import pytest
from flask import render_template_string

from ledger.models import DonorKind
from ledger.services import contributions
from tests.ledger.conftest import Fund
from tests.reports.conftest import add_victims
from vat.allegations.models import Allegation
from vat.allegations.services import withholding_proposals
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.suppression import SuppressedTable
from vat.reports.views.blueprint import paged
from vat.victims import service_tally, support_summary

ROWS = 55  # one more page than the 50 a page shows
CODES = [f"CAR-2021-{n}" for n in range(8001, 8106)]  # 105 victims: two pages of the per-victim table
COUNTRIES = sorted(c.alpha_3 for c in pycountry.countries)[:ROWS]


def _in(language: str, app, user) -> None:
    with app.app_context():
        db.session.get_one(User, user.id).language = language
        db.session.commit()


def _rows(page: str, table_id: str) -> list[str]:
    """The row headings of the table `table_id` on `page`."""
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">(?:<bdi>)?([^<]+)', table)


def _links(page: str, param: str) -> list[str]:
    """The addresses of the links to another page of the table paged by `param`."""
    hrefs = [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', page)]
    return [href for href in hrefs if re.search(rf"[?&]{param}=\d", href)]


def _two_pages(client, language, url, table_id, per_page, param, kept):
    """The first two pages of the table `table_id` of `url`, in `language`: the first holds
    `per_page` rows and one link to the next, by `param`, keeping `kept` (parts of the query).
    Returns (the first page, the second, the row headings of both)."""
    first = client.get(url).get_data(as_text=True)
    assert f'<html lang="{language}"' in first
    assert len(_rows(first, table_id)) == per_page
    [following] = _links(first, param)
    assert f"{param}=2" in following and all(part in following for part in kept)
    second = client.get(following).get_data(as_text=True)
    return first, second, _rows(first, table_id) + _rows(second, table_id)


def _contingent_allegations(app) -> None:
    with app.app_context():
        for number, country in enumerate(COUNTRIES):
            db.session.add(
                Allegation(
                    reference=f"{number}/21",
                    country_code="CAF",
                    mission="MINUSCA",
                    perpetrator_country=country,
                    personnel_category="military_contingent",
                    outcome="substantiated",
                    historical=False,
                    received_on=date(2021, 1, 1),
                    report_submitted_on=date(2021, 3, number % 28 + 1),
                )
            )
        db.session.commit()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_donors_of_the_fund_statement_come_a_page_at_a_time(app, client, login, world, language):
    with app.app_context():
        manager = db.session.get_one(User, world.fund_manager_id)
        fund = Fund(manager)
        for number in range(ROWS):
            donor = contributions.create_donor(
                actor=manager, name=f"Donor {number:02d}", kind=DonorKind.OTHER
            )
            fund.pledge(donor, "100", date(2021, 4, 1))
        db.session.commit()
    _in(language, app, login(Role.FUND_MANAGER, ""))
    period = "start=2021-01-01&end=2021-12-31"
    first, second, donors = _two_pages(
        client,
        language,
        f"/reports/fund?{period}",
        "pledges-table",
        50,
        "donors_page",
        ("start=2021-01-01", "end=2021-12-31"),
    )
    assert {f"Donor {n:02d}" for n in range(ROWS)} <= set(donors)
    assert len(donors) == len(set(donors))  # (with the world's own donors, each once)
    # The other tables keep their own page; the statement above them counts every donor.
    assert 'id="closing-balance"' in second
    assert (
        first.split('id="fund-summary"')[1].split("</table>")[0]
        == (second.split('id="fund-summary"')[1].split("</table>")[0])
    )
    past_the_end = client.get(f"/reports/fund?{period}&donors_page=99999999999").get_data(as_text=True)
    assert _rows(past_the_end, "pledges-table") == []


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_member_state_scorecard_comes_a_page_at_a_time(app, client, login, language):
    _contingent_allegations(app)
    _in(language, app, login(Role.ADVOCATE, "CAF"))
    first = client.get("/reports/member-states").get_data(as_text=True)
    assert f'<html lang="{language}"' in first
    assert len(_rows(first, "member-states-table")) == 50
    [following] = _links(first, "page")
    second = client.get(following).get_data(as_text=True)
    shown = _rows(first, "member-states-table") + _rows(second, "member-states-table")
    assert len(shown) == ROWS and len(set(shown)) == ROWS


def test_the_withholdings_to_record_come_a_page_at_a_time(app, client, login):
    _contingent_allegations(app)
    with app.app_context():
        assert withholding_proposals(page=2, per_page=50).total == ROWS
        assert len(withholding_proposals(page=2, per_page=50).items) == ROWS - 50
    login(Role.FUND_MANAGER, "")
    first = client.get("/reports/withholdings-to-record").get_data(as_text=True)
    second = client.get("/reports/withholdings-to-record?page=2").get_data(as_text=True)
    references = [re.findall(r"<td>(\d+/21)</td>", page) for page in (first, second)]
    assert len(references[0]) == 50 and len(references[1]) == ROWS - 50
    assert sorted(references[0] + references[1]) == sorted(f"{n}/21" for n in range(ROWS))
    assert "page=2" in first


def test_a_suppressed_table_shows_one_page_of_its_rows_and_every_rows_totals(app):
    """The claims report's member states and the referral gap map's places: the page's rows only,
    under the totals of them all."""
    places = [f"Place {n:02d}" for n in range(ROWS)]
    table = SuppressedTable(
        row_labels=places,
        column_labels=["a", "b"],
        cells=[[n, 1] for n in range(ROWS)],
        row_totals=[n + 1 for n in range(ROWS)],
        column_totals=[sum(range(ROWS)), ROWS],
        grand_total=sum(range(ROWS)) + ROWS,
        hidden=frozenset(),
        threshold=1,
    )
    with app.test_request_context("/reports/referrals?places_page=2"):
        rows = paged("places_page", range(ROWS))
        shown = render_template_string(
            '{% from "reports/_reports.html" import suppressed_table %}'
            '<div id="gaps">{{ suppressed_table(table, "gaps", "place", rows) }}</div>',
            table=table,
            rows=rows,
        )
    assert (rows.page, rows.per_page, rows.total) == (2, 50, ROWS)
    assert _rows(shown, "gaps") == places[50:] + ["total"]
    assert '<td class="num">1,540</td>' in shown  # 0 + 1 + … + 54, and 55 ones


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_per_victim_table_comes_a_page_at_a_time_with_its_filters(app, client, login, world, language):
    """The per-victim report (issue 19's example): 100 rows a page; page 2 keeps the filters."""
    with app.app_context():
        add_victims(
            (code, {"country_code": "CAF", "mission": "MINUSCA"}, "female", "adult", date(2021, 1, 1))
            for code in CODES
        )
        db.session.flush()
        support_summary.rebuild()
        service_tally.rebuild()
        db.session.commit()
    _in(language, app, login(Role.SENIOR_ADVOCATE, "CAF, COD"))
    _, _, codes = _two_pages(
        client,
        language,
        "/reports/victims?country=CAF&year=2021",
        "support-rows",
        100,
        "page",
        ("country=CAF", "year=2021"),
    )
    assert set(CODES) <= set(codes) and len(codes) == len(set(codes))  # (and the world's, each once)
