"""The needs' kept counts (vat/victims/need_counts.py) keep the needs table of the dashboard and the
per-victim report exact: after each kind of change — a need assessed and assessed again, a service
that meets it, a victim moved — they equal a recount of every need, and the table equals the count
of the needs in SQL it was before, for every role and filter; for a senior advocate who broke the
glass; `figures verify` names a changed row and `rebuild` mends it; migration 1111 fills them;
threads at once keep them exact."""

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
from vat.reports.needs import needs_table
from vat.reports.scope import VictimFilters, sees_rows, threshold, victim_conditions
from vat.reports.suppression import suppress
from vat.victims import need_counts, needs
from vat.victims.labels import vat_label
from vat.victims.models import Need, NeedStatus, ServiceType, Victim


def _before(user: User, filters: VictimFilters) -> Any:
    """The table as it was computed before the counts were kept: every need in reach, grouped."""
    counts = {
        (kind, status): int(n)
        for kind, status, n in db.session.execute(
            select(Need.need_type, Need.status, func.count())
            .join(Victim, Victim.id == Need.victim_id)
            .where(*victim_conditions(user, filters, consented_only=False))
            .group_by(Need.need_type, Need.status)
        )
    }
    statuses = list(NeedStatus)
    return suppress(
        [vat_label(t.value) for t in ServiceType],
        [vat_label(s.value) for s in statuses],
        [[counts.get((t.value, s.value), 0) for s in statuses] for t in ServiceType],
        threshold=1 if sees_rows(user) else threshold(),
    )


def _agree(viewers: list[User]) -> int:
    shown = agree_for_every_viewer(need_counts.differences, needs_table, _before, viewers)
    return sum(table.grand_total or 0 for table in shown)


@pytest.fixture
def built(ctx: Flask, make_user: Any) -> tuple[User, list[User]]:
    ctx.config["VAT_SUPPRESSION_THRESHOLD"] = 5
    actor, viewers = writer_and_viewers(make_user)
    for n, victim in enumerate(register_people(actor, "Needs")):
        for kind, status in [("medical", "unmet"), ("legal", "partly_met"), ("shelter", "met")][: 1 + n % 3]:
            needs.assess_need(actor=actor, victim=victim, need_type=kind, status=status)
    db.session.commit()
    return actor, viewers


def test_each_kind_of_change_keeps_the_counts_and_the_table_exact(built: tuple[User, list[User]]) -> None:
    actor, viewers = built
    assert _agree(viewers) > 0
    victims = list(db.session.scalars(select(Victim).order_by(Victim.id)))
    # Assessed again: another status; a new need.
    needs.assess_need(actor=actor, victim=victims[0], need_type="medical", status="met")
    needs.assess_need(actor=actor, victim=victims[1], need_type="education", status="unmet")
    db.session.commit()
    _agree(viewers)
    # A service of the need's type: in progress, the need partly met.
    assist(actor, victims[3], status="in_progress", on=date(2026, 1, 5))
    db.session.commit()
    assert (
        db.session.scalar(
            select(Need.status).where(Need.victim_id == victims[3].id, Need.need_type == "medical")
        )
        == "partly_met"
    )
    _agree(viewers)
    # Moved: another country, a minor recorded, another year of registration.
    move(actor, victims[5], country_code="COD", mission="MONUSCO", sex="male", age_group="minor")
    db.session.commit()
    _agree(viewers)


def test_a_victim_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    built: tuple[User, list[User]], make_user: Any
) -> None:
    senior = glass_broken_on_a_victim_without_mission(
        make_user,
        lambda user: needs_table(user, VictimFilters()).grand_total or 0,
        lambda victim: len(victim.needs),
    )
    _agree([senior])


def test_verify_names_a_changed_row_and_rebuild_mends_it(built: tuple[User, list[User]]) -> None:
    verify_names_and_rebuild_mends(
        "UPDATE vat_need_count SET victims = victims + 1 WHERE need_type = 'legal'", "need counts", "legal"
    )


def test_migration_1111_fills_the_counts_from_the_needs(built: tuple[User, list[User]]) -> None:
    _, viewers = built
    refilled_by_migration(
        "1110", need_counts.differences, lambda user: needs_table(user, VictimFilters()), viewers
    )


def test_concurrent_changes_to_one_cell_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own victim and transaction, assess the same need of victims of one
    cell at once, then meet it: every count stays exact."""
    user = make_user(Role.ADVOCATE, "CAF").id
    change_at_once(
        app,
        user,
        of_one_cell,
        lambda actor, victim: needs.assess_need(
            actor=actor, victim=victim, need_type="medical", status="unmet"
        ),
        lambda actor, victim: needs.assess_need(
            actor=actor, victim=victim, need_type="medical", status="met"
        ),
    )
    kept = kept_rows(
        app,
        need_counts.differences,
        "SELECT status, victims FROM vat_need_count WHERE need_type = 'medical' AND victims <> 0",
    )
    assert dict(kept) == {"met": 8}
