"""Helpers for victim-assistance tests: an actor in an app context, and a victim with consents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity
from vat.victims.consents import record_consent
from vat.victims.models import ConsentPurpose, Victim

ALL_CONSENTS = [p.value for p in ConsentPurpose]


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.test_request_context():  # services' messages are translated: they need a locale
        yield app


@pytest.fixture
def actor(ctx: Flask, make_user: Callable[..., Any]) -> User:
    """An advocate for CAF (all of it) and COD/MONUSCO, loaded in the test's app context."""
    test_user = make_user(Role.ADVOCATE, "CAF, COD/MONUSCO")
    user = db.session.get(User, test_user.id)
    assert user is not None
    return user


def register(actor: User, *, consents: list[str] | None = None, **values: Any) -> Victim:
    values.setdefault("country_code", "CAF")
    values.setdefault("mission", "MINUSCA")
    victim = identity.register_victim(actor=actor, **values)
    given_on = date.today() - timedelta(days=100)
    give_consents(actor, victim, ALL_CONSENTS if consents is None else consents, given_on=given_on)
    return victim


def give_consents(
    actor: User, victim: Victim, purposes: Iterable[str], *, given_on: date, version: str = "1"
) -> None:
    """The victim's written consent to each purpose, given on `given_on`."""
    for purpose in purposes:
        record_consent(
            actor=actor, victim=victim, purpose=purpose, given_on=given_on, method="written", version=version
        )
