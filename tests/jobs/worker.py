"""A jobs consumer in a process of its own, for the kill -9 test: the app on the test's database and
queue folder, with one more job kind that counts slowly (so there is time to kill it mid-job).

    python -m tests.jobs.worker DATABASE_URL JOBS_FOLDER"""

from __future__ import annotations

import sys
import time
from typing import Any

from tests.conftest import TEST_SETTINGS
from vat import create_app, jobs

SLOW_KIND = "test-slow-count"


@jobs.kind(SLOW_KIND)
def slow_count(*, job: jobs.Job, progress: jobs.Progress, params: dict[str, Any]) -> None:
    progress.total(params["rows"])
    for done in range(1, params["rows"] + 1):
        time.sleep(params["pause"])
        progress.done(done)


def settings(database_url: str, folder: str) -> dict[str, Any]:
    """The worker's settings, and the test's: a real (not immediate) embedded queue in `folder`."""
    return {
        **TEST_SETTINGS,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "VAT_JOBS_IMMEDIATE": False,
        "VAT_JOBS_FOLDER": folder,
        "VAT_JOBS_HEARTBEAT_SECONDS": 0.2,
        "VAT_JOBS_STALE_SECONDS": 1.5,
    }


if __name__ == "__main__":
    app = create_app(settings(sys.argv[1], sys.argv[2]))
    print("worker ready", flush=True)
    jobs.queue_of(app).create_consumer(workers=1, worker_type="thread", periodic=False).run()
