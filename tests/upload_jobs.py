"""An uploaded file's import job (both imports'), for tests that take its owner's right away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vat import jobs
from vat.auth.models import User
from vat.db import db


def failed_once_its_owner_is_inactive(
    owner: User, start: Callable[[User], tuple[jobs.Job, Any]], secret: bytes
) -> str | None:
    """In the caller's request context: a job `start`ed by `owner`, its upload stored sealed (no
    `secret` in it), the owner deactivated before it runs; checks that it fails and deletes the
    upload, and returns why it failed."""
    job, params = start(owner)
    upload = jobs.folder() / f"{job.id}.upload"
    assert upload.is_file() and secret not in upload.read_bytes()  # stored sealed
    owner.active = False
    db.session.commit()
    jobs.enqueue(job.id, params)
    db.session.expire_all()  # the worker wrote the record on its own connection
    now = jobs.status(db.session.get_one(jobs.Job, job.id))
    assert now.state == "failed" and not upload.exists()
    return now.error
