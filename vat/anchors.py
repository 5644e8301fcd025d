"""Chain heads anchored outside the database (issue 15, item 6).

The ledger's and the audit log's hash chains prove that no row was altered, but not that the
newest rows were not deleted: someone who can write to the database can cut a chain's tail and
what remains still verifies. So the heads are written, signed with the chain key, to an
append-only file outside the database: at every period close, after a restore, and on
`flask anchor` (daily, from cron). Each verifier checks that the row a head names is still
there with the same hash; the latest line that is signed correctly is the one that counts, and a
line whose signature fails is itself a problem to report.

A line: {"at", "reason", "heads": {"ledger": {"seq", "hash"}, "audit": {"id", "hash"}}, "mac"}."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from vat.db import db, utcnow

Heads = dict[str, dict[str, Any]]


def path() -> Path:
    configured = current_app.config.get("VAT_ANCHOR_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "anchors.jsonl"


def _mac(fields: dict[str, Any]) -> str:
    message = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    key = current_app.config["VAT_MAC_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed(heads: Heads, reason: str) -> dict[str, Any]:
    """An anchor line for `heads`, signed: what the close pack shows and the file keeps."""
    fields = {"at": utcnow().isoformat(timespec="seconds"), "reason": reason, "heads": heads}
    return fields | {"mac": _mac(fields)}


def genuine(line: Any) -> bool:
    """Whether `line` is an anchor line signed with this installation's chain key."""
    try:
        fields = {name: line[name] for name in ("at", "reason", "heads")}
        return hmac.compare_digest(str(line["mac"]), _mac(fields))
    except (KeyError, TypeError):
        return False


def append(line: dict[str, Any]) -> None:
    """Add `line` to the file, on disk before this returns (opened for appending only)."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a", encoding="utf-8") as file:
        file.write(json.dumps(line, sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())


def append_after_commit(line: dict[str, Any]) -> None:
    """Append `line` once the current transaction commits (never if it rolls back): an anchor
    must name only rows that exist."""
    session = db.session()
    session.info.setdefault("anchors_on_commit", []).append(line)


@event.listens_for(Session, "after_commit")
def _write_pending(session: Session) -> None:
    for line in session.info.pop("anchors_on_commit", []):
        append(line)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("anchors_on_commit", None)


def holds(line: dict[str, Any]) -> bool:
    """Whether the file holds `line` (a seal a pack carries)."""
    target = path()
    if not target.exists():
        return False
    for text in target.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(text) == line:
                return True
        except ValueError:
            continue
    return False


def latest() -> tuple[dict[str, Any] | None, str | None]:
    """The latest anchor line, and the problem with the file if a line's signature fails."""
    target = path()
    if not target.exists():
        return None, None
    found = None
    for number, text in enumerate(target.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            line = json.loads(text)
        except ValueError:
            line = None
        if not genuine(line):
            return None, f"the anchor file {target} was altered at line {number}"
        found = line
    return found, None


def check(chain: str, position: str, hash_at: Callable[[int], str | None]) -> str | None:
    """The problem, if any, with `chain` against the latest anchor: `hash_at(n)` gives the hash of
    the row at `position` n (None if there is none)."""
    line, problem = latest()
    if problem or line is None:
        return problem
    head = line["heads"].get(chain)
    if not head or not head.get(position):
        return None
    number, expected = int(head[position]), head["hash"]
    found = hash_at(number)
    if found is None:
        return (
            f"{chain} row {position} {number}, anchored on {line['at']} ({line['reason']}), is missing: "
            "rows were deleted since"
        )
    if not hmac.compare_digest(found, expected):
        return f"{chain} row {position} {number} differs from its anchor of {line['at']} ({line['reason']})"
    return None
