"""Issue 16, item 3 in `make bench`: the victims list, victims' pages and receipts booked through
the form, idle and while a 10,000-row import runs as a job (tests/bench/import_p95.py, real
servers, on a scratch copy of the seeded database: the run books and imports). Each client kind's
p95 during the import's check and save is recorded against its idle p95 in the same run; the
import must finish and every acknowledged receipt be in the ledger once, postings adding up to
zero."""

from __future__ import annotations

import tempfile

import pytest

from tests.bench.conftest import (
    ROOT,
    Seeded,
    copy_database,
    drop_copy,
    last_json,
    record,
    run_script,
    session_user,
)
from vat.auth.models import Role

pytestmark = pytest.mark.timeout(3600)
SCRIPT = ROOT / "tests" / "bench" / "import_p95.py"


def test_pages_and_bookings_during_an_import(seeded: Seeded) -> None:
    session_user(seeded.app, Role.ADVOCATE)  # made in the seeded database, so the copy has them
    session_user(seeded.app, Role.FUND_MANAGER, scope="")
    url = copy_database(seeded.url, "import-p95")
    try:
        with tempfile.TemporaryDirectory() as folder:
            out = run_script(SCRIPT, url, folder, "0", timeout=3600)
    finally:
        drop_copy(url)
    figures = last_json(out.stdout)
    assert figures["import"] == {"state": "finished", "rows": 10000, "total": 10000}
    ledger = figures["ledger"]
    assert ledger["found_once"] == ledger["acknowledged"] > 0 and ledger["trial_balance_zero"]
    load = ", ".join(f"{k} {v:.1f}" for k, v in figures["load_1min"].items())
    for kind in figures["statuses"]:
        idle = figures.get(f"idle {kind}", {}).get("p95_ms")
        for phase in ("check", "save"):
            during = figures.get(f"{phase} {kind}", {})
            if "p95_ms" not in during:
                continue
            record(
                "16.3 during an import",
                f"{kind} p95 during the import's {phase} vs idle (ms; n {during['n']},"
                f" answers {during['statuses']}; load {load})",
                seeded.backend,
                during["p95_ms"],
                idle,
                target="within 1.5x of idle, no 503",
                met=bool(idle) and during["p95_ms"] <= 1.5 * idle and "503" not in during["statuses"],
            )
