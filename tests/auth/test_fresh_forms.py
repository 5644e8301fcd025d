"""A form sent with POST to an action that needs a fresh sign-in comes back, once the sign-in is
confirmed, to the page that holds the form (a redirect cannot send the form again)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import time_machine

from tests.conftest import sign_in
from vat.auth.models import Role
from vat.db import utcnow


def _next(response) -> str | None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/reauthenticate"
    return parse_qs(location.query).get("next", [None])[0]


def test_a_stale_post_returns_to_the_page_its_form_names(app, client, make_user):
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    sign_in(app, client, senior)
    with time_machine.travel(utcnow() + timedelta(minutes=app.config["VAT_FRESH_MINUTES"] + 1)):
        sent = client.post("/vat/victims/7/export", data={"disclosure_id": "1", "back": "/vat/victims/7"})
        assert _next(sent) == "/vat/victims/7"
        assert _next(client.post("/vat/victims/7/export", data={"disclosure_id": "1"})) is None


def test_a_stale_get_returns_to_itself(app, client, make_user):
    sign_in(app, client, make_user(Role.ADMIN, ""))
    with time_machine.travel(utcnow() + timedelta(minutes=app.config["VAT_FRESH_MINUTES"] + 1)):
        assert _next(client.get("/admin/users/new?x=1")) == "/admin/users/new?x=1"
