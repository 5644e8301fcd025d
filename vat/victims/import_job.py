"""The import as a job: the request stores the uploaded file (encrypted: it holds identities) and
queues the job; the worker reads it, checks and encrypts every row while reading only, then saves
them all in one short write transaction, and writes the report for its owner's page.

The report (counts, every skipped or refused row with its number and why, in the owner's language)
is a JSON file in the jobs folder, kept for an hour like an export's file. The upload is kept until
the job ends: a worker killed mid-import leaves it for the run that a live worker starts again
(`jobs.recover`). The save claims the request key "job:<id>" in its transaction and the report is
written before its commit, so a run after a committed save imports nothing again."""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError

from vat import jobs, request_keys
from vat.auth.models import User
from vat.auth.policy import Permission, can
from vat.crypto import keyring
from vat.db import BeginMode, begin_mode, db
from vat.errors import NotAllowed
from vat.uploads import UploadRefused
from vat.victims import importer
from vat.victims.import_rows import RecordsChanged

KIND = "victims-import"
UPLOAD_CONTEXT = "job.upload"
ONLY_EDITORS = _l("Only an active advocate may import records.")
log = logging.getLogger(__name__)


def start(
    *, actor: User, filename: str, content: bytes, kind: str | None, locale: str
) -> tuple[jobs.Job, dict[str, Any]]:
    """A queued import job for `actor` (flushed) with the file stored, and the queue's parameters
    (no identity: the file's type, what a CSV holds, the language of the report). The caller
    commits, then `jobs.enqueue`s it."""
    job = jobs.create(kind_name=KIND, owner_id=actor.id)
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    sealed = keyring().encrypt(base64.b64encode(content).decode(), f"{UPLOAD_CONTEXT}:{job.id}")
    (jobs.folder() / f"{job.id}.upload").write_text(sealed, encoding="ascii")
    return job, {"suffix": suffix, "kind": kind, "locale": locale}


def report_of(job: jobs.Job) -> dict[str, Any] | None:
    """The finished job's report, while it is kept (an hour); None otherwise."""
    status = jobs.status(job)
    if not status.has_file or job.result_path is None:
        return None
    path = jobs.folder() / job.result_path
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _read_upload(job: jobs.Job) -> bytes:
    sealed = (jobs.folder() / f"{job.id}.upload").read_text(encoding="ascii")
    return base64.b64decode(keyring().decrypt(sealed, f"{UPLOAD_CONTEXT}:{job.id}"))


def _save_key(job: jobs.Job) -> str:
    return f"job:{job.id}"


def _write_report(job: jobs.Job, report: importer.ImportReport) -> str:
    name = f"{job.id}.json"
    (jobs.folder() / name).write_text(json.dumps(importer.as_dict(report), default=str), encoding="utf-8")
    return name


@jobs.kind(KIND, recoverable=True)
def run(*, job: jobs.Job, progress: jobs.Progress, params: dict[str, Any]) -> str | None:
    try:
        with begin_mode(BeginMode.DEFERRED):
            owner = db.session.get(User, job.owner_id)
            permitted = owner is not None and owner.active and can(owner, Permission.EDIT_CASES)
            saved = request_keys.taken(_save_key(job))
            db.session.rollback()
        if saved:  # an earlier run committed its save (and wrote its report), then its worker died
            log.warning("import job %s was saved by an earlier run; not imported again", job.id)
            return f"{job.id}.json" if (jobs.folder() / f"{job.id}.json").is_file() else None
        if owner is None or not permitted:
            raise NotAllowed(ONLY_EDITORS)
        content = _read_upload(job)
        with force_locale(params.get("locale") or "en"):
            report, timings = _import(owner, job, progress, content, params)
            name = _write_report(job, report)
    finally:  # the job ends here (a killed worker never gets here: the upload waits for the next run)
        (jobs.folder() / f"{job.id}.upload").unlink(missing_ok=True)
    log.info(
        "import job %s: %d rows; %s",
        job.id,
        report.rows,
        ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()),
    )
    return name


def _import(
    owner: User, job: jobs.Job, progress: jobs.Progress, content: bytes, params: dict[str, Any]
) -> tuple[importer.ImportReport, dict[str, float]]:
    """Read and check while reading only (one deferred transaction: on PostgreSQL a repeatable-read
    snapshot, on SQLite WAL's), then save in one IMMEDIATE transaction. Returns the report and how
    long each part took."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    try:
        sheets = importer.read_file(f"upload{params['suffix']}", io.BytesIO(content), params.get("kind"))
    except UploadRefused as error:
        return importer.refused(error), timings
    progress.total(importer.row_count(sheets))
    timings["read"] = time.perf_counter() - began

    def counted(rows: int) -> None:
        if rows % jobs.EVERY_ROWS == 0:
            progress.done(rows)

    began = time.perf_counter()
    with begin_mode(BeginMode.DEFERRED):
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report, plan = importer.check_sheets(actor=owner, sheets=sheets, on_row=counted)
        db.session.rollback()
    progress.done(report.rows)
    timings["check"] = time.perf_counter() - began
    if not report.ok:
        return report, timings
    began = time.perf_counter()
    with begin_mode(BeginMode.IMMEDIATE):
        try:
            if not request_keys.claim_once(_save_key(job), endpoint=f"jobs.{KIND}", user_id=owner.id):
                raise RuntimeError(f"import job {job.id} saved twice")  # execute() runs a job once
            importer.save(actor=owner, report=report, plan=plan, job=job.id)
            _write_report(job, report)  # before the commit: a run after it finds both
            db.session.commit()
        except RecordsChanged as error:
            db.session.rollback()
            return importer.refused(error), timings
        except DBAPIError:
            db.session.rollback()
            raise
    timings["save"] = time.perf_counter() - began
    return report, timings
