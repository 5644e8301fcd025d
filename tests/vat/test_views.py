"""Victim-assistance pages through the test client: the journey, scope and roles on every route
(generated from the URL map), constant queries per list page, form errors, CSRF, no identity leaks."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import BACKEND, row_count, sign_in
from tests.security.forms import rendered_values
from tests.statements import counting, locked_for_its_audit_row
from tests.vat.conftest import assist, contact, register, share
from vat import audit, jobs
from vat.allegations import services as allegations
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import assistance, consents, family, identity, import_job, needs, outcomes
from vat.victims.models import Assistance, Victim

NAME = "Fatimé Zaïnab عائشة"


@pytest.fixture
def iso(today: date) -> Callable[[int], str]:
    """iso(n): the date n days before today, as a form field carries it."""
    return lambda days_ago: (today - timedelta(days=days_ago)).isoformat()


def test_journey_register_link_refer_complete_inform_and_see_the_timeline(
    app: Flask, client: FlaskClient, login: Callable[..., Any], today: date, iso: Callable[[int], str]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    response = client.post(
        "/vat/victims/new",
        data={
            "country_code": "CAF",
            "mission": "minusca",
            "sex": "female",
            "age_group": "minor",
            "name": NAME,
            "contact": "Quartier PK5",
            "advocate_id": str(user.id),
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert NAME not in location and "Fatim" not in location
    victim_id = int(location.rsplit("/", 1)[1])
    page = client.get(location).get_data(as_text=True)
    assert f"<bdi>{NAME}</bdi>" in page and "Nothing open" not in page
    with app.app_context():
        code = db.session.get(Victim, victim_id).case_code
    assert re.fullmatch(rf"CAR-{today.year}-\d{{4}}", code)

    for purpose in ("services", "referral", "contact"):
        response = client.post(
            f"/vat/victims/{victim_id}/consents/new",
            data={"purpose": purpose, "given_on": iso(10), "method": "written", "version": "1"},
        )
        assert response.status_code == 302, purpose
    client.post(
        "/vat/allegations/new",
        data={
            "reference": "0042/26",
            "country_code": "CAF",
            "mission": "MINUSCA",
            "personnel_category": "military_contingent",
            "perpetrator_country": "FRA",
            "type": "abuse",
            "sub_type": "rape",
            "urgency": "normal",
            "received_on": iso(12),
            "outcome": "pending",
        },
    )
    assert (
        client.post(f"/vat/victims/{victim_id}/allegations", data={"reference": "0042/26"}).status_code == 302
    )
    referred = {
        "service_type": "medical",
        "provider": "Hôpital communautaire",
        "status": "referred",
        "referral_date": iso(9),
        "funding_source": "agency",
    }
    response = client.post(f"/vat/victims/{victim_id}/assistance/new", data=referred)
    assert response.status_code == 302
    with app.app_context():
        service_id = db.session.scalar(select(Assistance.id))
    response = client.post(
        f"/vat/victims/{victim_id}/assistance/{service_id}",
        data={
            **referred,
            "status": "completed",
            "start_date": iso(8),
            "end_date": iso(2),
            "cost": "85.50",
            "currency": "USD",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/vat/victims/{victim_id}/communications/new",
        data={
            "occurred_on": iso(1),
            "channel": "in_person",
            "language": "Sango",
            "summary": "Treatment explained.",
            "case_update_given": "y",
            "next_update_due": iso(-30),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/vat/victims/{victim_id}").get_data(as_text=True)
    for expected in (
        "Allegation 0042/26: received",
        "Referred for medical help",
        "Medical help started",
        "Medical help ended",
        "Contact by in person — case update given",
        "Treatment explained.",
        "$85.50",
    ):
        assert expected in page, expected
    timeline = page[page.index('class="timeline"') :]
    assert (
        timeline.index("Contact by in person")
        < timeline.index("Medical help ended")
        < timeline.index("Referred for")
    )
    with app.app_context():
        actions = db.session.scalars(
            select(audit.AuditEvent.action).where(audit.AuditEvent.object_id == code)
        ).all()
    assert {
        "victim.create",
        "victim.view_identity",
        "victim.assistance_update",
        "victim.communication_create",
        "allegation.link_victim",
    } <= set(actions)
    assert NAME not in client.get("/vat/victims").get_data(as_text=True)  # lists show case codes


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one write lock")
def test_a_victims_pages_take_the_write_lock_for_their_audit_row_alone(
    app: Flask, client: FlaskClient, own_victim: int
) -> None:
    """Every other writer waits while one holds SQLite's write lock: the victim's page, its edit
    form and a service's read without it, and show the identity (or the service's notes) once its
    reading is recorded, in a short transaction of its own."""
    with app.app_context():
        victim = db.session.get_one(Victim, own_victim)
        service_id = assist(victim.advocate, victim).id
        db.session.commit()
    locked_for_its_audit_row(app, client, f"/vat/victims/{own_victim}", reading="vat_victim")
    locked_for_its_audit_row(app, client, f"/vat/victims/{own_victim}/edit", reading="vat_victim")
    locked_for_its_audit_row(app, client, f"/vat/victims/{own_victim}/assistance/{service_id}")
    assert row_count(app, audit.AuditEvent, audit.AuditEvent.action == "victim.view_identity") == 2
    assert row_count(app, audit.AuditEvent, audit.AuditEvent.action == "victim.view_record") == 1


def test_form_errors_name_the_field_and_save_nothing(
    app: Flask, client: FlaskClient, login: Callable[..., Any], iso: Callable[[int], str]
) -> None:
    login(Role.ADVOCATE, "CAF")
    bad = [
        {"country_code": "CAF", "sex": "alien"},
        {"country_code": "SSD"},
        {"country_code": "CAF", "date_of_birth": iso(-3)},
        {"country_code": "CAF", "name": "n" * 201},
        {"country_code": "CAF", "notes": "n" * 5001},
        {"country_code": "CAF", "date_of_birth": "31/02/2020"},
    ]
    for data in bad:
        response = client.post("/vat/victims/new", data=data)
        assert response.status_code == 200, data
        assert 'class="error"' in response.get_data(as_text=True), data
    assert row_count(app, Victim) == 0


def test_assistance_date_error_shows_on_the_form(
    app: Flask, client: FlaskClient, own_victim: int, iso: Callable[[int], str]
) -> None:
    response = client.post(
        f"/vat/victims/{own_victim}/assistance/new",
        data={
            "service_type": "medical",
            "status": "in_progress",
            "referral_date": iso(5),
            "start_date": iso(6),
            "funding_source": "unknown",
        },
    )
    assert response.status_code == 200
    assert "The service cannot start before the referral date." in response.get_data(as_text=True)
    assert row_count(app, Assistance) == 0


def test_csrf_is_required(app: Flask, csrf_client: Callable[..., FlaskClient]) -> None:
    response = csrf_client(Role.ADVOCATE, "CAF").post("/vat/victims/new", data={"country_code": "CAF"})
    assert response.status_code == 400
    assert row_count(app, Victim) == 0


# --- every route, as another scope and as every other role -----------------------------------

MY_BLUEPRINTS = ("victims.", "allegations.")


@pytest.fixture
def records(app: Flask, make_user: Callable[..., Any], today: date) -> dict[str, Any]:
    owner = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, owner.id)
        victim = register(actor, name=NAME)
        allegation = allegations.create_allegation(
            actor=actor, reference="9/26", country_code="CAF", received_on=today
        )
        outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
        service = assistance.record_assistance(
            actor=actor, victim=victim, service_type="medical", status="referred"
        )
        child = family.add_child(actor=actor, victim=victim, sex="female")
        job = jobs.create(kind_name=import_job.KIND, owner_id=owner.id)  # the owner's import
        update = contact(actor, victim, today)
        allegations.update_allegation(
            actor=actor, allegation=allegation, outcome="substantiated", country_code="CAF", received_on=today
        )
        feedback = needs.record_feedback(
            actor=actor, victim=victim, satisfaction="unsure", service=service, follow_up_needed=True
        )
        db.session.commit()
        return {
            "job_id": job.id,
            "victim_id": victim.id,
            "allegation_id": allegation.id,
            "service_id": service.id,
            "communication_id": update.id,
            "child_id": child.id,
            "consent_id": victim.consents[0].id,
            "task_id": victim.tasks[0].id,
            "feedback_id": feedback.id,
            "step": "assessed",
            "cycle_step": "member_state_outcome",
            "kind": "victims",  # an import template's
            "letter": "outcome",  # a letter template's kind and language
            "language": "fr",
            "code": victim.case_code,
        }


def vat_routes(app: Flask) -> Iterator[tuple[str, str, set[str]]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(MY_BLUEPRINTS):
            yield rule.endpoint, rule.rule, set(rule.arguments)


def test_all_vat_routes_are_under_my_blueprints_or_another_vat_domain(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/vat/victims") or rule.rule.startswith("/vat/allegations"):
            assert rule.endpoint.startswith(MY_BLUEPRINTS), rule.rule


def build(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        (Role.ADVOCATE, "HTI", 404),
        (Role.SENIOR_ADVOCATE, "COD, HTI, SSD", 404),
        (Role.ADVOCATE, "CAF/MINUSMA", 404),  # another mission of the country
        (Role.FUND_MANAGER, "", 403),
        (Role.AUDITOR, "", 403),
        (Role.ADMIN, "", 403),
    ],
)
def test_every_record_route_refuses_outsiders(
    app: Flask,
    client: FlaskClient,
    login: Callable[..., Any],
    records: dict[str, Any],
    role: Role,
    scope: str,
    expected: int,
) -> None:
    """Generated from the URL map: a new route under these blueprints is covered automatically."""
    login(role, scope)
    checked = 0
    for endpoint, path, arguments in vat_routes(app):
        scoped = bool(arguments - {"step", "cycle_step", "kind", "letter", "language"})
        if expected == 404 and not scoped:
            continue  # pages without a record id show the user's own scope (tested elsewhere)
        url = build(path, records)
        for method in ("GET", "POST"):
            rule_methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
            if method not in (rule_methods or set()):
                continue
            response = client.open(
                url, method=method, data={"reason": "x" * 30, "case_code": records["code"]}
            )
            want = expected
            if endpoint == "allegations.update_clock_rule" and role is Role.SENIOR_ADVOCATE:
                want = 302  # policy, not victim data: any senior advocate may edit the rules
            elif endpoint == "allegations.update_clock_rule" and expected == 404:
                want = 403
            elif endpoint == "victims.export_disclosure" and role is Role.ADVOCATE:
                want = 403  # identities leave only with a senior advocate, whatever the scope
            elif endpoint.endswith(("_erasure", "erase_identity")) and role is Role.ADVOCATE:
                want = 403  # erasing an identity is a senior advocate's, whatever the scope
            assert response.status_code == want, (role, method, url, response.status_code)
            assert records["code"] not in response.get_data(as_text=True)
            assert NAME not in response.get_data(as_text=True)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_pages_without_ids_are_refused_to_roles_that_do_not_see_victims(
    app: Flask, client: FlaskClient, login: Callable[..., Any], role: Role
) -> None:
    login(role, "")
    for _endpoint, path, arguments in vat_routes(app):
        if not arguments:
            assert client.get(path).status_code in (403, 405), path


def test_advocates_cannot_break_the_glass_or_edit_rules(
    client: FlaskClient, login: Callable[..., Any], records: dict[str, Any]
) -> None:
    login(Role.ADVOCATE, "HTI")
    assert client.get("/vat/break-glass").status_code == 403
    assert (
        client.post("/vat/allegations/clock-rules/assessed", data={"assessed-amount": "1"}).status_code == 403
    )


def test_senior_breaks_the_glass_through_the_form(
    app: Flask, client: FlaskClient, login: Callable[..., Any], records: dict[str, Any]
) -> None:
    login(Role.SENIOR_ADVOCATE, "HTI")
    url = f"/vat/victims/{records['victim_id']}"
    assert client.get(url).status_code == 404
    response = client.post("/vat/break-glass", data={"case_code": records["code"], "reason": "too short"})
    assert response.status_code == 200 and client.get(url).status_code == 404
    response = client.post(
        "/vat/break-glass",
        data={"case_code": records["code"].lower(), "reason": "The victim is in hospital in Port-au-Prince."},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert NAME in page and "by breaking the glass" in page


# --- constant number of queries per list page ------------------------------------------------


def test_lists_issue_a_constant_number_of_queries(
    app: Flask, client: FlaskClient, login: Callable[..., Any], today: date
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, user.id)
        for number in range(60):
            victim = register(actor, name=f"Person {number}")
            assist(actor, victim)
            allegation = allegations.create_allegation(
                actor=actor,
                reference=f"{number}/26",
                country_code="CAF",
                received_on=today - timedelta(days=number),
            )
            outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
        db.session.commit()
    counts = {}
    for path in ("/vat/victims", "/vat/allegations/", "/vat/victims?no_assistance=y&minor=&country_code=CAF"):
        for size in (2, 10, 50):
            joiner = "&" if "?" in path else "?"
            with counting(app) as statements:
                response = client.get(f"{path}{joiner}per_page={size}")
            assert response.status_code == 200
            counts[(path, size)] = len(statements)
        assert counts[(path, 2)] == counts[(path, 10)] == counts[(path, 50)], counts
    print("queries per list page:", counts)
    with counting(app) as statements:
        client.get("/vat/attention?all=1")
    attention_queries = len(statements)
    assert attention_queries < 20, attention_queries


def test_attention_page_lists_what_needs_doing_each_a_link(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., Any], today: date
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    senior = make_user(Role.SENIOR_ADVOCATE, "HTI")
    with app.test_request_context():
        actor = db.session.get(User, user.id)
        old = register(actor, registered_on=today - timedelta(days=120))
        stuck = register(actor)
        assist(actor, stuck, on=today - timedelta(days=45), service_type="legal")
        allegation = allegations.create_allegation(
            actor=actor, reference="77/26", country_code="CAF", received_on=today - timedelta(days=30)
        )
        outcomes.link_victim(actor=actor, victim=old, allegation=allegation)
        values = {"country_code": "CAF", "received_on": today - timedelta(days=30)}
        allegations.update_allegation(actor=actor, allegation=allegation, outcome="substantiated", **values)
        identity.break_glass_victim(
            actor=db.session.get(User, senior.id),
            case_code=stuck.case_code,
            reason="Evacuation: hospital needs it.",
        )
        db.session.commit()
        codes = (old.case_code, stuck.case_code)
    page = client.get("/vat/attention").get_data(as_text=True)
    for expected in (
        "Inform the victim of the outcome of allegation 77/26 (substantiated)",
        "Assessed and reported, overdue by 23 days",
        "legal, referred 45 days ago",
        "Evacuation: hospital needs it.",
        f">{codes[0]}</a>",
        f">{codes[1]}</a>",
    ):
        assert expected in page, expected
    no_update = page[page.index('id="update-heading"') :]
    assert codes[0] in no_update and codes[1] not in no_update


def test_list_pages_show_only_the_users_scope(
    app: Flask, client: FlaskClient, login: Callable[..., Any], records: dict[str, Any]
) -> None:
    login(Role.ADVOCATE, "HTI")
    for path in (
        "/vat/victims",
        "/vat/allegations/",
        "/vat/attention?all=1",
        f"/vat/victims?case_code={records['code']}",
    ):
        page = client.get(path).get_data(as_text=True)
        assert f">{records['code']}</a>" not in page and ">9/26</a>" not in page, path
        assert "No victim matches." in page or "No allegation." in page or "Needs attention" in page


def test_edit_close_reopen_and_withdraw_through_the_pages(
    app: Flask, client: FlaskClient, login: Callable[..., Any], today: date, iso: Callable[[int], str]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        victim = register(db.session.get(User, user.id), name="Awa", date_of_birth=date(2004, 5, 6))
        db.session.commit()
        victim_id, consent_id = victim.id, victim.consents[0].id
    form = client.get(f"/vat/victims/{victim_id}/edit").get_data(as_text=True)
    assert 'value="2004-05-06"' in form and 'value="Awa"' in form
    response = client.post(
        f"/vat/victims/{victim_id}/edit", data=rendered_values(form) | {"name": "Awa Zanga"}
    )
    assert response.status_code == 302
    assert client.post(f"/vat/victims/{victim_id}/status", data={"status": "closed"}).status_code == 302
    assert client.post(f"/vat/victims/{victim_id}/status", data={"status": "active"}).status_code == 302
    response = client.post(
        f"/vat/victims/{victim_id}/consents/{consent_id}/withdraw", data={"withdrawn_on": iso(0)}
    )
    assert response.status_code == 302
    with app.test_request_context():
        victim = db.session.get(Victim, victim_id)
        assert victim.status == "active" and victim.consents[0].withdrawn_on == today
        assert identity.read_identity(actor=None, victim=victim)["name"] == "Awa Zanga"
        statuses = db.session.scalars(
            select(audit.AuditEvent.detail).where(audit.AuditEvent.action == "victim.status")
        ).all()
    assert len(statuses) == 2
    assert client.get(f"/vat/victims/{victim_id}/consents/999999/withdraw").status_code == 404


def test_the_victim_page_costs_the_same_queries_however_much_it_holds(
    app: Flask, client: FlaskClient, login: Callable[..., Any], today: date
) -> None:
    user = login(Role.ADVOCATE, "CAF")

    def victim_with(items: int) -> int:
        with app.test_request_context():
            actor = db.session.get(User, user.id)
            victim = register(actor)
            for number in range(items):
                assistance.record_assistance(
                    actor=actor, victim=victim, service_type="medical", status="referred"
                )
                family.add_child(actor=actor, victim=victim, notes=f"child {number}")
                contact(actor, victim, today, summary="s")
                allegation = allegations.create_allegation(
                    actor=actor, reference=f"{items}-{number}", country_code="CAF", received_on=today
                )
                outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
                values = {"country_code": "CAF", "received_on": today}
                allegations.update_allegation(
                    actor=actor, allegation=allegation, outcome="substantiated", **values
                )
            db.session.commit()
            return victim.id

    small, large = victim_with(1), victim_with(8)
    counts = []
    for victim_id in (small, large):
        with counting(app) as statements:
            assert client.get(f"/vat/victims/{victim_id}").status_code == 200
        counts.append(len(statements))
    print("queries per victim page:", counts)
    assert counts[0] == counts[1], counts


def test_a_senior_exports_a_shared_file_only_while_its_consent_stands(
    app: Flask, client: FlaskClient, login: Callable[..., Any], make_user: Callable[..., Any], today: date
) -> None:
    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        actor = db.session.get(User, advocate.id)
        victim = register(actor, name='=HYPERLINK("http://x")', consents=["share_member_state", "services"])
        assistance.record_assistance(actor=actor, victim=victim, service_type="medical", status="referred")
        disclosure = share(actor, victim, "FRA", "paternity", kind="member_state", on=today)
        db.session.commit()
        victim_id, disclosure_id = victim.id, disclosure.id
    url = f"/vat/victims/{victim_id}/export"
    sign_in(app, client, advocate)
    assert client.post(url, data={"disclosure_id": disclosure_id}).status_code == 403
    login(Role.SENIOR_ADVOCATE, "CAF")
    response = client.post(url, data={"disclosure_id": disclosure_id})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    facts = {row[0]: row[1] for row in book["victim"].iter_rows(min_row=2, values_only=True)}
    assert facts["name"] == '\'=HYPERLINK("http://x")'  # inert in a spreadsheet
    assert [r[0] for r in book["assistance"].iter_rows(min_row=2, values_only=True)] == ["medical"]
    with app.test_request_context():
        victim = db.session.get(Victim, victim_id)
        consent = consents.active_consent(victim, "share_member_state")
        consents.withdraw_consent(actor=db.session.get(User, advocate.id), victim=victim, consent=consent)
        db.session.commit()
    response = client.post(url, data={"disclosure_id": disclosure_id})
    assert response.status_code == 302
    assert client.post(url, data={"disclosure_id": 999999}).status_code == 302
    with app.app_context():
        exports = db.session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.action == "victim.export_identity")
        ).all()
    assert len(exports) == 1


def test_a_lists_total_and_rows_are_exact_on_every_request(
    client: FlaskClient, login: Callable[..., Any], people: Callable[..., list[str]]
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    people(user.id, 4)
    first = client.get("/vat/victims?per_page=20").get_data(as_text=True)
    assert "4 victims." in first
    [newest_code] = people(user.id, 1, first=5)
    page = client.get("/vat/victims").get_data(as_text=True)
    assert "5 victims." in page and f">{newest_code}</a>" in page
    client.get("/auth/logout")
    login(Role.ADVOCATE, "COD")
    assert "No victim matches." in client.get("/vat/victims").get_data(as_text=True)


@pytest.mark.parametrize(("asked", "given"), [("50", 50), ("100", 100), ("2", 20), ("1000", 20), ("x", 20)])
def test_page_sizes_come_from_a_fixed_set(
    client: FlaskClient, login: Callable[..., Any], people: Callable[..., list[str]], asked: str, given: int
) -> None:
    people(login(Role.ADVOCATE, "CAF").id, 101)
    page = client.get(f"/vat/victims?per_page={asked}").get_data(as_text=True)
    assert f"Page 1 of {-(-101 // given)}" in page
