"""Long work as jobs: a record of each job in the app's database, run by a Huey consumer.

The queue is Huey's: embedded (SqliteHuey, its file in the jobs folder) on one machine, RedisHuey
when VAT_JOBS_REDIS_URL names a Redis server that several app servers share. The queue carries only
a job's id and its parameters; what a person sees is the job record here, written by the worker
on its own short transactions: state, rows done of the total, and a heartbeat every few seconds
while it runs. A record left "running" whose heartbeat is older than VAT_JOBS_STALE_SECONDS belongs
to a worker that died (kill -9, a lost machine): it reads as failed, "interrupted", never as still
going. A job's file (an export) lives in the jobs folder for an hour at most, for its owner only,
and is deleted once downloaded.

Huey takes a message off the queue before running it: a worker killed mid-job loses the message. A
kind registered `recoverable` keeps its parameters (sealed) in the jobs folder until it ends, and
a running worker queues such a job again once its heartbeat is stale (at most MAX_ATTEMPTS runs);
meanwhile it reads as waiting, not failed. Each worker beats too (`JobWorker`): a job waiting
with no live worker says so on its page, and `flask jobs status` exits 1.

Job kinds register a function with `@kind("name")`; `flask jobs worker` runs the consumer."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, Response, abort, current_app, jsonify, render_template, url_for
from flask.cli import AppGroup
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import ForeignKey, Integer, String, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from vat import request_keys
from vat.crypto import keyring
from vat.db import Base, BeginMode, UTCDateTime, begin_mode, checkpoint_wal, db, one_of, utcnow
from vat.errors import DomainError

log = logging.getLogger(__name__)

STATES = ("queued", "running", "finished", "failed")
FILE_LIFETIME = timedelta(hours=1)
RECORD_LIFETIME = timedelta(days=30)  # a job's record is how far it got, not an audit row
EVERY_ROWS = 1000  # write the count this often, not on every row
SURE_ATTEMPTS = 6  # a job's claim and outcome: each attempt waits up to busy_timeout
INTERRUPTED = _l("Interrupted; start it again.")
FAILED = _l("The job failed; nothing was kept. Start it again.")
NOT_QUEUED = _l("The job could not be queued; start it again.")
NO_WORKER = _l(
    "The background worker is not running. Nothing is lost: the job will run when it starts. "
    "Please tell your administrator."
)
MAX_ATTEMPTS = 3  # runs of a recoverable job whose worker died, before it reads as failed
WAIT_SECONDS = 20  # a job waiting this long with no live worker says so
Row = TypeVar("Row")


class Job(Base):
    """One piece of long work and how far it has got. No parameters and no identity: the
    parameters travel in the queue's message; `error` holds a message safe to show."""

    __tablename__ = "job"
    __table_args__ = (one_of("state", STATES),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), index=True)  # NULL: CLI
    state: Mapped[str] = mapped_column(String(10), default="queued")
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_path: Mapped[str | None] = mapped_column(String(64))  # a file name in the jobs folder
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # runs begun


class JobWorker(Base):
    """A running `flask jobs worker` (host:pid), beating every VAT_JOBS_HEARTBEAT_SECONDS."""

    __tablename__ = "job_worker"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Status:
    """What a job reads as now: a "running" job whose worker stopped beating reads as failed."""

    state: str
    rows: int
    total: int | None
    error: str | None
    has_file: bool
    notice: str | None = None  # waiting with no live worker

    def as_dict(self) -> dict[str, Any]:
        body = {"state": self.state, "rows": self.rows, "total": self.total, "error": self.error}
        return body | ({"notice": self.notice} if self.notice else {})


# --- kinds and the queue --------------------------------------------------------------------

Runner = Callable[..., str | None]  # (job=, progress=, params=) -> the result file's name, or None
KINDS: dict[str, Runner] = {}
RECOVERABLE: set[str] = set()


def kind(name: str, *, recoverable: bool = False) -> Callable[[Runner], Runner]:
    """Register a job kind: `runner(job=, progress=, params=)` does the work, commits what it
    changes, and returns the name of the file it wrote in `folder()` (or None). A recoverable
    kind is run again after its worker died, so it must be idempotent by the job's id."""

    def register(runner: Runner) -> Runner:
        KINDS[name] = runner
        if recoverable:
            RECOVERABLE.add(name)
        return runner

    return register


