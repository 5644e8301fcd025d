"""Helpers for victim-assistance tests: an actor in an app context, and a victim with consents."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import sign_in
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import assistance, consents, family, identity
from vat.victims.consents import record_consent
from vat.victims.models import Assistance, Communication, Consent, ConsentPurpose, Disclosure, Victim

ALL_CONSENTS = [p.value for p in ConsentPurpose]
# Who reads a kept count's figures in its tests: every role, a country, a mission of it and another
# country; then two entitled to what an earlier one is, who must see the same.
VIEWERS = [
    (Role.ADVOCATE, "CAF"),
    (Role.SENIOR_ADVOCATE, "CAF"),
    (Role.ADVOCATE, "CAF/MINUSCA"),
    (Role.ADVOCATE, "COD"),
    (Role.FUND_MANAGER, ""),
    (Role.AUDITOR, ""),
    (Role.ADVOCATE, "CAF"),  # entitled to what the first is
    (Role.AUDITOR, ""),
]


def move(actor: User, victim: Victim, **place: Any) -> None:
    """The victim's record changed to `place` (country, mission, sex, age group), the rest kept."""
    identities = {name: getattr(victim, name) for name in identity.IDENTITY_FIELDS}
    identity.update_victim(actor=actor, victim=victim, **place, **identities)


@pytest.fixture
def ago(today: date) -> date:
    """Forty days before today: a past day for the services' dates."""
    return today - timedelta(days=40)


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


@pytest.fixture
def manager(ctx: Flask, make_user: Callable[..., Any]) -> User:
    """A fund manager, loaded in the test's app context."""
    db.session.commit()  # end the context's transaction: make_user writes on a connection of its own
    return db.session.get_one(User, make_user(Role.FUND_MANAGER, "").id)


@pytest.fixture
def own_victim(app: Flask, login: Callable[..., Any]) -> int:
    """The id of a victim (every consent given) registered by a CAF advocate, signed in on the
    test's client."""
    return registered(app, login(Role.ADVOCATE, "CAF").id)


@pytest.fixture
def people(app: Flask) -> Callable[..., list[str]]:
    """Registers `count` victims named Person `first`, Person `first + 1`… for the user whose id
    it is given, commits, and returns their case codes."""

    def register_people(user_id: int, count: int, first: int = 0) -> list[str]:
        with app.app_context():
            actor = db.session.get_one(User, user_id)
            victims = [register(actor, name=f"Person {n}") for n in range(first, first + count)]
            db.session.commit()
            return [victim.case_code for victim in victims]

    return register_people


@pytest.fixture
def drafted_for_its_owner(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., Any]
) -> Callable[..., tuple[int, str, str]]:
    """Has an advocate post `data` to the `form` (assistance, communications) of a victim with no
    consent, which keeps it as a draft; checks that another advocate of the same scope does not
    get back what was `typed` and its owner does; returns (the victim's id, the form's URL, the
    draft's token), the owner signed in."""

    def drafted(form: str, data: dict[str, str], typed: str) -> tuple[int, str, str]:
        user = login(Role.ADVOCATE, "CAF")
        victim_id = registered(app, user.id, consents=[])
        form_url = f"/vat/victims/{victim_id}/{form}/new"
        page = client.post(form_url, data=data).get_data(as_text=True)
        token = re.search(r"draft=([A-Za-z0-9_-]+)", page).group(1)  # type: ignore[union-attr]
        sign_in(app, client, make_user(Role.ADVOCATE, "CAF"))
        assert typed not in client.get(f"{form_url}?draft={token}").get_data(as_text=True)
        sign_in(app, client, user)
        assert typed in client.get(f"{form_url}?draft={token}").get_data(as_text=True)
        return victim_id, form_url, token

    return drafted


def register(actor: User, *, consents: list[str] | None = None, **values: Any) -> Victim:
    values.setdefault("country_code", "CAF")
    values.setdefault("mission", "MINUSCA")
    victim = identity.register_victim(actor=actor, **values)
    given_on = date.today() - timedelta(days=100)
    give_consents(actor, victim, ALL_CONSENTS if consents is None else consents, given_on=given_on)
    return victim


def registered(app: Flask, user_id: int, **values: Any) -> int:
    """The id of a victim registered (see `register`) by the user whose id is given, committed."""
    with app.test_request_context():
        victim = register(db.session.get_one(User, user_id), **values)
        db.session.commit()
        return victim.id


