"""A backup taken while writes continue restores to a database that verifies."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy.engine import make_url

from tests.conftest import BACKEND, _admin_connection, _postgres_url
from tests.soak.helpers import Verifier, entry_count, flask, open_fund, post_receipt, signed_in
from vat.auth.models import Role


def empty_database(tmp_path, name: str) -> str:
    if BACKEND == "sqlite":
        return f"sqlite:///{tmp_path / name}.db"
    database = f"vat_restore_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    return _postgres_url(database)


def drop(url: str) -> None:
    if BACKEND == "postgres":
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def test_backups_taken_under_writes_restore_to_databases_that_verify(
    start_server, make_user, database_url, tmp_path
):
    manager = make_user(Role.FUND_MANAGER, "")
    fund = open_fund(database_url, manager.id)
    server = start_server(workers=2)
    client = signed_in(server.url, manager.username)
    token = client.csrf_token(f"/ledger/donors/{fund.donor_id}/receipt")
    stop = threading.Event()
    booked: list[int] = []

    def write() -> None:
        while not stop.is_set():
            booked.append(post_receipt(client, fund, uuid.uuid4().hex, token))

    writer = threading.Thread(target=write)
    writer.start()
    backups = []
    try:
        for n in range(2):
            path = tmp_path / f"backup-{n}.dump"
            result = flask(database_url, "backup", str(path))
            assert result.returncode == 0, result.stderr
            backups.append(path)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert booked.count(302) >= 5 and set(booked) <= {302, 503}, booked

    restored = []
    try:
        for n, path in enumerate(backups):
            url = empty_database(tmp_path, f"restored-{n}")
            restored.append(url)
            result = flask(url, "restore", str(path), "--yes")
            assert result.returncode == 0, result.stderr
            verifier = Verifier(url)
            assert verifier.check() == []
            verifier.close()
            assert 1 <= entry_count(url) <= entry_count(database_url)
        print(
            f"backup: {len(backups)} backups under {booked.count(302)} receipts booked meanwhile; "
            f"restored entries {[entry_count(u) for u in restored]} of {entry_count(database_url)};"
            " all verify"
        )
    finally:
        for url in restored:
            drop(url)
