"""The feedback's kept counts (vat/victims/feedback_counts.py) keep the quality report by service
type exact: after each kind of change — feedback recorded on a service and on a case update, a
service's type changed, a victim moved — they equal a recount of every feedback, and the report
equals the one counted from the feedback rows before, for every role and filter; for a senior
advocate who broke the glass; `figures verify` names a changed row and `rebuild` mends it;
migration 1158 fills them; threads at once keep them exact."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.vat.conftest import (
    agree_for_every_viewer,
    assist,
    change_at_once,
    contact,
    glass_broken_on_a_victim_without_mission,
    kept_rows,
    move,
    of_one_cell,
    refilled_by_migration,
    register_people,
    verify_names_and_rebuild_mends,
    writer_and_viewers,
)
from vat.auth.models import Role, User
from vat.db import db
from vat.reports import needs as report
from vat.reports.needs import CASE_UPDATES, QualityReport, quality_report
from vat.reports.scope import VictimFilters, victim_conditions
from vat.victims import assistance, feedback_counts, needs
from vat.victims.models import Assistance, Communication, Feedback, Victim

SAID = [("satisfied", False), ("not_satisfied", True), ("unsure", False), ("satisfied", True)]


def _rows_before(user: User, filters: VictimFilters) -> list[tuple[str, str, bool, int]]:
    """The feedback by type as it was counted before the counts were kept: every feedback in
    reach, joined to its service or case update."""
    reach = victim_conditions(user, filters, consented_only=False)
    found = []
    for group, about, on in (
        (Assistance.service_type, Assistance, Assistance.id == Feedback.assistance_id),
        (None, Communication, Communication.id == Feedback.communication_id),
    ):
        keys = [group] if group is not None else []
        for *key, said, complained, n in db.session.execute(
            select(*keys, Feedback.satisfaction, Feedback.complaint, func.count())
            .select_from(Feedback)
            .join(about, on)
            .join(Victim, Victim.id == Feedback.victim_id)
            .where(*reach)
            .group_by(*keys, Feedback.satisfaction, Feedback.complaint)
        ):
            found.append((str(key[0]) if key else CASE_UPDATES, str(said), bool(complained), int(n)))
    return found


def _before(user: User, filters: VictimFilters, monkeypatch: pytest.MonkeyPatch) -> QualityReport:
    with monkeypatch.context() as patched:
        patched.setattr(report, "_by_type", _rows_before)
        return quality_report(user, filters)


def _agree(viewers: list[User], monkeypatch: pytest.MonkeyPatch) -> int:
    shown = agree_for_every_viewer(
        feedback_counts.differences,
        quality_report,
        lambda user, filters: _before(user, filters, monkeypatch),
        viewers,
    )
    return sum(report.satisfaction.grand_total or 0 for report in shown)


@pytest.fixture
def built(ctx: Flask, make_user: Any) -> tuple[User, list[User]]:
    ctx.config["VAT_SUPPRESSION_THRESHOLD"] = 5
    actor, viewers = writer_and_viewers(make_user)
    for n, victim in enumerate(register_people(actor, "Feedback")):
        service = assist(actor, victim, service_type=("medical", "legal", "shelter")[n % 3])
        said, complained = SAID[n % len(SAID)]
        needs.record_feedback(
            actor=actor, victim=victim, service=service, satisfaction=said, complaint=complained
        )
    db.session.commit()
    return actor, viewers


def test_each_kind_of_change_keeps_the_counts_and_the_report_exact(
    built: tuple[User, list[User]], monkeypatch: pytest.MonkeyPatch
) -> None:
    actor, viewers = built
    assert _agree(viewers, monkeypatch) > 0
    victims = list(db.session.scalars(select(Victim).order_by(Victim.id)))
    # Feedback on a case update, and more on a service.
    update = contact(actor, victims[0], date(2026, 1, 5))
    needs.record_feedback(actor=actor, victim=victims[0], communication=update, satisfaction="unsure")
    needs.record_feedback(
        actor=actor, victim=victims[1], service=victims[1].services[0], satisfaction="not_satisfied"
    )
    db.session.commit()
    _agree(viewers, monkeypatch)
    # A service's type changed: its feedback moves to the new type's row.
    service = victims[2].services[0]
    assistance.update_assistance(
        actor=actor, victim=victims[2], service=service, service_type="education", status="referred"
    )
    db.session.commit()
    assert db.session.scalar(
        select(func.sum(feedback_counts.counts.c.feedback)).where(
            feedback_counts.counts.c.grouping == "education"
        )
    )
    _agree(viewers, monkeypatch)
    # Moved: another country, a minor recorded.
    move(actor, victims[5], country_code="COD", mission="MONUSCO", sex="male", age_group="minor")
    db.session.commit()
    _agree(viewers, monkeypatch)


def test_a_victim_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    built: tuple[User, list[User]], make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    senior = glass_broken_on_a_victim_without_mission(
        make_user,
        lambda user: quality_report(user, VictimFilters()).satisfaction.grand_total or 0,
        lambda victim: len(victim.feedback),
    )
    _agree([senior], monkeypatch)


def test_verify_names_a_changed_row_and_rebuild_mends_it(built: tuple[User, list[User]]) -> None:
    verify_names_and_rebuild_mends(
        "UPDATE vat_feedback_count SET feedback = feedback + 1 WHERE grouping = 'legal'",
        "feedback counts",
        "legal",
    )


def test_migration_1158_fills_the_counts_from_the_feedback(built: tuple[User, list[User]]) -> None:
    actor, viewers = built
    victim = db.session.scalars(select(Victim).order_by(Victim.id)).first()
    assert victim is not None
    update = contact(actor, victim, date(2026, 1, 5))
    needs.record_feedback(actor=actor, victim=victim, communication=update, satisfaction="satisfied")
    db.session.commit()
    refilled_by_migration(
        "1154", feedback_counts.differences, lambda user: quality_report(user, VictimFilters()), viewers
    )


def test_concurrent_changes_to_one_cell_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own victim and transaction, record feedback on a service of victims
    of one cell at once: every count stays exact."""
    user = make_user(Role.ADVOCATE, "CAF").id
    change_at_once(
        app,
        user,
        of_one_cell,
        lambda actor, victim: needs.record_feedback(
            actor=actor, victim=victim, service=assist(actor, victim), satisfaction="satisfied"
        ),
    )
    kept = kept_rows(
        app,
        feedback_counts.differences,
        "SELECT satisfaction, feedback FROM vat_feedback_count WHERE grouping = 'medical' AND feedback <> 0",
    )
    assert dict(kept) == {"satisfied": 8}
