"""Whom a step of the accountability cycle concerns (issue 17, sanctions counted per person): the
service numbers the alleged perpetrators (blank: all of them), refuses numbers the allegation
does not have, the form records and the page shows them, and migration 1099 takes every step
recorded before it to concern every alleged perpetrator recorded on its allegation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.conftest import sign_in
from tests.vat.conftest import reported
from vat import audit
from vat.allegations import accountability
from vat.allegations.cycle_models import AccountabilityStep, StepPerson
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidField


def _record(actor: User, allegation: Any, persons: str | None) -> AccountabilityStep:
    return accountability.record_step(
        actor=actor,
        allegation=allegation,
        step="administrative_action",
        measure="repatriation_and_ban",
        dated_on=date(2026, 5, 1),
        persons=persons,
    )


def test_a_step_names_the_alleged_perpetrators_it_concerns(ctx: Flask, actor: User) -> None:
    three = reported("P-1/26", perpetrators=3)
    assert _record(actor, three, None).person_numbers == [1, 2, 3]  # blank: all of them
    assert _record(actor, three, " 3, 1 3").person_numbers == [1, 3]
    unknown = reported("P-2/26", perpetrators=None)
    assert _record(actor, unknown, "").person_numbers == [1]  # number not recorded: one person
    for wrong in ("4", "0", "two", "1-2"):
        with pytest.raises(InvalidField) as refused:
            _record(actor, three, wrong)
        assert refused.value.field == "persons"
    with pytest.raises(InvalidField):
        _record(actor, unknown, "2")
    details = db.session.scalars(
        select(audit.AuditEvent.detail).where(audit.AuditEvent.action == "allegation.cycle_step")
    ).all()
    assert [json.loads(d)["persons"] for d in details] == [[1, 2, 3], [1, 3], [1]]


def test_the_form_records_them_and_the_page_shows_them(
    app: Flask, client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        allegation = reported("P-3/26", received_on=date.today() - timedelta(days=200), perpetrators=3).id
        db.session.commit()
    sign_in(app, client, advocate)
    base = f"/vat/allegations/{allegation}"
    form = {
        "step": "administrative_action",
        "measure": "repatriation_and_ban",
        "dated_on": date.today().isoformat(),
    }
    refused = client.post(f"{base}/cycle/new", data={**form, "persons": "5"})
    assert refused.status_code == 200 and "Give numbers from 1 to 3" in refused.get_data(as_text=True)
    done = client.post(f"{base}/cycle/new", data={**form, "persons": "2, 3"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Step recorded." in page and "<td>2, 3</td>" in page
    with app.app_context():
        assert db.session.scalars(select(StepPerson.person).order_by(StepPerson.person)).all() == [2, 3]
    french = client.get(f"{base}/cycle/new", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Auteurs présumés concernés" in french


def test_the_migration_takes_earlier_steps_to_concern_every_recorded_perpetrator(app: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="1092")
        with db.engine.begin() as connection:
            for number, (reference, perpetrators) in enumerate((("M-1", 3), ("M-2", None)), start=1):
                connection.execute(
                    text(
                        "INSERT INTO vat_allegation (id, reference, country_code, personnel_category, type,"
                        " urgency, outcome, perpetrators, historical, created_at, updated_at) VALUES"
                        " (:id, :reference, 'CAF', 'military_contingent', 'unknown', 'normal',"
                        " 'substantiated', :perpetrators, false, '2024-01-01', '2024-01-01')"
                    ),
                    {"id": number, "reference": reference, "perpetrators": perpetrators},
                )
                connection.execute(
                    text(
                        "INSERT INTO vat_accountability_step (id, allegation_id, step, measure, dated_on,"
                        " created_at) VALUES (:id, :id, 'administrative_action', 'dismissal',"
                        " '2024-02-01', '2024-02-01')"
                    ),
                    {"id": number},
                )
        upgrade(revision="head")
        found = db.session.execute(
            select(StepPerson.step_id, StepPerson.person).order_by(StepPerson.step_id, StepPerson.person)
        ).all()
        assert [tuple(row) for row in found] == [(1, 1), (1, 2), (1, 3), (2, 1)]
