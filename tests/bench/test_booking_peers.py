"""Booking side by side (issue 14, item 9), on the same PostgreSQL, each on an empty database of
its own: the posting engine, raw inserts of the same rows into the same schema, and django-hordak
(in the peers' virtualenv: tests/bench/peers). Each books VAT_BENCH_PEER_BOOKINGS two-leg
transactions one per database transaction (the path of every form: `begin` then `post`), then as
many in transactions of 100. Then `ledger verify` and beancount 3's checker on the same
transactions. Nothing is asserted about time; what is asserted is that each did the work."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ledger import engine
from ledger.engine import CASH, EntryKind
from ledger.models import Account, Entry, Posting
from ledger.verify import verify
from tests.bench.conftest import ROOT, copy_database, drop_copy, last_json, make_app, record
from tests.bench.test_scale import _bench_event, _driver_row, _insert_sql
from tests.conftest import _admin_connection, _postgres_url
from vat.db import db

POSTGRES = os.environ.get("VAT_TEST_POSTGRES_URL")
BOOKINGS = int(os.environ.get("VAT_BENCH_PEER_BOOKINGS", "20000"))
BATCH = 100
PEERS_PYTHON = Path(os.environ.get("VAT_BENCH_PEERS_PYTHON", ROOT / "instance/bench/peers-venv/bin/python"))
PEERS = Path(__file__).parent / "peers"

pytestmark = [
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not POSTGRES, reason="peers are compared on PostgreSQL (VAT_TEST_POSTGRES_URL)"),
]
GROUP = "4b booking, peers"


def _event(number: int, day: date) -> engine.Event:
    """A receipt: cash debited, contributions credited."""
    return _bench_event(number, day, kind=EntryKind.RECEIPT, debit=CASH)


def _book_ours(app: Flask, day: date) -> tuple[float, float]:
    """One booking per transaction as a form's service makes it (`begin`, then `post`), then
    batches through `post_many`; one connection throughout, as hordak's loop has."""
    with app.app_context():
        started = time.perf_counter()
        for number in range(BOOKINGS):
            event = _event(number, day)
            assert engine.begin(event.key, event.payload) is None
            engine.post(None, event)
            db.session.commit()
        single = time.perf_counter() - started
        started = time.perf_counter()
        for start in range(BOOKINGS, 2 * BOOKINGS, BATCH):
            engine.post_many(actor=None, events=[_event(n, day) for n in range(start, start + BATCH)])
            db.session.commit()
        batched = time.perf_counter() - started
        assert db.session.scalar(select(func.count(Entry.id))) == 2 * BOOKINGS
        assert db.session.scalar(select(func.count(Posting.id))) == 4 * BOOKINGS
    return single, batched


def _insert_raw(app: Flask, source: Flask) -> tuple[float, float]:
    """The rows the engine wrote, inserted as they are through the bare driver: an entry and
    its postings per transaction, then 100 entries and their postings per transaction."""
    entry_table, posting_table = Entry.__table__, Posting.__table__
    with source.app_context():
        entries = [dict(r._mapping) for r in db.session.execute(select(entry_table).order_by(Entry.seq))]
        postings: dict[int, list[dict[str, Any]]] = {}
        for r in db.session.execute(select(posting_table).order_by(Posting.id)):
            postings.setdefault(r.entry_id, []).append(dict(r._mapping))
        db.session.rollback()
    with app.app_context():
        entry_sql = _insert_sql(entry_table.name, list(entries[0]), "format")
        posting_sql = _insert_sql(posting_table.name, list(postings[entries[0]["id"]][0]), "format")
        entry_rows = [_driver_row(app, entry_table, e) for e in entries]
        posting_rows = [[_driver_row(app, posting_table, p) for p in postings[e["id"]]] for e in entries]
        connection = db.engine.raw_connection()
        cursor = connection.cursor()
        started = time.perf_counter()
        for entry, lines in zip(entry_rows[:BOOKINGS], posting_rows[:BOOKINGS], strict=True):
            cursor.execute(entry_sql, entry)
            cursor.executemany(posting_sql, lines)
            connection.commit()
        single = time.perf_counter() - started
        started = time.perf_counter()
        for start in range(BOOKINGS, 2 * BOOKINGS, BATCH):
            cursor.executemany(entry_sql, entry_rows[start : start + BATCH])
            cursor.executemany(
                posting_sql, [row for lines in posting_rows[start : start + BATCH] for row in lines]
            )
            connection.commit()
        batched = time.perf_counter() - started
        connection.close()
    return single, batched


