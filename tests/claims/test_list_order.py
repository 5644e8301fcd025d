"""The claims list in the reader's order: by a heading, both ways, and back to the longest waiting."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.claims.conftest import new_victim, open_claim
from vat.auth.models import Role, User
from vat.db import db


def claim_codes(client: FlaskClient, address: str) -> list[str]:
    return re.findall(r'href="/vat/claims/\d+">([^<]+)</a>', client.get(address).get_data(as_text=True))


def test_claims_sort_by_member_state_and_opening_both_ways(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    states = ("FRA", "BGD", "ZAF", "NPL")
    with app.test_request_context():
        actor = db.session.get(User, user.id)
        claims = [
            open_claim(
                actor, new_victim(actor), member_state=state, opened_on=date.today() - timedelta(days=10 + n)
            )
            for n, state in enumerate(states)
        ]
        db.session.commit()
        code_of = {state: claim.code for state, claim in zip(states, claims, strict=True)}
    by_state = [code_of[s] for s in sorted(states)]
    assert claim_codes(client, "/vat/claims/?sort=member_state&order=asc") == by_state
    assert claim_codes(client, "/vat/claims/?sort=member_state&order=desc") == by_state[::-1]
    newest = [code_of[s] for s in states]
    assert claim_codes(client, "/vat/claims/?sort=opened_on&order=desc") == newest
    page = client.get("/vat/claims/?sort=member_state&order=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and "Oldest waiting first" in page
    assert "oldest waiting first." in client.get("/vat/claims/?sort=anything").get_data(as_text=True)
