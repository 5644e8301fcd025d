"""The dependency arrow is seeding → vat/ledger: the app never imports the seeding package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from tests.conftest import TEST_SETTINGS
from vat import create_app
create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(sorted(name for name in sys.modules if name.partition(".")[0] == "seeding"))
"""


def test_creating_the_app_imports_nothing_from_seeding() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
