"""The import as a job: the request stores the uploaded file (encrypted: it holds identities) and
queues the job; the worker reads it, checks and encrypts every row while reading only, then saves
them all in one short write transaction, and writes the report for its owner's page.

The report (counts, every skipped or refused row with its number and why, in the owner's language)
is the job's result; storing the upload, the report and the once-only save are `vat.upload_jobs`'s,
shared with the ledger's import."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError

from vat import jobs, upload_jobs
from vat.auth.models import User
from vat.auth.policy import Permission, can
from vat.db import BeginMode, begin_mode, db
from vat.errors import NotAllowed
from vat.uploads import UploadRefused
from vat.victims import import_rows, importer
from vat.victims.import_rows import RecordsChanged

KIND = "victims-import"
ONLY_EDITORS = _l("Only an active advocate may import records.")
log = logging.getLogger(__name__)


def start(
    *, actor: User, filename: str, content: bytes, kind: str | None, locale: str
) -> tuple[jobs.Job, dict[str, Any]]:
    """A queued import job for `actor` (flushed) with the file stored, and the queue's parameters
    (no identity: the file's type, what a CSV holds, the language of the report). The caller
    commits, then `jobs.enqueue`s it."""
    job = upload_jobs.start(kind_name=KIND, owner_id=actor.id, content=content)
    return job, {"suffix": upload_jobs.suffix_of(filename), "kind": kind, "locale": locale}


report_of = upload_jobs.report_of


@jobs.kind(KIND, recoverable=True)
def run(*, job: jobs.Job, progress: jobs.Progress, params: dict[str, Any]) -> str | None:
    with upload_jobs.upload_until_ended(job):
        with begin_mode(BeginMode.DEFERRED):
            owner = db.session.get(User, job.owner_id)
            permitted = owner is not None and owner.active and can(owner, Permission.EDIT_CASES)
            db.session.rollback()
        if upload_jobs.saved_before(job):  # an earlier run committed its save, then its worker died
            log.warning("import job %s was saved by an earlier run; not imported again", job.id)
            return upload_jobs.earlier_report(job)
        if owner is None or not permitted:
            raise NotAllowed(ONLY_EDITORS)
        content = upload_jobs.read_upload(job)
        with force_locale(params.get("locale") or "en"):
            report, timings = _import(owner, job, progress, content, params)
            name = upload_jobs.write_report(job, importer.as_dict(report))
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
    snapshot, on SQLite WAL's), build the rows to write, then save them in one IMMEDIATE
    transaction. Returns the report and how long each part took."""
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
    with begin_mode(BeginMode.DEFERRED):  # the rows built before the write lock is taken
        import_rows.ready(owner, plan)
        db.session.rollback()
    timings["ready"] = time.perf_counter() - began
    began = time.perf_counter()
    with begin_mode(BeginMode.IMMEDIATE):
        try:
            upload_jobs.claim_save(job, KIND)
            importer.save(actor=owner, report=report, plan=plan, job=job.id)
            upload_jobs.write_report(job, importer.as_dict(report))  # before the commit (see upload_jobs)
            db.session.commit()
        except RecordsChanged as error:
            db.session.rollback()
            return importer.refused(error), timings
        except DBAPIError:
            db.session.rollback()
            raise
    timings["save"] = time.perf_counter() - began
    return report, timings
