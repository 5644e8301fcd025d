"""The fund's history imported as a job (issue 16, item 2): the request stores the file and queues
the job; the worker reads the file and checks its cells first, holding no lock, then books it
through `ledger_import` in one transaction under the ledger's lock, all or nothing, and writes
the report its owner's page shows: how many rows of each kind were booked, or every error of
every row (nothing booked), in the owner's language.

Storing the upload, the report and the once-only save are `vat.upload_jobs`'s, as for the
victims' import. Progress: the rows taken up, written every PROGRESS_EVERY rows on PostgreSQL; on
SQLite the booking holds the database's only write lock, so the count is written before (the
rows read) and after."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ledger.services import ledger_import
from vat import jobs, upload_jobs
from vat.auth.models import User
from vat.auth.policy import Permission, can
from vat.db import BeginMode, begin_mode, db
from vat.errors import DomainError, NotAllowed
from vat.uploads import LineError, LinesRefused

KIND = "ledger-import"
PROGRESS_EVERY = 100
ONLY_MANAGERS = _l("Only an active fund manager may import the fund's history.")
log = logging.getLogger(__name__)


def start(*, actor: User, filename: str, content: bytes, locale: str) -> tuple[jobs.Job, dict[str, Any]]:
    """A queued import for `actor` (flushed) with the file stored, and the queue's parameters (the
    file's type and the report's language). The caller commits, then `jobs.enqueue`s it."""
    job = upload_jobs.start(kind_name=KIND, owner_id=actor.id, content=content)
    return job, {"suffix": upload_jobs.suffix_of(filename), "locale": locale}


def _report(
    imported: ledger_import.Imported | None = None, errors: list[LineError] | None = None
) -> dict[str, Any]:
    return {
        "rows": imported.rows if imported else 0,
        "counts": imported.counts if imported else {},
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors or []],
    }


@jobs.kind(KIND, recoverable=True)
def run(*, job: jobs.Job, progress: jobs.Progress, params: dict[str, Any]) -> str | None:
    with upload_jobs.upload_until_ended(job):
        if upload_jobs.saved_before(job):  # an earlier run committed, then its worker died
            log.warning("ledger import job %s was booked by an earlier run; not again", job.id)
            return upload_jobs.earlier_report(job)
        with begin_mode(BeginMode.DEFERRED):
            owner = db.session.get(User, job.owner_id)
            permitted = owner is not None and owner.active and can(owner, Permission.RECORD_LEDGER)
            db.session.rollback()
        if owner is None or not permitted:
            raise NotAllowed(ONLY_MANAGERS)
        content = upload_jobs.read_upload(job)
        with force_locale(params.get("locale") or "en"):
            began = time.perf_counter()
            report = _book(owner, job, progress, content, f"upload{params['suffix']}")
            name = upload_jobs.write_report(job, report)
    log.info("ledger import job %s: %d rows in %.2fs", job.id, report["rows"], time.perf_counter() - began)
    return name


def _book(
    owner: User, job: jobs.Job, progress: jobs.Progress, content: bytes, filename: str
) -> dict[str, Any]:
    """Read the file and check its rows' cells outside any transaction, then book it in one
    IMMEDIATE transaction (the save key claimed and the report written in it, before its commit);
    a refused file's report, with nothing booked."""
    try:
        checked = ledger_import.check_file(filename, io.BytesIO(content))
    except DomainError as error:
        return _report(errors=[LineError(0, "", str(error))])
    total = len(checked.rows)
    progress.total(total)
    sqlite = db.engine.dialect.name == "sqlite"

    def counted(rows: int) -> None:
        if not sqlite and rows % PROGRESS_EVERY == 0:
            progress.done(rows)

    with begin_mode(BeginMode.IMMEDIATE):
        try:
            upload_jobs.claim_save(job, KIND)
            imported = ledger_import.import_ledger(actor=owner, checked=checked, on_row=counted)
            report = _report(imported)
            upload_jobs.write_report(job, report)  # before the commit (see upload_jobs)
            db.session.commit()
        except LinesRefused as refused:
            db.session.rollback()
            report = _report(errors=refused.errors)
        except NotAllowed:
            db.session.rollback()
            raise
        except DomainError as error:  # the file imported already
            db.session.rollback()
            report = _report(errors=[LineError(0, "", str(error))])
    progress.done(total)  # every row tried, booked or refused
    return report
