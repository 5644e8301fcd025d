"""The victims registered in a period, counted by sex and age group (the statistics page, the UN
figures pack), are read from an index holding every column the count and the scope read
(migration 1154), not from the victims' rows: a fresh process would read a page of that wide
table for nearly every victim. With the planner's statistics, as `make bench` leaves them."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.reports.test_un_report_tables import YEAR, _build
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import Period, VictimFilters
from vat.reports.statistics import statistics


def test_the_period_s_victims_are_counted_from_the_index_alone(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's plan; PostgreSQL's depends on its statistics and visibility map")
        actor = db.session.get_one(User, senior.id)
        _build(random.Random(0), actor)
        db.session.commit()
        sent: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if statement.startswith("SELECT vat_victim.sex, vat_victim.age_group, count(*)"):
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            counted = statistics(actor, VictimFilters(), Period.of_year(YEAR))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert counted.victims is not None and counted.victims.by_sex_and_age.grand_total
        db.session.connection().exec_driver_sql("ANALYZE")
        [(statement, parameters)] = sent
        plan = [
            row[-1]
            for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
        assert any("vat_victim USING COVERING INDEX ix_vat_victim_registered_on " in step for step in plan), (
            plan
        )
