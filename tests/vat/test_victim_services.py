"""The victims service, called directly: case codes, identities, consents, assistance,
communications and tasks, search, and the trust-fund hook the ledger calls."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select, text

from tests.vat.conftest import assist, consent, contact, register
from vat import audit
from vat.allegations import clock
from vat.allegations import services as allegations
from vat.auth.models import User
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.victims import assistance, consents, family, identity, listing, outcomes, timeline
from vat.victims.models import Assistance, ServiceStatus, Victim, VictimStatus


def test_case_codes_count_per_prefix_and_year(actor: User, today: date) -> None:
    first = register(actor)
    second = register(actor)
    drc = register(actor, country_code="COD", mission="MONUSCO")
    custom = register(actor, prefix="bangui")
    year = today.year
    assert first.case_code == f"CAR-{year}-0001"
    assert second.case_code == f"CAR-{year}-0002"
    assert drc.case_code == f"DRC-{year}-0001"
    assert custom.case_code == f"BANGUI-{year}-0001"
    with pytest.raises(InvalidField) as refused:
        register(actor, prefix="no spaces!")
    assert refused.value.field == "prefix"


def test_identity_is_encrypted_at_rest_and_reading_it_is_audited(actor: User) -> None:
    victim = register(actor, name="Ama Kossi", contact="+236 70 00 00 00", date_of_birth=date(2001, 3, 4))
    db.session.commit()
    stored = db.session.execute(text("SELECT name, contact, date_of_birth FROM vat_victim")).one()
    assert all(value.startswith("v1:") for value in stored)
    assert "Ama" not in "".join(stored)
    person = identity.read_identity(actor=actor, victim=victim)
    assert person["name"] == "Ama Kossi"
    assert person["date_of_birth"] == "2001-03-04"
    events = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.object_type == "victim")
    ).all()
    assert "victim.view_identity" in [e.action for e in events]
    assert all("Ama" not in e.detail and e.object_id == victim.case_code for e in events)


@pytest.mark.parametrize(
    "name",
    ["زينب عبد الله", "אסתר כהן", "Ngozi Nwankwo-Mbeki", "Анна Петрова", "  Zoë\u0301 d’Arc  ", "ⓂⒶⓇⒾⒺ 😀"],
)
def test_unicode_and_right_to_left_names_round_trip_and_are_found(actor: User, name: str) -> None:
    victim = register(actor, name=name, aliases="Alias One; أم محمد")
    db.session.commit()
    db.session.expire_all()
    assert identity.read_identity(actor=actor, victim=victim)["name"] == name.strip()

    def found_by(text: str) -> list[int]:
        digests = tuple(identity.word_digest(word) for word in identity.name_words(text))
        assert digests, text
        return [
            row.id
            for row in db.session.execute(
                listing.victim_rows(actor, listing.VictimFilters(name_digests=digests))
            )
        ]

    assert found_by(name.upper()) == [victim.id]
    assert found_by("محمد أم") == [victim.id]  # an alias's words, in any order
    part = max(identity.name_words(name), key=len)[:-1]  # the longest word less its last letter
    if len(part) > 1:
        assert found_by(part) == []  # a part of a word is not a word: no partial search over identities


def test_bad_input_is_refused_with_the_field_named(actor: User, today: date) -> None:
    cases = [
        ({"sex": "other"}, "sex"),
        ({"age_group": "teen"}, "age_group"),
        ({"country_code": "XXX"}, "country_code"),
        ({"country_code": "SSD"}, "country_code"),  # outside scope
        ({"country_code": "COD", "mission": "MINUSCA"}, "country_code"),  # wrong mission in scope
        ({"date_of_birth": today + timedelta(days=1)}, "date_of_birth"),
        ({"name": "x" * 201}, "name"),
        ({"notes": "x" * 5001}, "notes"),
    ]
    for values, field in cases:
        with pytest.raises(InvalidField) as refused:
            register(actor, **values)
        assert refused.value.field == field, values
    assert db.session.scalar(select(Victim.id)) is None


def test_consent_is_enforced_and_withdrawal_cancels_what_depended_on_it(
    actor: User, today: date, ago: date
) -> None:
    victim = register(actor, consents=[])
    with pytest.raises(InvalidField, match="consent to receive services"):
        assistance.record_assistance(actor=actor, victim=victim, service_type="medical", status="referred")
    consent(actor, victim, "services", ago, method="verbal", version="2")
    assistance.record_assistance(actor=actor, victim=victim, service_type="medical", status="referred")
    with pytest.raises(InvalidField, match="named provider") as refused:
        assistance.record_assistance(
            actor=actor, victim=victim, service_type="legal", provider="Clinique Juridique", status="referred"
        )
    assert refused.value.field == "provider"
    referral = consent(actor, victim, "referral", ago, recipient="Clinique Juridique")
    legal = assistance.record_assistance(
        actor=actor, victim=victim, service_type="legal", provider="clinique juridique", status="referred"
    )
    with pytest.raises(InvalidField):  # consent names another provider
        assistance.record_assistance(
            actor=actor, victim=victim, service_type="medical", provider="MSF", status="referred"
        )
    to_france = {
        "recipient_kind": "member_state",
        "recipient": "FRA",
        "purpose": "paternity",
        "shared_on": ago,
    }
    with pytest.raises(InvalidField, match="member state"):
        consents.record_disclosure(actor=actor, victim=victim, **to_france)
    share = consent(actor, victim, "share_member_state", ago)
    disclosure = consents.record_disclosure(actor=actor, victim=victim, **to_france)
    completed = assist(actor, victim, "completed", on=ago, service_type="material")
    result = consents.withdraw_consent(actor=actor, victim=victim, consent=referral)
    assert result.cancelled_services == [legal] and legal.status == ServiceStatus.CANCELLED
    consents.withdraw_consent(actor=actor, victim=victim, consent=share)
    assert disclosure.cancelled_on == today
    services_consent = consents.active_consent(victim, "services")
    assert services_consent is not None
    result = consents.withdraw_consent(actor=actor, victim=victim, consent=services_consent)
    assert [s.service_type for s in result.cancelled_services] == ["medical"]
    assert completed.status == ServiceStatus.COMPLETED  # history is not rewritten
    with pytest.raises(DomainError, match="no longer in force"):
        consents.withdraw_consent(actor=actor, victim=victim, consent=services_consent)


def test_a_new_consent_version_supersedes_the_previous(actor: User, today: date) -> None:
    victim = register(actor, consents=["contact"])
    old = consents.active_consent(victim, "contact")
    new = consent(actor, victim, "contact", today, version="2026-2")
    assert old is not None and old.superseded and consents.active_consent(victim, "contact") is new


def test_assistance_dates_must_be_consistent(actor: User, today: date, ago: date) -> None:
    victim = register(actor)
    cases = [
        ({"referral_date": ago, "start_date": ago - timedelta(days=1)}, "start_date", "before the referral"),
        ({"start_date": ago, "end_date": ago - timedelta(days=1)}, "end_date", "end before it started"),
        ({"end_date": ago}, "start_date", "start date"),
        ({"status": "completed", "start_date": ago}, "end_date", "end date of a completed"),
        ({"referral_date": today + timedelta(days=2)}, "referral_date", "future"),
        ({"service_type": "spa"}, "service_type", "Choose one of"),
        ({"status": "lost"}, "status", "Choose one of"),
        ({"cost": Decimal("-1"), "currency": "USD"}, "cost", "negative"),
        ({"cost": Decimal("1.005"), "currency": "USD"}, "cost", "USD amounts have at most 2 decimal places"),
        ({"cost": Decimal("120.50"), "currency": "XAF"}, "cost", "XAF amounts have at most 0 decimal places"),
        ({"cost": Decimal("10")}, "currency", "currency"),
        ({"cost": Decimal("10"), "currency": "ZZZ"}, "currency", "ISO 4217"),
        ({"provider": "p" * 201}, "provider", "at most"),
    ]
    for values, field, message in cases:
        values = {"service_type": "medical", **values}
        with pytest.raises(InvalidField, match=message) as refused:
            assistance.record_assistance(actor=actor, victim=victim, **values)
        assert refused.value.field == field, values
    assert victim.services == []
    ok = assist(
        actor,
        victim,
        "completed",
        on=ago,
        end_date=today,
        cost=Decimal("120.50"),
        currency="cdf",
        notes="Suivi à l’hôpital",
    )
    db.session.commit()
    db.session.expire_all()
    assert ok.cost == Decimal("120.50") and ok.currency == "CDF" and ok.notes == "Suivi à l’hôpital"


def test_outcome_opens_a_task_per_linked_victim_closed_by_a_communication(
    actor: User, today: date, ago: date
) -> None:
    first, second = register(actor), register(actor)
    allegation = allegations.create_allegation(
        actor=actor, reference="0399/15", country_code="CAF", mission="MINUSCA", received_on=ago
    )
    outcomes.link_victim(actor=actor, victim=first, allegation=allegation)
    outcomes.link_victim(actor=actor, victim=second, allegation=allegation)
    values = {
        "country_code": "CAF",
        "mission": "MINUSCA",
        "received_on": ago,
        "investigation_completed_on": None,
    }
    allegations.update_allegation(actor=actor, allegation=allegation, **values, outcome="substantiated")
    assert [t.outcome for t in first.tasks] == ["substantiated"]
    assert len(second.tasks) == 1
    # Recording the same outcome again opens nothing more; a changed outcome updates the open task.
    allegations.update_allegation(actor=actor, allegation=allegation, **values, outcome="unsubstantiated")
    assert [t.outcome for t in first.tasks] == ["unsubstantiated"]
    task = first.tasks[0]
    with pytest.raises(InvalidField, match="case update"):
        told = {"channel": "in_person", "summary": "Told her.", "case_update_given": False}
        contact(actor, first, today, closes_task_ids=[task.id], **told)
    with pytest.raises(InvalidField):  # another victim's task
        contact(actor, first, today, closes_task_ids=[second.tasks[0].id])
    communication = family.log_communication(
        actor=actor,
        victim=first,
        occurred_on=today,
        channel="in_person",
        summary="Outcome explained in Sango.",
        case_update_given=True,
        language="Sango",
        closes_task_ids=[task.id],
        next_update_due=today + timedelta(days=30),
    )
    assert task.closed_by_communication_id == communication.id
    assert first.last_update_on == today and first.next_update_due == today + timedelta(days=30)
    assert second.tasks[0].closed_at is None
    # A victim linked after the outcome is owed the same letter.
    third = register(actor)
    outcomes.link_victim(actor=actor, victim=third, allegation=allegation)
    assert [t.outcome for t in third.tasks] == ["unsubstantiated"]


def test_communication_needs_consent_to_be_contacted(actor: User, today: date) -> None:
    victim = register(actor, consents=["services"])
    with pytest.raises(InvalidField, match="be contacted"):
        contact(actor, victim, today)
    with pytest.raises(InvalidField, match="future"):
        consent(actor, victim, "contact", today + timedelta(days=1), method="verbal")


def test_filters_no_assistance_no_update_minor_status(actor: User, make_user, today, ago) -> None:  # type: ignore[no-untyped-def]
    old = register(actor, registered_on=today - timedelta(days=200), age_group="minor")
    helped = register(actor, registered_on=today - timedelta(days=200))
    assist(actor, helped, "in_progress", ago)
    contact(actor, helped, today - timedelta(days=5))
    referred_only = register(actor)
    assistance.record_assistance(actor=actor, victim=referred_only, service_type="legal", status="referred")
    closed = register(actor, registered_on=today - timedelta(days=300))
    identity.set_status(actor=actor, victim=closed, status="closed")

    def ids(**filters: object) -> set[int]:
        found = listing.VictimFilters(**filters)
        rows = db.session.execute(listing.victim_rows(actor, found)).all()
        counted = db.session.scalars(listing.victim_rows(actor, found, counting=True)).all()
        assert sorted(counted) == sorted(row.id for row in rows)  # the count's sets, the same victims
        return {row.id for row in rows}

    assert ids(no_assistance=True) == {old.id, referred_only.id, closed.id}
    assert ids(no_update=True) == {old.id}  # closed cases are not flagged
    assert ids(minor=True) == {old.id}
    assert ids(status="closed") == {closed.id}
    assert ids(case_code=helped.case_code.lower()) == {helped.id}
    assert ids(country_code="COD") == set()
    db.session.commit()
    other = db.session.get(User, make_user(scope="HTI").id)
    assert db.session.execute(listing.victim_rows(other, listing.VictimFilters())).all() == []
    with pytest.raises(DomainError, match="already closed"):
        identity.set_status(actor=actor, victim=closed, status="closed")
    identity.set_status(actor=actor, victim=closed, status=VictimStatus.ACTIVE)


def test_record_trust_fund_support_is_linked_to_the_ledger_entry_and_idempotent(
    actor: User, manager: User, ago: date
) -> None:
    victim = register(actor)
    db.session.commit()
    support = partial(assistance.record_trust_fund_support, actor=manager, currency="USD", paid_on=ago)
    paid = {"amount": Decimal("250.00"), "usd_minor": 25000, "ledger_entry_id": 42}
    service = support(case_code=victim.case_code.lower(), **paid)
    again = support(case_code=victim.case_code, **paid)
    assert again.id == service.id
    assert (service.funding_source, service.status, service.cost, service.ledger_entry_id) == (
        "direct_trust_fund",
        "completed",
        Decimal("250.00"),
        42,
    )
    assert db.session.scalar(select(Assistance.id).where(Assistance.victim_id == victim.id)) == service.id
    with pytest.raises(DomainError, match="No victim"):
        support(case_code="CAR-1999-9999", amount=Decimal("1"), usd_minor=100, ledger_entry_id=43)
    no_consent = register(actor, consents=[])
    with pytest.raises(InvalidField, match="receive services"):
        support(case_code=no_consent.case_code, amount=Decimal("1"), usd_minor=100, ledger_entry_id=44)


def test_open_items_and_timeline(actor: User, today: date) -> None:
    victim = register(actor, registered_on=today - timedelta(days=120))
    allegation = allegations.create_allegation(
        actor=actor, reference="CAF-2026-01", country_code="CAF", received_on=today - timedelta(days=20)
    )
    outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
    assist(actor, victim, on=today - timedelta(days=31), service_type="psychosocial")
    items = {item.kind for item in timeline.open_items(victim, clock.rules())}
    assert items == {"overdue_step", "stuck_service", "no_update", "no_assistance"}
    titles = [event.title for event in timeline.timeline(victim)]
    assert titles[0] == "Allegation CAF-2026-01: received" and titles[-1] == "Case registered"
    dates = [event.on for event in timeline.timeline(victim)]
    assert dates == sorted(dates, reverse=True)
    assert any("received" in t for t in titles) and any("Referred for psychosocial" in t for t in titles)


def test_break_glass_opens_one_victim_and_shows_on_the_advocates_dashboard(actor: User, make_user) -> None:  # type: ignore[no-untyped-def]
    from vat.auth.models import Role

    victim = register(actor)
    db.session.commit()
    senior = db.session.get(User, make_user(Role.SENIOR_ADVOCATE, "HTI").id)
    assert identity.get_victim(senior, victim.id) is None
    with pytest.raises(DomainError, match="15 characters"):
        identity.break_glass_victim(actor=senior, case_code=victim.case_code, reason="urgent")
    identity.break_glass_victim(
        actor=senior, case_code=victim.case_code, reason="Medical evacuation needs her file tonight."
    )
    assert identity.get_victim(senior, victim.id) is victim
    assert identity.get_victim(senior, register(actor).id) is None
    breaks = listing.attention(actor).glass_breaks
    assert [(g.user_id, code) for g, code in breaks] == [(senior.id, victim.case_code)]
    with pytest.raises(DomainError, match="senior"):
        identity.break_glass_victim(actor=actor, case_code=victim.case_code, reason="x" * 20)
    event = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "auth.break_glass")
    ).one()
    assert json.loads(event.detail)["grant"] and event.object_type == "victim"


def test_concurrent_registrations_get_distinct_case_codes(app, make_user, today) -> None:  # type: ignore[no-untyped-def]
    import threading

    user = make_user(scope="CAF")
    barrier = threading.Barrier(4)
    codes: list[str] = []
    errors: list[BaseException] = []

    def register_one() -> None:
        try:
            with app.test_request_context():
                actor = db.session.get(User, user.id)
                db.session.commit()  # hold no transaction (nor, on SQLite, the write lock) while waiting
                barrier.wait(timeout=10)
                codes.append(register(actor, consents=[], prefix="RACE").case_code)
                db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=register_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(codes) == [f"RACE-{today.year}-{n:04d}" for n in range(1, 5)]


def test_reversing_a_direct_support_payment_cancels_the_assistance_it_recorded(
    actor: User, manager: User, ago: date
) -> None:
    from ledger.models import DonorKind, Entry
    from ledger.services import contributions, corrections
    from tests.ledger.conftest import Fund

    victim = register(actor)
    db.session.commit()
    donor = contributions.create_donor(actor=manager, name="Donor B", kind=DonorKind.OTHER)
    fund = Fund(manager)
    fund.receive(donor, "1000.00", ago, bank_reference="BR-1")
    payment = fund.pay(victim.case_code, "250.00", ago, purpose="school fees")
    service = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == payment.entry_id))
    assert service is not None and service.status == "completed"
    assert (
        db.session.execute(listing.victim_rows(actor, listing.VictimFilters(no_assistance=True))).all() == []
    )
    entry = db.session.get(Entry, payment.entry_id)
    corrections.reverse_entry(actor=manager, key="undo", entry=entry, on=date.today(), reason="paid twice")
    assert service.status == "cancelled", "the reversed payment no longer counts as assistance"
    unassisted = db.session.execute(
        listing.victim_rows(actor, listing.VictimFilters(no_assistance=True))
    ).all()
    assert [row.case_code for row in unassisted] == [victim.case_code]
    assert assistance.cancel_trust_fund_support(actor=manager, ledger_entry_id=payment.entry_id) is service
