"""Crash mid-write: gunicorn is killed with SIGKILL at random moments while a fund manager books
receipts and an advocate edits a victim. After every restart `flask ledger verify` and `flask
audit verify` pass; at the end every request that was answered with success is there, and the
database passes its own integrity check."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid
from datetime import date, timedelta
from http.client import HTTPException

from sqlalchemy import func, select

from ledger.models import Entry, Receipt
from tests.conftest import BACKEND
from tests.security.forms import rendered_values
from tests.soak.helpers import Verifier, connected, open_fund, post_receipt, signed_in
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity
from vat.victims.models import Victim

KILLS = 50 if BACKEND == "sqlite" else 20
TIME_LIMIT = 240  # seconds for all the kills


def register_victim(database_url: str, advocate_id: int) -> int:
    with connected(database_url):
        victim = identity.register_victim(
            actor=db.session.get(User, advocate_id),
            country_code="CAF",
            sex="female",
            name="Crash Test",
            registered_on=date.today() - timedelta(days=10),
        )
        db.session.commit()
        return victim.id


def secret_of(database_url: str, user_id: int) -> str:
    with connected(database_url):
        return db.session.get(User, user_id).totp_secret


class Driver(threading.Thread):
    """Sends one kind of write in a loop until stopped, remembering what was acknowledged."""

    def __init__(self, send) -> None:
        super().__init__(daemon=True)
        self.send = send
        self.stopped = threading.Event()
        self.acknowledged: list[object] = []
        self.attempted = 0
        self.unanswered = 0

    def run(self) -> None:
        n = 0
        while not self.stopped.is_set():
            n += 1
            self.attempted += 1
            try:
                if self.send(n) == 302:
                    self.acknowledged.append(n)
            except (OSError, HTTPException):
                self.unanswered += 1  # killed mid-request, or not up yet
                time.sleep(0.05)


def test_sigkill_at_random_moments_loses_nothing_acknowledged(start_server, make_user, database_url):
    manager = make_user(Role.FUND_MANAGER, "")
    advocate = make_user(Role.ADVOCATE, "CAF")
    fund = open_fund(database_url, manager.id)
    victim_id = register_victim(database_url, advocate.id)
    server = start_server(workers=2, preload=True)
    verifier = Verifier(database_url)

    booker = signed_in(server.url, manager.username)
    receipt_token = booker.csrf_token(f"/ledger/donors/{fund.donor_id}/receipt")
    editor = signed_in(server.url, advocate.username, secret_of(database_url, advocate.id))
    status, page = editor.request(f"/vat/victims/{victim_id}/edit")
    assert status == 200
    edit_form = {name: values[0] for name, values in rendered_values(page).items()}
    keys: dict[int, str] = {}

    def book(n: int) -> int:
        keys[n] = uuid.uuid4().hex
        return post_receipt(booker, fund, keys[n], receipt_token)

    def edit(n: int) -> int:
        return editor.request(f"/vat/victims/{victim_id}/edit", {**edit_form, "notes": f"edit {n}"})[0]

    drivers = [Driver(book), Driver(edit)]
    for driver in drivers:
        driver.start()
    rng = random.Random(8)
    started, kills, failures = time.monotonic(), 0, []
    try:
        while kills < KILLS and time.monotonic() - started < TIME_LIMIT:
            time.sleep(rng.uniform(0.1, 0.8))
            server.kill()
            kills += 1
            server.start()
            failures += verifier.check()
    finally:
        for driver in drivers:
            driver.stopped.set()
        for driver in drivers:
            driver.join(timeout=60)
        verifier.close()
    elapsed = time.monotonic() - started
    assert not failures, failures[:3]
    assert kills == KILLS, f"only {kills} kills in {TIME_LIMIT} s"

    booked, edited = drivers
    acknowledged = [keys[n] for n in booked.acknowledged]
    with connected(database_url):
        present = set(
            db.session.scalars(select(Entry.idempotency_key).where(Entry.idempotency_key.in_(acknowledged)))
        )
        assert present == set(acknowledged), "an acknowledged receipt is missing"
        # no half-saved receipt: each receipt row has its entry and each receipt entry its row
        receipts = db.session.scalar(select(func.count(Receipt.id)))
        receipt_entries = db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == "receipt"))
        assert receipts == receipt_entries
        notes = db.session.get(Victim, victim_id).notes
        last = int(notes.split()[1])
        assert last >= max(edited.acknowledged, default=0), "an acknowledged edit was lost"
        assert last <= edited.attempted
    if BACKEND == "sqlite":
        check = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        check.close()
    assert len(booked.acknowledged) >= KILLS / 2 and len(edited.acknowledged) >= KILLS / 2  # real work
    print(
        f"crash: {kills} SIGKILLs in {elapsed:.0f} s; receipts {len(booked.acknowledged)} acknowledged of "
        f"{booked.attempted} sent ({booked.unanswered} unanswered); victim edits {len(edited.acknowledged)} "
        f"of {edited.attempted} ({edited.unanswered} unanswered); verifiers passed after every restart"
    )
