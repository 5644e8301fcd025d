"""The audit log as an auditor reads it (issue 19, item 4): filters, search, readable names and a
CSV export that is itself audited; each role still reads only what it may."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.statements import counting
from vat import audit
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db


def _events(app) -> None:
    with app.app_context():
        audit.record(
            "victim.update", actor=None, object_type="victim", object_id="CAR-2020-0001", country_code="CAF"
        )
        audit.record(
            "victim.update", actor=None, object_type="victim", object_id="DRC-2021-0002", country_code="COD"
        )
        audit.record(
            "allegation.create",
            actor=None,
            object_type="allegation",
            object_id=7,
            country_code="CAF",
            detail={"reference": "0399/15"},
        )
        audit.record("ledger.receipt", actor=None, object_type="ledger_entry", object_id=12)
        db.session.commit()


def _rows(client, query: str = "") -> list[list[str]]:
    response = client.get(f"/admin/audit/export.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]


def test_filters_search_and_readable_names(app, client, login):
    _events(app)
    login(Role.AUDITOR, "")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Victims: update" in page and "Ledger: receipt" in page and "ledger entry 12" in page
    by_domain = client.get("/admin/audit?domain=victim").get_data(as_text=True)
    assert "CAR-2020-0001" in by_domain and "Ledger: receipt" not in by_domain
    by_code = client.get("/admin/audit?search=CAR-2020-0001").get_data(as_text=True)
    assert "CAR-2020-0001" in by_code and "DRC-2021-0002" not in by_code
    by_reference = client.get("/admin/audit?search=0399/15").get_data(as_text=True)
    assert "allegation 7" in by_reference and "CAR-2020-0001" not in by_reference
    assert client.get("/admin/audit?domain=nonsense").status_code == 200  # an invalid filter shows its error


def test_the_export_holds_the_filtered_rows_and_is_itself_audited(app, client, login):
    _events(app)
    login(Role.AUDITOR, "")
    rows = _rows(client, "?object_type=victim")
    assert sorted(row[5] for row in rows) == ["CAR-2020-0001", "DRC-2021-0002"]
    with app.app_context():
        exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).one()
        assert json.loads(exported.detail) == {"filters": {"object_type": "victim"}, "rows": 2}


def test_a_senior_advocate_exports_only_their_scope(app, client, login):
    _events(app)
    login(Role.SENIOR_ADVOCATE, "CAF")
    codes = {row[5] for row in _rows(client)}
    assert "CAR-2020-0001" in codes and "DRC-2021-0002" not in codes


def test_a_fund_manager_reads_only_the_ledger(app, client, login):
    _events(app)
    login(Role.FUND_MANAGER, "")
    assert {row[4] for row in _rows(client)} <= {"ledger_entry"}


def test_an_advocate_may_not_read_or_export_the_log(client, login):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403


def _who_choices(client) -> list[str]:
    page = client.get("/admin/audit").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="who".*?</select>', page, re.S)
    assert select_html is not None
    return re.findall(r'value="([^"]*)"', select_html.group(0))


def test_who_offers_only_the_names_in_the_events_one_may_read(app, client, login, make_user):
    _events(app)
    in_cod = make_user(Role.ADVOCATE, "COD")
    with app.app_context():
        actor = db.session.get(User, in_cod.id)
        audit.record(
            "victim.update", actor=actor, object_type="victim", object_id="DRC-2021-0003", country_code="COD"
        )
        db.session.commit()
    login(Role.AUDITOR, "")
    offered = _who_choices(client)
    assert offered[0] == "" and offered[1:] == sorted(offered[1:])  # "any", then the names in order
    assert {"system", in_cod.username} <= set(offered)
    mine = client.get(f"/admin/audit?who={in_cod.username}").get_data(as_text=True)
    assert "DRC-2021-0003" in mine and "CAR-2020-0001" not in mine
    login(Role.SENIOR_ADVOCATE, "CAF")
    offered = _who_choices(client)
    assert "system" in offered and in_cod.username not in offered  # who acted outside this scope
    refused = client.get(f"/admin/audit?who={in_cod.username}").get_data(as_text=True)
    assert "DRC-2021-0003" not in refused and "Not a valid choice" in refused


def test_the_date_filter_narrows_the_list_and_its_total(app, client, login):
    _events(app)
    login(Role.AUDITOR, "")
    today = date.today()
    within = client.get(f"/admin/audit?start={today - timedelta(days=1)}&end={today}")
    assert within.status_code == 200 and "CAR-2020-0001" in within.get_data(as_text=True)
    before = client.get(f"/admin/audit?end={today - timedelta(days=2)}").get_data(as_text=True)
    assert "CAR-2020-0001" not in before and "(0 events)" in before
    assert _rows(client, f"?start={today + timedelta(days=1)}") == []


def test_a_fund_manager_is_offered_only_who_acted_on_the_ledger(app, client, login, make_user):
    on_victims = make_user(Role.ADVOCATE, "COD")
    on_ledger = make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        audit.record(
            "victim.update",
            actor=db.session.get(User, on_victims.id),
            object_type="victim",
            country_code="COD",
        )
        audit.record("ledger.receipt", actor=db.session.get(User, on_ledger.id), object_type="ledger_entry")
        db.session.commit()
    login(Role.FUND_MANAGER, "")
    offered = _who_choices(client)
    assert on_ledger.username in offered and on_victims.username not in offered
    login(Role.AUDITOR, "")
    assert {on_ledger.username, on_victims.username} <= set(_who_choices(client))


def test_a_reach_with_no_events_is_not_looked_for_in_the_log(app, client, login):
    _events(app)
    login(Role.SENIOR_ADVOCATE, "NPL")  # no event in the log is about Nepal
    with counting(app) as sent:
        page = client.get("/admin/audit").get_data(as_text=True)
    assert "(0 events)" in page and "CAR-2020-0001" not in page
    assert not [statement for statement in sent if "FROM audit_event" in statement]
    login(Role.SENIOR_ADVOCATE, "CAF")
    assert "CAR-2020-0001" in client.get("/admin/audit").get_data(as_text=True)
    assert "CAR-2020-0001" not in client.get("/admin/audit?page=2").get_data(as_text=True)
