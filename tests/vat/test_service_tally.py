"""The service tally (vat/victims/service_tally.py) keeps the assistance and referral reports, the
ad-hoc providers and /reports/victims' services by type × status exact: every figure, for every
filter and viewer, equals a scan of the services made here in Python (statistics.median over every
wait), after changes through the services — new, changed and cancelled services, a victim moved, a
provider joining the directory, direct support — on this app object and on another one on the same
database; `figures verify` names a count changed behind the app; concurrent changes to one group
keep the counts exact."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from tests.conftest import make_app
from tests.vat.conftest import change_at_once, kept_rows, register
from vat.auth.models import Role, User
from vat.auth.policy import in_scope
from vat.db import db
from vat.reports.assistance import ASSISTANCE_GROUPS, assistance_report
from vat.reports.referrals import gap_map, referral_times
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.support import aggregate_support
from vat.reports.suppression import suppress
from vat.victims import assistance, consents, identity, providers, service_tally
from vat.victims.models import Assistance, Consent, Provider, ServiceStatus, ServiceType, Victim

PLACES = [("CAF", "MINUSCA"), ("CAF", None), ("COD", "MONUSCO")]
TYPED = ["IRC", " irc", "MSF", None]  # two spellings of one name, which join the directory later
FILTERS = [
    VictimFilters(),
    VictimFilters(country_code="caf"),
    VictimFilters(mission="MINUSCA"),
    VictimFilters(year=2024),
    VictimFilters(sex="female"),
    VictimFilters(minor=True),
    VictimFilters(minor=False),
    VictimFilters(country_code="CAF", year=2025, sex="male", minor=False),
]


def _service(rng: random.Random, referred: date) -> dict[str, Any]:
    status = rng.choice([s.value for s in ServiceStatus if s is not ServiceStatus.CANCELLED])
    values: dict[str, Any] = {
        "service_type": rng.choice(["medical", "legal", "shelter"]),
        "status": status,
        "provider": rng.choice(TYPED),
        "referral_date": referred if rng.random() < 0.9 else None,
    }
    if status in ("in_progress", "completed"):
        values["referral_date"] = referred
        values["start_date"] = referred + timedelta(days=rng.randrange(0, 9))
    if status == "completed":
        values["end_date"] = values["start_date"] + timedelta(days=rng.randrange(0, 30))
    return values


def _build(actor: User, senior: User, seed: int = 7) -> None:
    """Victims and services through the services, then the changes a report must follow."""
    rng = random.Random(seed)
    victims = []
    for n in range(24):
        country, mission = PLACES[n % len(PLACES)]
        victim = register(
            actor,
            name=f"Tally {n}",
            country_code=country,
            mission=mission,
            sex=rng.choice(["female", "male", "unknown"]),
            age_group=rng.choice(["adult", "minor", "unknown"]),
            registered_on=date(2024 + n % 2, 3, 1 + n),
        )
        victims.append(victim)
        for _ in range(rng.randrange(0, 5)):
            assistance.record_assistance(actor=actor, victim=victim, **_service(rng, date(2025, 1, 1 + n)))
    services = list(db.session.scalars(select(Assistance).order_by(Assistance.id)))
    for service in services[::4]:  # a status and its dates changed
        victim = service.victim
        assistance.update_assistance(
            actor=actor, victim=victim, service=service, **_service(rng, date(2025, 2, 1))
        )
    # One victim moved to another place, sex and age group: every service moves with it.
    moved = {"country_code": "COD", "mission": "MONUSCO", "sex": "male", "age_group": "minor"}
    identity.update_victim(actor=actor, victim=victims[0], name="Tally 0", **moved)
    withdrawn = db.session.scalar(
        select(Consent).where(Consent.victim_id == victims[3].id, Consent.purpose == "services")
    )
    assert withdrawn is not None
    consents.withdraw_consent(actor=actor, victim=victims[3], consent=withdrawn)  # ongoing ones cancelled
    providers.create_provider(  # the typed "IRC"s of CAF join the directory (linked by id)
        actor=senior,
        name="IRC",
        country_code="CAF",
        location="Bambari",
        service_types=["medical", "legal", "shelter"],
    )
    assistance.record_trust_fund_support(
        actor=actor,
        case_code=victims[1].case_code,
        amount=Decimal("10.00"),
        currency="USD",
        usd_minor=1000,
        paid_on=date(2025, 3, 1),
        ledger_entry_id=4242,
    )
    paid_twice = {"amount": Decimal("5.00"), "currency": "USD", "usd_minor": 500, "paid_on": date(2025, 3, 2)}
    assistance.record_trust_fund_support(
        actor=actor, case_code=victims[2].case_code, ledger_entry_id=4243, **paid_twice
    )
    assistance.cancel_trust_fund_support(actor=actor, ledger_entry_id=4243)  # reversed: cancelled
    db.session.commit()


# --- the scan, in Python --------------------------------------------------------------------------


def _reach(user: User, filters: VictimFilters, opened: set[int]) -> list[Victim]:
    found = []
    for v in db.session.scalars(select(Victim)):
        if not (in_scope(user, v.country_code, v.mission) or v.id in opened):
            continue
        if filters.country_code and v.country_code != filters.country_code.upper():
            continue
        if filters.mission and v.mission != filters.mission:
            continue
        if filters.year and v.registered_on.year != filters.year:
            continue
        if filters.sex and v.sex != filters.sex:
            continue
        if filters.minor is not None and (v.age_group == "minor") != filters.minor:
            continue
        found.append(v)
    return found


def _median(waits: list[int]) -> Decimal:
    return Decimal(str(statistics.median(waits))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _group(by: str, victim: Victim, service: Assistance) -> str:
    return {
        "type": service.service_type,
        "provider": service.provider or "not recorded",
        "country": victim.country_code,
        "mission": victim.mission or "—",
        "year": f"{service.referral_date.year:04d}" if service.referral_date else "no referral date",
    }[by]


def _days(later: date | None, earlier: date | None) -> int | None:
    return (later - earlier).days if later and earlier else None


def _scanned_assistance(victims: list[Victim], by: str, limit: int) -> tuple[Any, list[Any], list[Any]]:
    grid: Counter[tuple[str, str]] = Counter()
    to_start: dict[str, list[int]] = defaultdict(list)
    to_end: dict[str, list[int]] = defaultdict(list)
    for v in victims:
        for s in v.services:
            group = _group(by, v, s)
            grid[(group, s.status)] += 1
            if (days := _days(s.start_date, s.referral_date)) is not None:
                to_start[group].append(days)
            if (days := _days(s.end_date, s.start_date)) is not None:
                to_end[group].append(days)
    keys = sorted({g for g, _ in grid})
    if by == "type":
        order = [t.value for t in ServiceType]
        keys.sort(key=order.index)
    labels = [ServiceType(k).label if by == "type" else k for k in keys]
    table = suppress(
        labels,
        [s.label for s in ServiceStatus],
        [[grid[(k, s.value)] for s in ServiceStatus] for k in keys],
        threshold=limit,
    )

    def medians(waits: dict[str, list[int]]) -> list[Any]:
        return [_median(waits[k]) if len(waits[k]) >= limit and waits[k] else None for k in keys]

    return table, medians(to_start), medians(to_end)


def _scanned_referrals(victims: list[Victim], limit: int) -> dict[tuple[str, str], tuple[Any, Any, bool]]:
    waits: dict[tuple[str, str], list[int]] = defaultdict(list)
    listed = set()
    for v in victims:
        for s in v.services:
            days = _days(s.start_date, s.referral_date)
            if days is None or s.ledger_entry_id is not None:
                continue
            named = db.session.get_one(Provider, s.provider_id).name if s.provider_id else s.provider
            pair = (named or "not recorded", s.service_type)
            waits[pair].append(days)
            if s.provider_id:
                listed.add(pair)
    return {
        pair: (len(w), _median(w), pair in listed) if len(w) >= limit else (None, None, pair in listed)
        for pair, w in waits.items()
    }


def _scanned_gaps(victims: list[Victim], limit: int) -> tuple[Any, list[str]]:
    gaps: Counter[tuple[str, str, str]] = Counter()
    for v in victims:
        for s in v.services:
            if s.status == "not_available" or (
                s.status == "referred" and not s.provider_id and not s.provider
            ):
                chosen = db.session.get(Provider, s.provider_id) if s.provider_id else None
                place = (chosen.location if chosen else None) or v.mission or "—"
                gaps[(v.country_code, place, s.service_type)] += 1
    rows = sorted({(c, p) for c, p, _ in gaps})
    types = [t.value for t in ServiceType if t.value in {t for _, _, t in gaps}]
    table = suppress(
        [f"{c} · {p}" for c, p in rows],
        [ServiceType(t).label for t in types],
        [[gaps[(c, p, t)] for t in types] for c, p in rows],
        threshold=limit,
    )
    return table, types


def _compare_every_figure(user: User, opened: frozenset[int] = frozenset(), limit: int = 1) -> int:
    compared = 0
    for filters in FILTERS:
        victims = _reach(user, filters, opened)
        for by in ASSISTANCE_GROUPS:
            report = assistance_report(user, filters, by=by)
            scanned = _scanned_assistance(victims, by, limit)
            assert (report.table, report.referral_to_start, report.start_to_end) == scanned, (filters, by)
            compared += sum(sum(row) for row in scanned[0].cells if None not in row)
            if by == "type" and not sees_rows(user):  # /reports/victims' services by type × status
                assert aggregate_support(user, filters).by_service == scanned[0], filters
        times = referral_times(user, filters)
        found = {(t.provider, t.service_type): (t.referrals, t.median_days, t.in_directory) for t in times}
        assert found == _scanned_referrals(victims, limit), filters
        assert gap_map(user, filters) == _scanned_gaps(victims, limit), filters
    return compared


@pytest.fixture
def built(ctx: Flask, actor: User, make_user: Any) -> dict[str, User]:
    db.session.commit()  # make_user writes on a connection of its own
    senior_id, manager_id = make_user(Role.SENIOR_ADVOCATE, "CAF").id, make_user(Role.FUND_MANAGER, "").id
    auditor = db.session.get_one(User, make_user(Role.AUDITOR, "").id)
    senior, manager = db.session.get_one(User, senior_id), db.session.get_one(User, manager_id)
    _build(actor, senior)
    return {"advocate": actor, "senior": senior, "manager": manager, "auditor": auditor}


def test_every_figure_for_every_filter_equals_a_scan_of_the_services(
    ctx: Flask, built: dict[str, User]
) -> None:
    assert service_tally.differences() == []
    linked = db.session.scalars(select(Assistance).where(Assistance.provider_id.is_not(None))).all()
    assert linked and {s.victim.country_code for s in linked} == {"CAF"}  # the directory took them
    assert _compare_every_figure(built["advocate"]) > 0  # CAF and COD/MONUSCO
    assert _compare_every_figure(built["senior"]) > 0  # CAF only
    ctx.config["VAT_SUPPRESSION_THRESHOLD"] = 1
    assert _compare_every_figure(built["manager"]) > 0  # every victim, nothing hidden
    ctx.config["VAT_SUPPRESSION_THRESHOLD"] = 3
    _compare_every_figure(built["manager"], limit=3)  # small cells and medians hidden as before
    _compare_every_figure(built["auditor"], limit=3)


def test_a_victim_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    ctx: Flask, built: dict[str, User]
) -> None:
    senior = built["senior"]
    outside = db.session.scalars(
        select(Victim).where(Victim.country_code == "COD").join(Victim.services).order_by(Victim.id)
    ).first()
    assert outside is not None
    identity.break_glass_victim(actor=senior, case_code=outside.case_code, reason="urgent medical care")
    db.session.commit()
    before = assistance_report(senior, VictimFilters(), by="country").table.row_labels
    assert "COD" in before
    _compare_every_figure(senior, opened=frozenset({outside.id}))


def test_another_app_object_on_the_same_database_reads_every_change(
    ctx: Flask, built: dict[str, User], database_url: str
) -> None:
    other = make_app(database_url)
    advocate_id = built["advocate"].id

    def figures() -> tuple[Any, ...]:
        with other.test_request_context():
            user = db.session.get_one(User, advocate_id)
            report = assistance_report(user, VictimFilters(country_code="COD"), by="type")
            times = referral_times(user, VictimFilters(country_code="COD"))
            return report.table.grand_total, report.overall_referral_to_start, len(times)

    before = figures()
    victim = register(built["advocate"], name="Tally new", country_code="COD", mission="MONUSCO")
    assistance.record_assistance(
        actor=built["advocate"],
        victim=victim,
        service_type="education",
        status="in_progress",
        provider="School",
        referral_date=date(2025, 1, 1),
        start_date=date(2025, 4, 11),  # 100 days: a wait no other service had
    )
    db.session.commit()
    after = figures()
    assert after[0] == before[0] + 1 and after[2] == before[2] + 1 and after != before
    _compare_every_figure(built["advocate"])


def test_figures_verify_names_a_count_changed_behind_the_app(ctx: Flask, built: dict[str, User]) -> None:
    runner = ctx.test_cli_runner()

    def named() -> tuple[int, list[str]]:
        # The direct support above names a ledger entry that was never booked: the payments'
        # check reports it too; these are the tally's own lines.
        result = runner.invoke(args=["figures", "verify"])
        return result.exit_code, [
            line for line in result.output.splitlines() if line.startswith("service tally:")
        ]

    assert named()[1] == []
    db.session.execute(
        text(
            "UPDATE vat_service_tally SET services = services + 2 WHERE facet = 'gap' AND detail = :no"
            " AND country_code = 'COD' AND service_type = (SELECT MIN(service_type) FROM vat_service_tally"
            " WHERE facet = 'gap' AND detail = :no AND country_code = 'COD')"
        ),
        {"no": False},
    )
    db.session.commit()
    code, lines = named()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("service tally: total facet=gap country_code=COD mission=MONUSCO")
    assert runner.invoke(args=["figures", "rebuild"]).exit_code == 0
    assert named()[1] == []


def test_concurrent_changes_to_one_group_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own victim and transaction, add services of the same place, type,
    provider, status and wait at once, and change another's status: every count stays exact."""
    user = make_user(Role.ADVOCATE, "CAF")
    same = {"service_type": "medical", "provider": "MSF", "referral_date": date(2025, 1, 1)}

    def start(actor: User, victim: Victim) -> None:
        service = db.session.scalars(select(Assistance).filter_by(victim_id=victim.id)).one()
        assistance.update_assistance(
            actor=actor,
            victim=victim,
            service=service,
            status="in_progress",
            start_date=date(2025, 1, 8),
            **same,
        )

    change_at_once(
        app,
        user.id,
        lambda actor, n: register(actor, name=f"Race {n}", sex="female", age_group="adult"),
        lambda actor, victim: assistance.record_assistance(
            actor=actor, victim=victim, status="referred", **same
        ),
        start,
    )
    kept = kept_rows(
        app,
        service_tally.differences,
        "SELECT status, services FROM vat_service_tally WHERE facet = 'type' AND detail = :no"
        " AND value = 'medical' AND wait = '' AND services <> 0",
        no=False,
    )
    assert dict(kept) == {"in_progress": 8}
