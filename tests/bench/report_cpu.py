"""CPU per first view of the pages that read the service tally (issue 14): `python
tests/bench/report_cpu.py DATABASE_URL PAGE ROLE` on a scratch copy of a seeded database (it
records services). Prints one JSON line.

In a process started for this one page: its first view, then VIEWS views each right after a
service recorded through the victim services (so each is the first view after a change), then
VIEWS repeats; each as CPU time of the process (`time.process_time()`, SQLite's work included,
which moves much less than wall clock on a loaded machine) and wall clock. Run it with the code of
two commits on copies of one database (the "before" copy at its own migration) to compare."""

from __future__ import annotations

import json
import sys
from datetime import date
from functools import partial

from sqlalchemy import select

from tests.bench.conftest import session_user, signed_in_client, timed_get, views_after_changes
from tests.conftest import make_app
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import assistance
from vat.victims.models import Consent, Victim

VIEWS = 3


def record_service(user_id: int, n: int) -> None:
    """A medical service (no provider named) started n + 1 days after its referral, for a CAF
    victim who consented to services."""
    victim = db.session.scalar(
        select(Victim)
        .join(Consent, Consent.victim_id == Victim.id)
        .where(Victim.country_code == "CAF", Consent.purpose == "services", Consent.withdrawn_on.is_(None))
        .order_by(Victim.id)
        .offset(n)
        .limit(1)
    )
    assert victim is not None
    assistance.record_assistance(
        actor=db.session.get_one(User, user_id),
        victim=victim,
        service_type="medical",
        status="in_progress",
        referral_date=date(2026, 1, 1),
        start_date=date(2026, 1, 2 + n),
    )
    db.session.commit()


def main(url: str, page: str, role: Role) -> None:
    app = make_app(url)
    client = signed_in_client(app, session_user(app, role))
    writer = session_user(app, Role.SENIOR_ADVOCATE)
    first = timed_get(client, page)
    figures = views_after_changes(app, client, page, first, partial(record_service, writer), VIEWS)
    print(json.dumps({"page": page, "role": role.value} | figures), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Role(sys.argv[3]))
