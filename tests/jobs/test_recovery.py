"""A job with no worker, and a job whose worker died: the page says when no worker runs (the
workers' heartbeat), `flask jobs status` exits 1 then, and a recoverable job (an import) is queued
again by a live worker and runs once; an import saved by a run whose worker died before it wrote
"finished" is not imported again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import make_app, signed_in_client
from tests.vat import test_import
from tests.vat.test_import import upload
from vat import jobs
from vat.auth.models import Role
from vat.db import db, utcnow
from vat.victims.models import Victim

sheets = test_import.sheets  # the importer tests' good workbook (a fixture)

NO_WORKER = str(jobs.NO_WORKER)


@pytest.fixture
def queued_app(database_url, tmp_path):
    """The embedded queue for real (nothing runs until a message is taken from it)."""
    return make_app(database_url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))


@pytest.fixture
def counted_kind(monkeypatch):
    runs: list[str] = []

    def count(*, job, progress, params):
        runs.append(params["n"])

    monkeypatch.setitem(jobs.KINDS, "test-counted", count)
    monkeypatch.setattr(jobs, "RECOVERABLE", jobs.RECOVERABLE | {"test-counted"})
    return runs


def _queued(app, kind_name: str = "figures-rebuild", params: dict | None = None, age: int = 0) -> str:
    with app.app_context():
        job = jobs.create(kind_name=kind_name, owner_id=None)
        job.created_at = utcnow() - timedelta(seconds=age)
        db.session.commit()
        jobs.enqueue(job.id, params or {})
        return job.id


def _status(app, job_id: str) -> jobs.Status:
    with app.app_context():
        return jobs.status(db.session.get(jobs.Job, job_id))


def _beat(app, seconds_ago: float) -> None:
    with app.app_context():
        db.session.add(
            jobs.JobWorker(
                name="host:1", started_at=utcnow(), heartbeat_at=utcnow() - timedelta(seconds=seconds_ago)
            )
        )
        db.session.commit()


def test_a_job_waiting_with_no_live_worker_says_so(queued_app):
    young = _queued(queued_app)
    old = _queued(queued_app, age=jobs.WAIT_SECONDS + 5)
    assert _status(queued_app, young).notice is None  # a worker may take it any second
    assert _status(queued_app, old).as_dict() == {
        "state": "queued",
        "rows": 0,
        "total": None,
        "error": None,
        "notice": NO_WORKER,
    }
    _beat(queued_app, seconds_ago=queued_app.config["VAT_JOBS_STALE_SECONDS"] + 1)  # a dead worker
    assert _status(queued_app, old).notice == NO_WORKER
    _beat_fresh = update(jobs.JobWorker).values(heartbeat_at=utcnow())
    with queued_app.app_context():
        db.session.execute(_beat_fresh)
        db.session.commit()
    assert _status(queued_app, old).notice is None  # queued behind other work: nothing to tell


def test_flask_jobs_status_is_a_health_check(queued_app):
    runner = queued_app.test_cli_runner()
    idle = runner.invoke(args=["jobs", "status"])
    assert idle.exit_code == 0 and "workers: 0 running" in idle.output  # nothing waits: healthy
    _queued(queued_app, age=90)
    waiting = runner.invoke(args=["jobs", "status"])
    assert waiting.exit_code == 1, waiting.output
    assert "jobs: 1 queued, the oldest for 9" in waiting.output and "no worker is running" in waiting.output
    _beat(queued_app, seconds_ago=0)
    alive = runner.invoke(args=["jobs", "status"])
    assert alive.exit_code == 0 and "workers: 1 running (host:1)" in alive.output


def test_the_worker_beats_recovers_at_start_and_leaves_when_it_stops(queued_app, counted_kind):
    job_id = _queued(queued_app, "test-counted", {"n": "first"})
    queue = jobs.queue_of(queued_app)
    lost = queue.dequeue()  # a worker took the message, claimed the job, then was killed
    assert lost is not None and queue.pending_count() == 0
    with queued_app.app_context():
        stale = utcnow() - timedelta(seconds=queued_app.config["VAT_JOBS_STALE_SECONDS"] + 1)
        db.session.execute(
            update(jobs.Job)
            .where(jobs.Job.id == job_id)
            .values(state="running", heartbeat_at=stale, attempts=1)
        )
        db.session.commit()
    seen = {}

    class Consumer:
        def run(self):
            import time

            deadline = time.monotonic() + 10
            while queue.pending_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            with queued_app.app_context():
                seen["workers"] = db.session.scalar(select(func.count()).select_from(jobs.JobWorker))
            queue.execute(queue.dequeue())

    jobs.run_worker(queued_app, Consumer())
    assert seen == {"workers": 1} and counted_kind == ["first"]  # queued again with its parameters, run once
    now = _status(queued_app, job_id)
    assert now.state == "finished"
    with queued_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(jobs.JobWorker)) == 0
        assert db.session.get(jobs.Job, job_id).attempts == 2
        assert not (jobs.folder() / f"{job_id}.params").exists()  # ended: its parameters are gone
        assert jobs.recover() == 0


def test_a_recoverable_job_reads_as_waiting_until_its_runs_are_spent(queued_app, counted_kind):
    job_id = _queued(queued_app, "test-counted", {"n": "x"})
    with queued_app.app_context():
        assert (jobs.folder() / f"{job_id}.params").read_text().find('"x"') == -1  # sealed
        stale = utcnow() - timedelta(seconds=queued_app.config["VAT_JOBS_STALE_SECONDS"] + 1)
        db.session.execute(
            update(jobs.Job)
            .where(jobs.Job.id == job_id)
            .values(state="running", heartbeat_at=stale, attempts=jobs.MAX_ATTEMPTS - 1)
        )
        db.session.commit()
    assert _status(queued_app, job_id).state == "queued"  # never "failed" while a worker will retry it
    with queued_app.app_context():
        db.session.execute(update(jobs.Job).values(attempts=jobs.MAX_ATTEMPTS))
        db.session.commit()
    assert (_status(queued_app, job_id).state, _status(queued_app, job_id).error) == (
        "failed",
        "Interrupted; start it again.",
    )
    with queued_app.app_context():
        assert jobs.recover() == 0
        assert db.session.get(jobs.Job, job_id).state == "failed"
        assert not (jobs.folder() / f"{job_id}.params").exists()


def test_a_job_this_worker_runs_is_not_taken_for_dead(queued_app, counted_kind, monkeypatch):
    """On SQLite a job's heartbeat waits for the write lock its own save holds: stale, not dead."""
    job_id = _queued(queued_app, "test-counted", {"n": "x"})
    monkeypatch.setattr(jobs, "RUNNING_HERE", {job_id})
    with queued_app.app_context():
        db.session.execute(update(jobs.Job).values(state="running", heartbeat_at=None, attempts=1))
        db.session.commit()
        assert jobs.recover() == 0 and db.session.get(jobs.Job, job_id).state == "running"


