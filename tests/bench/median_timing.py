"""The plausibility check's median (`vat.plausibility.Usual.median_minor`), timed per kind of
amount at scale: `PYTHONPATH=. python tests/bench/median_timing.py DATABASE_URL [CURRENCY]` on a
scratch copy of a seeded database (it migrates it, unless `--as-is`: the code before a change, run
from its own checkout, measures the schema it knew). Prints one JSON line per kind: rows of that
kind in the currency, the median, and the median of REPEATS reads in wall and CPU milliseconds,
beside a primary-key read measured in the same run (the reference)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import func, select

from ledger import usual_amounts
from tests.conftest import make_app
from vat.auth.models import User
from vat.claims import legal, support
from vat.db import db
from vat.plausibility import Usual
from vat.victims.assistance import usual_costs

REPEATS = 20


def timed(read: Any) -> tuple[Any, float, float]:
    walls, cpus, value = [], [], None
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        value = read()
        db.session.rollback()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return value, statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main(url: str, currency: str, migrate: bool = True) -> None:
    app = make_app(url)
    if migrate:
        with app.app_context():
            upgrade(revision="heads")
    kinds = [value for value in vars(usual_amounts).values() if isinstance(value, Usual)]
    kinds += [legal.DNA_COSTS, support.ORDERS, usual_costs("medical")]
    with app.app_context():
        _, ref_wall, ref_cpu = timed(lambda: db.session.get(User, 1))
        for usual in kinds:
            recorded = usual.amounts(currency).subquery()
            rows = db.session.scalar(select(func.count()).select_from(recorded))
            median, wall, cpu = timed(lambda u=usual: u.median_minor(currency))
            line = {
                "kind": usual.kind,
                "backend": db.engine.dialect.name,
                "rows": rows,
                "median_minor": median,
                "wall_ms": round(wall, 2),
                "cpu_ms": round(cpu, 2),
                "reference_wall_ms": round(ref_wall, 3),
                "load": os.getloadavg()[0],
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "USD", "--as-is" not in sys.argv)