def change_at_once(
    app: Flask, user_id: int, make: Callable[[User, int], Any], *steps: Callable[[User, Any], object]
) -> None:
    """Eight rows made (`make(actor, n)`, committed) by the user whose id is given, then one thread
    a row, each with its own session, all let go at once: each runs `steps` in turn on that user
    and its row, committing after each step. Fails with the errors the threads met, if any."""
    with app.test_request_context():
        actor = db.session.get_one(User, user_id)
        made = [make(actor, n) for n in range(8)]
        db.session.commit()
        model, ids = type(made[0]), [row.id for row in made]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def change(row_id: int) -> None:
        try:
            with app.test_request_context():
                actor = db.session.get_one(User, user_id)
                row = db.session.get_one(model, row_id)
                db.session.commit()  # hold no transaction (nor SQLite's write lock) while waiting
                barrier.wait(timeout=10)
                for step in steps:
                    step(actor, row)
                    db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=change, args=(row_id,)) for row_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def kept_rows(app: Flask, differences: Callable[[], list[str]], sql: str, **params: Any) -> list[Any]:
    """The rows `sql` reads from a kept summary, once its `differences` find it agrees with the
    records it counts."""
    with app.test_request_context():
        assert differences() == []
        return list(db.session.execute(text(sql), params).all())


@pytest.fixture
def built(
    request: pytest.FixtureRequest, app: Flask, make_user: Callable[..., Any], clock: time_machine.Coordinates
) -> Iterator[tuple[User, list[User]]]:
    """The writer and the viewers of the allegations the test module's `OVERDUE` (an OverdueFigure
    of tests/vat/step_count_checks.py) starts from, written on the test's clock."""
    yield from request.module.OVERDUE.written(app, make_user)


def give_consents(
    actor: User, victim: Victim, purposes: Iterable[str], *, given_on: date, version: str = "1"
) -> None:
    """The victim's written consent to each purpose, given on `given_on`."""
    for purpose in purposes:
        consent(actor, victim, purpose, given_on=given_on, version=version)


def consent(actor: User, victim: Victim, purpose: str, given_on: date, **values: Any) -> Consent:
    """The victim's written consent to `purpose` (version 1), unless `values` say otherwise."""
    values = {"method": "written", "version": "1", **values}
    return record_consent(actor=actor, victim=victim, purpose=purpose, given_on=given_on, **values)


def assist(
    actor: User, victim: Victim, status: str = "referred", on: date | None = None, **values: Any
) -> Assistance:
    """A medical service (unless `values` name another type) referred on `on`, started that day
    once in progress and ended that day once completed, unless `values` say otherwise."""
    dates = {"referral_date": on} if on else {}
    if on and status in ("in_progress", "completed"):
        dates["start_date"] = on
    if on and status == "completed":
        dates["end_date"] = on
    values = {"service_type": "medical", "status": status, **dates, **values}
    return assistance.record_assistance(actor=actor, victim=victim, **values)


def contact(actor: User, victim: Victim, on: date | None, **values: Any) -> Communication:
    """A call on `on` that gave the victim a case update, unless `values` say otherwise."""
    values = {"channel": "phone", "summary": None, "case_update_given": True, **values}
    return family.log_communication(actor=actor, victim=victim, occurred_on=on, **values)


def share(
    actor: User, victim: Victim, recipient: str, purpose: str, kind: str = "provider", on: date | None = None
) -> Disclosure:
    """The victim's file shared with `recipient`, a provider unless told, on `on` (today if None)."""
    shared = {"recipient": recipient, "purpose": purpose, "shared_on": on}
    return consents.record_disclosure(actor=actor, victim=victim, recipient_kind=kind, **shared)


def reported(
    reference: str,
    *,
    received_on: date = date(2026, 1, 1),
    personnel: str = "military_contingent",
    outcome: str = "substantiated",
    **values: Any,
) -> Allegation:
    """A saved CAF allegation against personnel of Pakistan, received on `received_on` and gone
    through each step of the clock since, its report submitted 90 days after it was received."""
    steps = {"assessed_on": 2, "referred_on": 4, "nio_decision_on": 9, "investigation_completed_on": 78}
    days = {"received_on": 0, **steps, "report_submitted_on": 90}
    dates = {step: received_on + timedelta(days=n) for step, n in days.items()}
    allegation = Allegation(
        reference=reference,
        country_code="CAF",
        personnel_category=personnel,
        outcome=outcome,
        **{**dates, "perpetrator_country": "PAK", **values},
    )
    db.session.add(allegation)
    db.session.flush()
    return allegation
