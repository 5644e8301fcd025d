"""The victims registered in a period, counted by sex and age group (the statistics page, the UN
figures pack), are read from an index holding every column the count and the scope read
(migration 1154), not from the victims' rows: a fresh process would read a page of that wide
table for nearly every victim. With the planner's statistics, as `make bench` leaves them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.reports.test_un_report_tables import sqlite_plan, the_year_s_statistics


def test_the_period_s_victims_are_counted_from_the_index_alone(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    counted, plan = sqlite_plan(
        app, make_user, the_year_s_statistics, "SELECT vat_victim.sex, vat_victim.age_group, count(*)"
    )
    assert counted.victims is not None and counted.victims.by_sex_and_age.grand_total
    index = "vat_victim USING COVERING INDEX ix_vat_victim_registered_on "
    assert any(index in step for step in plan), plan
