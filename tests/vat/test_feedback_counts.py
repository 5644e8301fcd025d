"""The feedback's kept counts (vat/victims/feedback_counts.py) keep the quality report by service
type exact: after each kind of change — feedback recorded on a service and on a case update, a
service's type changed, a victim moved — they equal a recount of every feedback, and the report
equals the one counted from the feedback rows before, for every role and filter; migration 1158
fills them; threads at once keep them exact. Breaking the glass, verify and rebuild:
test_cell_counts.py."""

from __future__ import annotations

from datetime import date
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.vat.cell_count_checks import CellFigure
from tests.vat.conftest import assist, contact, move
from vat.auth.models import User
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


def _before(user: User, filters: VictimFilters) -> QualityReport:
    """The report as it was before the counts were kept: by type, from the feedback rows."""
    with mock.patch.object(report, "_by_type", _rows_before):
        return quality_report(user, filters)


def _record(actor: User, victim: Victim, n: int) -> None:
    """A medical, legal or shelter service, in turn, and feedback on it, the next of SAID."""
    service = assist(actor, victim, service_type=("medical", "legal", "shelter")[n % 3])
    said, complained = SAID[n % len(SAID)]
    needs.record_feedback(
        actor=actor, victim=victim, service=service, satisfaction=said, complaint=complained
    )


FEEDBACK = CellFigure(
    "Feedback",
    feedback_counts,
    quality_report,
    _before,
    total=lambda shown: shown.satisfaction.grand_total,
    record=_record,
    rows_of=lambda victim: len(victim.feedback),
)


@pytest.fixture
def built(ctx: Flask, make_user: Any) -> tuple[User, list[User]]:
    return FEEDBACK.written(ctx, make_user)


def test_each_kind_of_change_keeps_the_counts_and_the_report_exact(built: tuple[User, list[User]]) -> None:
    actor, viewers = built
    assert FEEDBACK.agree(viewers) > 0
    victims = list(db.session.scalars(select(Victim).order_by(Victim.id)))
    # Feedback on a case update, and more on a service.
    update = contact(actor, victims[0], date(2026, 1, 5))
    needs.record_feedback(actor=actor, victim=victims[0], communication=update, satisfaction="unsure")
    needs.record_feedback(
        actor=actor, victim=victims[1], service=victims[1].services[0], satisfaction="not_satisfied"
    )
    db.session.commit()
    FEEDBACK.agree(viewers)
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
    FEEDBACK.agree(viewers)
    # Moved: another country, a minor recorded.
    move(actor, victims[5], country_code="COD", mission="MONUSCO", sex="male", age_group="minor")
    db.session.commit()
    FEEDBACK.agree(viewers)


def test_migration_1158_fills_the_counts_from_the_feedback(built: tuple[User, list[User]]) -> None:
    actor, viewers = built
    victim = db.session.scalars(select(Victim).order_by(Victim.id)).first()
    assert victim is not None
    update = contact(actor, victim, date(2026, 1, 5))
    needs.record_feedback(actor=actor, victim=victim, communication=update, satisfaction="satisfied")
    db.session.commit()
    FEEDBACK.refilled(viewers, revision="1154")


def test_concurrent_changes_to_one_cell_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own victim and transaction, record feedback on a service of victims
    of one cell at once: every count stays exact."""
    kept = FEEDBACK.changed_at_once(
        app,
        make_user,
        lambda actor, victim: needs.record_feedback(
            actor=actor, victim=victim, service=assist(actor, victim), satisfaction="satisfied"
        ),
        read="SELECT satisfaction, feedback FROM vat_feedback_count"
        " WHERE grouping = 'medical' AND feedback <> 0",
    )
    assert dict(kept) == {"satisfied": 8}
