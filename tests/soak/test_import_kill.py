"""The jobs worker killed with SIGKILL during an import (issue 16, item 7), with real servers:
gunicorn and `flask jobs worker`. Huey takes a message off its queue before running it, so the
killed run's message is gone; the job stays waiting (never "failed") with its upload kept
encrypted, and the next worker queues it again once the dead one's heartbeat is stale. Killed twice
(while checking the rows, then as the save begins): nothing partial is ever saved, and the import
completes exactly once. Prints its figures."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import date

from sqlalchemy import func, select

from tests.soak.helpers import connected, signed_in
from tests.soak.test_crash import secret_of
from tests.soak.test_jobs import STALE_SECONDS, start_worker
from tests.vat.big_import import big_workbook
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.db import db
from vat.victims.models import Assistance, Victim

VICTIMS, SERVICES = 1000, 1200  # with 66 allegations and 600 links: 2,866 rows


def saved(database_url: str) -> tuple[int, int, int]:
    """Victims, services, and the import's audit rows."""
    with connected(database_url):
        count = lambda model, *where: db.session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        return count(Victim), count(Assistance), count(AuditEvent, AuditEvent.action == "victim.import")


def kill(worker) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)


def test_a_worker_killed_twice_during_an_import_saves_nothing_partial_and_imports_once(
    start_server, make_user, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("VAT_JOBS_FOLDER", str(tmp_path / "jobs"))
    monkeypatch.setenv("VAT_JOBS_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("VAT_JOBS_STALE_SECONDS", str(STALE_SECONDS))
    advocate = make_user(Role.ADVOCATE, "CAF")
    server = start_server(workers=2)
    client = signed_in(server.url, advocate.username, secret_of(database_url, advocate.id))
    content = big_workbook(date.today(), victims=VICTIMS, services=SERVICES).getvalue()
    before = saved(database_url)
    whole = (before[0] + VICTIMS, before[1] + SERVICES, before[2] + 1)
    token = client.csrf_token("/vat/import")
    fields = {"csrf_token": token, "kind": "victims"}
    assert client.post_file("/vat/import", fields, "file", "big.xlsx", content) == 303
    job = client.location.replace(server.url, "")
    states: set[str] = set()

    def status() -> dict:
        code, body = client.request(f"{job}/status")
        assert code == 200, code
        now = json.loads(body)
        states.add(now["state"])
        return now

    def wait_for(done, limit: float = 120) -> dict:
        deadline = time.monotonic() + limit
        while not done(now := status()):
            assert time.monotonic() < deadline, now
            time.sleep(0.05)
        return now

    began = time.monotonic()
    started = [start_worker(database_url)]
    worker = started[0]
    try:
        checking = wait_for(lambda s: s["state"] == "running" and s["rows"] >= 1000)
        kill(worker)  # first: while the rows are checked
        first = saved(database_url)
        assert first == before  # nothing saved
        worker = start_worker(database_url)
        started.append(worker)
        recovered_in = time.monotonic()
        wait_for(lambda s: s["state"] == "running" and s["rows"] < checking["rows"])  # begun again
        recovered_in = time.monotonic() - recovered_in
        at_save = wait_for(lambda s: s["state"] != "running" or (s["total"] and s["rows"] == s["total"]))
        kill(worker)  # second: as the save begins (or just after the job ended)
        second = saved(database_url)
        assert second in (before, whole)  # all or nothing
        worker = start_worker(database_url)
        started.append(worker)
        finished = wait_for(lambda s: s["state"] in ("finished", "failed"))
        took = time.monotonic() - began
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
    assert finished["state"] == "finished", finished
    assert "failed" not in states  # a job a worker will run again never reads as failed
    after = saved(database_url)
    assert after == whole  # exactly once
    code, page = client.request(job)
    assert code == 200 and f"{VICTIMS} victims" in page.replace(",", "").replace("\u202f", "")
    assert not list((tmp_path / "jobs" / "files").glob("*.upload"))  # the upload is gone once done
    print(
        f"\nimport of {finished['rows']:,} rows: worker killed at {checking['rows']:,} rows checked "
        f"(nothing saved), queued again and begun {recovered_in:.1f} s after a new worker started; "
        f"killed again at {at_save['rows']:,}/{at_save['total']:,} ({at_save['state']}; "
        f"{'saved' if second != before else 'nothing saved'}); the third run finished, "
        f"{took:.1f} s in all; {after[0] - before[0]:,} victims, one import"
    )
