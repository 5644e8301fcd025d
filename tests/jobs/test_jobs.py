"""The job record and its service: a job's life (queued, running, finished or failed), a heartbeat
that goes stale reads as failed ("interrupted"), the summary rebuild as a job from the command line,
the embedded queue (SqliteHuey) and Redis (RedisHuey on 127.0.0.1:6379, skipped when unreachable)
consumed for real, and a consumer killed with SIGKILL mid-job."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND, make_app
from tests.jobs.worker import SLOW_KIND, settings, slow_count
from vat import jobs
from vat.db import SQLITE_BUSY_TIMEOUT_MS, db, utcnow
from vat.figures import summaries

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"

KEPT = len(summaries())  # the rebuild counts its progress in summaries
REBUILT = {"state": "finished", "rows": KEPT, "total": KEPT, "error": None}


def _job(app, job_id: str) -> jobs.Job:
    with app.app_context():
        job = db.session.execute(select(jobs.Job).where(jobs.Job.id == job_id)).scalar_one()
        db.session.expunge(job)
        db.session.rollback()
        return job


def _status(app, job_id: str) -> jobs.Status:
    with app.app_context():
        return jobs.status(_job(app, job_id))


def _settled_rows(app, job_id: str) -> int:
    """The rows a killed worker's job reached, read until two reads a moment apart agree:
    PostgreSQL still lands a commit the worker sent just before it died."""
    rows = _status(app, job_id).rows
    while True:
        time.sleep(0.3)
        again = _status(app, job_id).rows
        if again == rows:
            return rows
        rows = again


def _queued(app, kind_name: str, params: dict | None = None) -> str:
    with app.app_context():
        job = jobs.create(kind_name=kind_name, owner_id=None)
        db.session.commit()
        jobs.enqueue(job.id, params or {})
        return job.id


def test_a_running_job_whose_heartbeat_is_stale_reads_as_failed(app):
    with app.app_context():
        job = jobs.create(kind_name="figures-rebuild", owner_id=None)
        db.session.commit()
        assert jobs.status(job).state == "queued"
        job.state, job.heartbeat_at, job.rows_done, job.rows_total = "running", utcnow(), 6000, 20000
        db.session.commit()
        stale = timedelta(seconds=app.config["VAT_JOBS_STALE_SECONDS"])
        assert jobs.status(job).as_dict() == {"state": "running", "rows": 6000, "total": 20000, "error": None}
        later = jobs.status(job, now=job.heartbeat_at + stale + timedelta(seconds=1))
        assert (later.state, later.error, later.has_file) == ("failed", "Interrupted; start it again.", False)
        job.heartbeat_at = None  # claimed, never beat
        assert jobs.status(job).state == "failed"


def test_the_sweep_forgets_job_records_after_thirty_days(app):
    with app.app_context():
        old, recent = (jobs.create(kind_name="figures-rebuild", owner_id=None) for _ in range(2))
        old.created_at = utcnow() - jobs.RECORD_LIFETIME - timedelta(minutes=1)
        db.session.commit()
        jobs.sweep()
        assert db.session.scalars(select(jobs.Job.id)).all() == [recent.id]


def test_figures_rebuild_runs_as_a_job_from_the_command_line(app, runner):
    result = runner.invoke(args=["figures", "rebuild", "--job"])
    assert result.exit_code == 0, result.output
    job_id = result.output.split("job ")[1].split()[0]
    assert re.fullmatch(r"[0-9a-f]{32}", job_id)  # never "-…", which the command line reads as an option
    job = _job(app, job_id)
    assert (job.kind, job.state, job.rows_done, job.rows_total) == ("figures-rebuild", "finished", KEPT, KEPT)
    assert job.owner_id is None  # started from the command line
    assert job.finished_at is not None and job.error is None
    shown = runner.invoke(args=["jobs", "show", job_id])
    assert shown.exit_code == 0 and shown.output.strip() == f"figures-rebuild: finished, {KEPT} / {KEPT}"
    assert runner.invoke(args=["jobs", "show", "nope"]).exit_code == 1


def test_a_failing_job_is_recorded_failed_with_a_safe_message(app, monkeypatch, caplog):
    def broken(**_kwargs):
        raise RuntimeError("CAR-2020-0001 Jane Doe")  # whatever the error says stays in the log

    monkeypatch.setitem(jobs.KINDS, "broken", broken)
    job_id = _queued(app, "broken")
    now = _status(app, job_id)
    assert now.state == "failed" and now.error == "The job failed; nothing was kept. Start it again."
    assert "Jane" not in (_job(app, job_id).error or "")


def test_a_job_is_run_once(app, monkeypatch):
    runs = []
    monkeypatch.setitem(jobs.KINDS, "counted", lambda **_kwargs: runs.append(1))
    job_id = _queued(app, "counted")
    with app.app_context():
        jobs.execute(job_id, {})  # delivered again: no longer queued, left alone
    assert runs == [1] and _status(app, job_id).state == "finished"


def test_the_heartbeat_beats_through_a_long_step(app, monkeypatch):
    app.config["VAT_JOBS_HEARTBEAT_SECONDS"] = 0.05
    beats = []

    def long_step(*, job, progress, params):
        first = _job(app, job.id).heartbeat_at
        time.sleep(0.4)  # one long statement: no progress written
        beats.append(_job(app, job.id).heartbeat_at > first)

    monkeypatch.setitem(jobs.KINDS, "long-step", long_step)
    _queued(app, "long-step")
    assert beats == [True]


def test_a_job_the_queue_cannot_take_reads_as_failed(app, monkeypatch):
    def refuse(*_args):
        raise ConnectionError("queue down")

    app.extensions["vat_jobs"] = (app.extensions["vat_jobs"][0], refuse)
    job_id = _queued(app, "figures-rebuild")
    assert _status(app, job_id).error == "The job could not be queued; start it again."


def _consume_one(queue) -> None:
    """What the consumer does with one message: take it and run it."""
    task = queue.dequeue()
    assert task is not None
    queue.execute(task)


def test_the_embedded_queue_is_sqlite_in_the_jobs_folder(database_url, tmp_path):
    app = make_app(database_url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    queue = jobs.queue_of(app)
    assert type(queue).__name__ == "SqliteHuey" and (tmp_path / "jobs" / "queue.db").exists()
    job_id = _queued(app, "figures-rebuild")
    assert _status(app, job_id).state == "queued" and queue.pending_count() == 1
    _consume_one(queue)
    assert _status(app, job_id).as_dict() == REBUILT


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")


def test_redis_mode_enqueues_and_consumes_a_job(database_url, tmp_path):
    _redis_or_skip()
    name = f"vat-test-{uuid.uuid4().hex[:12]}"  # a queue of its own: tests share the server
    app = make_app(
        database_url,
        VAT_JOBS_IMMEDIATE=False,
        VAT_JOBS_REDIS_URL=REDIS_URL,
        VAT_JOBS_QUEUE_NAME=name,
        VAT_JOBS_FOLDER=str(tmp_path / "jobs"),
    )
    queue = jobs.queue_of(app)
    assert type(queue).__name__ == "RedisHuey"
    try:
        job_id = _queued(app, "figures-rebuild")
        assert _status(app, job_id).state == "queued" and queue.pending_count() == 1
        _consume_one(queue)
        assert _status(app, job_id).as_dict() == REBUILT
        assert queue.pending_count() == 0
    finally:
        queue.flush()


def test_a_consumer_killed_mid_job_leaves_a_job_that_reads_as_failed(database_url, tmp_path, monkeypatch):
    folder = str(tmp_path / "jobs")
    jobs_settings = {k: v for k, v in settings(database_url, folder).items() if k.startswith("VAT_JOBS")}
    app = make_app(database_url, **jobs_settings)
    monkeypatch.setitem(jobs.KINDS, SLOW_KIND, slow_count)
    job_id = _queued(app, SLOW_KIND, {"rows": 1000, "pause": 0.02})
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.worker", database_url, folder],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while _status(app, job_id).rows < 20:
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never got going"
            time.sleep(0.1)
        assert _status(app, job_id).state == "running"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        if worker.stderr:
            worker.stderr.close()
    stopped_at = _settled_rows(app, job_id)
    assert 20 <= stopped_at < 1000
    time.sleep(app.config["VAT_JOBS_STALE_SECONDS"] + 0.5)
    now = _status(app, job_id)
    assert (now.state, now.error, now.rows) == ("failed", "Interrupted; start it again.", stopped_at)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one writer and its busy_timeout")
def test_a_count_a_busy_database_refuses_does_not_fail_the_job(app, monkeypatch):
    """Other writers holding SQLite's lock past busy_timeout (a 10,000-row import failed so at
    100,000 victims, receipts and victims' pages writing meanwhile): the count is skipped, the job
    carries on, and the next count is written."""
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database

    def counting(*, job, progress, params):
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            progress.done(1000)  # waits busy_timeout, then is refused
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        progress.done(2000)

    monkeypatch.setitem(jobs.KINDS, "counting", counting)
    job_id = _queued(app, "counting")
    now = _status(app, job_id)
    assert (now.state, now.rows) == ("finished", 2000)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one writer and its busy_timeout")
def test_a_claim_a_busy_database_refuses_is_asked_again(app, monkeypatch):
    """Writers holding SQLite's lock past busy_timeout when the worker claims a job: the claim is
    asked again rather than the job dropped (it stayed "queued" for good at 100,000 victims)."""
    runs = []
    monkeypatch.setitem(jobs.KINDS, "counted", lambda **_kwargs: runs.append(1))
    with app.app_context():
        job = jobs.create(kind_name="counted", owner_id=None)
        db.session.commit()
        job_id = job.id
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    holding = threading.Event()

    def hold() -> None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(SQLITE_BUSY_TIMEOUT_MS / 1000 + 1.5)  # past one claim's wait
        holder.execute("ROLLBACK")
        holder.close()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    with app.app_context():
        jobs.execute(job_id, {})
    holder.join()
    assert runs == [1] and _status(app, job_id).state == "finished"
