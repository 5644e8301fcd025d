"""Victims' create forms against a real server (issue 16, item 7): 20 clients at once, half of them
resubmitting one form with the same key, half with a key each. Nothing doubled (one victim for the
shared key), nothing lost (every acknowledged key has its victim; a 503 "submit again" resubmitted
with its key is saved once)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from tests.soak.helpers import connected, sharing, signed_in, together
from tests.soak.test_crash import secret_of
from vat.auth.models import Role
from vat.db import db
from vat.request_keys import RequestKey
from vat.victims.models import Victim

SUCCESS, TRY_AGAIN = 302, 503
CLIENTS, ROUNDS = 20, 2


def victims(database_url: str) -> int:
    with connected(database_url):
        return db.session.scalar(select(func.count(Victim.id))) or 0


def recorded(database_url: str, keys: list[str]) -> dict[str, str | None]:
    """What each key's submission created ("vat_victim:<id>"), for the keys that were saved."""
    with connected(database_url):
        rows = db.session.execute(select(RequestKey.key, RequestKey.record).where(RequestKey.key.in_(keys)))
        return {key: record for key, record in rows}


def test_twenty_clients_registering_victims_at_once_double_nothing_and_lose_nothing(
    start_server, make_user, database_url
):
    advocate = make_user(Role.ADVOCATE, "CAF")
    server = start_server(workers=4)
    first = signed_in(server.url, advocate.username, secret_of(database_url, advocate.id))
    status, page = first.request("/vat/victims/new")
    assert status == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    clients = [sharing(first, server.url) for _ in range(CLIENTS)]  # after the token: it lives in the session

    resubmitted: list[int] = []

    def register(client, key: str, n: int) -> int:
        fields = {"csrf_token": token, "key": key, "country_code": "CAF", "mission": "MINUSCA"}
        fields |= {
            "sex": "female",
            "age_group": "adult",
            "name": f"Soak {n}",
            "advocate_id": str(advocate.id),
        }
        for _ in range(10):  # a 503 says nothing was saved: submit again, with the same key
            status, _ = client.request("/vat/victims/new", fields)
            if status != TRY_AGAIN:
                return status
            resubmitted.append(1)
        return status

    before = victims(database_url)
    answers: list[int] = []
    distinct: list[str] = []
    shared: list[str] = []
    for round_ in range(ROUNDS):
        same = uuid.uuid4().hex
        own = [uuid.uuid4().hex for _ in range(CLIENTS // 2)]
        shared.append(same)
        distinct += own
        jobs = [(lambda c=c, k=same, n=round_: register(c, k, n)) for c in clients[: CLIENTS // 2]]
        jobs += [
            (lambda c=c, k=k, n=1000 * (round_ + 1) + i: register(c, k, n))
            for i, (c, k) in enumerate(zip(clients[CLIENTS // 2 :], own, strict=True))
        ]
        answers += together(jobs)

    assert set(answers) == {SUCCESS}, answers  # every submission acknowledged, in the end
    saved = recorded(database_url, shared + distinct)
    assert set(saved) == set(shared + distinct)  # nothing lost
    assert all(record and record.startswith("vat_victim:") for record in saved.values())
    assert len(set(saved.values())) == len(saved)  # one victim per key, none shared
    assert victims(database_url) == before + ROUNDS * (1 + CLIENTS // 2)  # nothing doubled
    print(
        f"\n{len(answers)} submissions ({ROUNDS} rounds of {CLIENTS}), {len(saved)} keys, "
        f"{victims(database_url) - before} victims; {len(resubmitted)} answered 503 and were resubmitted"
    )
