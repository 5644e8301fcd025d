"""Sortable columns on the donors, projects, direct support and the audit log (issue 19, item 3),
through vat.sorting as on victims, claims and allegations: the heading's link sorts (again: the
other way round), `aria-sort` marks the sorted column, the pager keeps the order, and an unknown
column reads as the list's default."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from ledger.models import DirectSupport, DonorKind
from ledger.services import contributions
from ledger.views.direct_support import DIRECT_SUPPORT_SORTS
from vat.auth.models import Role
from vat.db import db
from vat.sorting import Sort


def order(page: str, pattern: str) -> list[str]:
    return re.findall(pattern, page)


def test_donors_sort_by_name_and_kind_and_page_in_that_order(fund, client, login, two_a_page):
    for country in ("DEU", "NOR", "SWE"):
        contributions.create_donor(
            actor=fund.maker, name="", kind=DonorKind.MEMBER_STATE, country_code=country
        )
    contributions.create_donor(actor=fund.maker, name="Aga Khan Foundation", kind=DonorKind.OTHER)
    db.session.commit()
    login(Role.AUDITOR, "")
    names = r"<bdi>([^<]+)</bdi></a></td>"
    first = client.get("/ledger/donors").get_data(as_text=True)
    assert order(first, names) == ["Aga Khan Foundation", "Germany"]
    assert 'aria-sort="ascending"' in first and 'href="/ledger/donors?sort=name&amp;order=desc"' in first
    backwards = client.get("/ledger/donors?sort=name&order=desc").get_data(as_text=True)
    assert order(backwards, names) == ["Sweden", "Norway"] and 'aria-sort="descending"' in backwards
    assert (
        "sort=name&amp;order=desc&amp;page=2" in backwards
        or "page=2&amp;sort=name&amp;order=desc" in backwards
    )
    second = client.get("/ledger/donors?sort=name&order=desc&page=2").get_data(as_text=True)
    assert order(second, names) == ["Germany", "Aga Khan Foundation"]
    by_kind = client.get("/ledger/donors?sort=kind&order=desc").get_data(as_text=True)
    assert order(by_kind, names)[0] == "Aga Khan Foundation"  # "other" after "member_state"
    unknown = client.get("/ledger/donors?sort=pledged_minor;drop").get_data(as_text=True)
    assert order(unknown, names) == ["Aga Khan Foundation", "Germany"]


def test_projects_sort_by_title_status_and_victims(fund, client, login):
    fund.contribute("100000")
    for day, title in ((1, "Beta"), (2, "Alpha"), (3, "Gamma")):
        fund.project("1000", on=date(2019, 2, day), title=title)
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    titles = r'/ledger/projects/\d+">([^<]+)</a></td>'
    assert order(client.get("/ledger/projects").get_data(as_text=True), titles) == ["Gamma", "Alpha", "Beta"]
    by_title = client.get("/ledger/projects?sort=title&order=asc").get_data(as_text=True)
    assert order(by_title, titles) == ["Alpha", "Beta", "Gamma"]
    filtered = client.get("/ledger/projects?sort=title&order=desc&country=CAF").get_data(as_text=True)
    assert order(filtered, titles) == ["Gamma", "Beta", "Alpha"]
    assert "country=CAF" in re.search(r'<a class="sort" href="([^"]+sort=partner[^"]*)"', filtered).group(1)


def test_direct_support_sorts_by_case_code(fund, client, login):
    fund.contribute("10000")
    for code, month in (("CAR-2", 2), ("CAR-9", 3), ("CAR-5", 4)):
        fund.pay(code, "100", date(2019, month, 1), country_code="CAF")
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    codes = r"<code>(CAR-\d)</code>"
    assert order(client.get("/ledger/direct-support").get_data(as_text=True), codes) == [
        "CAR-5",
        "CAR-9",
        "CAR-2",
    ]
    by_code = client.get("/ledger/direct-support?sort=case_code").get_data(as_text=True)
    assert order(by_code, codes) == ["CAR-2", "CAR-5", "CAR-9"]


def test_the_audit_log_sorts_by_who_and_action(fund, client, login):
    fund.contribute("10000")
    db.session.commit()
    login(Role.AUDITOR, "")
    page = client.get("/admin/audit?sort=actor_name&order=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and "sort=actor_name&amp;order=desc" in page
    who = re.findall(r"<td>\d+</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", page)
    assert who == sorted(who) and len(set(who)) > 1
    backwards = client.get("/admin/audit?sort=actor_name&order=desc").get_data(as_text=True)
    assert re.findall(r"<td>\d+</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", backwards) == sorted(
        who, reverse=True
    )


def test_an_advocate_may_not_sort_the_ledgers_lists(client, login):
    login(Role.ADVOCATE, "CAF")
    for path in (
        "/ledger/donors?sort=name",
        "/ledger/projects?sort=title",
        "/ledger/direct-support?sort=paid_on",
    ):
        assert client.get(path).status_code == 403


def test_a_column_that_cannot_be_null_is_sorted_without_a_nulls_clause():
    """PostgreSQL reads `paid_on DESC, id DESC` backwards along the list's index, but sorts every
    row for `paid_on DESC NULLS LAST`: a column that cannot hold a NULL is left without the clause
    that places them; one that can keeps it (NULLs the smallest, as SQLite has them)."""

    def sql(sort: Sort) -> str:
        query = DIRECT_SUPPORT_SORTS.apply(select(DirectSupport.id), sort)
        return str(query.compile(dialect=postgresql.dialect())).split("ORDER BY")[1].strip()

    paid_on = "ledger_direct_support.paid_on"
    assert sql(Sort("paid_on", descending=True)) == f"{paid_on} DESC, ledger_direct_support.id DESC"
    assert sql(Sort("paid_on", descending=False)) == f"{paid_on} ASC, ledger_direct_support.id ASC"
    country = "ledger_direct_support.country_code"
    assert sql(Sort("country_code", descending=True)).startswith(f"{country} DESC NULLS LAST")
    assert sql(Sort("country_code", descending=False)).startswith(f"{country} ASC NULLS FIRST")