def init_app(app: Flask) -> None:
    """The app's queue and its tasks: run a job; every minute copy SQLite's WAL into the database
    file (the web servers leave it to the worker: `vat.db.leave_checkpoints_to_the_worker`);
    every five minutes sweep old files; every day forget expired request keys."""
    name, immediate = app.config["VAT_JOBS_QUEUE_NAME"], app.config["VAT_JOBS_IMMEDIATE"]
    queue: Huey
    if immediate:  # tests: a job runs at once, in the caller, on Huey's memory storage
        queue = Huey(name, results=False, immediate=True)
    elif app.config.get("VAT_JOBS_REDIS_URL"):
        queue = RedisHuey(name, url=app.config["VAT_JOBS_REDIS_URL"], results=False)
    else:
        queue = SqliteHuey(name, filename=str(folder_of(app) / "queue.db"), results=False)

    @queue.task(name="vat.jobs.run")
    def run_task(job_id: str, params: dict[str, Any]) -> None:
        with app.app_context():
            execute(job_id, params)

    @queue.periodic_task(crontab(minute="*/5"), name="vat.jobs.sweep")
    def sweep_task() -> None:
        with app.app_context():
            sweep()

    @queue.periodic_task(crontab(minute="*"), name="vat.db.checkpoint")
    def checkpoint_task() -> None:
        with app.app_context():
            checkpoint_wal()

    @queue.periodic_task(crontab(hour="3", minute="17"), name="vat.request_keys.prune")
    def prune_request_keys_task() -> None:
        with app.app_context():
            count = request_keys.prune_expired()
            log.info("forgot %d request keys", count)

    app.extensions["vat_jobs"] = (queue, run_task)
    app.cli.add_command(jobs_group)


def queue_of(app: Flask) -> Huey:
    return app.extensions["vat_jobs"][0]


def folder_of(app: Flask) -> Path:
    """Where the embedded queue and the jobs' files live (VAT_JOBS_FOLDER; share it between app
    servers when they share a Redis queue, so any server can hand over any worker's file)."""
    path = Path(app.config.get("VAT_JOBS_FOLDER") or Path(app.instance_path) / "jobs")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def folder() -> Path:
    files = folder_of(current_app) / "files"
    files.mkdir(exist_ok=True, mode=0o700)
    return files


# --- the record's service -------------------------------------------------------------------


def create(*, kind_name: str, owner_id: int | None) -> Job:
    """A queued job (flushed): commit it, then `enqueue` it, so the worker finds the record."""
    if kind_name not in KINDS:
        raise ValueError(f"unknown job kind {kind_name!r}")
    # Hex, not URL-safe base64: an id starting with "-" would read as an option to `flask jobs show`.
    job = Job(id=secrets.token_hex(16), kind=kind_name, owner_id=owner_id, state="queued", rows_done=0)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue(job_id: str, params: dict[str, Any]) -> None:
    """Hand a committed job to the queue; if the queue cannot take it, the job reads as failed.
    A recoverable job's parameters are kept (sealed) until it ends, to queue it again."""
    sweep()
    try:
        with _reading() as connection:
            if connection.scalar(select(Job.kind).where(Job.id == job_id)) in RECOVERABLE:
                sealed = keyring().encrypt(json.dumps(params), f"{PARAMS_CONTEXT}:{job_id}")
                (folder() / f"{job_id}.params").write_text(sealed, encoding="ascii")
        current_app.extensions["vat_jobs"][1](job_id, params)
    except Exception:
        log.exception("job %s could not be queued", job_id)
        _write(job_id, state="failed", error=str(NOT_QUEUED), finished_at=utcnow())


def owned(job_id: str, owner_id: int) -> Job | None:
    """The job if it exists and belongs to this user; None otherwise (the view answers 404)."""
    job = db.session.get(Job, job_id) if len(job_id) <= 32 else None
    return job if job is not None and job.owner_id == owner_id else None


def owned_or_404(job_id: str, owner_id: int, kind_names: Iterable[str] | None = None) -> Job:
    """`owned`, for a view: anyone but the owner (or a job of another kind) gets 404."""
    job = owned(job_id, owner_id)
    if job is None or (kind_names is not None and job.kind not in kind_names):
        abort(404)
    return job


def shown(now: Status) -> dict[str, Any]:
    """The status as a page's script reads it; the error (stored in English) translated."""
    body = now.as_dict()
    body["error"] = gettext(now.error) if now.error else None
    if now.notice:
        body["notice"] = gettext(now.notice)
    return body


