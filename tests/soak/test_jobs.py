"""The jobs worker killed with SIGKILL during an export, with real servers: gunicorn serving the
app and `flask jobs worker` consuming the embedded queue, on 20,000 seeded victims. The export page's
status reads "running" while the worker lives and "failed, interrupted" once its heartbeat is
stale, never "still going"; a new worker runs the export again to the end. Prints its figures."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from seeding.scale_plan import COUNTRIES
from tests.soak.conftest import ROOT, server_environment
from tests.soak.helpers import flask, signed_in
from tests.soak.test_crash import secret_of
from vat.auth.models import Role

VICTIMS = 20_000
STALE_SECONDS = 3


def start_worker(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "1"],
        cwd=ROOT,
        env=server_environment(database_url),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def memory_mb(pid: int, field: str) -> float:
    """A process's resident set now (VmRSS) or at its peak (VmHWM), from /proc, in MB."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field))
    return int(line.split()[1]) / 1024


def status(client, job: str) -> dict:
    code, body = client.request(f"{job}/status")
    assert code == 200, code
    return json.loads(body)


def wait_for(client, job: str, done, limit: float = 120) -> dict:
    deadline = time.monotonic() + limit
    while True:
        now = status(client, job)
        if done(now):
            return now
        assert time.monotonic() < deadline, now
        time.sleep(0.2)


def start_export(client) -> tuple[str, float]:
    started = time.monotonic()
    code, _ = client.post_form("/reports/victims/download.csv", {})
    assert code == 303 and client.location, code
    return client.location.replace(client.base_url, ""), time.monotonic() - started


def test_a_worker_killed_during_an_export_leaves_a_failed_job_and_a_new_one_finishes(
    start_server, make_user, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("VAT_JOBS_FOLDER", str(tmp_path / "jobs"))
    monkeypatch.setenv("VAT_JOBS_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("VAT_JOBS_STALE_SECONDS", str(STALE_SECONDS))
    seeded = flask(database_url, "seed-scale", "--victims", str(VICTIMS))
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    senior = make_user(Role.SENIOR_ADVOCATE, ", ".join(country for country, _ in COUNTRIES))  # every row
    server = start_server(workers=2)
    client = signed_in(server.url, senior.username, secret_of(database_url, senior.id))

    rows = VICTIMS  # the senior advocate's scope holds them all

    worker = start_worker(database_url)
    try:
        job, answered_in = start_export(client)
        running = wait_for(client, job, lambda s: s["state"] != "queued" and s["rows"] >= 1000)
        assert running["state"] == "running", running  # caught mid-export
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        killed_at = time.monotonic()
        assert status(client, job)["state"] in ("running", "finished")  # true until the heartbeat is stale
        failed = wait_for(client, job, lambda s: s["state"] != "running", limit=STALE_SECONDS + 10)
        stale_after = time.monotonic() - killed_at
        if failed["state"] == "finished":  # the worker finished just before the kill: nothing to prove
            raise AssertionError("the export finished before the kill; seed more victims")
        assert failed["state"] == "failed" and failed["error"] == "Interrupted; start it again."
        assert failed["file"] is None and failed["rows"] >= running["rows"]

        worker = start_worker(database_url)
        time.sleep(3)  # started and idle: its resident set before the export
        idle_mb = memory_mb(worker.pid, "VmRSS")
        again, _ = start_export(client)
        begun = time.monotonic()
        finished = wait_for(client, again, lambda s: s["state"] in ("finished", "failed"))
        as_job = time.monotonic() - begun
        growth_mb = memory_mb(worker.pid, "VmHWM") - idle_mb  # the worker's peak during the export
        assert finished["state"] == "finished" and finished["rows"] == rows, finished
        code, body = client.request(finished["file"])
        assert code == 200 and len(list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))) - 1 == rows
        assert client.request(finished["file"])[0] == 404  # handed over once
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(10)
    print(
        f"\n{rows:,} rows as a job: the POST answered in {answered_in * 1000:.0f} ms, the export ran "
        f"{as_job:.1f} s, the worker's RSS grew {growth_mb:.1f} MB over {idle_mb:.0f} MB; worker killed at "
        f"{running['rows']:,} rows, read as failed {stale_after:.1f} s later (stale after {STALE_SECONDS} s)"
    )
