"""Dashboard figures kept per scope for a while, refreshed in the background (reports/snapshots.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.reports.snapshot_helpers import add_victim as _add_victim
from tests.reports.snapshot_helpers import wait_for_workers as _wait_for_workers
from vat.auth.models import BreakGlass, Role
from vat.db import db, utcnow
from vat.reports import snapshots
from vat.victims.models import Victim


@pytest.fixture
def kept(app, monkeypatch):
    """Figures kept 60 s on a clock the test moves; counts the computations."""
    app.config["VAT_SUMMARY_SECONDS"] = 60
    app.config["VAT_SUMMARY_WAIT_SECONDS"] = 30
    now = [1000.0]
    calls = []
    real = snapshots.summary

    def counted(user, **kwargs):
        calls.append(user.scopes)
        return real(user, **kwargs)

    monkeypatch.setattr(snapshots, "_clock", lambda: now[0])
    monkeypatch.setattr(snapshots, "summary", counted)
    snapshots.clear()
    yield now, calls
    _wait_for_workers()
    snapshots.clear()


def _victims_shown(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('id="summary-victims">', 1)[1].split("<", 1)[0]


def test_figures_are_kept_then_refreshed_while_the_old_ones_are_shown(app, client, login, world, kept):
    now, calls = kept
    login(Role.ADVOCATE, "CAF")
    assert _victims_shown(client) == "7" and len(calls) == 1
    _add_victim(app, "CAR-2022-0100")
    now[0] += 59
    assert _victims_shown(client) == "7" and len(calls) == 1, "kept for 60 s"
    now[0] += 2
    assert _victims_shown(client) == "7", "past their age, the old figures are shown while new ones are made"
    _wait_for_workers()
    assert len(calls) == 2
    page = client.get("/").get_data(as_text=True)
    assert 'id="summary-victims">8<' in page and 'id="summary-as-of"' in page
    assert len(calls) == 2


def test_each_scope_has_its_own_figures(client, login, world, kept):
    _, calls = kept
    login(Role.ADVOCATE, "CAF")
    assert _victims_shown(client) == "7"
    client.get("/auth/logout")
    login(Role.ADVOCATE, "COD")
    assert _victims_shown(client) == "2"
    login(Role.ADVOCATE, "CAF")
    assert _victims_shown(client) == "7"
    assert len(calls) == 2, "the second advocate in CAF reads the figures kept for CAF"


def test_a_break_glass_grant_gives_a_senior_advocate_figures_of_their_own(app, client, login, world, kept):
    _, calls = kept
    senior = login(Role.SENIOR_ADVOCATE, "CAF")
    assert _victims_shown(client) == "7"
    with app.app_context():
        outside = db.session.scalar(db.select(Victim.id).where(Victim.case_code == "DRC-2021-0001"))
        db.session.add(
            BreakGlass(
                user_id=senior.id,
                record_type="victim",
                record_id=outside,
                reason="urgent medical referral",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        db.session.commit()
    assert _victims_shown(client) == "8"
    assert len(calls) == 2


def test_a_slow_first_computation_shows_a_notice_not_a_hang(app, client, login, world, kept, monkeypatch):
    _, calls = kept
    app.config["VAT_SUMMARY_WAIT_SECONDS"] = 0.05
    release = threading.Event()
    counted = snapshots.summary

    def slow(user, **kwargs):
        release.wait(timeout=30)
        return counted(user, **kwargs)

    monkeypatch.setattr(snapshots, "summary", slow)
    login(Role.ADVOCATE, "CAF")
    page = client.get("/").get_data(as_text=True)
    assert 'id="summary-pending"' in page and 'id="summary-victims"' not in page
    release.set()
    _wait_for_workers()
    assert _victims_shown(client) == "7" and len(calls) == 1


def test_a_failed_computation_is_tried_again_by_the_next_request(client, login, world, kept, monkeypatch):
    _, calls = kept
    counted = snapshots.summary
    failures = [1]

    def flaky(user, **kwargs):
        if failures:
            failures.pop()
            raise RuntimeError("database went away")
        return counted(user, **kwargs)

    monkeypatch.setattr(snapshots, "summary", flaky)
    login(Role.ADVOCATE, "CAF")
    assert 'id="summary-pending"' in client.get("/").get_data(as_text=True)
    _wait_for_workers()
    assert _victims_shown(client) == "7" and len(calls) == 1


def test_without_keeping_every_request_computes(app, client, login, world, monkeypatch):
    assert app.config["VAT_SUMMARY_SECONDS"] == 0
    login(Role.ADVOCATE, "CAF")
    assert _victims_shown(client) == "7"
    _add_victim(app, "CAR-2022-0101")
    assert _victims_shown(client) == "8"
