"""Times are shown in the reader's zone, labelled: the user's choice, else the deployment's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask_login import login_user
from sqlalchemy import select

from ledger.models import Period
from vat.auth import services
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidField
from vat.templating import day, when

MOMENT = datetime(2026, 12, 5, 14, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "language", "moment", "shown"),
    [
        ("Europe/Paris", "en", MOMENT, "Dec 5, 2026, 3:04:05\u202fPM CET"),
        ("Europe/Paris", "fr", MOMENT, "5 déc. 2026, 15:04:05 CET"),
        (
            "Europe/Paris",
            "fr",
            datetime(2026, 7, 1, 12, 0),
            "1 juil. 2026, 14:00:00 CEST",
        ),  # stored naive UTC
        ("America/New_York", "en", MOMENT, "Dec 5, 2026, 9:04:05\u202fAM EST"),
        (None, "fr", MOMENT, "5 déc. 2026, 14:04:05 UTC"),
    ],
)
def test_a_time_is_shown_in_the_users_zone_with_its_label(app, make_user, zone, language, moment, shown):
    person = make_user(Role.FUND_MANAGER, "")
    with app.test_request_context(headers={"Accept-Language": language}):
        user = db.session.get(User, person.id)
        user.time_zone = zone
        login_user(user)
        assert when(moment) == shown
        assert day(moment) == shown  # a moment given to the date filter is shown the same way


def test_an_unknown_time_zone_is_refused_on_its_field(app, make_user):
    person = make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        user = db.session.get(User, person.id)
        for name in ("Mars/Olympus", "../../etc/passwd", "Europe/"):
            with pytest.raises(InvalidField) as refused:
                services.set_time_zone(user=user, time_zone=name)
            assert refused.value.field == "time_zone"
        services.set_time_zone(user=user, time_zone="Asia/Tokyo")
        assert user.time_zone == "Asia/Tokyo"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_user_sets_a_zone_and_pages_show_times_in_it(app, client, login, language):
    login(Role.FUND_MANAGER, "")
    form = client.get("/language").get_data(as_text=True)
    assert 'value="Asia/Tokyo"' in form
    saved = client.post("/language", data={"language": language, "time_zone": "Asia/Tokyo"})
    assert saved.status_code == 302
    assert client.post("/ledger/periods", data={"month": "2019-01-01"}).status_code == 302
    with app.app_context():
        closed_at = db.session.scalars(select(Period.closed_at)).one()
    local = closed_at.astimezone(ZoneInfo("Asia/Tokyo"))
    shown = f"{format_datetime(local, 'medium', locale=language)} JST"
    assert shown in client.get("/ledger/periods").get_data(as_text=True)
    assert shown in client.get("/ledger/periods/1").get_data(as_text=True)
    refused = client.post("/language", data={"language": language, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 200  # the form again, with the field's error