def _stale() -> timedelta:
    return timedelta(seconds=current_app.config["VAT_JOBS_STALE_SECONDS"])


def status(job: Job, *, now: datetime | None = None) -> Status:
    """A running job whose heartbeat is stale reads as failed, or as waiting if a worker will run
    it again (recoverable); a job waiting over WAIT_SECONDS with no live worker says so."""
    now = now or utcnow()
    state, error, notice = job.state, job.error, None
    if state == "running" and (job.heartbeat_at is None or now - job.heartbeat_at > _stale()):
        if job.kind in RECOVERABLE and job.attempts < MAX_ATTEMPTS:
            state = "queued"
        else:
            state, error = "failed", str(INTERRUPTED)
    waiting_since = job.heartbeat_at or job.created_at
    if state == "queued" and now - waiting_since > timedelta(seconds=WAIT_SECONDS) and not worker_alive(now):
        notice = str(NO_WORKER)
    has_file = state == "finished" and job.result_path is not None and not _expired(job, now)
    return Status(state, job.rows_done, job.rows_total, error, has_file, notice)


def worker_alive(now: datetime | None = None) -> bool:
    """Whether some worker has beaten within VAT_JOBS_STALE_SECONDS."""
    with _reading() as connection:
        last = connection.scalar(select(func.max(JobWorker.heartbeat_at)))
    return last is not None and (now or utcnow()) - last <= _stale()


def page(template: str, job: Job, status_endpoint: str, **context: Any) -> str:
    """A job's page: its status now, and the address its script polls for the rest."""
    return render_template(
        template, status=status(job), status_url=url_for(status_endpoint, job_id=job.id), **context
    )


def polled(body: dict[str, Any]) -> Response:
    """The status as the page's script reads it, never cached: it changes as the job runs."""
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _expired(job: Job, now: datetime) -> bool:
    return job.finished_at is None or now - job.finished_at > FILE_LIFETIME


def take_file(job: Job) -> Path | None:
    """The finished job's file, handed over once: the record forgets it now, the caller deletes
    the file once sent. None when there is none (never made, already taken, or over an hour old)."""
    name = job.result_path
    if not status(job).has_file or name is None:
        return None
    taken = _write(job.id, Job.result_path == name, result_path=None)  # once, even if asked twice
    job.result_path = None
    path = folder() / name
    return path if taken and path.is_file() else None


def sweep() -> None:
    """Delete job files over an hour old (taken or not, finished or left by a dead worker; not a
    waiting or running job's upload and parameters), and job records over RECORD_LIFETIME old."""
    cutoff = utcnow() - FILE_LIFETIME
    old = [path for path in folder().iterdir() if path.stat().st_mtime < cutoff.timestamp()]
    if old:
        with _reading() as connection:
            going = set(connection.scalars(select(Job.id).where(Job.state.in_(("queued", "running")))))
        for path in old:
            if path.name.partition(".")[0] not in going:
                path.unlink(missing_ok=True)
    with begin_mode(BeginMode.IMMEDIATE), db.engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.result_path.is_not(None), Job.finished_at < cutoff).values(result_path=None)
        )
        connection.execute(delete(Job).where(Job.created_at < utcnow() - RECORD_LIFETIME))


@contextlib.contextmanager
def _reading() -> Iterator[Connection]:
    """A connection of its own that only reads (on SQLite a deferred transaction: no write lock)."""
    with begin_mode(BeginMode.DEFERRED), db.engine.connect() as connection:
        yield connection


def _write(job_id: str, *conditions: Any, **values: Any) -> bool:
    """Change the record on a connection of its own, committed at once: progress is visible to
    every process while the job's own transaction is still open."""
    with begin_mode(BeginMode.IMMEDIATE), db.engine.begin() as connection:
        result = connection.execute(update(Job).where(Job.id == job_id, *conditions).values(**values))
        return result.rowcount == 1


def _write_surely(job_id: str, *conditions: Any, **values: Any) -> bool:
    """`_write` for a job's claim and outcome, which must not be lost: a busy database (SQLite's
    writers holding the lock past busy_timeout) is asked again, a few times, before giving up."""
    for attempt in range(SURE_ATTEMPTS):
        try:
            return _write(job_id, *conditions, **values)
        except OperationalError:
            if attempt == SURE_ATTEMPTS - 1:
                raise
            log.warning("job %s: record not written (database busy); trying again", job_id)
    raise AssertionError("unreachable")


