"""What `bean-check --no-cache FILE` does (parse, book, run the validations), timed without the
interpreter's start; run by the peers' virtualenv, prints the seconds and the count of errors."""

from __future__ import annotations

import json
import sys
import time

from beancount import loader

if __name__ == "__main__":
    loader.initialize(use_cache=False)
    started = time.perf_counter()
    entries, errors, _ = loader.load_file(sys.argv[1])
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "entries": len(entries), "errors": [str(e) for e in errors][:5]}))