def test_a_non_recoverable_job_whose_worker_died_is_not_queued_again(queued_app):
    job_id = _queued(queued_app)
    with queued_app.app_context():
        db.session.execute(update(jobs.Job).values(state="running", heartbeat_at=None, attempts=1))
        db.session.commit()
        assert jobs.recover() == 0
    assert _status(queued_app, job_id).error == "Interrupted; start it again."


def test_an_import_saved_before_its_worker_died_is_not_imported_again(app, client, login, sheets):
    login(Role.ADVOCATE, "CAF")
    response = upload(client, sheets)
    job_id = response.location.rsplit("/", 1)[1]
    from vat.victims import import_job

    with app.app_context():
        job = db.session.get(jobs.Job, job_id)
        assert job.state == "finished" and db.session.scalar(select(func.count(Victim.id))) == 2
        db.session.expunge(job)
        db.session.rollback()
        # the same job run again (its worker died after the commit, before "finished")
        name = import_job.run(job=job, progress=jobs.Progress(job_id), params={"suffix": ".xlsx"})
        assert name == f"{job_id}.json" and db.session.scalar(select(func.count(Victim.id))) == 2
    assert "2 victims" in client.get(response.location).get_data(as_text=True)


def test_the_import_page_says_when_no_worker_runs(queued_app, make_user, sheets):
    client = signed_in_client(queued_app, make_user(Role.ADVOCATE, "CAF"))
    response = upload(client, sheets)
    assert response.status_code == 303
    with queued_app.app_context():
        db.session.execute(update(jobs.Job).values(created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    page = client.get(response.location).get_data(as_text=True)
    assert "The background worker is not running" in page and 'id="export-notice"' in page
    assert client.get(f"{response.location}/status").get_json()["notice"] == NO_WORKER
