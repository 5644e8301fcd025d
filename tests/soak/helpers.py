"""What the fault and load tests share: a fund with money and a project, signed-in urllib
clients, ledger forms posted with a chosen idempotency key, and the verifiers run as
subprocesses with the server's own environment."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pyotp
from flask import Flask
from sqlalchemy import func, select

from ledger.models import DonorKind, Entry, Project, ProjectFocus
from ledger.services import contributions, grants
from tests.conftest import PASSWORD, make_app
from tests.soak.conftest import ROOT, Client, server_environment
from vat.auth.models import User
from vat.db import db


def _yesterday() -> str:
    """Read when the form is posted: a soak run may cross midnight."""
    return (date.today() - timedelta(days=1)).isoformat()


@contextmanager
def connected(database_url: str) -> Iterator[Flask]:
    """An app context on the database whose connections are closed on leaving (the servers are
    killed and restarted meanwhile: nothing of ours should sit in a pool)."""
    app = make_app(database_url)
    with app.test_request_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@dataclass(frozen=True)
class Fund:
    donor_id: int
    project_id: int


def open_fund(database_url: str, manager_id: int, *, cash: str = "1000000", project: str = "0") -> Fund:
    """A donor whose contribution is in the bank and, if asked, a project approved for `project`."""
    with connected(database_url):
        actor = db.session.get(User, manager_id)
        donor = contributions.create_donor(
            actor=actor, name="", kind=DonorKind.MEMBER_STATE, country_code="NOR"
        )
        contributions.record_receipt(
            actor=actor,
            key=uuid.uuid4().hex,
            donor=donor,
            amount=Decimal(cash),
            currency="USD",
            received_on=date.today() - timedelta(days=2),
            bank_reference="SOAK",
        )
        project_id = 0
        if Decimal(project):
            project_id = new_project(actor, Decimal(project)).id
        db.session.commit()
        return Fund(donor.id, project_id)


def new_project(actor: User, amount: Decimal) -> Project:
    day = date.today() - timedelta(days=2)
    return grants.approve_project(
        actor=actor,
        key=uuid.uuid4().hex,
        title="Last dollars",
        partner="IRC",
        country_code="CAF",
        focus=ProjectFocus.INCOME_GENERATION,
        currency="USD",
        amount=amount,
        approved_on=day,
        planned_start=day,
        planned_end=day + timedelta(days=365),
    )


def signed_in(base_url: str, username: str, totp_secret: str | None = None) -> Client:
    client = Client(base_url)
    status, _ = client.post_form("/auth/login", {"username": username, "password": PASSWORD})
    assert status == 302, f"sign-in failed ({status})"
    if totp_secret:
        status, _ = client.post_form("/auth/login/code", {"code": pyotp.TOTP(totp_secret).now()})
        assert status == 302, f"second factor failed ({status})"
    return client


def sharing(client: Client, base_url: str) -> Client:
    """Another client (or another server) on the same signed-in session."""
    other = Client(base_url)
    other.use_session_cookie(client.session_cookie())
    return other


def post_receipt(client: Client, fund: Fund, key: str, token: str, amount: str = "10") -> int:
    status, _ = client.request(
        f"/ledger/donors/{fund.donor_id}/receipt",
        {
            "csrf_token": token,
            "key": key,
            "pledge_id": "",
            "amount": amount,
            "currency": "USD",
            "received_on": _yesterday(),
            "bank_reference": f"R-{key[:8]}",
            "rate": "",
        },
    )
    return status


def post_tranche(client: Client, project_id: int, key: str, token: str, amount: str) -> tuple[int, str]:
    return client.request(
        f"/ledger/projects/{project_id}/disburse",
        {"csrf_token": token, "key": key, "amount": amount, "paid_on": _yesterday(), "reference": "T-1"},
    )


def entries_with(database_url: str, keys: list[str]) -> set[str]:
    with connected(database_url):
        found = db.session.scalars(select(Entry.idempotency_key).where(Entry.idempotency_key.in_(keys)))
        return set(found)


def entry_count(database_url: str) -> int:
    with connected(database_url):
        return db.session.scalar(select(func.count(Entry.id))) or 0


def start_verifiers(database_url: str) -> list[subprocess.Popen[bytes]]:
    """`flask ledger verify` and `flask audit verify`, with the server's environment."""
    env = server_environment(database_url)
    return [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "flask", "--app", "wsgi", *command, "verify"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for command in (["ledger"], ["audit"])
    ]


def finish(verifiers: list[subprocess.Popen[bytes]]) -> list[str]:
    """Wait for the verifiers; the output of any that failed."""
    failed = []
    for process in verifiers:
        out, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            failed.append(out.decode())
    return failed


class Verifier:
    """tests/soak/verifier.py as a subprocess with the server's environment: `check()` runs
    `flask ledger verify` and `flask audit verify` and returns the failures."""

    def __init__(self, database_url: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "tests.soak.verifier"],
            cwd=ROOT,
            env=server_environment(database_url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def check(self) -> list[str]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("verify\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            return ["the verifier exited"]
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        if self.process.stdout:
            self.process.stdout.close()


def flask(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=server_environment(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )


def error_text(page: str) -> str:
    match = re.search(r'class="flash[^"]*error[^"]*"[^>]*>(.*?)<', page, re.S)
    return match.group(1).strip() if match else ""
