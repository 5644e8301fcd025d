"""An uploaded file imported as a job (the victims' records, the fund's history): what every such
import shares, so that each kind only reads, checks and saves.

The request stores the file sealed (it may hold identities or donors' names) in the jobs folder
and queues the job; the worker reads it back, does the work, writes a report (a JSON file the
owner's page shows, kept an hour like an export's file) and deletes the upload when the job ends.
A worker killed mid-import leaves the upload for the run that a live worker starts again
(`jobs.recover`). The save claims the request key "job:<id>" in its own transaction and the
report is written before its commit, so a run after a committed save does nothing again and
shows the report written then."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as Redirect

from vat import jobs, request_keys
from vat.auth.policy import Permission, requires
from vat.crypto import keyring
from vat.db import BeginMode, begin_mode, db

UPLOAD_CONTEXT = "job.upload"


def start(*, kind_name: str, owner_id: int, content: bytes) -> jobs.Job:
    """A queued job of `kind_name` (flushed) with the file stored sealed. The caller commits,
    then `jobs.enqueue`s it with its parameters."""
    job = jobs.create(kind_name=kind_name, owner_id=owner_id)
    sealed = keyring().encrypt(base64.b64encode(content).decode(), f"{UPLOAD_CONTEXT}:{job.id}")
    _upload(job).write_text(sealed, encoding="ascii")
    return job


def suffix_of(filename: str) -> str:
    return ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"


def _upload(job: jobs.Job) -> Any:
    return jobs.folder() / f"{job.id}.upload"


def read_upload(job: jobs.Job) -> bytes:
    sealed = _upload(job).read_text(encoding="ascii")
    return base64.b64decode(keyring().decrypt(sealed, f"{UPLOAD_CONTEXT}:{job.id}"))


@contextlib.contextmanager
def upload_until_ended(job: jobs.Job) -> Iterator[None]:
    """Delete the upload once the job ends, done or refused (a killed worker never gets past
    this: the upload waits for the next run)."""
    try:
        yield
    finally:
        _upload(job).unlink(missing_ok=True)


def save_key(job: jobs.Job) -> str:
    return f"job:{job.id}"


def saved_before(job: jobs.Job) -> bool:
    """Whether an earlier run of this job committed its save (then its worker died)."""
    with begin_mode(BeginMode.DEFERRED):
        saved = request_keys.taken(save_key(job))
        db.session.rollback()
    return saved


def claim_save(job: jobs.Job, kind_name: str) -> None:
    """Claim the job's save in the current transaction (a job is run once at a time, so a
    claim already taken is a bug, not a refusal)."""
    if not request_keys.claim_once(save_key(job), endpoint=f"jobs.{kind_name}", user_id=job.owner_id):
        raise RuntimeError(f"import job {job.id} saved twice")


def report_name(job: jobs.Job) -> str:
    return f"{job.id}.json"


def write_report(job: jobs.Job, report: dict[str, Any]) -> str:
    """The report as the owner's page reads it; the file's name, the job's result."""
    name = report_name(job)
    (jobs.folder() / name).write_text(json.dumps(report, default=str), encoding="utf-8")
    return name


def earlier_report(job: jobs.Job) -> str | None:
    """The report an earlier run wrote before its save committed, if it is still there."""
    return report_name(job) if (jobs.folder() / report_name(job)).is_file() else None


def report_of(job: jobs.Job) -> dict[str, Any] | None:
    """The finished job's report, while it is kept (an hour); None otherwise."""
    if not jobs.status(job).has_file or job.result_path is None:
        return None
    path = jobs.folder() / job.result_path
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# --- the pages of an import job ------------------------------------------------------------------


def queued(job: jobs.Job, params: dict[str, Any], page_endpoint: str) -> Redirect:
    """The started job committed, then queued (the worker reads the committed row); the user is
    sent to its page."""
    db.session.commit()
    jobs.enqueue(job.id, params)
    return redirect(url_for(page_endpoint, job_id=job.id), 303)


def route_job_pages(bp: Blueprint, kind_name: str, permission: Permission, template: str) -> None:
    """Register an import's job pages on `bp`: `import_job_page`, how far the job has got (the page
    polls its status), then its report; and `import_job_status`, the status its script reads.
    Only the job's owner sees either; anyone else's job answers 404."""

    def owned(job_id: str) -> jobs.Job:
        return jobs.owned_or_404(job_id, current_user.id, (kind_name,))

    @requires(permission)
    def import_job_page(job_id: str) -> str:
        job = owned(job_id)
        return jobs.page(template, job, f"{bp.name}.import_job_status", report=report_of(job))

    @requires(permission)
    def import_job_status(job_id: str) -> Response:
        return jobs.polled(jobs.shown(jobs.status(owned(job_id))))

    bp.get("/import/jobs/<job_id>")(import_job_page)
    bp.get("/import/jobs/<job_id>/status")(import_job_status)
