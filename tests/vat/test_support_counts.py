"""The support counts (vat/victims/support_counts.py): the per-victim support summary added up by
place and category in the transaction of each change. Every figure read from them is compared
with the same figure counted from the source rows (victims, services, payments)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import case, func, select, text

from tests.vat.conftest import move, register
from vat.auth.actor import Actor
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import VictimFilters, victim_conditions
from vat.reports.support import headline, services_by_type
from vat.victims import assistance, identity, support_counts, support_summary
from vat.victims.models import Assistance, ServiceType, Victim
from vat.victims.support_summary import TRUST_FUND_SOURCES, supported_sql


def compared_filters() -> list[VictimFilters]:
    """The filters compared, this year's read when the test runs."""
    return [
        VictimFilters(),
        VictimFilters(country_code="COD"),
        VictimFilters(mission="MINUSCA"),
        VictimFilters(year=date.today().year),
        VictimFilters(year=2001),
        VictimFilters(sex="female"),
        VictimFilters(minor=True),
        VictimFilters(minor=False, country_code="CAF"),
    ]


REFERRED: dict[str, Any] = {
    "service_type": "medical",
    "status": "referred",
    "referral_date": date(2026, 1, 5),
}
PAID_OUTSIDE_THE_LEDGER = REFERRED | {
    "service_type": "shelter", "status": "completed", "start_date": date(2026, 1, 6),
    "end_date": date(2026, 1, 20), "funding_source": "direct_trust_fund", "currency": "USD", "cost": "120.50",
}  # fmt: skip


def from_sources(user: Actor, filters: VictimFilters) -> tuple[int, int, int, dict[str, int]]:
    """Victims, supported, trust-fund cost paid outside the ledger (cents) and services by type,
    counted from the victims' and services' own rows."""
    conditions = victim_conditions(user, filters, consented_only=False)
    victims, supported = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((supported_sql(Victim.id), 1), else_=0)), 0))
        .select_from(Victim)
        .where(*conditions)
    ).one()
    services = select(Assistance).join(Victim, Victim.id == Assistance.victim_id).where(*conditions)
    rows = list(db.session.scalars(services))
    funded = sum(
        s.cost_minor or 0
        for s in rows
        if s.funding_source in TRUST_FUND_SOURCES and s.ledger_entry_id is None and s.currency == "USD"
    )
    by_type = {t.label: sum(1 for s in rows if s.service_type == t.value) for t in ServiceType}
    return int(victims), int(supported), funded, by_type


def assert_counts_agree(*users: Actor) -> None:
    assert support_summary.differences() == []
    assert support_counts.differences() == []
    for user in users:
        for filters in compared_filters():
            figures = headline(user, filters)
            victims, supported, funded, by_type = from_sources(user, filters)
            assert (figures.victims, figures.supported) == (victims, supported), filters
            assert figures.funded_usd is not None
            assert int(figures.funded_usd * 100) == funded, filters
            assert dict(services_by_type(user, filters)) == by_type, filters


def test_every_change_keeps_the_counts_exact(actor: User, manager: User) -> None:
    first = register(actor, sex="female", age_group="minor")
    second = register(actor, country_code="COD", mission="MONUSCO", sex="male", age_group="adult")
    assert_counts_agree(actor, manager)
    service = assistance.record_assistance(actor=actor, victim=first, **REFERRED)
    assistance.record_assistance(actor=actor, victim=second, **PAID_OUTSIDE_THE_LEDGER)
    assert_counts_agree(actor, manager)
    started = REFERRED | {"service_type": "legal", "status": "in_progress", "start_date": date(2026, 1, 9)}
    assistance.update_assistance(actor=actor, victim=first, service=service, **started)
    assert_counts_agree(actor, manager)
    # The second victim moves to the CAF, mission MINUSCA, and is recorded as a minor: their
    # figures leave one row of the counts for another.
    move(actor, second, country_code="CAF", mission="MINUSCA", sex="male", age_group="minor")
    assert_counts_agree(actor, manager)
    rows = db.session.execute(select(support_counts.counts)).all()
    assert sum(row.victims for row in rows) == 2
    assert {row.country_code for row in rows if row.victims} == {"CAF"}


def test_rows_replaced_at_once_keep_the_counts_exact(actor: User) -> None:
    """The importer's way: services written directly, then the summary rows replaced in bulk."""
    places = (("CAF", None), ("CAF", "MINUSCA"), ("COD", "MONUSCO"))
    victims = [register(actor, country_code=code, mission=mission) for code, mission in places]
    for n, victim in enumerate(victims):
        db.session.add(
            Assistance(
                victim_id=victim.id,
                service_type="psychosocial",
                status="completed" if n else "referred",
                referral_date=date(2026, 2, 1),
                funding_source="trust_fund_project",
                currency="USD",
                cost_minor=1000 * (n + 1),
            )
        )
    db.session.flush()
    support_summary.refresh_many([v.id for v in victims])
    assert_counts_agree(actor)


def test_a_glass_broken_victim_is_counted_for_its_senior_advocate(
    actor: User, make_user: Callable[..., Any]
) -> None:
    outside = register(actor, country_code="COD", mission="MONUSCO", sex="female")
    register(actor)
    db.session.commit()
    senior = db.session.get_one(User, make_user(Role.SENIOR_ADVOCATE, "CAF").id)
    before = headline(senior, VictimFilters())
    identity.break_glass_victim(
        actor=senior, case_code=outside.case_code, reason="urgent medical care needed tonight"
    )
    db.session.flush()
    after = headline(senior, VictimFilters())
    assert (before.victims, after.victims) == (1, 2)
    assert headline(senior, VictimFilters(sex="female")).victims == 1
    assert headline(senior, VictimFilters(sex="male")).victims == 0
    assert_counts_agree(senior)


def test_verify_names_a_count_altered_behind_the_app(app: Flask, actor: User, runner: Any) -> None:
    register(actor, mission=None)
    db.session.commit()
    db.session.execute(text("UPDATE vat_victim_support_count SET victims = victims + 4, supported = 1"))
    db.session.commit()
    found = support_counts.differences()
    assert len(found) == 1
    assert found[0].startswith(f"victim support counts: CAF {date.today().year} unknown unknown holds")
    assert "victims 5, supported 1; the summary adds up to victims 1" in found[0]
    result = runner.invoke(args=["figures", "verify"])
    assert result.exit_code == 1
    assert "victim support counts: CAF" in result.output
    assert runner.invoke(args=["figures", "rebuild"]).exit_code == 0
    db.session.rollback()
    assert support_counts.differences() == []
