"""The victims list a person can work with: sorting by its column headings, pages, and the search
by any words of a name through blind indexes, with the name kept out of every address."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from tests.conftest import signed_in_client
from tests.vat.conftest import register
from vat import audit
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity
from vat.victims.models import Victim, VictimNameKey

NAME = "Fatimé Zaïnab-Kossi عائشة"


def codes(page: str) -> list[str]:
    return re.findall(r'href="/vat/victims/\d+">([A-Z]+-\d{4}-\d+)</a>', page)


def listed(client: FlaskClient, address: str) -> list[str]:
    return codes(client.get(address).get_data(as_text=True))


def test_victims_sort_by_a_heading_both_ways_and_pages_keep_the_order(
    app: Flask, client: FlaskClient, login: Callable[..., Any], today: date
) -> None:
    actor_id = login(Role.ADVOCATE, "CAF").id
    with app.test_request_context():
        actor = db.session.get(User, actor_id)
        for n in range(23):
            victim = register(actor, registered_on=today - timedelta(days=n % 4))
            if n % 3 == 0:
                identity.set_status(actor=actor, victim=victim, status="closed")
        db.session.commit()
        by_code = list(db.session.scalars(select(Victim.case_code).order_by(Victim.case_code)))
        newest = select(Victim.case_code).order_by(Victim.registered_on.desc(), Victim.id.desc())
        by_registered = list(db.session.scalars(newest))
        by_status = list(db.session.scalars(select(Victim.case_code).order_by(Victim.status, Victim.id)))
    first = client.get("/vat/victims").get_data(as_text=True)
    assert codes(first) == by_registered[:20] and 'aria-sort="descending"' in first
    ascending = client.get("/vat/victims?sort=case_code&order=asc").get_data(as_text=True)
    assert codes(ascending) == by_code[:20]
    assert "sort=case_code&amp;order=desc" in ascending  # the heading now sorts the other way
    assert "page=2" in ascending  # and the pager keeps the order
    assert listed(client, "/vat/victims?sort=case_code&order=asc&page=2") == by_code[20:]
    assert listed(client, "/vat/victims?sort=case_code&order=desc&per_page=50") == by_code[::-1]
    assert listed(client, "/vat/victims?sort=status&order=asc&per_page=50") == by_status
    # An unknown key is the default order, whatever the address says.
    assert listed(client, "/vat/victims?sort=name;drop&order=x") == by_registered[:20]


def test_name_search_finds_any_words_in_any_order_within_scope_and_keeps_the_name_out_of_urls(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., Any], today: date
) -> None:
    elsewhere, here = make_user(Role.ADVOCATE, "HTI").id, login(Role.ADVOCATE, "CAF").id
    with app.test_request_context():
        mine = register(db.session.get(User, here), name=NAME, aliases="Maman Aïcha")
        register(db.session.get(User, here), name="Zaïnab Other")
        register(db.session.get(User, elsewhere), country_code="HTI", mission="", name=NAME)
        db.session.commit()
        code = mine.case_code
    assert client.get("/vat/victims/by-name").status_code == 405
    for query, found in (
        ("KOSSI fatime", True),  # words in any order, without case or accents
        ("zainab", True),
        ("maman aicha", True),
        ("aïcha fatimé", True),  # a word of the name and one of an alias
        ("Fatim", False),  # a part of a word is not a word
        ("fatimé nobody", False),  # every word searched for must be there
    ):
        response = client.post("/vat/victims/by-name", data={"name": query})
        assert response.status_code == 302, query
        location = response.headers["Location"]
        assert "name" not in location and query.split()[0].lower() not in location.lower()
        page = client.get(location).get_data(as_text=True)
        assert (code in codes(page)) is found, query
        assert f"HTI-{today.year}-" not in page  # another scope's namesake stays hidden
        assert query not in page  # nor is the name written back into the list
    zainab = client.post("/vat/victims/by-name", data={"name": "zainab"}).headers["Location"]
    assert len(codes(client.get(zainab).get_data(as_text=True))) == 2
    assert len(codes(client.get(zainab + "&sort=case_code&order=asc").get_data(as_text=True))) == 2
    with app.app_context():
        events = db.session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.action == "victim.search_by_name")
        ).all()
    assert len(events) == 7 and code in events[0].detail
    assert all(
        "Zaïnab" not in e.detail and "atim" not in e.detail and "zainab" not in e.detail for e in events
    )


def test_a_search_token_works_only_in_the_session_that_made_it(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        register(db.session.get(User, user.id), name=NAME)
        register(db.session.get(User, user.id), name="Someone Else")
        db.session.commit()
    location = client.post("/vat/victims/by-name", data={"name": "fatime"}).headers["Location"]
    assert len(codes(client.get(location).get_data(as_text=True))) == 1
    colleague = signed_in_client(app, make_user(Role.ADVOCATE, "CAF"))
    assert len(codes(colleague.get(location).get_data(as_text=True))) == 2  # the whole list, not the search


def test_a_name_search_needs_a_real_word_the_right_role_and_a_csrf_token(
    app: Flask,
    client: FlaskClient,
    login: Callable[..., Any],
    csrf_client: Callable[..., FlaskClient],
) -> None:
    login(Role.ADVOCATE, "CAF")
    refused = client.post("/vat/victims/by-name", data={"name": "J ."})
    assert (
        refused.status_code == 200
        and "Give at least one name of two letters or more." in refused.get_data(as_text=True)
    )
    too_many = client.post("/vat/victims/by-name", data={"name": "aa bb cc dd ee ff gg"})
    assert "Give at most 6 names." in too_many.get_data(as_text=True)
    login(Role.FUND_MANAGER, "")
    assert client.post("/vat/victims/by-name", data={"name": "fatime"}).status_code == 403
    assert client.get("/vat/victims?sort=case_code").status_code == 403
    assert (
        csrf_client(Role.ADVOCATE, "CAF").post("/vat/victims/by-name", data={"name": "fatime"}).status_code
        == 400
    )


def test_reindexing_names_lets_victims_indexed_before_words_be_found(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        register(db.session.get(User, user.id), name=NAME)
        db.session.execute(delete(VictimNameKey))  # as a database indexed before words were
        db.session.commit()
    location = client.post("/vat/victims/by-name", data={"name": "zainab"}).headers["Location"]
    assert codes(client.get(location).get_data(as_text=True)) == []
    result = app.test_cli_runner().invoke(args=["keys", "reindex-names"])
    assert result.exit_code == 0 and "indexed the names of 1 victims" in result.output
    with app.test_request_context():
        assert identity.reindex_names(batch=1) == 1  # again, a victim a batch: the same indexes
        db.session.commit()
    location = client.post("/vat/victims/by-name", data={"name": "zainab"}).headers["Location"]
    assert len(codes(client.get(location).get_data(as_text=True))) == 1


def test_amounts_are_written_the_readers_way_in_their_currencys_decimals(app: Flask) -> None:
    from decimal import Decimal

    from flask_babel import force_locale

    from vat.templating import in_currency

    cases = {
        "en": ("FCFA325,000", "$1,234.50", "KWD12.345", "CDF1,000.00"),
        "fr": ("325\u202f000\xa0FCFA", "1\u202f234,50\xa0$US", "12,345\xa0KWD", "1\u202f000,00\xa0CDF"),
        "zh": ("FCFA325,000", "US$1,234.50", "KWD12.345", "CDF1,000.00"),
    }
    amounts = (
        (Decimal("325000"), "XAF"),
        (Decimal("1234.5"), "USD"),
        (Decimal("12.345"), "KWD"),
        (Decimal(1000), "CDF"),
    )
    with app.test_request_context():
        for language, expected in cases.items():
            with force_locale(language):
                assert tuple(in_currency(value, code) for value, code in amounts) == expected, language
        assert in_currency(None, "USD") == "—"


def test_allegations_sort_by_reference_and_received(app: Flask, client: FlaskClient, login: Any) -> None:
    from vat.allegations import services as allegations

    today = date.today()
    with app.test_request_context():
        actor = db.session.get(User, login(Role.ADVOCATE, "CAF").id)
        for n, reference in enumerate(("0002/26", "0010/25", "0001/26")):
            allegations.create_allegation(
                actor=actor, reference=reference, country_code="CAF", received_on=today - timedelta(days=n)
            )
        db.session.commit()

    def references(address: str) -> list[str]:
        return re.findall(
            r'href="/vat/allegations/\d+">([^<]+)</a>', client.get(address).get_data(as_text=True)
        )

    assert references("/vat/allegations/") == ["0002/26", "0010/25", "0001/26"]  # the latest received first
    assert references("/vat/allegations/?sort=reference&order=asc") == ["0001/26", "0002/26", "0010/25"]
    assert references("/vat/allegations/?sort=received_on&order=asc") == ["0001/26", "0010/25", "0002/26"]
