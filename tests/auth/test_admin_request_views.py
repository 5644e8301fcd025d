"""Four eyes on privilege and on identity through the HTTP layer: requests, approvals (never by
the requester, never twice, never once expired), password and second-factor resets, unlocking,
a one-admin office, scopes refused on their field, and the forbidden paths."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, all_at_once, make_app, row_count, signed_in_client
from vat.audit import AuditEvent
from vat.auth.models import AdminRequest, Role, User
from vat.db import db

NEW_PASSWORD = "tangerine glacier notebook"
CODE = re.compile(r"<code>([A-Z0-9-]{29})</code>")


def request_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(AdminRequest.id).order_by(AdminRequest.id)))


def user_named(app, username) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def count(app, action) -> int:
    return row_count(app, AuditEvent, AuditEvent.action == action)


def ask_for_senior(client, username="new.senior"):
    data = {"username": username, "password": PASSWORD, "role": "senior_advocate", "scope": "CAF"}
    return client.post("/admin/users/new", data=data)


def test_a_senior_advocate_is_created_only_when_a_second_admin_approves(app, two_admins):
    first, second = two_admins
    response = ask_for_senior(first)
    assert response.headers["Location"] == "/admin/requests"
    assert user_named(app, "new.senior") is None
    page = first.get("/admin/requests").get_data(as_text=True)
    assert "new.senior" in page and "waiting for someone else" in page
    (asked,) = request_ids(app)
    assert first.post(f"/admin/requests/{asked}/approve").status_code == 403
    assert user_named(app, "new.senior") is None
    assert "Approve" in second.get("/admin/requests").get_data(as_text=True)
    assert second.post(f"/admin/requests/{asked}/approve").status_code == 302
    created = user_named(app, "new.senior")
    assert created is not None and created.role == Role.SENIOR_ADVOCATE
    assert count(app, "admin_request.approve") == 1


def test_elevating_an_account_waits_and_the_form_says_so(app, two_admins, make_user):
    first, _second = two_admins
    advocate = make_user(Role.ADVOCATE, "CAF")
    response = first.post(
        f"/admin/users/{advocate.id}", data={"role": "senior_advocate", "scope": "CAF", "active": "y"}
    )
    assert response.headers["Location"] == "/admin/requests"
    assert user_named(app, advocate.username).role == Role.ADVOCATE
    page = first.get(f"/admin/users/{advocate.id}").get_data(as_text=True)
    assert "Waiting for approval" in page


def test_two_approvals_at_once_apply_once(app, make_user):
    """Real threads (run with VAT_TEST_BACKEND=postgres for PostgreSQL)."""
    asker = signed_in_client(app, make_user(Role.ADMIN, ""))
    ask_for_senior(asker, "raced.senior")
    (asked,) = request_ids(app)
    approvers = [signed_in_client(app, make_user(Role.ADMIN, "")) for _ in range(4)]
    statuses = all_at_once(
        [lambda c=client: c.post(f"/admin/requests/{asked}/approve").status_code for client in approvers]
    )
    assert statuses == [302] * 4, statuses  # one applies; the others are told it is decided
    assert row_count(app, User, User.username == "raced.senior") == 1
    assert count(app, "admin_request.approve") == 1
    assert count(app, "user.create") == 6  # five administrators and the one account


def test_an_expired_request_is_not_applied(app, make_user, clock):
    asker, approver = make_user(Role.ADMIN, ""), make_user(Role.ADMIN, "")
    ask_for_senior(signed_in_client(app, asker), "late.senior")
    (asked,) = request_ids(app)
    clock.shift(timedelta(hours=73))
    late = signed_in_client(app, approver)
    response = late.post(f"/admin/requests/{asked}/approve", follow_redirects=True)
    assert "has expired" in response.get_data(as_text=True)
    assert user_named(app, "late.senior") is None
    assert "expired" in late.get("/admin/requests").get_data(as_text=True)


def test_a_refused_request_changes_nothing(app, two_admins):
    first, second = two_admins
    ask_for_senior(first, "refused.senior")
    (asked,) = request_ids(app)
    assert second.post(f"/admin/requests/{asked}/refuse").status_code == 302
    second.post(f"/admin/requests/{asked}/approve")
    assert user_named(app, "refused.senior") is None


def test_approving_without_a_csrf_token_is_refused(database_url, make_user):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    asker, approver = make_user(Role.ADMIN, ""), make_user(Role.ADMIN, "")
    with app.test_request_context():
        from vat.auth import admin_requests

        request = admin_requests.propose_password_reset(
            actor=db.session.get(User, asker.id), user=db.session.get(User, approver.id)
        ).request
        db.session.commit()
        asked = request.id
    other = make_user(Role.ADMIN, "")
    client = signed_in_client(app, other)
    assert client.post(f"/admin/requests/{asked}/approve").status_code == 400
    assert client.post(f"/admin/requests/{asked}/refuse").status_code == 400
    assert client.post(f"/admin/users/{asker.id}/reset-password").status_code == 400
    assert client.post(f"/admin/users/{asker.id}/reset-second-factor").status_code == 400
    assert count(app, "user.password_reset") == 0


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR])
def test_only_administrators_ask_approve_and_reset(app, make_user, role):
    target = make_user(Role.FUND_MANAGER, "")
    client = signed_in_client(app, make_user(role, "CAF"))
    for path in (
        "/admin/requests/1/approve",
        "/admin/requests/1/refuse",
        f"/admin/users/{target.id}/reset-password",
        f"/admin/users/{target.id}/reset-second-factor",
        f"/admin/users/{target.id}/unlock",
    ):
        assert client.post(path).status_code == 403, (role, path)
    assert client.get("/admin/requests").status_code == 403


def test_strangers_are_sent_to_sign_in(client):
    assert client.get("/admin/requests").headers["Location"].startswith("/auth/login")
    assert client.post("/admin/requests/1/approve").headers["Location"].startswith("/auth/login")


# --- resets --------------------------------------------------------------------------------------


def reset(client, username, code, password=NEW_PASSWORD):
    return client.post(
        "/auth/reset", data={"username": username, "code": code, "new": password, "confirm": password}
    )


def test_an_auditors_password_reset_is_shown_once_and_works_once(app, make_user, clock):
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    auditor = make_user(Role.AUDITOR, "")
    response = admin.post(f"/admin/users/{auditor.id}/reset-password")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    (code,) = CODE.findall(page)
    assert response.headers["Cache-Control"] == "no-store"
    with admin.session_transaction() as cookie:
        assert code not in str(dict(cookie))  # never flashed: the cookie is readable
    assert code not in admin.get(f"/admin/users/{auditor.id}").get_data(as_text=True)
    user = app.test_client()
    assert (
        user.post("/auth/login", data={"username": auditor.username, "password": PASSWORD}).status_code == 200
    )
    assert reset(user, auditor.username, code.lower().replace("-", " ")).headers["Location"] == "/auth/login"
    signed_in = user.post("/auth/login", data={"username": auditor.username, "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    again = reset(app.test_client(), auditor.username, code, "another " + NEW_PASSWORD)
    assert again.status_code == 200 and "already used or has expired" in again.get_data(as_text=True)
    assert count(app, "auth.password_reset_failed") == 1


def test_an_expired_reset_code_is_refused(app, make_user, clock):
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    auditor = make_user(Role.AUDITOR, "")
    (code,) = CODE.findall(admin.post(f"/admin/users/{auditor.id}/reset-password").get_data(as_text=True))
    clock.shift(timedelta(hours=24, seconds=1))
    response = reset(app.test_client(), auditor.username, code)
    assert response.status_code == 200 and "has expired" in response.get_data(as_text=True)
    assert (
        app.test_client()
        .post("/auth/login", data={"username": auditor.username, "password": NEW_PASSWORD})
        .status_code
        == 200
    )


def test_a_fund_managers_password_reset_goes_to_the_second_admin(app, make_user, two_admins):
    first, second = two_admins
    manager = make_user(Role.FUND_MANAGER, "")
    response = first.post(f"/admin/users/{manager.id}/reset-password")
    assert response.headers["Location"] == "/admin/requests"
    (asked,) = request_ids(app)
    approved = second.post(f"/admin/requests/{asked}/approve")
    (code,) = CODE.findall(approved.get_data(as_text=True))
    assert reset(app.test_client(), manager.username, code).status_code == 302


def test_a_second_factor_reset_sends_the_user_to_enrol(app, make_user, two_admins):
    first, second = two_admins
    advocate = make_user(Role.ADVOCATE, "CAF")
    device = signed_in_client(app, advocate)
    first.post(f"/admin/users/{advocate.id}/reset-second-factor", data={"identity_check": "video_call"})
    (asked,) = request_ids(app)
    assert second.post(f"/admin/requests/{asked}/approve").status_code == 302
    assert device.get("/").headers["Location"].startswith("/auth/login")  # its sessions ended
    again = app.test_client()
    assert (
        again.post("/auth/login", data={"username": advocate.username, "password": PASSWORD}).status_code
        == 302
    )
    assert again.get("/").headers["Location"] == "/auth/second-factor"
    assert count(app, "user.second_factor_reset") == 1


def test_a_fund_manager_whose_second_factor_was_reset_must_enrol_again(app, make_user):
    app.config["VAT_SINGLE_ADMIN_OFFICE"] = True
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    manager = make_user(Role.FUND_MANAGER, "", totp=True)
    admin.post(f"/admin/users/{manager.id}/reset-second-factor", data={"identity_check": "in_person"})
    client = app.test_client()
    client.post("/auth/login", data={"username": manager.username, "password": PASSWORD})
    assert client.get("/ledger/").headers["Location"] == "/auth/second-factor"
    client.get("/auth/second-factor")
    with app.app_context():
        from vat.auth.models import TotpEnrolment

        secret = db.session.get(TotpEnrolment, manager.id).secret
    client.post("/auth/second-factor", data={"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert not user_named(app, manager.username).must_enrol_totp


def test_unlocking_lets_a_locked_out_user_sign_in(app, make_user):
    manager = make_user(Role.FUND_MANAGER, "")
    stranger = app.test_client()
    for n in range(6):
        stranger.post("/auth/login", data={"username": manager.username, "password": f"wrong {n}"})
    owner = app.test_client()
    assert (
        owner.post("/auth/login", data={"username": manager.username, "password": PASSWORD}).status_code
        == 429
    )
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    assert admin.post(f"/admin/users/{manager.id}/unlock").status_code == 302
    assert (
        owner.post("/auth/login", data={"username": manager.username, "password": PASSWORD}).status_code
        == 302
    )


# --- a one-admin office, scopes ----------------------------------------------------------------


def test_a_one_admin_office_acts_alone_and_an_auditor_reviews_it(app, make_user):
    app.config["VAT_SINGLE_ADMIN_OFFICE"] = True
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    response = ask_for_senior(admin, "alone.senior")
    assert response.headers["Location"] == "/admin/users"
    assert user_named(app, "alone.senior") is not None
    (done,) = request_ids(app)
    page = admin.get("/admin/acted-alone").get_data(as_text=True)
    assert "alone.senior" in page and "waiting for someone else" in page
    admin.post(f"/admin/acted-alone/{done}/acknowledge")
    auditor = signed_in_client(app, make_user(Role.AUDITOR, ""))
    assert auditor.post(f"/admin/acted-alone/{done}/acknowledge").status_code == 302
    with app.app_context():
        reviewed = db.session.get(AdminRequest, done)
        assert reviewed.reviewed_by.role == Role.AUDITOR
    for role in (Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER):
        assert signed_in_client(app, make_user(role, "CAF")).get("/admin/acted-alone").status_code == 403


def test_without_the_setting_one_admin_waits_for_a_second(app, make_user):
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    ask_for_senior(admin, "waiting.senior")
    assert user_named(app, "waiting.senior") is None
    assert "one active administrator" in admin.get("/admin/requests").get_data(as_text=True)


@pytest.mark.parametrize(
    ("scope", "shown"),
    [("XYZ", "not an ISO 3166 country code"), ("CAF/ATLANTIS", "not a mission this application knows")],
)
def test_an_invalid_scope_is_shown_on_the_field(app, make_user, scope, shown):
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    data = {"username": "scoped.reader", "password": PASSWORD, "role": "auditor", "scope": scope}
    response = admin.post("/admin/users/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and shown in page
    field = page[page.index('name="scope"') :]
    assert field.index(shown) < field.index("</div>")  # under the scope field, not at the top
    assert user_named(app, "scoped.reader") is None
