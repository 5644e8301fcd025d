"""The figures pack (issue 17, item 6; OIOS recommendation 11): a year's UN figures as a file kept
for the annual certification that every allegation was reported, sealed as a month's close pack
is (ledger.services.months.close_period, through ledger.verify.seal): the chains' heads when it
was made, in a line signed with the chain key that binds them to the digest of its files and is
appended to the anchor file (vat.anchors) once the request's transaction commits.

A ZIP of `figures.xlsx` (one sheet per table), one CSV per table, `figures.json` (the same
tables) and `manifest.json`: the period, the filters, who produced it and when, the threshold
its figures were suppressed with, each file's SHA-256, the heads and the seal. `problem` checks a
pack: every file's hash, the digest the seal names, the seal's signature, and that the anchor
file holds the seal."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

from ledger.verify import seal
from vat import anchors
from vat.db import utcnow
from vat.reports.exports import csv_lines, xlsx_bytes

Sheet = tuple[str, Sequence[str], Sequence[Sequence[Any]]]
MANIFEST = "manifest.json"
SEAL_REASON = "figures"


def _digest(files: dict[str, str], period: str) -> str:
    """What the seal signs: the files' hashes and the period, canonically."""
    canonical = json.dumps({"files": files, "period": period}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _csv_name(number: int, title: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    return f"csv/{number:02d}-{slug}.csv"


def sealed_pack(
    sheets: Sequence[Sheet], *, period: str, filters: dict[str, Any], produced_by: str, threshold: int
) -> bytes:
    """The ZIP of `sheets` for `period`, with its manifest and seal."""
    contents: dict[str, bytes] = {"figures.xlsx": xlsx_bytes(sheets)}
    for number, (title, header, rows) in enumerate(sheets, start=1):
        contents[_csv_name(number, title)] = "".join(csv_lines(header, rows)).encode("utf-8")
    tables = [
        {"title": title, "header": list(header), "rows": [list(r) for r in rows]}
        for title, header, rows in sheets
    ]
    contents["figures.json"] = json.dumps(
        {"period": period, "tables": tables}, sort_keys=True, indent=1, ensure_ascii=False, default=str
    ).encode("utf-8")
    files = {name: hashlib.sha256(body).hexdigest() for name, body in contents.items()}
    digest = _digest(files, period)
    manifest = {
        "period": period,
        "filters": filters,
        "produced_by": produced_by,
        "produced_at": utcnow().isoformat(timespec="seconds"),
        "threshold": threshold,
        "files": files,
        "digest": digest,
        "seal": seal(f"{SEAL_REASON} {period} sha256:{digest}"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, body in contents.items():
            pack.writestr(name, body)
        pack.writestr(MANIFEST, json.dumps(manifest, sort_keys=True, indent=1))
    return buffer.getvalue()


def problem(pack: bytes) -> str | None:
    """What is wrong with a pack, or None: a file changed, added or missing, a manifest changed
    after sealing, a seal not signed with this installation's key, or one the anchor file does not
    hold (a pack made and never committed, or a line removed from the file)."""
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        names = set(archive.namelist()) - {MANIFEST}
        manifest = json.loads(archive.read(MANIFEST))
        files: dict[str, str] = manifest["files"]
        if names != set(files):
            return "the pack's files differ from its manifest"
        for name, expected in sorted(files.items()):
            if hashlib.sha256(archive.read(name)).hexdigest() != expected:
                return f"{name} differs from its hash in the manifest"
    digest = _digest(files, manifest["period"])
    seal = manifest["seal"]
    if (
        digest != manifest["digest"]
        or seal.get("reason") != f"{SEAL_REASON} {manifest['period']} sha256:{digest}"
    ):
        return "the manifest differs from what was sealed"
    if not anchors.genuine(seal):
        return "the seal is not signed with this installation's key"
    if not anchors.holds(seal):
        return "the seal is not in the anchor file"
    return None
