"""Migration 1120: a database upgraded from before the service tally (1096) and the partners'
lines on victims (1100) holds exact kept counts right after `flask db upgrade`, with no
`flask figures rebuild` (issue 14): built at head, taken down to 1092, brought up again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.ledger.test_report_lines import csv, do_import, project, schedule  # noqa: F401  (fixture)
from tests.vat.conftest import assist, consent
from vat import figures
from vat.auth.models import User
from vat.db import db
from vat.victims import identity, service_tally, support_counts
from vat.victims.models import Victim

SERVICES = [
    # case code, type, status, provider, referral, start, end, trust fund cost
    ("CAR-2017-0042", "medical", "completed", "Hôpital de l'Amitié", date(2019, 3, 1), date(2019, 3, 4),
     date(2019, 4, 1), None),
    ("CAR-2017-0042", "psychosocial", "referred", None, date(2019, 3, 5), None, None, None),
    ("CAR-2017-0043", "shelter", "not_available", "Maison", date(2020, 1, 2), None, None, None),
    ("CAR-2017-0043", "education", "in_progress", None, date(2020, 2, 1), date(2020, 2, 20), None, "120.00"),
    ("COD-2018-0007", "legal", "declined", "Avocats sans frontières", date(2019, 6, 1), None, None, None),
    ("COD-2018-0007", "material", "completed", None, date(2019, 6, 3), date(2019, 6, 3), date(2019, 6, 3),
     None),
    ("CAF-2019-0100", "medical", "in_progress", "Hôpital de l'Amitié", date(2019, 8, 1), date(2019, 8, 2),
     None, None),
]  # fmt: skip
TALLY = "SELECT count(*) FROM vat_service_tally"


def _record_services() -> None:
    advocate = db.session.scalar(select(User).where(User.username == "sacaf"))
    identity.register_victim(
        actor=advocate,
        country_code="CAF",
        mission=None,
        case_code="CAF-2019-0100",
        sex="female",
        age_group="minor",
        registered_on=date(2019, 7, 1),
    )
    other = db.session.scalar(select(User).where(User.username == "sacod"))
    providers = {code: {provider} for code, _, _, provider, *_ in SERVICES if provider}
    for victim in db.session.scalars(select(Victim)):
        actor = advocate if victim.country_code == "CAF" else other
        for purpose, recipient in [("services", None)] + [
            ("referral", name) for name in sorted(providers.get(victim.case_code, ()))
        ]:
            consent(actor, victim, purpose, date(2019, 1, 2), recipient=recipient, version="v1")
    for code, kind, status, provider, referred, started, ended, cost in SERVICES:
        victim = db.session.scalar(select(Victim).where(Victim.case_code == code))
        actor = advocate if victim.country_code == "CAF" else other
        paid = {"cost": Decimal(cost or 0), "currency": "USD", "funding_source": "trust_fund_project"}
        dates = {"referral_date": referred, "start_date": started, "end_date": ended}
        assist(actor, victim, status, service_type=kind, provider=provider, **dates, **(paid if cost else {}))


def test_an_upgrade_from_1092_leaves_every_kept_count_exact(fund, project):  # noqa: F811
    _record_services()
    do_import(
        fund, schedule(fund, project), csv("CAR-2017-0042,cash,300.00,2019-04-02", "CAR-2017-0043,medical,0,")
    )
    db.session.commit()
    assert figures.differences() == []
    kept = db.session.scalar(text(TALLY))
    assert kept > 0
    db.session.commit()

    downgrade(revision="1092")
    upgrade(revision="1106")
    # What 1096 and 1100 left: an empty tally, and sums per place without the partners' lines.
    # (Only the summaries that exist at 1106: the clock and need counts come with 1110 and 1111.)
    left = service_tally.differences() + support_counts.differences()
    assert any(d.startswith("service tally") for d in left)
    assert any(d.startswith("victim support counts") for d in left)
    db.session.commit()

    upgrade(revision="heads")
    assert figures.differences() == []
    assert db.session.scalar(text(TALLY)) == kept
