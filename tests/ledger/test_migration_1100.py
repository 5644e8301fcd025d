"""Migration 1100 down and up again: partners' lines imported before it are copied onto the
victims they name, and the summaries they change count them (reported US cents, supported), so
that `flask figures verify` agrees right after the upgrade."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.ledger.test_report_lines import csv, do_import, project, schedule  # noqa: F401  (fixture)
from vat.db import db
from vat.reports import fund_money
from vat.victims import support_summary

LINES = "SELECT victim_id, project_id, report_id, report_line_id, support, currency, amount_minor, usd_minor"
LINES += ", provided_on, reported_on FROM vat_partner_support ORDER BY report_line_id"
SUMMARIES = (
    "SELECT victim_id, reported_usd_minor, supported FROM vat_victim_support_summary ORDER BY victim_id"
)


def test_1100_copies_the_lines_imported_before_it(fund, project):  # noqa: F811
    do_import(
        fund, schedule(fund, project), csv("CAR-2017-0042,cash,300.00,2019-04-02", "CAR-2017-0043,medical,0,")
    )
    db.session.commit()
    lines, summaries = db.session.execute(text(LINES)).all(), db.session.execute(text(SUMMARIES)).all()
    assert len(lines) == 2 and sum(1 for row in summaries if row.supported) == 2
    db.session.commit()

    downgrade(revision="1097")
    assert not inspect(db.engine).has_table("vat_partner_support")
    # Before 1100 a partner's line was not support: these victims had nothing else.
    db.session.execute(text("UPDATE vat_victim_support_summary SET supported = FALSE"))
    db.session.commit()

    upgrade(revision="heads")
    assert db.session.execute(text(LINES)).all() == lines
    assert db.session.execute(text(SUMMARIES)).all() == summaries
    assert support_summary.differences() == [] and fund_money.differences() == []
