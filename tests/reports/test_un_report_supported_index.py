"""The UN report's share of victims with no assistance counts the named victims the support
summary calls supported from the summary's index on its flag (each victim's key is in it), not
from the summary's rows one by one; with the planner's statistics, as `make bench` leaves them.
Its figure is checked against a plain pass over the records in test_un_report_tables.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.reports.test_un_report_tables import sqlite_plan, the_year_s_report


def test_the_supported_victims_are_counted_from_the_summary_s_index(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    report, plan = sqlite_plan(app, make_user, the_year_s_report, "WITH named")
    assert any(m.key == "no_assistance" and m.base for m in report.measures)
    index = "vat_victim_support_summary USING COVERING INDEX ix_vat_victim_support_summary_supported"
    assert any(index in step for step in plan), plan
