"""Erasing the identities of closed cases past their retention period changes no report: every
report page, for every role that reads reports, and the de-identified export read the same
before and after (issue 15, ASVS 14.2.7)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.conftest import sign_in
from tests.reports.conftest import exported
from vat import retention
from vat.auth.models import Role, User
from vat.db import db
from vat.victims.models import Child, Communication, Victim

# Values that change from one rendering to the next and say nothing about the figures.
VOLATILE = re.compile(r'((?:name="(?:csrf_token|key)"[^>]*value=|data-(?:csrf|seconds-left)=)")[^"]*"')


def _report_pages(app) -> list[str]:
    """Every report page reachable by GET without parameters, and the dashboard."""
    rules = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.arguments
        and (rule.endpoint.startswith(("reports.", "ledger.")) or rule.endpoint == "main.dashboard")
    ]
    return sorted(rules)


def _snapshot(app, clients) -> dict[tuple[str, str], str]:
    seen = {}
    for role, client in clients.items():
        for path in _report_pages(app):
            response = client.get(path)
            # Pages only: a download without arguments (the figures pack) carries its own time.
            if response.status_code == 200 and response.mimetype == "text/html":
                seen[(role, path)] = VOLATILE.sub(r"\1\"", response.get_data(as_text=True))
        if role == Role.SENIOR_ADVOCATE:
            seen[(role, "de-identified export")] = exported(client, deidentified=True).get_data(as_text=True)
    return seen


def test_every_report_reads_the_same_after_the_identities_are_erased(app, world, make_user):
    long_ago = date.today() - timedelta(days=app.config["VAT_IDENTITY_RETENTION_DAYS"] + 1)
    users = {
        role: make_user(role, "CAF, COD") for role in (Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR)
    }
    checker = make_user(Role.SENIOR_ADVOCATE, "CAF, COD")
    with app.app_context():
        for victim in db.session.scalars(select(Victim)):
            victim.name, victim.contact, victim.notes = f"Name of {victim.case_code}", "+236 7000", "a note"
            victim.status, victim.closed_on = "closed", long_ago
            db.session.add(Child(victim=victim, birth_date=date(2019, 1, 1), sex="female", notes="a note"))
        for call in db.session.scalars(select(Communication)):
            call.summary = "what was said"
        db.session.commit()
    clients = {}
    for role, user in users.items():
        clients[role] = app.test_client()
        sign_in(app, clients[role], user)

    before = _snapshot(app, clients)
    assert len([key for key in before if key[0] == Role.AUDITOR]) > 5, "the auditor reads the reports"

    with app.test_request_context():
        asker, second = (db.session.get_one(User, u.id) for u in (users[Role.SENIOR_ADVOCATE], checker))
        due = retention.due(asker)
        assert len(due) == db.session.query(Victim).count() > 0
        for victim in due:
            retention.request_erasure(actor=asker, victim=victim)
        for victim in retention.due(second):
            retention.erase(actor=second, victim=victim)
        db.session.commit()
        assert db.session.scalar(select(Victim.id).where(Victim.identity_erased_at.is_(None))) is None
        assert db.session.scalar(select(Victim.id).where(Victim.name.is_not(None))) is None

    after = _snapshot(app, clients)
    assert before.keys() == after.keys()
    changed = [key for key in before if before[key] != after[key]]
    assert changed == []
