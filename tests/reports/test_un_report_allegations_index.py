"""The UN report and the statistics page read the allegations from their index on the day
received, which holds every column their statements read (migration 1161), not from the
allegations' wide rows: the period's rows for the tables and measures, the period's ids for the
victims named, every allegation received by the period's end for the earlier years' tables, and
the statistics' period's allegations by category, type and the rest. With the planner's
statistics, as `make bench` leaves them. The figures are checked against a plain pass over the
records in test_un_report_tables.py and test_statistics_recount.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.reports.test_un_report_tables import sqlite_plan, the_year_s_report, the_year_s_statistics

INDEX = "vat_allegation USING COVERING INDEX ix_vat_allegation_received_on"
STATEMENTS = {
    "the period's rows": "SELECT vat_allegation.id, vat_allegation.personnel_category",
    "the victims named": "WITH named",
    "the earlier years": "SELECT anon_1.year",
}


@pytest.mark.parametrize("starts", STATEMENTS.values(), ids=STATEMENTS.keys())
def test_the_allegations_are_read_from_their_index_alone(
    app: Flask, make_user: Callable[..., Any], starts: str
) -> None:
    _report, plan = sqlite_plan(app, make_user, the_year_s_report, starts)
    assert any(INDEX in step for step in plan), plan
    assert not any(step == "SCAN vat_allegation" for step in plan), plan


def test_the_statistics_read_the_period_s_allegations_from_the_index_alone(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    _report, plan = sqlite_plan(
        app, make_user, the_year_s_statistics, "SELECT vat_allegation.entity_category"
    )
    assert any(INDEX in step for step in plan), plan
