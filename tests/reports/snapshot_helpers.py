"""Helpers of the tests of kept figures (the dashboard's and the reports')."""

from __future__ import annotations

from datetime import date

from vat.db import db
from vat.reports import snapshots
from vat.victims.models import Victim


def wait_for_workers() -> None:
    """Until every background computation of kept figures has ended."""
    for entry in list(snapshots._entries.values()):
        if entry.worker is not None:
            entry.worker.join(timeout=30)


def add_victim(app, code: str) -> None:
    with app.app_context():
        db.session.add(
            Victim(
                case_code=code,
                country_code="CAF",
                mission="MINUSCA",
                sex="female",
                age_group="adult",
                registered_on=date(2022, 1, 1),
            )
        )
        db.session.commit()
