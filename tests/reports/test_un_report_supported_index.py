"""The UN report's share of victims with no assistance counts the named victims the support
summary calls supported from the summary's index on its flag (each victim's key is in it), not
from the summary's rows one by one; with the planner's statistics, as `make bench` leaves them.
Its figure is checked against a plain pass over the records in test_un_report_tables.py."""

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
from vat.reports.un_report import un_report


def test_the_supported_victims_are_counted_from_the_summary_s_index(
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
            if statement.startswith("WITH named"):
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            report = un_report(actor, VictimFilters(), Period.of_year(YEAR))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert any(m.key == "no_assistance" and m.base for m in report.measures)
        db.session.connection().exec_driver_sql("ANALYZE")
        [(statement, parameters)] = sent
        plan = [
            row[-1]
            for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
        index = "vat_victim_support_summary USING COVERING INDEX ix_vat_victim_support_summary_supported"
        assert any(index in step for step in plan), plan
