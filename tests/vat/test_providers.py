"""The service-provider directory (issue 18, item 2): the service called directly (who keeps it,
promotion of typed providers, referrals that choose from it) and its pages through the client
(roles, other scope, missing CSRF, the referral form's choices)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import row_count
from tests.vat.conftest import register
from vat import audit
from vat.auth.models import Role, User
from vat.db import db
from vat.errors import NotAllowed
from vat.inputs import InvalidField
from vat.victims import assistance, providers
from vat.victims.models import Assistance, Provider

CLINIC = {
    "name": "Clinique Espoir",
    "country_code": "CAF",
    "location": "Bangui",
    "service_types": ["medical", "psychosocial"],
    "contact": "+236 00 00 00 00",
    "languages": "Sango, French",
    "availability": "limited",
}


def _user(make_user: Callable[..., Any], role: Role, scope: str) -> User:
    """A new user, loaded in the test's context (whose write transaction ends first: the user is
    made in a context of its own)."""
    db.session.commit()
    user = db.session.get(User, make_user(role, scope).id)
    assert user is not None
    return user


@pytest.fixture
def senior(ctx: Flask, make_user: Callable[..., Any]) -> User:
    return _user(make_user, Role.SENIOR_ADVOCATE, "CAF")


def test_a_senior_advocate_adds_a_provider_of_their_country_and_it_is_audited(
    actor: User, senior: User, today: date
) -> None:
    provider = providers.create_provider(actor=senior, **CLINIC)
    assert provider.service_types == ["medical", "psychosocial"]
    assert provider.availability == "limited" and provider.availability_on == today
    event = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "provider.create")
    ).one()
    assert event.object_id == str(provider.id) and event.country_code == "CAF"
    assert [p.name for p in providers.directory(country_code="CAF", service_type="medical")] == [
        "Clinique Espoir"
    ]
    assert providers.directory(country_code="CAF", service_type="legal") == []
    assert providers.directory(country_code="COD") == []


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.SENIOR_ADVOCATE, "COD"),  # another country
        (Role.SENIOR_ADVOCATE, "CAF/MINUSCA"),  # a mission, not the whole country
        (Role.ADVOCATE, "CAF"),
        (Role.FUND_MANAGER, ""),
    ],
)
def test_only_those_who_keep_the_country_may_add_to_it(
    ctx: Flask, make_user: Callable[..., Any], role: Role, scope: str
) -> None:
    with pytest.raises(NotAllowed):
        providers.create_provider(actor=_user(make_user, role, scope), **CLINIC)
    assert db.session.scalar(select(func.count(Provider.id))) == 0


def test_an_administrator_keeps_every_country(ctx: Flask, make_user: Callable[..., Any]) -> None:
    admin = _user(make_user, Role.ADMIN, "")
    provider = providers.create_provider(actor=admin, **{**CLINIC, "country_code": "HTI"})
    assert provider.country_code == "HTI"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service_types": []}, "service_types"),
        ({"service_types": ["surgery"]}, "service_types"),
        ({"country_code": "XX"}, "country_code"),
        ({"name": "  "}, "name"),
        ({"availability": "sometimes"}, "availability"),
    ],
)
def test_values_are_checked(senior: User, change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        providers.create_provider(actor=senior, **{**CLINIC, **change})
    assert refused.value.field == field


def test_availability_is_not_dated_ahead(senior: User, today: date) -> None:
    with pytest.raises(InvalidField) as refused:
        providers.create_provider(actor=senior, **{**CLINIC, "availability_on": today + timedelta(days=2)})
    assert refused.value.field == "availability_on"


def test_the_same_name_twice_in_a_country_is_refused(senior: User) -> None:
    providers.create_provider(actor=senior, **CLINIC)
    with pytest.raises(InvalidField) as refused:
        providers.create_provider(actor=senior, **{**CLINIC, "name": "clinique espoir"})
    assert refused.value.field == "name"


def test_promoting_a_typed_provider_links_its_referrals_in_its_country_only(
    actor: User, senior: User
) -> None:
    caf = register(actor)
    cod = register(actor, country_code="COD", mission="MONUSCO")
    typed = [
        assistance.record_assistance(
            actor=actor, victim=caf, service_type="medical", provider=" clinique ESPOIR"
        ),
        assistance.record_assistance(
            actor=actor, victim=caf, service_type="legal", provider="Clinique Espoir"
        ),
        assistance.record_assistance(actor=actor, victim=caf, service_type="medical", provider="Another"),
        assistance.record_assistance(
            actor=actor, victim=cod, service_type="medical", provider="Clinique Espoir"
        ),
    ]
    assert [(c, n, k) for c, n, k in providers.ad_hoc_providers(senior)] == [
        ("CAF", "Clinique Espoir", 2),
        ("CAF", "Another", 1),
    ]
    provider = providers.create_provider(actor=senior, **CLINIC)
    linked = [db.session.get(Assistance, s.id).provider_id for s in typed]  # type: ignore[union-attr]
    assert linked == [provider.id, provider.id, None, None]
    assert providers.ad_hoc_providers(senior) == [("CAF", "Another", 1)]
    event = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "provider.create")
    ).one()
    assert '"linked": 2' in event.detail


def test_a_referral_chooses_a_provider_of_the_victims_country_offering_the_service(
    actor: User, senior: User
) -> None:
    clinic = providers.create_provider(actor=senior, **CLINIC)
    victim = register(actor)
    service = assistance.record_assistance(
        actor=actor, victim=victim, service_type="medical", provider_id=str(clinic.id)
    )
    assert (service.provider_id, service.provider) == (clinic.id, "Clinique Espoir")
    with pytest.raises(InvalidField) as not_offered:
        assistance.record_assistance(actor=actor, victim=victim, service_type="legal", provider_id=clinic.id)
    assert not_offered.value.field == "provider_id"
    with pytest.raises(InvalidField) as both:
        assistance.record_assistance(
            actor=actor, victim=victim, service_type="medical", provider_id=clinic.id, provider="MSF"
        )
    assert both.value.field == "provider"
    other = register(actor, country_code="COD", mission="MONUSCO")
    with pytest.raises(InvalidField) as elsewhere:
        assistance.record_assistance(actor=actor, victim=other, service_type="medical", provider_id=clinic.id)
    assert elsewhere.value.field == "provider_id"
    typed = assistance.record_assistance(
        actor=actor, victim=victim, service_type="medical", provider="clinique espoir"
    )
    assert (typed.provider_id, typed.provider) == (clinic.id, "Clinique Espoir")
    free = assistance.record_assistance(actor=actor, victim=victim, service_type="medical", provider="MSF")
    assert free.provider_id is None and free.provider == "MSF"


def test_updating_a_provider_changes_its_services(senior: User, make_user: Callable[..., Any]) -> None:
    clinic = providers.create_provider(actor=senior, **CLINIC)
    providers.update_provider(
        actor=senior,
        provider=clinic,
        **{**CLINIC, "service_types": ["legal", "medical"], "availability": "not_available"},
    )
    assert clinic.service_types == ["legal", "medical"] and clinic.availability == "not_available"
    with pytest.raises(NotAllowed):
        providers.update_provider(
            actor=_user(make_user, Role.SENIOR_ADVOCATE, "COD"), provider=clinic, **CLINIC
        )


# --- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def cod_provider(app: Flask, make_user: Callable[..., Any]) -> int:
    with app.test_request_context():
        admin = _user(make_user, Role.ADMIN, "")
        provider = providers.create_provider(
            actor=admin, **{**CLINIC, "name": "HEAL Africa", "country_code": "COD"}
        )
        db.session.commit()
        return provider.id


FORM = {
    "name": "Clinique Espoir",
    "country_code": "CAF",
    "location": "Bangui",
    "service_types": ["medical"],
    "availability": "available",
}


def test_a_senior_advocate_adds_and_updates_through_the_pages(
    app: Flask, client: FlaskClient, login: Callable[..., Any], cod_provider: int
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    page = client.get("/vat/providers/new").get_data(as_text=True)
    assert 'value="CAF"' in page and 'value="COD"' not in page  # only the countries they keep
    response = client.post("/vat/providers/new", data=FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/vat/providers/"
    with app.app_context():
        provider_id = db.session.scalar(select(Provider.id).where(Provider.country_code == "CAF"))
    listing = client.get("/vat/providers/").get_data(as_text=True)
    assert "Clinique Espoir" in listing and "HEAL Africa" in listing
    assert f"/vat/providers/{provider_id}" in listing and f"/vat/providers/{cod_provider}" not in listing
    updated = client.post(
        f"/vat/providers/{provider_id}", data={**FORM, "service_types": ["medical", "legal"]}
    )
    assert updated.status_code == 302
    with app.app_context():
        assert db.session.get(Provider, provider_id).service_types == ["legal", "medical"]  # type: ignore[union-attr]


def test_another_countrys_provider_is_not_found_for_a_senior_advocate(
    app: Flask, client: FlaskClient, login: Callable[..., Any], cod_provider: int
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    assert client.get(f"/vat/providers/{cod_provider}").status_code == 404
    assert (
        client.post(f"/vat/providers/{cod_provider}", data={**FORM, "country_code": "COD"}).status_code == 404
    )
    refused = client.post("/vat/providers/new", data={**FORM, "country_code": "COD"})
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    assert row_count(app, Provider) == 1


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR])
def test_other_roles_read_the_directory_but_cannot_keep_it(
    app: Flask, client: FlaskClient, login: Callable[..., Any], cod_provider: int, role: Role
) -> None:
    login(role, "COD")
    listing = client.get("/vat/providers/?country=COD&service_type=medical")
    assert listing.status_code == 200 and "HEAL Africa" in listing.get_data(as_text=True)
    assert "Add a provider" not in listing.get_data(as_text=True)
    assert client.get("/vat/providers/new").status_code == 403
    assert client.post("/vat/providers/new", data={**FORM, "country_code": "COD"}).status_code == 403
    assert client.get(f"/vat/providers/{cod_provider}").status_code == 403
    assert row_count(app, Provider) == 1


def test_a_provider_form_without_its_csrf_token_is_refused(
    app: Flask, csrf_client: Callable[..., FlaskClient]
) -> None:
    assert csrf_client(Role.SENIOR_ADVOCATE, "CAF").post("/vat/providers/new", data=FORM).status_code == 400
    assert row_count(app, Provider) == 0


def test_the_service_form_offers_the_victims_countrys_providers_by_service(
    app: Flask,
    client: FlaskClient,
    login: Callable[..., Any],
    make_user: Callable[..., Any],
    cod_provider: int,
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        admin = _user(make_user, Role.ADMIN, "")
        clinic = providers.create_provider(actor=admin, **CLINIC)
        victim = register(db.session.get(User, user.id))
        db.session.commit()
        victim_id, clinic_id = victim.id, clinic.id
    page = client.get(f"/vat/victims/{victim_id}/assistance/new").get_data(as_text=True)
    assert '<optgroup label="medical">' in page and '<optgroup label="psychosocial">' in page
    assert "Clinique Espoir (Bangui) — limited" in page and "HEAL Africa" not in page
    data = {"service_type": "medical", "provider_id": str(clinic_id), "status": "referred"}
    assert client.post(f"/vat/victims/{victim_id}/assistance/new", data=data).status_code == 302
    refused = client.post(
        f"/vat/victims/{victim_id}/assistance/new", data={**data, "provider_id": str(cod_provider)}
    )
    assert "Choose a provider of the victim&#39;s country." in refused.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(select(Assistance.provider_id, Assistance.provider)).all()
    assert rows == [(clinic_id, "Clinique Espoir")]


@pytest.mark.parametrize("provider_id", ["abc", "0", "-1", "99999999999", "1e3", "٣"])
def test_a_provider_id_that_names_no_provider_is_refused(actor: User, provider_id: str) -> None:
    victim = register(actor)
    with pytest.raises(InvalidField) as refused:
        assistance.record_assistance(
            actor=actor, victim=victim, service_type="medical", provider_id=provider_id
        )
    assert refused.value.field == "provider_id"
