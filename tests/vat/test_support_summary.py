"""One definition of "supported" (vat/victims/support_summary.py: `is_supported` in Python and
`supported_sql` in SQL) and the per-victim summary every service keeps exact in its transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from ledger.models import DonorKind, Entry
from ledger.services import contributions, corrections
from tests.ledger.conftest import Fund
from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import VictimFilters
from vat.reports.support import support_rows
from vat.victims import assistance, consents, support_summary
from vat.victims.models import (
    Assistance,
    Consent,
    FundPayment,
    ServiceStatus,
    SupportSummary,
    Victim,
)
from vat.victims.partner_support import PartnerSupport

STATUSES = [s.value for s in ServiceStatus]
victim_facts = st.tuples(
    st.lists(st.sampled_from(STATUSES), max_size=4),  # services' statuses
    st.lists(st.tuples(st.sampled_from(["direct", "project"]), st.booleans()), max_size=3),  # payments
    st.lists(st.integers(min_value=0, max_value=500), max_size=2),  # partners' reported lines (US cents)
)


def test_python_and_sql_agree_and_the_summary_agrees_with_both(ctx: Flask) -> None:
    compared = []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(victims=st.lists(victim_facts, min_size=1, max_size=6))
    def agree(victims: list[tuple[list[str], list[tuple[str, bool]], list[int]]]) -> None:
        savepoint = db.session.begin_nested()
        try:
            rows = []
            for n, (statuses, payments, reported) in enumerate(victims):
                victim = Victim(case_code=f"T-{n}", country_code="CAF", registered_on=date(2024, 1, 1))
                victim.services = [Assistance(service_type="medical", status=s) for s in statuses]
                db.session.add(victim)
                db.session.flush()
                db.session.add_all(
                    FundPayment(
                        victim_id=victim.id,
                        source=source,
                        ledger_entry_id=1000 + k,
                        project_id=7 if source == "project" else None,
                        currency="USD",
                        amount_minor=100,
                        usd_minor=100,
                        paid_on=date(2024, 2, 1),
                        reversed=reversed_,
                    )
                    for k, (source, reversed_) in enumerate(payments)
                )
                db.session.add_all(
                    PartnerSupport(
                        victim_id=victim.id,
                        project_id=7,
                        report_id=3,
                        report_line_id=100 * n + k,
                        support="cash" if usd else "medical",
                        currency="USD",
                        amount_minor=usd,
                        usd_minor=usd,
                        reported_on=date(2024, 3, 1),
                    )
                    for k, usd in enumerate(reported)
                )
                rows.append(victim)
            db.session.flush()
            support_summary.rebuild()
            in_sql = set(
                db.session.scalars(select(Victim.id).where(support_summary.supported_sql(Victim.id)))
            )
            kept = set(db.session.scalars(select(Victim.id).where(support_summary.supported_in_summary())))
            in_python = {
                v.id
                for v in rows
                for payments in [db.session.scalars(select(FundPayment).where(FundPayment.victim_id == v.id))]
                for lines in [
                    db.session.scalars(select(PartnerSupport).where(PartnerSupport.victim_id == v.id))
                ]
                if support_summary.is_supported(v.services, payments, lines)
            }
            assert in_sql == in_python == kept
            reported_usd = {v.id: sum(facts[2]) for v, facts in zip(rows, victims, strict=True)}
            assert {v.id: summary_of(v).reported_usd_minor for v in rows} == reported_usd
            assert support_summary.differences() == []
            compared.append(len(in_python))
        finally:
            savepoint.rollback()

    agree()
    assert sum(compared) > 0  # the property compared supported victims, not only empty sets


def summary_of(victim: Victim) -> SupportSummary:
    row = db.session.get(SupportSummary, victim.id, populate_existing=True)
    assert row is not None
    return row


def test_each_victim_service_keeps_the_summary_exact(actor: User, make_user: Callable[..., Any]) -> None:
    victim = register(actor)
    assert not summary_of(victim).supported
    service = assistance.record_assistance(
        actor=actor, victim=victim, service_type="medical", status="referred", referral_date=date(2026, 1, 5)
    )
    row = summary_of(victim)
    assert (row.status_referred, row.type_medical, row.supported) == (1, 1, False)
    assistance.update_assistance(
        actor=actor,
        victim=victim,
        service=service,
        service_type="medical",
        status="in_progress",
        referral_date=date(2026, 1, 5),
        start_date=date(2026, 1, 9),
    )
    row = summary_of(victim)
    assert (row.status_referred, row.status_in_progress, row.supported) == (0, 1, True)
    services = db.session.scalar(
        select(Consent).where(Consent.victim_id == victim.id, Consent.purpose == "services")
    )
    consents.withdraw_consent(actor=actor, victim=victim, consent=services)
    row = summary_of(victim)
    assert (row.status_in_progress, row.status_cancelled, row.supported) == (0, 1, False)
    assert support_summary.differences() == []


def test_direct_support_paid_and_reversed_through_the_ledger(
    actor: User, make_user: Callable[..., Any]
) -> None:
    victim = register(actor)
    db.session.commit()  # the write lock, before another user is made
    manager = db.session.get_one(User, make_user(Role.FUND_MANAGER, "").id)
    donor = contributions.create_donor(actor=manager, name="Donor", kind=DonorKind.OTHER)
    on = date.today() - timedelta(days=3)
    fund = Fund(manager)
    fund.receive(donor, "1000.00", on, bank_reference="B-1")
    paid = fund.pay(victim.case_code, "250.00", on, purpose="rent")
    row = summary_of(victim)
    assert (row.direct_usd_minor, row.status_completed, row.supported) == (25000, 1, True)
    payment = db.session.scalar(select(FundPayment).where(FundPayment.victim_id == victim.id))
    assert payment is not None
    assert (payment.route, payment.basis) == ("mission", "TFC decision 2019/01")
    exported = {
        r.case_code: r for r in db.session.execute(support_rows(actor, VictimFilters(), today=on)).all()
    }[victim.case_code]
    assert (exported.partner_minor, exported.mission_minor, exported.bases) == (
        0,
        25000,
        "TFC decision 2019/01",
    )
    corrections.reverse_entry(
        actor=manager, key="reverse", entry=db.session.get_one(Entry, paid.entry_id), on=on, reason="wrong"
    )
    row = summary_of(victim)
    assert (row.direct_usd_minor, row.status_completed, row.status_cancelled, row.supported) == (
        0,
        0,
        1,
        False,
    )
    assert support_summary.differences() == []


def test_verify_names_a_summary_row_altered_behind_the_app(app: Flask, actor: User, runner: Any) -> None:
    victim = register(actor)
    code = victim.case_code
    db.session.commit()
    db.session.execute(
        text("UPDATE vat_victim_support_summary SET supported = :yes, type_legal = 3 WHERE victim_id = :id"),
        {"yes": True, "id": victim.id},
    )
    db.session.commit()
    found = support_summary.differences()
    assert f"victim support summary: victim {code} supported is True, should be False" in found
    assert f"victim support summary: victim {code} type_legal is 3, should be 0" in found
    result = runner.invoke(args=["figures", "verify"])
    assert result.exit_code == 1
    assert f"victim {code} supported is True, should be False" in result.output
    result = runner.invoke(args=["figures", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert support_summary.differences() == []
    result = runner.invoke(args=["figures", "verify"])
    assert result.exit_code == 0, result.output


def test_a_victim_without_a_row_is_named_and_rebuilt(actor: User) -> None:
    victim = register(actor)
    db.session.delete(summary_of(victim))
    db.session.flush()
    assert support_summary.differences() == [f"victim support summary: victim {victim.case_code} has no row"]
    assert support_summary.rebuild() == db.session.query(Victim).count()
    assert support_summary.differences() == []
