"""Four eyes on privilege and on identity (issue 15, item 5), tested on the services: which acts
wait for a second administrator, who may approve them, expiry, a one-admin office, resets and
unlocking, and scopes checked against ISO 3166 and the missions list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from vat.audit import AuditEvent
from vat.auth import admin_requests, resets, services, throttle
from vat.auth.models import AdminRequest, LoginThrottle, Role, User
from vat.auth.policy import PRIVILEGED_ROLES
from vat.auth.scopes import parse_scope, widens
from vat.auth.services import LoginRefused
from vat.db import db, utcnow
from vat.errors import Conflict, NotAllowed
from vat.inputs import InvalidField

NEW_PASSWORD = "tangerine glacier notebook"


def get(user_id: int) -> User:
    return db.session.get_one(User, user_id)


def actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)))


_names = iter(range(1, 10_000))


def person(role: Role, scope: str = "CAF", *, totp: bool = False) -> User:
    """A user made in the session the test acts in (make_user's own context would wait for it)."""
    user = services.create_user(
        actor=None,
        username=f"{role.value.replace('_', '')}x{next(_names)}",
        password=PASSWORD,
        role=role,
        scope=scope,
    )
    if totp:
        user.totp_secret = services.new_totp_secret()
    return user


@pytest.fixture
def admins(app, make_user):
    """Two administrators, A and B, and the app context to act in."""
    first, second = make_user(Role.ADMIN, ""), make_user(Role.ADMIN, "")
    with app.test_request_context():
        yield get(first.id), get(second.id)


def test_every_role_that_sees_identities_moves_money_or_administers_is_privileged():
    assert PRIVILEGED_ROLES == {Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.ADMIN}
    assert not admin_requests.is_privileged(Role.AUDITOR)


def test_an_auditor_is_created_at_once(admins):
    a, _b = admins
    outcome = admin_requests.propose_new_user(
        actor=a, username="reader", password=PASSWORD, role=Role.AUDITOR, scope=""
    )
    assert outcome.user is not None and not outcome.waiting
    assert db.session.scalar(select(func.count(AdminRequest.id))) == 0


@pytest.mark.parametrize("role", sorted(PRIVILEGED_ROLES))
def test_a_privileged_account_waits_for_a_second_administrator(admins, role):
    a, b = admins
    outcome = admin_requests.propose_new_user(
        actor=a, username="newcomer", password=PASSWORD, role=role, scope="CAF"
    )
    assert outcome.waiting and outcome.user is None
    assert db.session.scalar(select(User.id).where(User.username == "newcomer")) is None
    assert PASSWORD not in (outcome.request.password_hash or "")
    applied = admin_requests.approve(actor=b, request=outcome.request)
    assert applied.user is not None and Role(applied.user.role) is Role(role)
    assert services.authenticate(username="newcomer", password=PASSWORD, address=None) is applied.user
    created = actions("user.create")[-1]
    assert f'"requested_by": {a.id}' in created.detail and created.actor_id == b.id
    assert applied.request.password_hash is None  # the hash now lives on the account only


def test_the_requester_never_approves_their_own_request(admins):
    a, _b = admins
    asked = admin_requests.propose_new_user(
        actor=a, username="mine", password=PASSWORD, role=Role.SENIOR_ADVOCATE, scope="CAF"
    ).request
    with pytest.raises(NotAllowed):
        admin_requests.approve(actor=a, request=asked)
    assert asked.status == "pending"
    assert db.session.scalar(select(User.id).where(User.username == "mine")) is None


def test_an_account_never_approves_a_request_about_itself(admins, make_user):
    a, b = admins
    b.active = False
    db.session.flush()
    asked = admin_requests.propose_change(actor=a, user=b, role=Role.ADMIN, scope="", active=True).request
    assert asked is not None and asked.status == "pending"  # reactivating an admin waits
    with pytest.raises(NotAllowed):
        admin_requests.approve(actor=b, request=asked)
    third = person(Role.ADMIN, "")
    admin_requests.approve(actor=third, request=asked)
    assert b.active


def test_only_an_administrator_approves(admins, make_user):
    a, _b = admins
    asked = admin_requests.propose_password_reset(actor=a, user=person(Role.FUND_MANAGER, "")).request
    for role in (Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR):
        with pytest.raises(NotAllowed):
            admin_requests.approve(actor=person(role, "CAF"), request=asked)


def test_an_expired_request_cannot_be_approved(admins, clock):
    a, b = admins
    asked = admin_requests.propose_new_user(
        actor=a, username="late", password=PASSWORD, role=Role.FUND_MANAGER, scope=""
    ).request
    clock.shift(timedelta(hours=admin_requests.REQUEST_HOURS, seconds=1))
    with pytest.raises(Conflict, match="expired"):
        admin_requests.approve(actor=b, request=asked)
    assert db.session.scalar(select(User.id).where(User.username == "late")) is None
    assert asked not in admin_requests.pending()


def test_a_refused_request_applies_nothing_and_cannot_be_approved_after(admins):
    a, b = admins
    asked = admin_requests.propose_new_user(
        actor=a, username="refused", password=PASSWORD, role=Role.ADMIN, scope=""
    ).request
    admin_requests.refuse(actor=b, request=asked)
    assert asked.status == "refused" and asked.password_hash is None
    with pytest.raises(Conflict, match="already decided"):
        admin_requests.approve(actor=b, request=asked)
    assert db.session.scalar(select(User.id).where(User.username == "refused")) is None


def test_the_same_request_twice_for_one_account_is_refused(admins, make_user):
    a, b = admins
    user = person(Role.FUND_MANAGER, "")
    admin_requests.propose_second_factor_reset(actor=a, user=user, identity_check="in_person")
    with pytest.raises(Conflict):
        admin_requests.propose_second_factor_reset(actor=b, user=user, identity_check="in_person")


CHANGES = [
    (Role.ADVOCATE, "CAF", (Role.SENIOR_ADVOCATE, "CAF", True), "elevate", True),
    (Role.ADVOCATE, "CAF", (Role.FUND_MANAGER, "", True), "to money", True),
    (Role.AUDITOR, "", (Role.ADMIN, "", True), "to admin", True),
    (Role.ADVOCATE, "CAF", (Role.ADVOCATE, "CAF, COD", True), "wider scope", True),
    (Role.ADVOCATE, "CAF/MINUSCA", (Role.ADVOCATE, "CAF", True), "mission to country", True),
    (Role.SENIOR_ADVOCATE, "CAF", (Role.ADVOCATE, "CAF", True), "narrower role", False),
    (Role.FUND_MANAGER, "", (Role.ADVOCATE, "CAF", True), "money to identities", True),
    (Role.ADMIN, "", (Role.FUND_MANAGER, "", True), "admin to money", True),
    (Role.ADVOCATE, "CAF, COD", (Role.ADVOCATE, "CAF", True), "narrower scope", False),
    (Role.ADVOCATE, "CAF", (Role.ADVOCATE, "CAF/MINUSCA", True), "country to mission", False),
    (Role.FUND_MANAGER, "", (Role.AUDITOR, "", True), "to auditor", False),
    (Role.FUND_MANAGER, "", (Role.FUND_MANAGER, "COD", True), "scope of an unscoped role", False),
    (Role.ADVOCATE, "CAF", (Role.ADVOCATE, "CAF", False), "deactivate", False),
]


@pytest.mark.parametrize(("role", "scope", "before", "change", "waits"), CHANGES, ids=[c[3] for c in CHANGES])
def test_what_waits_for_a_second_administrator(admins, make_user, role, scope, before, change, waits):
    a, _b = admins
    user = person(role, scope)
    new_role, new_scope, active = before
    outcome = admin_requests.propose_change(actor=a, user=user, role=new_role, scope=new_scope, active=active)
    assert outcome.waiting is waits, change
    assert Role(user.role) is (role if waits else new_role)


def test_reactivating_a_privileged_account_waits(admins, make_user):
    a, b = admins
    user = person(Role.FUND_MANAGER, "")
    admin_requests.propose_change(actor=a, user=user, role=Role.FUND_MANAGER, scope="", active=False)
    assert not user.active
    asked = admin_requests.propose_change(actor=a, user=user, role=Role.FUND_MANAGER, scope="", active=True)
    assert asked.waiting and not user.active
    admin_requests.approve(actor=b, request=asked.request)
    assert user.active


def test_a_one_admin_office_acts_alone_audited_and_listed(app, make_user):
    app.config["VAT_SINGLE_ADMIN_OFFICE"] = True
    only = make_user(Role.ADMIN, "")
    with app.test_request_context():
        admin = get(only.id)
        outcome = admin_requests.propose_new_user(
            actor=admin, username="alone", password=PASSWORD, role=Role.SENIOR_ADVOCATE, scope="CAF"
        )
        assert outcome.user is not None and outcome.request is not None and outcome.request.status == "alone"
        assert '"single_admin": true' in actions("user.create")[-1].detail
        assert admin_requests.acted_alone() == [outcome.request]
        with pytest.raises(NotAllowed):
            admin_requests.acknowledge(actor=admin, request=outcome.request)
        auditor = person(Role.AUDITOR, "")
        admin_requests.acknowledge(actor=auditor, request=outcome.request)
        assert admin_requests.acted_alone() == []


def test_a_one_admin_office_with_a_second_admin_takes_four_eyes_again(admins, app):
    app.config["VAT_SINGLE_ADMIN_OFFICE"] = True
    a, _b = admins
    outcome = admin_requests.propose_new_user(
        actor=a, username="two", password=PASSWORD, role=Role.FUND_MANAGER, scope=""
    )
    assert outcome.waiting


# --- resets and unlocking ----------------------------------------------------------------------


def test_a_password_reset_gives_a_one_time_code_and_the_old_password_stops(admins, make_user):
    a, b = admins
    user = person(Role.FUND_MANAGER, "")
    asked = admin_requests.propose_password_reset(actor=a, user=user)
    assert asked.waiting and asked.reset_code is None
    code = admin_requests.approve(actor=b, request=asked.request).reset_code
    assert code is not None and len(code.replace("-", "")) == 25
    with pytest.raises(LoginRefused):
        services.authenticate(username=user.username, password=PASSWORD, address="192.0.2.1")
    resets.use_reset_code(username=user.username, code=code.lower(), new_password=NEW_PASSWORD, address=None)
    assert services.authenticate(username=user.username, password=NEW_PASSWORD, address=None) is user
    with pytest.raises(InvalidField) as reused:
        resets.use_reset_code(
            username=user.username, code=code, new_password="other " + NEW_PASSWORD, address=None
        )
    assert reused.value.field == "code"
    logged = " ".join(e.detail for e in db.session.scalars(select(AuditEvent)))
    assert code not in logged and code.replace("-", "") not in logged


def test_a_reset_code_expires(admins, make_user, clock):
    a, _b = admins
    user = person(Role.AUDITOR, "")
    code = admin_requests.propose_password_reset(actor=a, user=user).reset_code
    clock.shift(timedelta(hours=resets.RESET_HOURS, seconds=1))
    with pytest.raises(InvalidField, match="expired"):
        resets.use_reset_code(username=user.username, code=code, new_password=NEW_PASSWORD, address=None)
    assert actions("auth.password_reset_failed")


def test_a_weak_new_password_keeps_the_code(admins, make_user):
    a, _b = admins
    user = person(Role.AUDITOR, "")
    code = admin_requests.propose_password_reset(actor=a, user=user).reset_code
    with pytest.raises(InvalidField) as weak:
        resets.use_reset_code(username=user.username, code=code, new_password="Bangui2026!!", address=None)
    assert weak.value.field == "new"
    resets.use_reset_code(username=user.username, code=code, new_password=NEW_PASSWORD, address=None)


def test_a_second_factor_reset_makes_the_user_enrol_again(admins, make_user):
    a, b = admins
    user = person(Role.FUND_MANAGER, "", totp=True)
    user.locked_at, user.totp_failures = utcnow(), 5
    asked = admin_requests.propose_second_factor_reset(actor=a, user=user, identity_check="in_person")
    assert user.totp_secret is not None
    admin_requests.approve(actor=b, request=asked.request)
    assert user.totp_secret is None and user.must_enrol_totp and user.needs_totp
    assert user.locked_at is None and user.totp_failures == 0


def test_an_administrator_resets_nothing_of_their_own(admins):
    a, _b = admins
    with pytest.raises(NotAllowed):
        admin_requests.propose_password_reset(actor=a, user=a)
    with pytest.raises(NotAllowed):
        admin_requests.propose_second_factor_reset(actor=a, user=a, identity_check="in_person")


def test_unlocking_clears_the_accounts_wait_after_failed_sign_ins(app, admins, make_user):
    a, _b = admins
    user = person(Role.FUND_MANAGER, "")
    for n in range(app.config["VAT_LOGIN_MAX_FAILURES"] + 1):
        with pytest.raises(LoginRefused):
            services.authenticate(username=user.username, password=f"wrong {n}", address=f"192.0.2.{n}")
    with pytest.raises(throttle.LoginThrottled):
        services.authenticate(username=user.username, password=PASSWORD, address="198.51.100.1")
    services.unlock_account(actor=a, user=user)
    assert services.authenticate(username=user.username, password=PASSWORD, address="198.51.100.2") is user
    row = db.session.get(LoginThrottle, f"user:{user.username}")
    assert row is None or row.failures == 0
    assert actions("auth.account_unlocked")


# --- scopes ------------------------------------------------------------------------------------


def test_scopes_are_iso_countries_and_known_missions(app):
    with app.app_context():
        assert parse_scope("CAF, cd/monusco, SSD/UNMISS") == [
            ("CAF", None),
            ("COD", "MONUSCO"),
            ("SSD", "UNMISS"),
        ]
        for wrong, named in (("XXX", "XXX"), ("CAF, ZZ", "ZZ"), ("C4F", "C4F"), ("CAF/ZORBANIA", "ZORBANIA")):
            with pytest.raises(InvalidField) as refused:
                parse_scope(wrong)
            assert refused.value.field == "scope" and named in str(refused.value)
        assert parse_scope("CAF/ZORBANIA", also_known=["ZORBANIA"]) == [("CAF", "ZORBANIA")]


def test_wider_means_reaching_something_new():
    assert widens([("CAF", "MINUSCA")], [("CAF", None)])
    assert widens([("CAF", None)], [("CAF", None), ("COD", None)])
    assert not widens([("CAF", None)], [("CAF", "MINUSCA")])
    assert not widens([("CAF", None), ("COD", None)], [("COD", None)])


def test_an_invalid_scope_is_refused_on_its_field(admins):
    a, _b = admins
    with pytest.raises(InvalidField) as refused:
        admin_requests.propose_new_user(
            actor=a, username="x.y", password=PASSWORD, role=Role.AUDITOR, scope="Narnia"
        )
    assert refused.value.field == "scope"
