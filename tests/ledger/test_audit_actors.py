"""Who acted on what (`vat.audit.AuditActor`): kept by every writer of events in its transaction
(one event, several at once, the importer's batch, a booking — one statement on PostgreSQL),
equal to the log, named by `flask figures verify` when altered behind the app, and what the audit
log's "who" filter offers a fund manager."""

from __future__ import annotations

import re
from unittest import mock

from sqlalchemy import delete, insert, select

from ledger import writes
from tests.ledger.test_balances import book_a_bit_of_everything
from vat import audit, audit_actors, figures
from vat.audit import AuditActor, AuditEvent
from vat.auth.models import Role, User
from vat.db import db


def logged() -> set[tuple[str, str, str]]:
    """Who acted on what as the log says, read here without the module's own query."""
    rows = db.session.execute(select(AuditEvent.actor_name, AuditEvent.object_type, AuditEvent.country_code))
    return {(name, kind or "", country or "") for name, kind, country in rows}


def kept() -> set[tuple[str, str, str]]:
    return set(
        db.session.execute(select(AuditActor.actor_name, AuditActor.object_type, AuditActor.country_code))
    )


def test_every_writer_of_events_adds_who_acted_at_once(fund, database_url):
    advocate = fund.maker
    audit.record("victim.update", actor=None, object_type="victim", object_id="CAR-1", country_code="CAF")
    audit.record_many(
        actor=advocate,
        events=[
            {"action": "victim.update", "object_type": "victim", "object_id": "C-2", "country_code": "COD"},
            {"action": "victim.update", "object_type": "victim", "object_id": "C-3", "country_code": "COD"},
            {"action": "report.export"},
        ],
    )
    audit.append(
        audit.unchained(
            advocate, [{"action": "victim.import", "object_type": "victim", "country_code": "NPL"}]
        )
    )
    with mock.patch.object(writes, "_write_at_once", wraps=writes._write_at_once) as at_once:
        book_a_bit_of_everything(fund)
    assert at_once.called == database_url.startswith("postgresql")  # the one-statement booking covered
    db.session.commit()

    assert kept() == logged()
    name = fund.maker.username
    assert {
        ("system", "victim", "CAF"),
        (name, "victim", "COD"),
        (name, "", ""),
        (name, "victim", "NPL"),
    } <= kept()
    assert (name, "ledger_entry", "") in kept()
    assert audit_actors.differences() == []


def test_verify_names_a_row_altered_behind_the_app_and_rebuild_mends_it(fund):
    fund.contribute()
    db.session.commit()
    name = fund.maker.username
    db.session.execute(delete(AuditActor).where(AuditActor.actor_name == name))
    db.session.execute(
        insert(AuditActor).values(actor_name="nobody", object_type="victim", country_code="CAF")
    )
    db.session.commit()

    found = figures.differences()
    assert f"audit actors: {name} ledger_entry is in the log but not kept" in found
    assert "audit actors: nobody victim CAF is kept but not in the log" in found
    assert audit_actors.rebuild() == len(logged())
    db.session.commit()
    assert kept() == logged() and figures.differences() == []


def _who_choices(client) -> list[str]:
    page = client.get("/admin/audit").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="who".*?</select>', page, re.S)
    assert select_html is not None
    return re.findall(r'value="([^"]*)"', select_html.group(0))


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
