"""An export job's page, the JSON its script polls, and its file: for the job's owner only (anyone
else gets 404, as for a record outside their scope)."""

from __future__ import annotations

from flask import Response, abort, url_for
from flask_login import current_user

from vat import jobs
from vat.auth.policy import Permission, requires
from vat.reports.views.blueprint import bp, download_file


def _owned(job_id: str) -> jobs.Job:
    return jobs.owned_or_404(job_id, current_user.id)


@bp.get("/jobs/<job_id>")
@requires(Permission.VIEW_CASES)
def export_job(job_id: str) -> str:
    return jobs.page(
        "reports/job.html", _owned(job_id), "reports.export_job_status", back_url=url_for("reports.victims")
    )


@bp.get("/jobs/<job_id>/status")
@requires(Permission.VIEW_CASES)
def export_job_status(job_id: str) -> Response:
    """How far the job has got, as its record says (a job whose worker died reads as failed)."""
    now = jobs.status(_owned(job_id))
    body = jobs.shown(now)
    body["file"] = url_for("reports.export_job_file", job_id=job_id) if now.has_file else None
    return jobs.polled(body)


@bp.get("/jobs/<job_id>/file")
@requires(Permission.VIEW_CASES)
def export_job_file(job_id: str) -> Response:
    """The job's file, once: it is deleted as it is opened (the open handle still reads it)."""
    job = _owned(job_id)
    path = jobs.take_file(job)
    if path is None:
        abort(404)
    handle = path.open("rb")
    path.unlink()
    return download_file(job.kind, path.suffix.lstrip("."), handle)
