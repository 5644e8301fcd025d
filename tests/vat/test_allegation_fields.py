"""Allegations recorded as the UN reports them (issue 17, item 1): entity category, number of
alleged perpetrators, sub-types within their types, investigating entity and investigation status;
"not recorded" where a record does not say."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from vat.allegations import services
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidField

BASE = {"country_code": "CAF", "mission": "MINUSCA", "received_on": date(2024, 3, 1)}


def record(actor: User, reference: str = "0001/24", **values: Any) -> Allegation:
    return services.create_allegation(actor=actor, reference=reference, **{**BASE, **values})


def test_the_uns_fields_are_recorded(ctx: Flask, actor: User) -> None:
    given = {
        "entity_category": "peacekeeping",
        "perpetrators": "3",
        "sub_type": "sexual_activity_with_minor",
        "investigating_entity": "national_investigation_officer",
        "investigation_status": "ongoing",
    }
    allegation = record(actor, type="abuse", referred_on=date(2024, 3, 5), **given)
    assert {name: getattr(allegation, name) for name in given} == {**given, "perpetrators": 3}
    bare = record(actor, "0002/24")
    assert [getattr(bare, name) for name in given] == [None] * 5


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"type": "exploitation", "sub_type": "rape"}, "sub_type"),
        ({"type": "abuse", "sub_type": "transactional_sex"}, "sub_type"),
        ({"type": "other", "sub_type": "other"}, "sub_type"),
        ({"sub_type": "groping"}, "sub_type"),
        ({"entity_category": "blue_helmets"}, "entity_category"),
        ({"investigating_entity": "interpol"}, "investigating_entity"),
        ({"perpetrators": "0"}, "perpetrators"),
        ({"perpetrators": "two"}, "perpetrators"),
        ({"outcome": "substantiated", "investigation_status": "ongoing"}, "investigation_status"),
        ({"investigation_completed_on": date(2024, 6, 1), "referred_on": date(2024, 3, 2),
          "investigation_status": "referred"}, "investigation_status"),
        ({"referred_on": date(2024, 3, 2), "investigation_status": "under_review"}, "investigation_status"),
    ],
)  # fmt: skip
def test_what_the_un_would_not_report_is_refused(
    ctx: Flask, actor: User, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        record(actor, **values)
    assert refused.value.field == field


def test_a_sub_type_gives_its_type_and_an_outcome_completes_the_investigation(
    ctx: Flask, actor: User
) -> None:
    allegation = record(actor, sub_type="exploitative_relationship", outcome="unsubstantiated")
    assert (allegation.type, allegation.investigation_status) == ("exploitation", "completed")
    other = record(actor, "0002/24", type="abuse", sub_type="other")
    assert (other.type, other.sub_type) == ("abuse", "other")
    with pytest.raises(InvalidField):  # "other" belongs to both types: it gives neither
        record(actor, "0003/24", sub_type="other")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE vat_allegation SET entity_category = 'bogus'",
        "UPDATE vat_allegation SET sub_type = 'bogus'",
        "UPDATE vat_allegation SET investigating_entity = 'bogus'",
        "UPDATE vat_allegation SET investigation_status = 'bogus'",
        "UPDATE vat_allegation SET perpetrators = 0",
    ],
)
def test_the_database_keeps_the_enumerations(ctx: Flask, actor: User, statement: str) -> None:
    record(actor)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text(statement))
    db.session.rollback()


def test_the_form_and_the_page(app: Flask, client: FlaskClient, login: Callable[..., Any]) -> None:
    login(Role.ADVOCATE, "CAF")
    form = client.get("/vat/allegations/new").get_data(as_text=True)
    for name in ("entity_category", "perpetrators", "investigating_entity", "investigation_status"):
        assert f'name="{name}"' in form
    data = {
        "reference": "0042/24",
        "country_code": "CAF",
        "mission": "MINUSCA",
        "entity_category": "peacekeeping",
        "personnel_category": "military_contingent",
        "perpetrator_country": "",
        "perpetrators": "2",
        "type": "exploitation",
        "sub_type": "transactional_sex",
        "urgency": "normal",
        "received_on": "2024-03-01",
        "investigating_entity": "oios",
        "investigation_status": "",
        "outcome": "pending",
    }
    response = client.post("/vat/allegations/new", data=data)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "peacekeeping operations and special political missions" in page
    assert '<dd id="perpetrators">2</dd>' in page and "OIOS" in page
    assert '<dd id="investigation-status">not recorded</dd>' in page
    with app.app_context():
        allegation_id = db.session.scalar(select(Allegation.id))
    edit = client.get(f"/vat/allegations/{allegation_id}/edit").get_data(as_text=True)
    assert '<option selected value="peacekeeping">' in edit
    refused = client.post(f"/vat/allegations/{allegation_id}/edit", data={**data, "sub_type": "rape"})
    assert refused.status_code == 200
    assert "sub-types are: transactional_sex" in refused.get_data(as_text=True)
    french = client.get(f"/vat/allegations/{allegation_id}", headers={"Accept-Language": "fr"})
    assert "opérations de maintien de la paix et missions politiques spéciales" in french.get_data(
        as_text=True
    )


def test_the_form_is_refused_to_other_roles_and_without_csrf(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.FUND_MANAGER, "CAF")
    assert client.post("/vat/allegations/new", data={"reference": "X/1"}).status_code == 403
    app.config["WTF_CSRF_ENABLED"] = True
    login(Role.ADVOCATE, "CAF")
    response = client.post("/vat/allegations/new", data={"reference": "X/1", "country_code": "CAF"})
    assert response.status_code in (200, 400)
    with app.app_context():
        assert db.session.scalar(select(Allegation.id)) is None


def test_the_migration_fills_what_the_personnel_category_and_the_outcome_say(app: Flask) -> None:
    """Migration 1086 on records kept before it: uniformed personnel serve in peacekeeping
    operations and special political missions; implementing partners and non-UN forces are
    categories of their own; civilians could be either (not recorded). A decided outcome means a
    completed investigation; a pending one says nothing of where it stands."""
    from flask_migrate import downgrade, upgrade

    rows = {
        "P1": ("military_contingent", "substantiated", "peacekeeping", "completed"),
        "P2": ("individual_police", "pending", "peacekeeping", None),
        "P3": ("implementing_partner", "pending", "implementing_partner", None),
        "P4": ("non_un_force", "unsubstantiated", "non_un_force", "completed"),
        "P5": ("civilian", "pending", None, None),
    }
    with app.app_context():
        downgrade(revision="1085")
        with db.engine.begin() as connection:
            for reference, (category, outcome, _, _) in rows.items():
                connection.execute(
                    text(
                        "INSERT INTO vat_allegation (reference, country_code, personnel_category, type,"
                        " urgency, outcome, historical, created_at, updated_at) VALUES (:reference, 'CAF',"
                        " :category, 'unknown', 'normal', :outcome, false, '2024-01-01', '2024-01-01')"
                    ),
                    {"reference": reference, "category": category, "outcome": outcome},
                )
        upgrade(revision="head")
        found = {
            a.reference: (a.personnel_category, a.outcome, a.entity_category, a.investigation_status)
            for a in db.session.scalars(select(Allegation))
        }
        assert found == rows
