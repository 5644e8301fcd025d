"""A verifier that stays up between restarts: started as a subprocess with the server's
environment, it runs the real `flask ledger verify` and `flask audit verify` commands each time
it reads a line, on new database connections, and answers with one JSON line. Importing the app
takes seconds, so the crash test (dozens of restarts) pays for it once."""

from __future__ import annotations

import json
import sys

from vat.db import db
from wsgi import app


def main() -> None:
    runner = app.test_cli_runner()
    for _ in sys.stdin:
        failed = []
        for group in ("ledger", "audit"):
            result = runner.invoke(args=[group, "verify"])
            if result.exit_code != 0:
                failed.append(f"flask {group} verify: {result.output.strip()}")
        with app.app_context():
            db.engine.dispose()
        print(json.dumps(failed), flush=True)


if __name__ == "__main__":
    main()