# --- running a job (in the worker) ------------------------------------------------------------


class Progress:
    """A running job's counts and heartbeat, written to its record."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id

    def total(self, rows: int) -> None:
        self._count(rows_total=rows, rows_done=0)

    def done(self, rows: int) -> None:
        self._count(Job.state == "running", rows_done=rows)

    def _count(self, *conditions: Any, **values: Any) -> None:
        """A count is news, not the job's work: one a busy database refuses (SQLite's writers
        holding the lock past busy_timeout) is skipped, and the next one says more."""
        try:
            _write(self.job_id, *conditions, **values, heartbeat_at=utcnow())
        except OperationalError:
            log.warning("job %s: count not written (database busy)", self.job_id)

    def counted(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The rows, unchanged, with the count written every EVERY_ROWS rows."""
        done = 0
        for row in rows:
            yield row
            done += 1
            if done % EVERY_ROWS == 0:
                self.done(done)
        self.done(done)

    @contextlib.contextmanager
    def beating(self) -> Iterator[None]:
        """A thread that writes the heartbeat every VAT_JOBS_HEARTBEAT_SECONDS while the job
        runs, even through one long statement; it stops with the job (or with the process)."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        every = app.config["VAT_JOBS_HEARTBEAT_SECONDS"]
        stop = threading.Event()

        def beat() -> None:
            with app.app_context():
                while not stop.wait(every):
                    try:
                        _write(self.job_id, Job.state == "running", heartbeat_at=utcnow())
                    except Exception:  # a busy database: the next beat tries again
                        log.warning("job %s: heartbeat not written", self.job_id)

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.job_id[:6]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def execute(job_id: str, params: dict[str, Any]) -> None:
    """Run one job: claim it (queued → running), run its kind, record the outcome. A job already
    claimed, or no longer queued, is left alone."""
    claimed = {"state": "running", "heartbeat_at": utcnow(), "attempts": Job.attempts + 1}
    if not _write_surely(job_id, Job.state == "queued", **claimed):
        log.warning("job %s is not queued; not run", job_id)
        return
    with begin_mode(BeginMode.DEFERRED):
        job = db.session.execute(select(Job).where(Job.id == job_id)).scalar_one()
        db.session.expunge(job)  # a snapshot: reading it later must not begin a transaction
        db.session.rollback()
    progress = Progress(job_id)
    RUNNING_HERE.add(job_id)
    try:
        with progress.beating():
            result = KINDS[job.kind](job=job, progress=progress, params=params)
    except DomainError as refusal:
        db.session.rollback()
        _write_surely(job_id, state="failed", error=str(refusal)[:200], finished_at=utcnow())
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, job.kind)
        _write_surely(job_id, state="failed", error=str(FAILED), finished_at=utcnow())
    else:
        _write_surely(
            job_id, state="finished", result_path=result, finished_at=utcnow(), heartbeat_at=utcnow()
        )
    finally:
        RUNNING_HERE.discard(job_id)
    (folder() / f"{job_id}.params").unlink(missing_ok=True)


# --- workers and recovery ---------------------------------------------------------------------

PARAMS_CONTEXT = "job.params"
# Jobs this process runs: never "dead", even when their heartbeat could not be written (on SQLite
# the beat waits for the write lock that the job's own save holds).
RUNNING_HERE: set[str] = set()


def _kept_params(job_id: str) -> dict[str, Any] | None:
    path = folder() / f"{job_id}.params"
    if not path.is_file():
        return None
    return json.loads(keyring().decrypt(path.read_text(encoding="ascii"), f"{PARAMS_CONTEXT}:{job_id}"))


def recover() -> int:
    """Queue again each recoverable job whose worker died (running, heartbeat stale), once even
    when two workers look at the same moment; one run MAX_ATTEMPTS times, or without its
    parameters, fails. How many were queued again."""
    cutoff = utcnow() - _stale()
    dead = or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)
    with _reading() as connection:
        found = connection.execute(
            select(Job.id, Job.attempts).where(Job.state == "running", Job.kind.in_(RECOVERABLE), dead)
        ).all()
    queued = 0
    for job_id, attempts in found:
        if job_id in RUNNING_HERE:
            continue
        params = _kept_params(job_id) if attempts < MAX_ATTEMPTS else None
        if params is None:
            ended = {"state": "failed", "error": str(INTERRUPTED), "finished_at": utcnow()}
            _write(job_id, Job.state == "running", dead, **ended)
            (folder() / f"{job_id}.params").unlink(missing_ok=True)
        elif _write(job_id, Job.state == "running", dead, state="queued"):
            log.warning("job %s: its worker died; queued again (run %d)", job_id, attempts + 1)
            current_app.extensions["vat_jobs"][1](job_id, params)
            queued += 1
    return queued


def _beat_worker(name: str, started: datetime) -> None:
    now = utcnow()
    with begin_mode(BeginMode.IMMEDIATE), db.engine.begin() as connection:
        beaten = connection.execute(update(JobWorker).where(JobWorker.name == name).values(heartbeat_at=now))
        if not beaten.rowcount:
            connection.execute(insert(JobWorker).values(name=name, started_at=started, heartbeat_at=now))
        connection.execute(delete(JobWorker).where(JobWorker.heartbeat_at < now - timedelta(days=1)))


def run_worker(app: Flask, consumer: Any) -> None:
    """Run a Huey consumer with the worker's heartbeat and the recovery of jobs whose worker died
    (at start, then at every beat); the worker's row goes when it stops."""
    name = f"{socket.gethostname()[:60]}:{os.getpid()}"
    started, stop = utcnow(), threading.Event()

    def beat() -> None:
        with app.app_context():
            while True:
                try:
                    _beat_worker(name, started)
                    recover()
                except Exception:  # a busy database: the next beat tries again
                    log.warning("jobs worker: heartbeat not written")
                if stop.wait(app.config["VAT_JOBS_HEARTBEAT_SECONDS"]):
                    return

    thread = threading.Thread(target=beat, name="worker-heartbeat", daemon=True)
    thread.start()
    try:
        consumer.run()
    finally:
        stop.set()
        thread.join()
        with app.app_context(), begin_mode(BeginMode.IMMEDIATE), db.engine.begin() as connection:
            connection.execute(delete(JobWorker).where(JobWorker.name == name))


