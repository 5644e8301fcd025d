"""The audit events counted by who acted on what (`vat.audit.ACTORS`): kept by every writer of
events in its transaction (one event, several at once, the importer's batch, a booking — one
statement on PostgreSQL), equal to a count of the log, named by `flask figures verify` when altered
behind the app; each reader's totals read from them."""

from __future__ import annotations

from collections import Counter
from datetime import date
from unittest import mock

from sqlalchemy import delete, insert, select

from ledger import writes
from tests.ledger.test_balances import book_a_bit_of_everything
from vat import audit, audit_actors, audit_log, figures
from vat.audit import AuditActor, AuditEvent
from vat.audit_log import AuditFilters
from vat.auth.models import Role, User
from vat.db import db

Key = tuple[str, str, str]


def logged() -> Counter[Key]:
    """The events counted by who acted on what, here without the module's own query."""
    rows = db.session.execute(select(AuditEvent.actor_name, AuditEvent.object_type, AuditEvent.country_code))
    return Counter((name, kind or "", country or "") for name, kind, country in rows)


def kept() -> Counter[Key]:
    c = AuditActor.__table__.c
    rows = db.session.execute(select(c.actor_name, c.object_type, c.country_code, c.events))
    return Counter({(name, kind, country): n for name, kind, country, n in rows})


def test_every_writer_of_events_counts_who_acted_at_once(fund, database_url):
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
    imported = [{"action": "victim.import", "object_type": "victim", "country_code": "NPL"}]
    audit.commit_batch(audit.insert_batch(audit.unchained(advocate, imported)), actor=advocate)
    with mock.patch.object(writes, "_write_at_once", wraps=writes._write_at_once) as at_once:
        book_a_bit_of_everything(fund)
    assert at_once.called == database_url.startswith("postgresql")  # the one-statement booking covered
    db.session.commit()

    counted = kept()
    assert counted == logged()
    name = fund.maker.username
    assert counted[("system", "victim", "CAF")] == 1 and counted[(name, "victim", "COD")] == 2
    assert counted[(name, "", "")] == 1 and counted[(name, "victim", "NPL")] == 1
    assert counted[(name, "audit_batch", "")] == 1  # the event that commits the batch
    assert counted[(name, "ledger_entry", "")] >= 10  # a bit of everything: an event a booking
    assert audit_actors.differences() == []


def test_a_batchs_events_are_counted_with_its_commitment_and_a_rolled_back_savepoints_not(fund):
    advocate = fund.maker
    event = {"action": "victim.update", "object_type": "victim", "country_code": "COD"}
    with audit.batched(actor=advocate):
        audit.record(actor=advocate, **event)
        with db.session.begin_nested():
            audit.record_many(actor=advocate, events=[event, event])
        savepoint = db.session.begin_nested()
        audit.record(actor=advocate, **event)  # rolled back: neither logged nor counted
        savepoint.rollback()
        assert kept()[(advocate.username, "victim", "COD")] == 0  # counted once the batch commits
    db.session.commit()

    assert kept() == logged()
    assert kept()[(advocate.username, "victim", "COD")] == 3
    assert audit_actors.differences() == []


def test_verify_names_a_count_altered_behind_the_app_and_rebuild_mends_it(fund):
    fund.contribute()
    db.session.commit()
    name = fund.maker.username
    db.session.execute(delete(AuditActor).where(AuditActor.actor_name == name))
    db.session.execute(
        insert(AuditActor).values(actor_name="nobody", object_type="victim", country_code="CAF", events=3)
    )
    db.session.commit()

    found = figures.differences()
    assert (
        f"audit actors: {name} ledger_entry is 0, should be {logged()[(name, 'ledger_entry', '')]}" in found
    )
    assert "audit actors: nobody victim CAF is 3, should be 0" in found
    assert audit_actors.rebuild() == len(logged())
    db.session.commit()
    assert kept() == logged() and figures.differences() == []


def test_each_readers_total_from_the_kept_counts_is_the_logs_own(app, make_user):
    users = {
        role: make_user(role, scope)
        for role, scope in (
            (Role.ADVOCATE, "COD"),
            (Role.AUDITOR, ""),
            (Role.FUND_MANAGER, ""),
            (Role.SENIOR_ADVOCATE, "COD"),
        )
    }
    with app.app_context():
        advocate = db.session.get(User, users[Role.ADVOCATE].id)
        for country in ("COD", "COD", "CAF", None):
            audit.record("victim.update", actor=advocate, object_type="victim", country_code=country)
        audit.record("victim.update", actor=None, object_type="victim", country_code="COD")
        audit.record("ledger.receipt", actor=advocate, object_type="ledger_entry")
        db.session.commit()
        for role in (Role.AUDITOR, Role.FUND_MANAGER, Role.SENIOR_ADVOCATE):
            reader = db.session.get(User, users[role].id)
            for who in ("", advocate.username, "system", "nobody"):
                # A date from long ago narrows nothing, but the kept counts cannot answer it.
                from_the_log = audit_log.count(reader, AuditFilters(who=who, start=date(2000, 1, 1)))
                assert audit_log.count(reader, AuditFilters(who=who)) == from_the_log
        senior = db.session.get(User, users[Role.SENIOR_ADVOCATE].id)
        fund_manager = db.session.get(User, users[Role.FUND_MANAGER].id)
        assert audit_log.count(senior, AuditFilters(who=advocate.username)) == 2  # in COD only
        assert audit_log.count(fund_manager, AuditFilters(who=advocate.username)) == 1  # the ledger's
