"""SQLite's writers: the WAL is copied into the database file by the jobs worker, not by a web
server's requests (after a large write, the request that commits next no longer pays for the
copy), and a writer waiting for the write lock gets its turn beside one that keeps coming back."""

from __future__ import annotations

import runpy
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import make_url

from tests.conftest import BACKEND, make_app
from tests.soak.conftest import ROOT
from vat import db as vat_db
from vat import jobs
from vat.db import db

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write-ahead log")


def database_file(app: Flask) -> Path:
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database or "")


def large_write_beside_a_reader(app: Flask) -> int:
    """Write ~2,000 new pages while another connection reads, so that the writer's own commit can
    copy none of them; the database file's size after the reader is done."""
    path = database_file(app)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM auth_user").fetchone()  # a snapshot from before the write
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe (body TEXT)")
        connection.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
            " INSERT INTO probe SELECT hex(randomblob(4000)) FROM n"
        )
    reader.execute("COMMIT")
    reader.close()
    return path.stat().st_size


def small_commit(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO probe VALUES ('x')")


@pytest.fixture
def server_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a web server started by gunicorn with the repository's settings."""
    monkeypatch.setattr(vat_db, "_checkpoint_pages", None)
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["on_starting"](server=None)


def test_by_default_the_next_commit_copies_what_a_large_write_left(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    size = large_write_beside_a_reader(app)
    small_commit(app)
    assert database_file(app).stat().st_size > size + 4_000_000  # the small commit copied the pages


def test_a_servers_commits_leave_the_copy_to_the_worker(
    server_process: None, database_url: str, tmp_path: Path
) -> None:
    app = make_app(database_url, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    with app.app_context(), db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == vat_db.SERVER_CHECKPOINT_PAGES
    size = large_write_beside_a_reader(app)
    small_commit(app)
    assert database_file(app).stat().st_size == size  # nothing copied by the request
    with app.app_context():
        frames, copied = vat_db.checkpoint_wal() or (0, -1)
    assert frames == copied > 2_000  # the worker's checkpoint copies all of it
    assert database_file(app).stat().st_size > size + 4_000_000


def test_the_worker_checkpoints_every_minute(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    queue = jobs.queue_of(app)
    for minute in (0, 7, 59):
        due = [task.name for task in queue.read_periodic(datetime(2026, 12, 7, 14, minute))]
        assert "vat.db.checkpoint" in due


RETURNING_WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
connection.execute("PRAGMA busy_timeout=5000")
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    connection.execute("BEGIN IMMEDIATE")
    time.sleep(0.06)  # a victim's page: its audit row written, the page rendered
    connection.execute("COMMIT")
    time.sleep(0.002)  # the answer sent, the next page asked for
"""


def test_a_writer_does_not_wait_behind_one_that_comes_straight_back(
    database_url: str, tmp_path: Path
) -> None:
    """Another process takes SQLite's write lock for 60 ms, lets it go for 2 ms, and takes it
    again, as a client opening victims' pages does: the app's writers get their turn within a
    few of its turns. SQLite's own wait, sleeping up to 100 ms between its tries, mostly missed
    the 2 ms gaps (waits of 1-5 s, and 503s past its timeout)."""
    app = make_app(database_url, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    other = subprocess.Popen([sys.executable, "-c", RETURNING_WRITER, str(database_file(app)), "6"])  # noqa: S603
    try:
        time.sleep(0.3)
        waits = []
        with app.app_context():
            for _ in range(10):
                began = time.monotonic()
                with db.engine.begin() as connection:  # BEGIN IMMEDIATE
                    waits.append(time.monotonic() - began)
                    connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (body TEXT)")
    finally:
        other.terminate()
        other.wait(10)
    assert max(waits) < 1.0, waits
