"""'Today' is the user's (issue 16, item 5): a user east of UTC can enter their own today's date in
the first hours of their day, and one west of UTC cannot enter tomorrow's — on the victims' forms
and in the ledger alike."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.ledger.pages import book
from vat.auth.models import Role, User
from vat.db import db

LATE_EVENING_UTC = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # already 6 December in Tokyo
EARLY_MORNING_UTC = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # still 5 December in New York


def _in_zone(app, user_id: int, zone: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).time_zone = zone
        db.session.commit()


def _receipt(client, on: date):
    donor = client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "NOR"})
    assert donor.status_code == 302
    return book(
        client,
        f"{donor.headers['Location']}/receipt",
        amount="100",
        currency="USD",
        received_on=on.isoformat(),
        bank_reference="B-1",
    )


@pytest.mark.parametrize(
    ("moment", "zone", "accepted"),
    [
        (LATE_EVENING_UTC, "Asia/Tokyo", True),  # their today
        (LATE_EVENING_UTC, None, False),  # the installation's zone (UTC): tomorrow
        (EARLY_MORNING_UTC, "America/New_York", False),  # tomorrow where they are
        (EARLY_MORNING_UTC, None, True),
    ],
)
def test_the_ledger_takes_the_users_today_and_refuses_their_tomorrow(
    app, client, login, moment, zone, accepted
):
    with time_machine.travel(moment, tick=False):
        manager = login(Role.FUND_MANAGER, "")
        _in_zone(app, manager.id, zone)
        response = _receipt(client, date(2026, 12, 6))
    assert (response.status_code == 302) is accepted, response.get_data(as_text=True)[-600:]
    if not accepted:
        assert "The date is in the future." in response.get_data(as_text=True)


@pytest.mark.parametrize(("zone", "accepted"), [("Asia/Tokyo", True), (None, False)])
def test_a_contact_dated_the_users_today_is_recorded(app, client, login, zone, accepted):
    from tests.vat.conftest import register

    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        advocate = login(Role.ADVOCATE, "CAF")
        _in_zone(app, advocate.id, zone)
        with app.app_context():
            victim_id = register(db.session.get(User, advocate.id)).id
            db.session.commit()
        response = client.post(
            f"/vat/victims/{victim_id}/communications/new",
            data={"occurred_on": "2026-12-06", "channel": "in_person", "summary": "Seen at the clinic."},
        )
    assert (response.status_code == 302) is accepted
    if not accepted:
        assert "cannot be in the future" in response.get_data(as_text=True)