def _peer(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own script, in the peers' virtualenv
        [str(PEERS_PYTHON), str(PEERS / script), *args], capture_output=True, text=True, check=True
    )
    return last_json(done.stdout)


def _beancount_file(app: Flask, path: Path) -> None:
    """The same transactions as a Beancount ledger: an account per ledger account, opened first."""
    names = {"asset": "Assets", "liability": "Liabilities", "net_assets": "Equity"}
    names |= {"revenue": "Income", "expense": "Expenses"}
    with app.app_context():
        accounts = {a.id: f"{names[a.type]}:A{a.code}" for a in db.session.scalars(select(Account))}
        lines = [f"2000-01-01 open {name} USD" for name in accounts.values()]
        query = (
            select(Entry.entry_date, Entry.seq, Posting.account_id, Posting.usd_minor)
            .join(Posting, Posting.entry_id == Entry.id)
            .order_by(Entry.seq, Posting.id)
        )
        seq = None
        for day, entry_seq, account_id, usd_minor in db.session.execute(query):
            if entry_seq != seq:
                lines.append(f'\n{day.isoformat()} * "entry {entry_seq}"')
                seq = entry_seq
            lines.append(f"  {accounts[account_id]}  {engine.cents(usd_minor)} USD")
        db.session.rollback()
    path.write_text("\n".join(lines) + "\n")


def test_booking_side_by_side_with_peers(tmp_path: Path) -> None:
    if not PEERS_PYTHON.exists():
        pytest.skip(f"no peers' virtualenv at {PEERS_PYTHON} (make bench creates it)")
    template = _postgres_url("vat_bench_peers")
    hordak = make_url(_postgres_url("vat_bench_peers_hordak")).set(drivername="postgresql")
    with _admin_connection() as conn:
        for name in ("vat_bench_peers", "vat_bench_peers_hordak"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    migrated = make_app(template)
    with migrated.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    ours_url, raw_url = copy_database(template, "ours"), copy_database(template, "raw")
    try:
        ours, raw = make_app(ours_url), make_app(raw_url)
        day = date.today()
        ours_single, ours_batch = _book_ours(ours, day)
        raw_single, raw_batch = _insert_raw(raw, ours)
        peer = _peer(
            "hordak_booking.py", hordak.render_as_string(hide_password=False), str(BOOKINGS), str(BATCH)
        )
        assert (peer["transactions"], peer["legs"]) == (2 * BOOKINGS, 4 * BOOKINGS)
        with ours.app_context():
            started = time.perf_counter()
            report = verify()
            verify_seconds = time.perf_counter() - started
            db.session.rollback()
        assert report.problem is None, report.problem
        _beancount_file(ours, tmp_path / "ledger.beancount")
        checked = _peer("bean_check.py", str(tmp_path / "ledger.beancount"))
        assert not checked["errors"], checked["errors"]
    finally:
        for url in (ours_url, raw_url, template, hordak.render_as_string(hide_password=False)):
            drop_copy(url)
    per = f"{BOOKINGS:,} two-leg transactions"
    rows = [
        ("one per transaction: ours vs django-hordak (s)", ours_single, peer["single"], "≤ 1×", 1.0),
        ("one per transaction: ours vs raw inserts (s)", ours_single, raw_single, "≤ 2×", 2.0),
        (f"batches of {BATCH}: ours vs django-hordak (s)", ours_batch, peer["batch"], "< 1×", 1.0),
        (f"batches of {BATCH}: ours vs raw inserts (s)", ours_batch, raw_batch, "", None),
    ]
    for measure, app_value, reference, target, limit in rows:
        met = None if limit is None else app_value <= limit * reference
        record(
            GROUP,
            f"{per}, {measure}",
            "postgres",
            app_value,
            reference,
            target=target,
            met=met,
            victims=BOOKINGS,
        )
    record(
        GROUP,
        f"ledger verify vs bean-check, the same {2 * BOOKINGS:,} transactions (s)",
        "postgres",
        verify_seconds,
        checked["seconds"],
        target="< 1×",
        met=verify_seconds < checked["seconds"],
        victims=2 * BOOKINGS,
    )
