"""A job that waits with no worker running, in a real browser (issue 16): the import's page says
nothing while a worker may still take the job, tells its owner "the background worker is not
running" once it has waited with no live worker — polled, without reloading the page — and takes
the notice back as soon as a worker beats again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.conftest import browser_sign_in, make_app
from vat import jobs
from vat.auth.models import Role, User
from vat.db import db, utcnow
from vat.victims import import_job

pytestmark = pytest.mark.browser
NOTICE = "The background worker is not running"


@pytest.fixture
def app(database_url, tmp_path):
    """The embedded queue for real: with no worker, nothing takes the job."""
    return make_app(database_url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))


def test_the_import_page_tells_when_no_worker_runs_and_when_one_is_back(app, live_server, page, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        secret = db.session.get_one(User, user.id).totp_secret
        job = jobs.create(kind_name=import_job.KIND, owner_id=user.id)
        job_id = job.id
        db.session.commit()

    browser_sign_in(page, live_server, user.username, secret)
    page.goto(f"{live_server}/vat/import/jobs/{job_id}")
    notice = page.locator("#export-notice")
    assert page.locator("#export-status").inner_text() == "Waiting for a worker…"
    page.wait_for_timeout(1500)  # a poll or more: a job just queued says nothing yet
    assert notice.is_hidden()

    with app.app_context():  # the job has now waited past the notice's delay, with no worker
        waited = utcnow() - timedelta(seconds=jobs.WAIT_SECONDS + 5)
        db.session.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(created_at=waited))
        db.session.commit()
    notice.wait_for(state="visible", timeout=10_000)
    assert NOTICE in notice.inner_text()
    assert page.locator("#export-status").inner_text() == "Waiting for a worker…", "still waiting, not failed"

    with app.app_context():  # a worker starts and beats
        db.session.add(jobs.JobWorker(name="host:1", started_at=utcnow(), heartbeat_at=utcnow()))
        db.session.commit()
    notice.wait_for(state="hidden", timeout=10_000)