# --- commands ---------------------------------------------------------------------------------


@click.group("jobs", cls=AppGroup)
def jobs_group() -> None:
    """Run the jobs' worker; show a job; say whether a worker runs."""


@jobs_group.command("status")
def jobs_status() -> None:
    """The workers that beat, the jobs waiting and running; exit 1 if jobs wait with no live
    worker (a health check for a supervisor or a monitor)."""
    now, stale = utcnow(), _stale()
    with _reading() as connection:
        workers = connection.execute(select(JobWorker.name, JobWorker.heartbeat_at)).all()
        counts = dict(connection.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        oldest = connection.scalar(select(func.min(Job.created_at)).where(Job.state == "queued"))
    alive = [name for name, beat in workers if now - beat <= stale]
    click.echo(f"workers: {len(alive)} running" + (f" ({', '.join(alive)})" if alive else ""))
    waiting = f", the oldest for {int((now - oldest).total_seconds())} s" if oldest else ""
    click.echo(f"jobs: {counts.get('queued', 0)} queued{waiting}, {counts.get('running', 0)} running")
    if not alive and (counts.get("queued") or counts.get("running")):
        click.echo("no worker is running: start `flask jobs worker`", err=True)
        raise SystemExit(1)


@jobs_group.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once (threads).")
def jobs_worker(workers: int) -> None:
    """Run the consumer: take jobs from the queue and run them, until SIGINT or SIGTERM."""
    queue = queue_of(current_app)
    click.echo(f"jobs worker: {workers} threads on {type(queue).__name__} {queue.name!r}")
    # An idle worker polls the embedded queue at most a second apart (Huey's default backs off to 10 s).
    consumer = queue.create_consumer(workers=workers, worker_type="thread", periodic=True, max_delay=1.0)
    run_worker(current_app._get_current_object(), consumer)  # type: ignore[attr-defined]


@jobs_group.command("show")
@click.argument("job_id")
def jobs_show(job_id: str) -> None:
    """A job's state and counts (exit 1 if it failed)."""
    with begin_mode(BeginMode.DEFERRED):
        job = db.session.get(Job, job_id)
        if job is None:
            raise click.ClickException("no such job")
        now = status(job)
    total = "?" if now.total is None else now.total
    click.echo(f"{job.kind}: {now.state}, {now.rows} / {total}" + (f" ({now.error})" if now.error else ""))
    if now.state == "failed":
        raise SystemExit(1)
