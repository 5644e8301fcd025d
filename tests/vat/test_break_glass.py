"""Breaking the glass is bounded and reviewed (issue 15, "Weak"): a daily cap per senior advocate,
refused on a record already in scope, and every use listed for another senior advocate or an
auditor to acknowledge — never by the one who broke it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.vat.conftest import register
from vat.auth.models import BreakGlass, Role, User
from vat.db import db
from vat.errors import DomainError, NotAllowed
from vat.victims import identity

REASON = "Medical evacuation needs her file tonight."


def _senior(make_user, scope: str = "HTI") -> User:
    db.session.commit()  # the test's transaction holds SQLite's write lock: let make_user write
    return db.session.get(User, make_user(Role.SENIOR_ADVOCATE, scope).id)


def test_the_daily_cap_stops_the_fourth_use(actor, make_user, app):
    senior = _senior(make_user)
    victims = [register(actor) for _ in range(4)]
    db.session.commit()
    for victim in victims[:3]:
        identity.break_glass_victim(actor=senior, case_code=victim.case_code, reason=REASON)
    with pytest.raises(NotAllowed, match="3 times in 24 hours"):
        identity.break_glass_victim(actor=senior, case_code=victims[3].case_code, reason=REASON)
    app.config["VAT_BREAK_GLASS_DAILY_CAP"] = 5
    identity.break_glass_victim(actor=senior, case_code=victims[3].case_code, reason=REASON)


def test_a_record_already_in_scope_is_refused(actor, make_user):
    senior = _senior(make_user, "CAF")
    victim = register(actor)
    db.session.commit()
    with pytest.raises(DomainError, match="in your scope"):
        identity.break_glass_victim(actor=senior, case_code=victim.case_code, reason=REASON)
    assert db.session.scalar(select(BreakGlass.id)) is None


def test_another_reviewer_acknowledges_and_the_breaker_cannot(app, actor, make_user, client, login):
    senior = _senior(make_user)
    victim = register(actor)
    db.session.commit()
    identity.break_glass_victim(actor=senior, case_code=victim.case_code, reason=REASON)
    db.session.commit()
    grant_id = db.session.scalar(select(BreakGlass.id))
    db.session.rollback()

    login(Role.AUDITOR, "")
    page = client.get("/admin/break-glass").get_data(as_text=True)
    assert REASON in page and senior.username in page
    assert victim.case_code in page  # the record named by its case code, never by a name
    assert client.post(f"/admin/break-glass/{grant_id}/acknowledge").status_code == 302
    with app.app_context():
        grant = db.session.get(BreakGlass, grant_id)
        assert grant.acknowledged_at is not None and grant.acknowledged_by.role == Role.AUDITOR
    assert REASON not in client.get("/admin/break-glass").get_data(as_text=True)  # done
    assert REASON in client.get("/admin/break-glass?all=1").get_data(as_text=True)


def test_the_one_who_broke_the_glass_cannot_acknowledge_it(app, actor, make_user):
    from vat.auth import break_glass

    senior = _senior(make_user)
    victim = register(actor)
    db.session.commit()
    grant = break_glass.break_glass(
        actor=senior, record_type="victim", record_id=victim.id, reason=REASON, country_code="CAF"
    )
    with pytest.raises(NotAllowed, match="Someone else"):
        break_glass.acknowledge(actor=senior, grant=grant)
    with pytest.raises(NotAllowed, match="senior advocate or an auditor"):
        break_glass.acknowledge(actor=actor, grant=grant)


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.FUND_MANAGER, Role.ADMIN])
def test_roles_that_do_not_review_are_refused(client, login, role):
    login(role, "CAF")
    assert client.get("/admin/break-glass").status_code == 403
    assert client.post("/admin/break-glass/1/acknowledge").status_code == 403
