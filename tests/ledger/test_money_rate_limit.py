"""A limit on money requests (issue 15, ASVS 5.0 2.4.2): each user sends the ledger at most
VAT_MONEY_REQUESTS_PER_WINDOW writes in VAT_MONEY_WINDOW_MINUTES, counted in the database so that
every worker and server shares the count; beyond, the request is refused in plain words before it
does anything, and audited. Reading is not counted, and the services (seeding, commands) are not
limited."""

from __future__ import annotations

import itertools
from datetime import timedelta
from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.models import Donor, DonorKind
from ledger.services import contributions
from tests.conftest import all_at_once, make_app, row_count, signed_in_client
from vat.audit import AuditEvent
from vat.auth.models import LoginThrottle, Role, User
from vat.config import ConfigurationError
from vat.db import db

LIMIT = 3
NAMES = itertools.count(1)


def new_donor() -> dict[str, str]:
    """A donor form with a name of its own (and no key: a new submission each time)."""
    return {"kind": "other", "country_code": "", "name": f"Foundation {next(NAMES)}"}


def limited_app(database_url: str, limit: int = LIMIT) -> Flask:
    return make_app(database_url, VAT_MONEY_REQUESTS_PER_WINDOW=limit, VAT_MONEY_WINDOW_MINUTES=10)


def donors(app: Flask) -> int:
    return row_count(app, Donor)


def refusals(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.rate_limited")))


def test_beyond_the_limit_a_money_request_is_refused_in_plain_words_and_audited(database_url, make_user):
    app = limited_app(database_url)
    manager = make_user(Role.FUND_MANAGER, "")
    client = signed_in_client(app, manager)
    for _ in range(LIMIT):
        assert client.post("/ledger/donors/new", data=new_donor()).status_code == 302
    for _ in range(5):  # reading is not counted
        assert client.get("/ledger/donors").status_code == 200

    refused = client.post("/ledger/donors/new", data=new_donor())
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "You have sent 3 money requests in 10 minutes, the most allowed." in page
    assert "nothing was saved" in page and "UTC" in page  # when to send again, with its zone
    assert donors(app) == LIMIT
    # An approval is a money request too, refused before it reads anything.
    assert client.post("/ledger/approvals/999999/approve").status_code == 429
    events = refusals(app)
    assert [(e.actor_id, e.action) for e in events] == [(manager.id, "ledger.rate_limited")] * 2
    assert '"endpoint": "ledger.create_donor"' in events[0].detail
    # Another fund manager has a count of their own.
    other = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    assert other.post("/ledger/donors/new", data=new_donor()).status_code == 302
    assert donors(app) == LIMIT + 1


def test_the_count_is_shared_by_every_app_object_on_the_database(database_url, make_user):
    """Two app objects stand for two workers or servers: the count is the database's."""
    first, second = limited_app(database_url), limited_app(database_url)
    manager = make_user(Role.FUND_MANAGER, "")
    on_first, on_second = signed_in_client(first, manager), signed_in_client(second, manager)
    assert on_first.post("/ledger/donors/new", data=new_donor()).status_code == 302
    assert on_second.post("/ledger/donors/new", data=new_donor()).status_code == 302
    assert on_first.post("/ledger/donors/new", data=new_donor()).status_code == 302
    assert on_second.post("/ledger/donors/new", data=new_donor()).status_code == 429
    assert on_first.post("/ledger/donors/new", data=new_donor()).status_code == 429
    assert donors(first) == LIMIT


def test_parallel_requests_pass_the_limit_exactly(database_url, make_user):
    """Ten requests at once, from two app objects, real threads: exactly the limit's worth saved."""
    limit = 4
    apps = [limited_app(database_url, limit), limited_app(database_url, limit)]
    manager = make_user(Role.FUND_MANAGER, "")
    clients = [signed_in_client(apps[n % 2], manager) for n in range(10)]

    def send(client: FlaskClient) -> int:
        return client.post("/ledger/donors/new", data=new_donor()).status_code

    statuses = all_at_once([partial(send, client) for client in clients])
    assert sorted(statuses) == [302] * limit + [429] * (10 - limit)
    assert donors(apps[0]) == limit
    assert len(refusals(apps[0])) == 10 - limit


def test_a_new_window_opens_when_the_last_one_closes(database_url, make_user):
    app = limited_app(database_url, limit=1)
    manager = make_user(Role.FUND_MANAGER, "")
    client = signed_in_client(app, manager)
    assert client.post("/ledger/donors/new", data=new_donor()).status_code == 302
    assert client.post("/ledger/donors/new", data=new_donor()).status_code == 429
    with app.app_context():  # ten minutes and a second later
        row = db.session.get_one(LoginThrottle, f"money:{manager.id}")
        row.window_started_at -= timedelta(minutes=10, seconds=1)
        db.session.commit()
    assert client.post("/ledger/donors/new", data=new_donor()).status_code == 302
    assert client.post("/ledger/donors/new", data=new_donor()).status_code == 429
    assert donors(app) == 2


def test_requests_refused_before_the_ledger_are_not_counted(database_url, make_user, csrf_client):
    """Wrong role (403) and a missing CSRF token (400) are answered before the count."""
    app = limited_app(database_url, limit=1)
    advocate = make_user(Role.ADVOCATE)
    assert signed_in_client(app, advocate).post("/ledger/donors/new", data=new_donor()).status_code == 403
    manager = make_user(Role.FUND_MANAGER, "")
    assert csrf_client(manager).post("/ledger/donors/new", data=new_donor()).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(LoginThrottle.key.like("money:%"))) == 0
    assert signed_in_client(app, manager).post("/ledger/donors/new", data=new_donor()).status_code == 302


def test_the_services_are_not_limited(database_url, make_user):
    """Seeding and imports book through the same services with one maker: the limit is the web's."""
    app = limited_app(database_url, limit=1)
    manager = make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        actor = db.session.get_one(User, manager.id)
        for n in range(3):
            contributions.create_donor(
                actor=actor, name=f"Foundation {n}", kind=DonorKind.OTHER, country_code=""
            )
        db.session.commit()
    assert donors(app) == 3


@pytest.mark.parametrize("setting", ["VAT_MONEY_REQUESTS_PER_WINDOW", "VAT_MONEY_WINDOW_MINUTES"])
def test_a_limit_below_one_refuses_to_start(database_url, setting):
    with pytest.raises(ConfigurationError, match=setting):
        make_app(database_url, **{setting: 0})
