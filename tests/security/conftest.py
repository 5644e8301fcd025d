"""Security fixtures: a database holding the demo data (seeded once per session, copied per
test), and the seeded objects each URL parameter is filled from, inside and outside a scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from sqlalchemy import exists, select, text
from werkzeug.routing import Rule

from tests.conftest import _dispose_apps, database_copy, make_app, sign_in
from vat.auth.models import AdminRequest, BreakGlass, Role, User
from vat.auth.policy import Permission, declared_permission
from vat.db import Base, db

IN_SCOPE = "CAF"  # the scope of every scoped test user
OUT_OF_SCOPE = "COD"


def _a_use_of_the_glass() -> None:
    """The demo has none; the review routes need one to act on."""
    from datetime import timedelta

    from vat.db import utcnow
    from vat.victims.models import Victim

    senior = db.session.scalar(select(User).where(User.role == Role.SENIOR_ADVOCATE).order_by(User.id))
    victim_id = db.session.scalar(select(Victim.id).order_by(Victim.id))
    db.session.add(
        BreakGlass(
            user_id=senior.id,
            record_type="victim",
            record_id=victim_id,
            reason="Seeded for the authorization tests.",
            expires_at=utcnow() + timedelta(hours=1),
        )
    )


def _an_admin_request() -> None:
    """The demo has none; the approval routes need one to act on: the demo administrator asks
    to reset a senior advocate's second factor."""
    from datetime import timedelta

    from vat.db import utcnow

    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    senior = db.session.scalar(select(User).where(User.role == Role.SENIOR_ADVOCATE).order_by(User.id))
    db.session.add(
        AdminRequest(
            kind="reset_second_factor",
            status="pending",
            user_id=senior.id,
            requested_by_id=admin.id,
            expires_at=utcnow() + timedelta(hours=72),
        )
    )


def _issue_18_records() -> None:
    """The demo has none; the outcome-letter, follow-up, partner-report and envelope routes need
    one each: an outcome to tell and a feedback to follow up for each scope's victim, a report
    due, a mission's envelope awaiting confirmation."""
    from datetime import date

    from ledger.models import MissionEnvelope, Project, ProjectReport
    from vat.db import utcnow
    from vat.victims.models import Feedback, VictimTask

    for country in (IN_SCOPE, OUT_OF_SCOPE):
        victim = victim_with_everything(country)
        # told already: an open task would join the communication form's choices, and a replayed
        # communication that closed it is refused as invalid before its key is read
        db.session.add(
            VictimTask(
                victim_id=victim.id, kind="inform_outcome", outcome="substantiated", closed_at=utcnow()
            )
        )
        db.session.add(
            Feedback(
                victim_id=victim.id,
                assistance_id=victim.services[0].id,  # feedback is about a service or an update
                given_on=date(2026, 1, 5),
                satisfaction="not_satisfied",
                follow_up_needed=True,
                follow_up_on=date(2026, 2, 5),
            )
        )
    project_id = db.session.scalar(select(Project.id).order_by(Project.id))
    db.session.add(ProjectReport(project_id=project_id, kind="narrative", due_on=date(2026, 3, 31)))
    maker = db.session.scalar(select(User.id).where(User.role == Role.FUND_MANAGER).order_by(User.id))
    terms = {"usd_minor": 100000, "victim_cap_minor": 40000, "basis": "Seeded for the authorization tests."}
    period = {"opens_on": date(2026, 1, 1), "closes_on": date(2026, 12, 31)}
    db.session.add(MissionEnvelope(mission="MINUSCA", country_code="CAF", maker_id=maker, **terms, **period))


