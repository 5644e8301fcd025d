"""Create forms against a real server (issue 16, item 7): for each of "register a victim", "record a
service", "record an allegation", "open a claim" and "book a receipt", 20 clients at once, half of
them resubmitting one form with the same key, half with a key each. Nothing doubled (one row for
the shared key), nothing lost (every acknowledged key has its row; a 503 "submit again"
resubmitted with its key is saved once)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger.models import Entry
from tests.conftest import all_at_once
from tests.security.forms import rendered_values
from tests.soak.helpers import connected, open_fund, sharing, signed_in
from tests.soak.test_crash import secret_of
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.claims.models import Claim
from vat.db import db
from vat.request_keys import RequestKey
from vat.victims import consents, identity
from vat.victims.models import Assistance, Victim

SUCCESS, TRY_AGAIN = 302, 503
CLIENTS, ROUNDS = 20, 2


def _day(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Form:
    name: str
    role: Role
    page: str  # renders the form (its CSRF token); {victim} and {donor} are filled in
    fields: Callable[[int], dict[str, str | None]]  # what submission n sends (distinct for distinct n)
    table: Any  # gains one row per key


FORMS = [
    Form(
        "register a victim",
        Role.ADVOCATE,
        "/vat/victims/new",
        lambda n: (
            {"country_code": "CAF", "mission": "MINUSCA", "sex": "female", "age_group": "adult"}
            | {"name": f"Soak {n}"}
        ),
        Victim,
    ),
    Form(
        "record a service",
        Role.ADVOCATE,
        "/vat/victims/{victim}/assistance/new",
        lambda n: (
            {"service_type": "medical", "provider_id": "", "provider": "", "notes": f"Visit {n}"}
            | {"status": "referred", "referral_date": _day(-1)}
        ),
        Assistance,
    ),
    Form(
        "record an allegation",
        Role.ADVOCATE,
        "/vat/allegations/new",
        lambda n: (
            {"reference": f"{n:04d}/26", "country_code": "CAF", "mission": "MINUSCA"}
            | {"received_on": _day(-1)}
        ),
        Allegation,
    ),
    Form(
        "open a claim",
        Role.ADVOCATE,
        "/vat/claims/new?victim={victim}",
        lambda n: (
            {"member_state": "FRA", "opened_on": _day(-1), "expected_birth_on": _day(60)}
            | {"father_unit": f"Unit {n}"}
        ),
        Claim,
    ),
    Form(
        "book a receipt",
        Role.FUND_MANAGER,
        "/ledger/donors/{donor}/receipt",
        lambda n: (
            {"pledge_id": "", "amount": f"{10 + n}", "currency": "USD", "received_on": _day(-1)}
            | {"bank_reference": f"R-{n}", "rate": ""}
        ),
        Entry,
    ),
]


def rows(database_url: str, table: Any) -> int:
    with connected(database_url):
        return db.session.scalar(select(func.count()).select_from(table)) or 0


def saved_keys(database_url: str, keys: list[str]) -> dict[str, str | None]:
    """What each saved key's submission created ("<table>:<id>")."""
    with connected(database_url):
        found = db.session.execute(select(RequestKey.key, RequestKey.record).where(RequestKey.key.in_(keys)))
        return {key: record for key, record in found}


def victim_in(database_url: str, advocate_id: int) -> int:
    with connected(database_url):
        actor = db.session.get(User, advocate_id)
        victim = identity.register_victim(
            actor=actor, country_code="CAF", mission="MINUSCA", sex="female", age_group="adult", name="Soak"
        )
        given = date.today() - timedelta(days=2)
        for purpose, recipient in (
            ("services", None),
            ("share_member_state", "FRA"),
            ("paternity_disclosure", None),
        ):
            signed = {"given_on": given, "method": "written", "version": "1", "recipient": recipient}
            consents.record_consent(actor=actor, victim=victim, purpose=purpose, **signed)
        db.session.commit()
        return victim.id


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_twenty_clients_submitting_a_create_form_at_once_double_nothing_and_lose_nothing(
    form, start_server, make_user, database_url
):
    user = make_user(form.role, "CAF")
    places = {"victim": 0, "donor": 0}
    if "{victim}" in form.page:
        places["victim"] = victim_in(database_url, user.id)
    if "{donor}" in form.page:
        places["donor"] = open_fund(database_url, user.id).donor_id
    page = form.page.format(**places)
    server = start_server(workers=4)
    first = signed_in(server.url, user.username, secret_of(database_url, user.id))
    status, body = first.request(page)
    assert status == 200, status
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    proposed = {name: values[0] for name, values in rendered_values(body).items() if values}
    clients = [sharing(first, server.url) for _ in range(CLIENTS)]  # after the token: it lives in the session
    resubmitted: list[int] = []

    def submit(client, key: str, n: int) -> int:
        sent = {**proposed, "csrf_token": token, "key": key, **form.fields(n)}
        fields = {name: value for name, value in sent.items() if value is not None}  # None: left out
        for _ in range(10):  # a 503 says nothing was saved: submit again, with the same key
            status, answer = client.request(page, fields)
            if status != TRY_AGAIN:
                assert status == SUCCESS, (
                    status,
                    re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)', answer),
                )
                return status
            resubmitted.append(1)
        return status

    before = rows(database_url, form.table)
    answers: list[int] = []
    keys: list[str] = []
    for round_ in range(ROUNDS):
        same = uuid.uuid4().hex
        own = [uuid.uuid4().hex for _ in range(CLIENTS // 2)]
        keys += [same, *own]
        jobs = [(lambda c=c, k=same, n=round_: submit(c, k, n)) for c in clients[: CLIENTS // 2]]
        jobs += [
            (lambda c=c, k=k, n=100 * (round_ + 1) + i: submit(c, k, n))
            for i, (c, k) in enumerate(zip(clients[CLIENTS // 2 :], own, strict=True))
        ]
        answers += all_at_once(jobs)

    assert set(answers) == {SUCCESS}, answers  # every submission acknowledged, in the end
    saved = saved_keys(database_url, keys)
    assert set(saved) == set(keys)  # nothing lost
    records = [record for record in saved.values() if record]
    assert len(set(records)) == len(records)  # one row per key, none shared
    assert rows(database_url, form.table) == before + len(keys)  # nothing doubled
    print(
        f"\n{form.name}: {len(answers)} submissions ({ROUNDS} rounds of {CLIENTS}), {len(keys)} keys, "
        f"{rows(database_url, form.table) - before} rows; {len(resubmitted)} answered 503, resubmitted"
    )
