"""Before a lost second factor is reset, the administrator records how they made sure the person
is the account's owner (ASVS 6.4.4); the approving administrator sees it; it is audited. A refused
request for a new account keeps its row (who asked, for whom, who refused), not its password."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.auth.test_admin_request_views import ask_for_senior, count, request_ids, user_named
from tests.conftest import signed_in_client
from vat.audit import AuditEvent
from vat.auth.models import AdminRequest, Role
from vat.db import db


def reset_second_factor(client, user_id: int, how: str | None):
    data = {} if how is None else {"identity_check": how}
    return client.post(f"/admin/users/{user_id}/reset-second-factor", data=data, follow_redirects=True)


def test_a_second_factor_reset_needs_the_identity_check_and_the_approver_sees_it(app, make_user, two_admins):
    first, second = two_admins
    advocate = make_user(Role.ADVOCATE, "CAF")
    for how in (None, "", "trust_me"):
        page = reset_second_factor(first, advocate.id, how).get_data(as_text=True)
        assert "Say how you checked the person&#39;s identity" in page, how
    assert request_ids(app) == []
    form = first.get(f"/admin/users/{advocate.id}").get_data(as_text=True)
    assert 'name="identity_check" required' in form and "on a video call" in form
    reset_second_factor(first, advocate.id, "video_call")
    (asked,) = request_ids(app)
    waiting = second.get("/admin/requests").get_data(as_text=True)
    assert "identity checked on a video call, face and photo identity document matched" in waiting
    assert second.post(f"/admin/requests/{asked}/approve").status_code == 302
    with app.app_context():
        assert db.session.get_one(AdminRequest, asked).identity_check == "video_call"
        reset = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset")
        ).one()
        assert json.loads(reset.detail)["identity_check"] == "video_call"


def test_an_auditors_second_factor_reset_alone_records_the_check_too(app, make_user):
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    auditor = make_user(Role.AUDITOR, "", totp=True)
    assert "Say how you checked" in reset_second_factor(admin, auditor.id, None).get_data(as_text=True)
    assert count(app, "user.second_factor_reset") == 0
    reset_second_factor(admin, auditor.id, "in_person")
    with app.app_context():
        reset = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset")
        ).one()
        assert json.loads(reset.detail) == {"identity_check": "in_person"}


def test_a_refused_account_request_keeps_its_row_but_not_its_password(app, two_admins):
    first, second = two_admins
    ask_for_senior(first, "kept.senior")
    (asked,) = request_ids(app)
    assert second.post(f"/admin/requests/{asked}/refuse").status_code == 302
    assert user_named(app, "kept.senior") is None
    with app.app_context():
        row = db.session.get_one(AdminRequest, asked)
        assert (row.status, row.username, row.role) == ("refused", "kept.senior", "senior_advocate")
        assert row.password_hash is None and row.decided_by_id is not None
    assert "kept.senior" in first.get("/admin/requests").get_data(as_text=True)