@pytest.fixture(scope="session")
def seeded_template(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The migrated template plus `flask seed-demo`, once per session."""
    with database_copy(template_database, tmp_path_factory.mktemp("seeded"), "vat_seeded") as url:
        app = make_app(url)
        with app.test_request_context():
            from seeding.demo import seed_demo

            seed_demo()
            _a_use_of_the_glass()
            _an_admin_request()
            _issue_18_records()
            db.session.commit()
        _dispose_apps()
        yield url


@pytest.fixture
def database_url(seeded_template: str, tmp_path: Path) -> Iterator[str]:
    """Overrides the root fixture: every security test starts from the seeded demo data."""
    with database_copy(seeded_template, tmp_path) as url:
        yield url


def _first(statement) -> int:
    value = db.session.scalar(statement.limit(1))
    assert value is not None, statement
    return value


def victim_with_everything(country: str) -> Any:
    """The first seeded victim of `country` with a child, a service and a consent: every form
    about a victim has something to show."""
    from vat.victims.models import Assistance, Child, Consent, Victim

    victim = db.session.scalars(
        select(Victim)
        .where(Victim.country_code == country)
        .where(Victim.id.in_(select(Child.victim_id)))
        .where(Victim.id.in_(select(Assistance.victim_id)))
        .where(Victim.id.in_(select(Consent.victim_id)))
        .order_by(Victim.id)
    ).first()
    assert victim is not None, country
    return victim


# What every fuzzing test runs with: reproducible examples, none kept between runs, no time limit.
FUZZING = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


def seeded_objects(app: Flask, country: str) -> dict[str, int | str]:
    """URL parameters filled from records of `country` (victim data) and the ledger."""
    from ledger.models import (
        Donor,
        Entry,
        ExchangeRate,
        MissionEnvelope,
        Period,
        Project,
        ProjectReport,
        Tranche,
        Withholding,
    )
    from ledger.outflows import Outflow
    from vat.allegations.models import Allegation
    from vat.claims.models import Claim, Payment
    from vat.victims.models import (
        Assistance,
        Child,
        Communication,
        Consent,
        Feedback,
        Provider,
        Victim,
        VictimTask,
    )

    with app.app_context():
        victim = victim_with_everything(country)
        paid = exists().where(Payment.claim_id == Claim.id)
        claim_id = _first(
            select(Claim.id).join(Victim).where(Victim.country_code == country).order_by(~paid, Claim.id)
        )
        return {
            "victim_id": victim.id,
            "service_id": _first(select(Assistance.id).where(Assistance.victim_id == victim.id)),
            "child_id": _first(select(Child.id).where(Child.victim_id == victim.id)),
            "communication_id": _first(select(Communication.id).where(Communication.victim_id == victim.id)),
            "consent_id": _first(select(Consent.id).where(Consent.victim_id == victim.id)),
            "allegation_id": _first(select(Allegation.id).where(Allegation.country_code == country)),
            # a claim with a payment where there is one (its payment can be reversed)
            "claim_id": claim_id,
            "payment_id": db.session.scalar(
                select(Payment.id).where(Payment.claim_id == claim_id).order_by(Payment.id).limit(1)
            )
            or 1,  # no payment: any id (the claim's scope answers first)
            "donor_id": _first(select(Donor.id).order_by(Donor.id)),
            "entry_id": _first(select(Entry.id).order_by(Entry.id.desc())),
            "period_id": _first(select(Period.id).order_by(Period.id)),
            "project_id": _first(select(Project.id).order_by(Project.id)),
            "tranche_id": _first(select(Tranche.id).order_by(Tranche.id)),
            "outflow_id": _first(select(Outflow.id).order_by(Outflow.id)),
            "rate_id": _first(select(ExchangeRate.id).order_by(ExchangeRate.id)),
            "withholding_id": _first(select(Withholding.id).order_by(Withholding.id)),
            "user_id": _first(select(User.id).order_by(User.id)),
            "grant_id": _first(select(BreakGlass.id).order_by(BreakGlass.id)),
            "request_id": _first(select(AdminRequest.id).order_by(AdminRequest.id)),
            "provider_id": _first(select(Provider.id).where(Provider.country_code == country)),
            "task_id": _first(
                select(VictimTask.id)
                .where(VictimTask.victim_id == victim.id, VictimTask.kind == "inform_outcome")
                .order_by(VictimTask.id)
            ),
            "feedback_id": _first(
                select(Feedback.id).where(Feedback.victim_id == victim.id).order_by(Feedback.id)
            ),
            "report_id": _first(select(ProjectReport.id).order_by(ProjectReport.id)),
            "envelope_id": _first(select(MissionEnvelope.id).order_by(MissionEnvelope.id)),
        }


# Who posts each kind of route in the form tests: a role that holds the permission.
POSTING_ROLE = {
    "signed_in": Role.ADVOCATE,
    "edit_cases": Role.ADVOCATE,
    "view_identity": Role.ADVOCATE,
    "view_cases": Role.ADVOCATE,
    "record_ledger": Role.FUND_MANAGER,
    "approve_disbursement": Role.FUND_MANAGER,
    "manage_users": Role.ADMIN,
    "edit_policy": Role.SENIOR_ADVOCATE,
    "edit_frameworks": Role.SENIOR_ADVOCATE,
    "manage_providers": Role.SENIOR_ADVOCATE,
    "break_glass": Role.SENIOR_ADVOCATE,
    "review_break_glass": Role.AUDITOR,
    "review_admin_acts": Role.AUDITOR,
    "erase_identities": Role.SENIOR_ADVOCATE,
}
# Values for URL parameters that are not record ids: "kind" an import template's, "job_id" a job
# no user owns, "letter" and "language" a letter template's.
FIXED_ARGUMENTS = {
    "step": "referred",
    "cycle_step": "member_state_outcome",
    "fmt": "csv",
    "kind": "victims",
    "job_id": "A" * 32,
    "letter": "outcome",
    "language": "fr",
}
# The sign-in flow changes the session it runs in: its forms are tested in tests/auth.
SKIPPED_ENDPOINTS = frozenset({"auth.logout", "auth.check_second_factor"})


@dataclass
class PostRoute:
    rule: Rule
    url: str
    values: dict[str, Any]
    permission: Permission
    role: Role | None

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint


def in_address(rule: Rule) -> set[str]:
    """The arguments a rule's address carries (not those its defaults set, which it never shows)."""
    return rule.arguments - set(rule.defaults or {})


def post_routes(app: Flask, skip: frozenset[str] = SKIPPED_ENDPOINTS) -> list[PostRoute]:
    """Every POST route, its URL filled with in-scope records, and the role that may post it."""
    values = {**seeded_objects(app, IN_SCOPE), **FIXED_ARGUMENTS}
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" not in rule.methods or rule.endpoint in skip:
            continue
        permission = declared_permission(app, rule.endpoint)
        assert permission is not None, rule.endpoint
        url = rule.build({name: values[name] for name in in_address(rule)}, append_unknown=False)[1]
        role = None if permission is Permission.PUBLIC else POSTING_ROLE[permission.value]
        found.append(PostRoute(rule, url, values, permission, role))
    return found


class Clients:
    """A signed-in test client per role (a new one on demand), on one app."""

    def __init__(self, app: Flask, make_user: Callable[..., Any]) -> None:
        self.app = app
        self.make_user = make_user
        self.users: dict[Role, Any] = {}

    def signed_in(self, role: Role | None) -> FlaskClient:
        client = self.app.test_client()
        if role is not None:
            if role not in self.users:
                self.users[role] = self.make_user(role, IN_SCOPE)
            sign_in(self.app, client, self.users[role])
        return client


def table_counts(app: Flask) -> dict[str, int]:
    """Rows in every table, in one statement."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in tables)
    with app.app_context():
        row = db.session.execute(text(f"SELECT {counts}")).one()
        db.session.rollback()
    return dict(zip(tables, row, strict=True))
