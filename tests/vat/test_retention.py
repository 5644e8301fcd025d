"""Identities of closed cases past their retention period are erased by two senior advocates
(issue 15, ASVS 14.2.7): the service, the command line and the pages."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import all_at_once, make_app, sign_in
from tests.vat.conftest import assist, contact, register, share
from vat import retention
from vat.audit import AuditEvent, verify
from vat.auth.models import Role, User
from vat.claims.models import Claim
from vat.db import db
from vat.errors import Conflict, DomainError, NotAllowed
from vat.victims import family, identity
from vat.victims.models import Child, Communication, Disclosure, Victim, VictimNameKey

NAME, FATHER, SUMMARY = "Amina Canary-Retention", "Sergeant Canary-Father", "met her at Canary-Street"
LONG_AGO = date(2015, 6, 30)  # more than ten years before any run of these tests


def _closed_case(
    actor: User, *, closed_on: date = LONG_AGO, claim_closed_on: date | None = LONG_AGO, **values
):
    """A victim with a name, a child, a call, a disclosure and a paternity claim, closed on `closed_on`."""
    values.setdefault("sex", "female")
    victim = register(
        actor, name=NAME, aliases="Canary-Alias", contact="+236 7000 0000", notes=SUMMARY, **values
    )
    family.add_child(actor=actor, victim=victim, birth_date=date(2019, 5, 1), sex="female", notes=SUMMARY)
    contact(actor, victim, date.today() - timedelta(days=4000), summary=SUMMARY)
    assist(actor, victim, notes=SUMMARY)
    share(actor, victim, "Canary Clinic", SUMMARY)
    db.session.add(
        Claim(
            victim=victim,
            member_state="NPL",
            father_category="military_contingent",
            father_name=FATHER,
            father_unit="Canary Battalion",
            step="closed" if claim_closed_on else "referred",
            closing_reason="resolved" if claim_closed_on else None,
            step_on=claim_closed_on or date.today(),
            step_recorded_on=claim_closed_on or date.today(),
            opened_on=date(2019, 1, 1),
            closed_on=claim_closed_on,
        )
    )
    identity.set_status(actor=actor, victim=victim, status="closed")
    victim.closed_on = closed_on
    db.session.flush()
    return victim


@pytest.fixture
def seniors(ctx, make_user, actor):
    db.session.commit()  # end the context's transaction: make_user writes on a connection of its own
    made = [make_user(Role.SENIOR_ADVOCATE, "CAF") for _ in range(2)]
    first, second = (db.session.get_one(User, user.id) for user in made)
    return first, second


def test_only_cases_closed_beyond_the_period_with_every_claim_closed_are_due(seniors, actor):
    due = _closed_case(actor)
    recent = _closed_case(actor, closed_on=date.today() - timedelta(days=30))
    open_claim = _closed_case(actor, claim_closed_on=None)
    claim_closed_lately = _closed_case(actor, claim_closed_on=date.today() - timedelta(days=10))
    still_open = register(actor, name="Open Case")
    elsewhere = _closed_case(actor, country_code="COD", mission="MONUSCO")
    db.session.commit()

    listed = {v.case_code for v in retention.due(seniors[0])}
    assert due.case_code in listed
    assert not listed & {recent.case_code, open_claim.case_code, claim_closed_lately.case_code}
    assert still_open.case_code not in listed
    assert elsewhere.case_code not in listed, "a senior advocate for CAF sees CAF only"
    assert elsewhere.case_code in {v.case_code for v in retention.due(None)}


def test_closing_today_starts_the_period_and_reopening_withdraws_the_request(seniors, actor):
    victim = register(actor, name="Closing Today")
    identity.set_status(actor=actor, victim=victim, status="closed")
    assert victim.closed_on == date.today()
    victim.closed_on = LONG_AGO
    retention.request_erasure(actor=seniors[0], victim=victim)
    identity.set_status(actor=actor, victim=victim, status="active")
    assert victim.closed_on is None and victim.erasure_requested_by_id is None


def test_one_senior_advocate_asks_another_erases_and_figures_stay(seniors, actor):
    first, second = seniors
    victim = _closed_case(actor)
    services, code = len(victim.services), victim.case_code
    db.session.commit()
    with pytest.raises(NotAllowed):
        retention.request_erasure(actor=actor, victim=victim)  # an advocate
    with pytest.raises(DomainError):
        retention.erase(actor=second, victim=victim)  # nobody asked yet
    retention.request_erasure(actor=first, victim=victim)
    with pytest.raises(Conflict):
        retention.request_erasure(actor=second, victim=victim)
    with pytest.raises(NotAllowed):
        retention.erase(actor=first, victim=victim)  # the asker cannot carry it out
    retention.erase(actor=second, victim=victim)
    db.session.commit()

    db.session.expire_all()
    victim = db.session.get_one(Victim, victim.id)
    assert identity.read_identity(actor=second, victim=victim) == dict.fromkeys(identity.IDENTITY_FIELDS)
    assert victim.identity_erased_at is not None
    assert db.session.scalar(select(func.count()).where(VictimNameKey.victim_id == victim.id)) == 0
    child = db.session.scalars(select(Child).where(Child.victim_id == victim.id)).one()
    assert (child.birth_date, child.notes, child.sex) == (None, None, "female")
    assert db.session.scalars(
        select(Communication.summary).where(Communication.victim_id == victim.id)
    ).all() == [None]
    disclosure = db.session.scalars(select(Disclosure).where(Disclosure.victim_id == victim.id)).one()
    assert (disclosure.recipient, disclosure.purpose) == ("", "")
    claim = db.session.scalars(select(Claim).where(Claim.victim_id == victim.id)).one()
    assert (claim.father_name, claim.father_unit, claim.father_category) == (
        None,
        None,
        "military_contingent",
    )
    assert len(victim.services) == services and victim.services[0].notes is None
    assert (victim.case_code, victim.status, victim.sex) == (code, "closed", "female")

    assert identity.find_by_case_code(second, victim.case_code) is not None
    assert victim.case_code not in {v.case_code for v in retention.due(second)}, "erased: no longer due"
    with pytest.raises(Conflict):
        retention.erase(actor=second, victim=victim)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("victim.%eras%"))).all()
    assert [e.action for e in events] == ["victim.erasure_requested", "victim.identity_erased"]
    detail = json.loads(events[1].detail)
    assert detail["requested_by"] == first.id and "vat_claim.father_name" in detail["fields"]
    for event in db.session.scalars(select(AuditEvent)):
        assert "Canary" not in str(event.detail), "no identity in the audit log"
    assert verify(anchored=False).problem is None


def test_a_case_not_yet_due_cannot_be_asked_for(seniors, actor):
    victim = _closed_case(actor, closed_on=date.today() - timedelta(days=100))
    with pytest.raises(DomainError):
        retention.request_erasure(actor=seniors[0], victim=victim)
    victim.closed_on = LONG_AGO
    retention.request_erasure(actor=seniors[0], victim=victim)
    retention.withdraw_request(actor=seniors[1], victim=victim)
    assert victim.erasure_requested_by_id is None
    with pytest.raises(Conflict):
        retention.withdraw_request(actor=seniors[1], victim=victim)


def test_the_period_is_the_installations(database_url, tmp_path):
    app = make_app(database_url, VAT_IDENTITY_RETENTION_DAYS=30, VAT_JOBS_FOLDER=str(tmp_path))
    with app.test_request_context():
        assert retention.cutoff(date(2026, 3, 31)) == date(2026, 3, 1)


# --- the command line ------------------------------------------------------------------------


def test_the_commands_list_and_erase_as_a_second_senior_advocate(app, runner, seniors, actor):
    first, second = seniors
    victim = _closed_case(actor)
    code = victim.case_code
    db.session.commit()
    listed = runner.invoke(args=["retention", "due"])
    assert listed.exit_code == 0 and code in listed.output and "asked by -" in listed.output
    assert NAME not in listed.output

    retention.request_erasure(actor=first, victim=victim)
    db.session.commit()
    refused = runner.invoke(args=["retention", "erase", "--as", actor.username])
    assert refused.exit_code != 0 and "not an active senior advocate" in refused.output
    by_asker = runner.invoke(args=["retention", "erase", "--as", first.username])
    assert by_asker.exit_code == 0 and "erased 0 identities" in by_asker.output
    done = runner.invoke(args=["retention", "erase", "--as", second.username])
    assert done.exit_code == 0 and "erased 1 identities" in done.output
    with app.app_context():
        erased = db.session.scalar(select(Victim).where(Victim.case_code == code))
        assert erased is not None and erased.identity_erased_at is not None and erased.name is None
    assert code not in runner.invoke(args=["retention", "due"]).output


# --- the pages -------------------------------------------------------------------------------


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "the page carries a CSRF token"
    return token.group(1)


def test_through_the_pages_one_asks_another_erases_others_are_refused(database_url, tmp_path, make_user):
    app = make_app(database_url, WTF_CSRF_ENABLED=True, VAT_JOBS_FOLDER=str(tmp_path))
    first, second = make_user(Role.SENIOR_ADVOCATE, "CAF"), make_user(Role.SENIOR_ADVOCATE, "CAF")
    outsider = make_user(Role.SENIOR_ADVOCATE, "COD")
    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        victim = _closed_case(db.session.get_one(User, advocate.id))
        victim_id, code = victim.id, victim.case_code
        db.session.commit()
    clients = {}
    auditor = make_user(Role.AUDITOR, "")
    for who in (first, second, outsider, advocate, auditor):
        clients[who.username] = app.test_client()
        sign_in(app, clients[who.username], who)
    asker, checker = clients[first.username], clients[second.username]

    page = asker.get("/vat/retention")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    assert NAME not in page.get_data(as_text=True)
    token = _csrf(page.get_data(as_text=True))
    assert asker.post(f"/vat/retention/{victim_id}/request").status_code == 400, "no CSRF token"
    assert asker.post(f"/vat/retention/{victim_id}/request", data={"csrf_token": token}).status_code == 302

    for name in (advocate.username, auditor.username):
        assert clients[name].get("/vat/retention").status_code == 403
        their_token = _csrf(clients[name].get("/").get_data(as_text=True))
        refused = clients[name].post(f"/vat/retention/{victim_id}/erase", data={"csrf_token": their_token})
        assert refused.status_code == 403, "wrong role"
    out_page = clients[outsider.username].get("/vat/retention").get_data(as_text=True)
    assert code not in out_page
    out = clients[outsider.username].post(
        f"/vat/retention/{victim_id}/erase", data={"csrf_token": _csrf(out_page)}
    )
    assert out.status_code == 404, "outside the scope"

    mine = asker.get("/vat/retention").get_data(as_text=True)
    assert f"/vat/retention/{victim_id}/erase" not in mine, "the asker has no erase button"
    asker.post(f"/vat/retention/{victim_id}/erase", data={"csrf_token": _csrf(mine)})
    with app.app_context():
        assert db.session.get_one(Victim, victim_id).identity_erased_at is None

    theirs = checker.get("/vat/retention").get_data(as_text=True)
    assert f"/vat/retention/{victim_id}/erase" in theirs
    erased = checker.post(f"/vat/retention/{victim_id}/erase", data={"csrf_token": _csrf(theirs)})
    assert erased.status_code == 302
    shown = checker.get(f"/vat/victims/{victim_id}").get_data(as_text=True)
    assert 'id="identity-erased"' in shown and NAME not in shown
    assert code not in checker.get("/vat/retention").get_data(as_text=True)


def test_four_senior_advocates_erasing_at_once_erase_once(database_url, tmp_path, make_user):
    """Real threads (run with VAT_TEST_BACKEND=postgres for PostgreSQL): one erasure, one audit row."""
    app = make_app(database_url, VAT_JOBS_FOLDER=str(tmp_path))
    asker, advocate = make_user(Role.SENIOR_ADVOCATE, "CAF"), make_user(Role.ADVOCATE, "CAF")
    checkers = [make_user(Role.SENIOR_ADVOCATE, "CAF") for _ in range(4)]
    with app.test_request_context():
        victim = _closed_case(db.session.get_one(User, advocate.id))
        retention.request_erasure(actor=db.session.get_one(User, asker.id), victim=victim)
        victim_id = victim.id
        db.session.commit()
    clients = []
    for checker in checkers:
        clients.append(app.test_client())
        sign_in(app, clients[-1], checker)
    statuses = all_at_once(
        [lambda c=c: c.post(f"/vat/retention/{victim_id}/erase").status_code for c in clients]
    )
    assert statuses == [302] * 4, statuses  # one erases; the others are told it is already erased
    with app.app_context():
        erased = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "victim.identity_erased")
        ).all()
        assert len(erased) == 1
        assert db.session.get_one(Victim, victim_id).identity_erased_at is not None
