"""Two app servers (separate processes) on one database share sessions, login limits,
idempotency keys and the maker–checker rule: nothing that must be shared lives in a process's
memory."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from ledger.models import Project, Tranche
from ledger.outflows import Outflow
from ledger.services import grants
from tests.conftest import PASSWORD, all_at_once
from tests.soak.conftest import Client
from tests.soak.helpers import (
    connected,
    entries_with,
    entry_count,
    open_fund,
    post_receipt,
    post_tranche,
    sharing,
    signed_in,
)
from vat.auth.models import Role
from vat.db import db


def sign_in(client: Client, username: str) -> int:
    status, _ = client.post_form("/auth/login", {"username": username, "password": PASSWORD})
    return status


def test_sessions_are_shared_and_logout_anywhere_ends_them(start_server, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    first, second = start_server(), start_server()
    alice = Client(first.url)
    assert sign_in(alice, user.username) == 302
    assert alice.request("/")[0] == 200

    on_second = Client(second.url)
    on_second.use_session_cookie(alice.session_cookie())
    assert on_second.request("/")[0] == 200  # the same session, served by the other process

    status, _ = on_second.post_form("/auth/logout", {}, token_from="/")
    assert status == 302
    assert alice.request("/")[0] == 302  # ended everywhere, although the cookie is unchanged


def test_login_failures_count_across_processes(start_server, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    servers = [start_server(), start_server()]
    for attempt in range(5):
        client = Client(servers[attempt % 2].url)
        status, _ = client.post_form("/auth/login", {"username": user.username, "password": "wrong one!!"})
        assert status == 200
    for server in servers:
        assert sign_in(Client(server.url), user.username) == 429


def test_one_form_sent_to_both_instances_books_once(start_server, make_user, database_url):
    manager = make_user(Role.FUND_MANAGER, "")
    fund = open_fund(database_url, manager.id)
    first, second = start_server(), start_server()
    on_first = signed_in(first.url, manager.username)
    token = on_first.csrf_token(f"/ledger/donors/{fund.donor_id}/receipt")
    clients = [sharing(on_first, server.url) for server in (first, second) for _ in range(5)]
    for _ in range(3):
        key = uuid.uuid4().hex
        statuses = all_at_once([lambda c=c, k=key: post_receipt(c, fund, k, token) for c in clients])
        assert set(statuses) <= {302, 503} and 302 in statuses, statuses
        assert entries_with(database_url, [key]) == {key}
    assert entry_count(database_url) == 1 + 3


def test_maker_checker_holds_across_instances(start_server, make_user, database_url):
    maker, checker, other = (make_user(Role.FUND_MANAGER, "") for _ in range(3))
    fund = open_fund(database_url, maker.id, project="100000")
    first, second = start_server(), start_server()
    maker_on_first = signed_in(first.url, maker.username)
    token = maker_on_first.csrf_token(f"/ledger/projects/{fund.project_id}/disburse")
    key = uuid.uuid4().hex
    status, _ = post_tranche(maker_on_first, fund.project_id, key, token, "25000")  # above the threshold
    assert status == 302
    with connected(database_url):
        tranche = db.session.scalar(select(Tranche).where(Tranche.idempotency_key == key))
        assert tranche.status == "pending"
        outflow_id = db.session.scalar(select(Outflow.id).where(Outflow.idempotency_key == key))

    def approve(client: Client) -> int:
        return client.post_form(
            f"/ledger/approvals/{outflow_id}/approve", {}, token_from="/ledger/approvals"
        )[0]

    maker_on_second = sharing(maker_on_first, second.url)
    assert approve(maker_on_second) == 403  # the maker, on the other instance, still may not approve

    checkers = [signed_in(first.url, checker.username), signed_in(second.url, other.username)]
    statuses = all_at_once([lambda c=c: approve(c) for c in checkers])
    assert sorted(statuses) == [302, 409], statuses  # one approval posts it; the other finds it done
    with connected(database_url):
        tranche = db.session.get(Tranche, tranche.id)
        assert tranche.status == "posted" and tranche.checker_id in (checker.id, other.id)
        assert tranche.checker_id != tranche.maker_id
        assert grants.undisbursed(db.session.get(Project, fund.project_id)) == Decimal("75000")
