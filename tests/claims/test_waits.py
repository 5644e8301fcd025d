"""When each claim's wait on its member state began, kept on the claim (vat/claims/waits.py): set
by the referral's letter and by every letter recorded after it — a reply, a letter sent, one dated
before the others, two on one day — in that transaction, equal each time to what its letters say
in SQL; the list and the dashboard read it; two letters at once take turns; `figures verify` names
a claim changed behind the app and `rebuild` mends it; migration 1160 fills it for the claims
already there."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from tests.claims.conftest import S, claim_at, taking_turns
from tests.figures_checks import altered_behind_the_app, mended_by_rebuild
from vat.auth.models import User
from vat.claims import correspondence, listing, pipeline, waits
from vat.claims.models import Claim
from vat.db import db

pytestmark = pytest.mark.usefixtures("clock")  # the day stands still through each test


def days_ago(n: int) -> date:
    """Read when the test runs, never at import: a run may cross midnight."""
    return date.today() - timedelta(days=n)


def letter(actor: User, claim: Claim, direction: str, on: date) -> None:
    correspondence.record_letter(actor=actor, claim=claim, direction=direction, dated_on=on, channel="email")


def kept(claim_id: int) -> date | None:
    """The claim's kept start of the wait, as committed (read past the session's objects)."""
    return db.session.scalar(select(Claim.waiting_since).where(Claim.id == claim_id))


def test_each_letter_keeps_when_the_claim_began_to_wait(advocate: User) -> None:
    claim = claim_at(advocate, S.REFERRED)  # the referral's letter, sent the day it was opened
    referred = claim.opened_on
    steps = [
        (None, None, referred),
        ("received", days_ago(60), None),  # answered
        ("sent", days_ago(50), days_ago(50)),
        ("sent", days_ago(40), days_ago(50)),  # still waiting since the first one unanswered
        ("received", days_ago(70), days_ago(50)),  # a reply dated before them answers neither
        ("received", days_ago(40), None),  # a reply the day of the last one, recorded after it
        ("sent", days_ago(40), days_ago(40)),  # and one sent that day, recorded after the reply
    ]
    for direction, on, expected in steps:
        if direction is not None:
            letter(advocate, claim, direction, on)
        db.session.flush()
        assert kept(claim.id) == expected, (direction, on)
        assert waits.differences() == []
    db.session.commit()
    [row] = listing.claims_page(advocate, listing.ClaimFilters()).items
    assert row.waiting is not None and (row.waiting.since, row.waiting.days) == (days_ago(40), 40)
    assert listing.dashboard(advocate).waiting_flags == {180: 0, 90: 0, 30: 1}


def test_a_closed_claim_keeps_its_wait_but_shows_none_until_reopened(advocate: User) -> None:
    claim = claim_at(advocate, S.REFERRED)
    claim_id = claim.id
    db.session.commit()
    closed = listing.claims_page(advocate, listing.ClaimFilters()).items[0]
    assert closed.waiting is not None
    pipeline.advance(actor=advocate, claim=claim, to=S.CLOSED, reason="unresolved")
    db.session.commit()
    assert kept(claim_id) == claim.opened_on
    assert listing.claims_page(advocate, listing.ClaimFilters()).items[0].waiting is None
    pipeline.reopen(actor=advocate, claim=claim)
    db.session.commit()
    assert listing.claims_page(advocate, listing.ClaimFilters()).items[0].waiting == closed.waiting


def test_two_letters_at_once_take_turns_and_keep_the_wait(app: Flask, make_user) -> None:
    """A reply is recorded and held uncommitted while a later letter sent arrives: the second
    request waits for the claim's row, then keeps the wait from both letters."""
    claim_id = taking_turns(
        app,
        make_user,
        S.REFERRED,
        lambda actor, claim: letter(actor, claim, "received", days_ago(20)),
        lambda actor, claim: letter(actor, claim, "sent", days_ago(10)),
    )
    with app.app_context():
        assert kept(claim_id) == days_ago(10)
        assert waits.differences() == []


def test_verify_names_a_claim_changed_behind_the_app_and_rebuild_mends_it(
    advocate: User, runner: FlaskCliRunner
) -> None:
    waiting = claim_at(advocate, S.REFERRED)
    answered = claim_at(advocate, S.REFERRED)
    letter(advocate, answered, "received", days_ago(10))
    db.session.commit()
    ids = (waiting.id, answered.id)
    result = altered_behind_the_app(
        runner,
        ("UPDATE vat_claim SET waiting_since = NULL WHERE id = :id", {"id": ids[0]}),
        ("UPDATE vat_claim SET waiting_since = :on WHERE id = :id", {"on": days_ago(5), "id": ids[1]}),
    )
    assert result.exit_code == 1
    named = result.output
    assert f"claim waits: claim {ids[0]} waits since None; its letters say since {waiting.opened_on}" in named
    assert f"claim waits: claim {ids[1]} waits since {days_ago(5)}; its letters say since None" in named
    assert "claim waits: 2 rows" in mended_by_rebuild(runner)
    assert (kept(ids[0]), kept(ids[1])) == (waiting.opened_on, None)


def test_migration_1160_fills_the_wait_from_the_letters(app: Flask, advocate: User) -> None:
    waiting = claim_at(advocate, S.REFERRED)
    letter(advocate, waiting, "received", days_ago(30))
    letter(advocate, waiting, "sent", days_ago(20))
    answered = claim_at(advocate, S.REFERRED)
    letter(advocate, answered, "received", days_ago(10))
    db.session.commit()
    ids, user_id = (waiting.id, answered.id), advocate.id
    before = [(r.claim.id, r.waiting) for r in listing.claims_page(advocate, listing.ClaimFilters()).items]
    db.session.remove()
    downgrade(revision="1163")
    upgrade(revision="heads")
    assert waits.differences() == []
    assert (kept(ids[0]), kept(ids[1])) == (days_ago(20), None)
    actor = db.session.get_one(User, user_id)
    after = [(r.claim.id, r.waiting) for r in listing.claims_page(actor, listing.ClaimFilters()).items]
    assert after == before
