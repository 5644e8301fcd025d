"""How far a large export has got, for the page that shows a progress bar while it downloads.

The page makes a random token for the signed-in user; the export link carries it, and the export
writes its progress under it; a small static script polls `export_progress` for it. A token is a
file in the instance folder holding only the user's id, the row counts, the state and the time it
was made (no filter, no case code), so every worker process sees it. It answers only to the user
who made it, and expires after an hour: an unknown, expired or someone else's token reads as
"unknown", and writing to it does nothing."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app

LIFETIME_SECONDS = 3600
EVERY_ROWS = 1000  # write the count this often, not on every row
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
UNKNOWN = {"state": "unknown", "rows": 0, "total": None}

Row = TypeVar("Row")


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "export-progress"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(token: str) -> Path | None:
    return _folder() / f"{token}.json" if TOKEN.fullmatch(token or "") else None


def _write(path: Path, record: dict[str, Any]) -> None:
    """Replace the record in one step, so a reader never sees half of it."""
    partial = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    partial.write_text(json.dumps(record))
    os.replace(partial, path)


def _expired(record: dict[str, Any]) -> bool:
    return time.time() - float(record.get("created", 0)) > LIFETIME_SECONDS


def _purge_expired() -> None:
    for path in _folder().glob("*.json"):
        try:
            if _expired(json.loads(path.read_text())):
                path.unlink(missing_ok=True)
        except (OSError, ValueError):
            path.unlink(missing_ok=True)


def new_token(user_id: int) -> str:
    """A token for one export by this user (and the expired ones are cleared away)."""
    _purge_expired()
    token = secrets.token_urlsafe(24)
    _write(
        _folder() / f"{token}.json",
        {"user": user_id, "created": time.time(), "state": "waiting", "rows": 0, "total": None},
    )
    return token


def _record(token: str, user_id: int) -> tuple[Path, dict[str, Any]] | None:
    path = _path(token)
    if path is None:
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("user") != user_id or _expired(record):
        return None
    return path, record


def status(token: str, user_id: int) -> dict[str, Any]:
    """What the page shows: state (waiting, writing, sending, finished or unknown), rows, total."""
    found = _record(token, user_id)
    if found is None:
        return dict(UNKNOWN)
    record = found[1]
    return {"state": record["state"], "rows": record["rows"], "total": record["total"]}


class Tracker:
    """Writes an export's progress under its token; without a valid token, does nothing."""

    def __init__(self, token: str, user_id: int) -> None:
        found = _record(token, user_id)
        self._path = found[0] if found else None
        self._record = found[1] if found else {}

    def _set(self, **values: Any) -> None:
        if self._path is not None:
            self._record.update(values)
            _write(self._path, self._record)

    def writing(self, total: int) -> None:
        self._set(state="writing", total=total, rows=0)

    def counted(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The rows, unchanged, with the count written every EVERY_ROWS rows."""
        done = 0
        for row in rows:
            yield row
            done += 1
            if done % EVERY_ROWS == 0:
                self._set(rows=done)
        self._set(rows=done)

    def sending(self) -> None:
        self._set(state="sending")

    def finished(self) -> None:
        self._set(state="finished")
