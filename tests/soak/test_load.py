"""Many clients at once against a real server: the same form submitted again and again books
once, two managers racing for a project's last dollars never overspend it, and writers
contending for the database get a success or a clear "try again" (503), never a 500 or a lost
write."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from ledger.models import Project, Tranche
from ledger.services import grants
from tests.conftest import BACKEND, all_at_once
from tests.soak.helpers import (
    connected,
    entries_with,
    entry_count,
    finish,
    open_fund,
    post_receipt,
    post_tranche,
    sharing,
    signed_in,
    start_verifiers,
)
from vat.auth.models import Role
from vat.db import db

SUCCESS = 302


def tranches_with(database_url: str, key: str) -> int:
    with connected(database_url):
        return db.session.scalar(select(func.count(Tranche.id)).where(Tranche.idempotency_key == key)) or 0


def undisbursed(database_url: str, project_id: int) -> Decimal:
    with connected(database_url):
        return grants.undisbursed(db.session.get(Project, project_id))


def test_twenty_clients_double_and_triple_submitting_one_form_book_it_once(
    start_server, make_user, database_url
):
    manager = make_user(Role.FUND_MANAGER, "")
    fund = open_fund(database_url, manager.id, project="100000")
    server = start_server(workers=4)
    first = signed_in(server.url, manager.username)
    receipt_token = first.csrf_token(f"/ledger/donors/{fund.donor_id}/receipt")
    tranche_token = first.csrf_token(f"/ledger/projects/{fund.project_id}/disburse")
    clients = [sharing(first, server.url) for _ in range(20)]  # after the tokens: they live in the session

    for round_ in range(3):
        key = uuid.uuid4().hex
        jobs = [
            (lambda c=c, k=key: post_receipt(c, fund, k, receipt_token, amount="25"))
            for n, c in enumerate(clients)
            for _ in range(2 + (n + round_) % 2)
        ]
        statuses = all_at_once(jobs)
        assert all(s in (SUCCESS, 503) for s in statuses), statuses
        assert SUCCESS in statuses
        assert entries_with(database_url, [key]) == {key}

    before = undisbursed(database_url, fund.project_id)
    key = uuid.uuid4().hex
    jobs = [
        (lambda c=c, k=key: post_tranche(c, fund.project_id, k, tranche_token, "700")[0])
        for n, c in enumerate(clients)
        for _ in range(2 + n % 2)
    ]
    statuses = all_at_once(jobs)
    assert all(s in (SUCCESS, 503) for s in statuses), statuses
    assert tranches_with(database_url, key) == 1
    assert undisbursed(database_url, fund.project_id) == before - Decimal("700")
    assert not finish(start_verifiers(database_url))


def test_two_managers_racing_for_the_last_dollars_never_overspend(start_server, make_user, database_url):
    managers = [make_user(Role.FUND_MANAGER, "") for _ in range(2)]
    fund = open_fund(database_url, managers[0].id, project="10000")
    servers = [start_server(workers=2), start_server(workers=2)]  # each manager on their own server
    clients = [signed_in(server.url, m.username) for server, m in zip(servers, managers, strict=True)]
    tokens = [c.csrf_token(f"/ledger/projects/{fund.project_id}/disburse") for c in clients]
    succeeded = 0
    for _ in range(5):
        statuses = all_at_once(
            [
                (lambda c=c, t=t: post_tranche(c, fund.project_id, uuid.uuid4().hex, t, "3000")[0])
                for c, t in zip(clients, tokens, strict=True)
            ]
        )
        assert all(s in (SUCCESS, 422, 503) for s in statuses), statuses
        succeeded += statuses.count(SUCCESS)
    assert succeeded == 3  # 3 × 3,000 fits in 10,000; a fourth never does
    assert undisbursed(database_url, fund.project_id) == Decimal("1000")
    assert not finish(start_verifiers(database_url))


def test_contending_writers_succeed_or_are_told_to_try_again_and_nothing_is_lost(
    start_server, make_user, database_url
):
    manager = make_user(Role.FUND_MANAGER, "")
    fund = open_fund(database_url, manager.id)
    server = start_server(workers=4)
    first = signed_in(server.url, manager.username)
    token = first.csrf_token(f"/ledger/donors/{fund.donor_id}/receipt")
    clients = [sharing(first, server.url) for _ in range(20)]
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def writer(client) -> None:
        for _ in range(5):
            key = uuid.uuid4().hex
            status = post_receipt(client, fund, key, token)
            with lock:
                outcomes[key] = status

    blocker = None
    if BACKEND == "sqlite":
        # Another process holds the write lock past the busy timeout for part of the run. It takes
        # the lock before the writers start: once they run, the servers' writers (asking every
        # millisecond) may leave its BEGIN IMMEDIATE no gap until they are done.
        blocker = sqlite3.connect(
            database_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
        )
        held = threading.Event()

        def hold() -> None:
            blocker.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(7)
            blocker.execute("ROLLBACK")

        holder = threading.Thread(target=hold)
        holder.start()
        assert held.wait(timeout=10), "the blocker could not take the write lock"
    threads = [threading.Thread(target=writer, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if blocker is not None:
        holder.join()
        blocker.close()

    statuses = sorted(set(outcomes.values()))
    assert set(statuses) <= {SUCCESS, 503}, statuses
    succeeded = [k for k, s in outcomes.items() if s == SUCCESS]
    refused = [k for k, s in outcomes.items() if s == 503]
    assert entries_with(database_url, succeeded) == set(succeeded)  # nothing acknowledged is lost
    assert not entries_with(database_url, refused)  # "try again" means nothing was saved
    if BACKEND == "sqlite":
        assert refused, "the held lock should have turned some writers away"
    for key in refused:  # and trying again works
        assert post_receipt(first, fund, key, token) == SUCCESS
    assert entries_with(database_url, list(outcomes)) == set(outcomes)
    assert entry_count(database_url) == len(outcomes) + 1
    assert not finish(start_verifiers(database_url))
    print(f"contention: {len(outcomes)} writes, {len(refused)} told to try again, all saved in the end")
