"""The needs' kept counts (vat/victims/need_counts.py) keep the needs table of the dashboard and the
per-victim report exact: after each kind of change — a need assessed and assessed again, a service
that meets it, a victim moved — they equal a recount of every need, and the table equals the count
of the needs in SQL it was before, for every role and filter; migration 1111 fills them; threads at
once keep them exact. The counts by place alone (`vat_need_place_count`) add up the finer ones after
every change, the unfiltered table reads them, verify names and rebuild mends them, migration 1164
fills them. Breaking the glass, verify and rebuild: test_cell_counts.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.statements import counting
from tests.vat.cell_count_checks import CellFigure
from tests.vat.conftest import assist, move
from vat import figures
from vat.auth.models import User
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


def _record(actor: User, victim: Victim, n: int) -> None:
    """The first one, two or three of a medical need unmet, a legal one partly met, shelter met."""
    for kind, status in [("medical", "unmet"), ("legal", "partly_met"), ("shelter", "met")][: 1 + n % 3]:
        needs.assess_need(actor=actor, victim=victim, need_type=kind, status=status)


NEEDS = CellFigure(
    "Needs",
    need_counts,
    needs_table,
    _before,
    total=lambda table: table.grand_total,
    record=_record,
    rows_of=lambda victim: len(victim.needs),
)


@pytest.fixture
def built(ctx: Flask, make_user: Any) -> tuple[User, list[User]]:
    return NEEDS.written(ctx, make_user)


def test_each_kind_of_change_keeps_the_counts_and_the_table_exact(built: tuple[User, list[User]]) -> None:
    actor, viewers = built
    assert NEEDS.agree(viewers) > 0
    victims = list(db.session.scalars(select(Victim).order_by(Victim.id)))
    # Assessed again: another status; a new need.
    needs.assess_need(actor=actor, victim=victims[0], need_type="medical", status="met")
    needs.assess_need(actor=actor, victim=victims[1], need_type="education", status="unmet")
    db.session.commit()
    NEEDS.agree(viewers)
    # A service of the need's type: in progress, the need partly met.
    assist(actor, victims[3], status="in_progress", on=date(2026, 1, 5))
    db.session.commit()
    assert (
        db.session.scalar(
            select(Need.status).where(Need.victim_id == victims[3].id, Need.need_type == "medical")
        )
        == "partly_met"
    )
    NEEDS.agree(viewers)
    # Moved: another country, a minor recorded, another year of registration.
    move(actor, victims[5], country_code="COD", mission="MONUSCO", sex="male", age_group="minor")
    db.session.commit()
    NEEDS.agree(viewers)


def test_migration_1111_fills_the_counts_from_the_needs(built: tuple[User, list[User]]) -> None:
    NEEDS.refilled(built[1], revision="1110")


def test_concurrent_changes_to_one_cell_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own victim and transaction, assess the same need of victims of one
    cell at once, then meet it: every count stays exact."""
    kept = NEEDS.changed_at_once(
        app,
        make_user,
        lambda actor, victim: needs.assess_need(
            actor=actor, victim=victim, need_type="medical", status="unmet"
        ),
        lambda actor, victim: needs.assess_need(
            actor=actor, victim=victim, need_type="medical", status="met"
        ),
        read="SELECT status, victims FROM vat_need_count WHERE need_type = 'medical' AND victims <> 0",
    )
    assert dict(kept) == {"met": 8}


PLACE_ROWS = "SELECT country_code, mission, need_type, status, victims FROM vat_need_place_count"
FINER_ROWS_ADDED_UP = (
    "SELECT country_code, mission, need_type, status, SUM(victims) FROM vat_need_count"
    " GROUP BY country_code, mission, need_type, status"
)


def _by_place(sql: str) -> dict[tuple[str, ...], int]:
    return {tuple(key): int(n) for *key, n in db.session.execute(text(sql)) if n}


def test_the_counts_by_place_add_up_the_finer_ones_after_each_change(
    built: tuple[User, list[User]],
) -> None:
    actor, _ = built
    victims = list(db.session.scalars(select(Victim).order_by(Victim.id)))
    assert _by_place(PLACE_ROWS) == _by_place(FINER_ROWS_ADDED_UP) != {}
    needs.assess_need(actor=actor, victim=victims[0], need_type="medical", status="met")
    assist(actor, victims[3], status="in_progress", on=date(2026, 1, 5))
    move(actor, victims[5], country_code="COD", mission="MONUSCO", sex="male", age_group="minor")
    db.session.commit()
    assert _by_place(PLACE_ROWS) == _by_place(FINER_ROWS_ADDED_UP)
    assert need_counts.differences() == []


def test_the_table_reads_the_counts_by_place_unless_a_filter_needs_the_finer_ones(
    app: Flask, built: tuple[User, list[User]]
) -> None:
    place, finer = "FROM vat_need_place_count", "FROM vat_need_count"
    for viewer in built[1]:
        for filters, read, unread in [
            (VictimFilters(), place, finer),
            (VictimFilters(country_code="CAF", mission="MINUSCA"), place, finer),
            (VictimFilters(year=2025), finer, place),
            (VictimFilters(sex="female"), finer, place),
            (VictimFilters(minor=False), finer, place),
        ]:
            with counting(app) as sent:
                needs_table(viewer, filters)
            tables = " ".join(sent)
            assert read in tables and unread not in tables, (viewer.role, filters)


def test_verify_names_a_changed_count_by_place_and_rebuild_mends_it(built: tuple[User, list[User]]) -> None:
    db.session.execute(
        text("UPDATE vat_need_place_count SET victims = victims + 1 WHERE need_type = 'legal'")
    )
    found = [
        line for line in figures.differences() if line.startswith("need counts (vat_need_place_count): ")
    ]
    assert found and all(" legal " in line for line in found)
    assert figures.summaries()[need_counts.NAME].rebuild() > 0
    assert figures.differences() == []


def test_migration_1164_fills_the_counts_by_place(built: tuple[User, list[User]]) -> None:
    NEEDS.refilled(built[1], revision="1161")
    assert _by_place(PLACE_ROWS) == _by_place(FINER_ROWS_ADDED_UP) != {}
