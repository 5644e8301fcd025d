"""The per-victim export as a job: the worker counts the rows, audits the export as the owner (who,
which report, which filters, how many rows), then writes the file row by row from a server-side
cursor into the jobs folder, counting into the job's record. Its reads run in a deferred
transaction, so the export never holds the write lock; the owner downloads the file once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Result

from vat import audit, jobs
from vat.auth.models import User
from vat.db import BeginMode, begin_mode, db
from vat.errors import NotAllowed
from vat.reports.deidentify import deidentify
from vat.reports.exports import csv_lines, xlsx_file
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.support import support_export_rows, support_header, support_rows, victims_count

EXPORTS = {"victim-support": False, "victim-support-deidentified": True}  # name → de-identified
FORMATS = ("csv", "xlsx")


ROWS_FOR_ADVOCATES = _l("Only advocates export one row per victim.")


def start(*, actor: User, name: str, fmt: str) -> jobs.Job:
    """A queued export job for `actor` (flushed); the caller commits, then `jobs.enqueue`s it with
    `parameters(...)`."""
    if name not in EXPORTS or fmt not in FORMATS:
        raise ValueError(f"unknown export {name}.{fmt}")
    if not sees_rows(actor):
        raise NotAllowed(ROWS_FOR_ADVOCATES)
    return jobs.create(kind_name=name, owner_id=actor.id)


def parameters(*, fmt: str, filters: VictimFilters, address: str | None) -> dict[str, Any]:
    """What the queue carries: the format, the filters (places, year, sex, minor: no identity)
    and the address the export was asked from, for its audit row."""
    return {"fmt": fmt, "filters": filters.as_dict(), "address": address}


def _run(*, job: jobs.Job, progress: jobs.Progress, params: dict[str, Any]) -> str:
    owner = db.session.get(User, job.owner_id)
    if owner is None or not owner.active or not sees_rows(owner):
        raise NotAllowed(ROWS_FOR_ADVOCATES)
    deidentified, fmt = EXPORTS[job.kind], params["fmt"]
    filters = VictimFilters(**params["filters"])
    with begin_mode(BeginMode.DEFERRED):
        total = victims_count(owner, filters, consented_only=deidentified)
        db.session.rollback()
    audit.record(
        "report.export",
        actor=owner,
        object_type="report",
        object_id=job.kind,
        address=params.get("address"),
        detail={"format": fmt, "filters": filters.as_dict(), "rows": total, "job": job.id},
    )
    db.session.commit()
    progress.total(total)
    name = f"{job.id}.{fmt}"
    partial = jobs.folder() / f"{name}.partial"
    with begin_mode(BeginMode.DEFERRED):
        query = support_rows(owner, filters, consented_only=deidentified)
        result = db.session.execute(query.execution_options(yield_per=1000))
        try:
            _write_file(partial, fmt, *_table(result, progress, deidentified=deidentified))
        finally:
            result.close()
            db.session.rollback()
    os.replace(partial, jobs.folder() / name)
    return name


def _table(
    result: Result[Any], progress: jobs.Progress, *, deidentified: bool
) -> tuple[list[str], Iterable[Any]]:
    header, rows = support_header(), support_export_rows(result)
    if deidentified:
        header, rows = deidentify(header, rows)
    return header, progress.counted(rows)


def _write_file(path: Path, fmt: str, header: list[str], rows: Iterable[Any]) -> None:
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as output:
            output.writelines(csv_lines(header, rows))
        return
    with xlsx_file([("Victim support", header, rows)]) as workbook, path.open("wb") as output:
        shutil.copyfileobj(workbook, output)


for _name in EXPORTS:
    jobs.kind(_name)(_run)
