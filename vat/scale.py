"""`flask seed-scale`: synthetic, deterministic data at a hundred times today's volume, for the
benchmarks (issue 7). Rows go in through SQLAlchemy Core `insert()` executemany in batches, with
the models' own column types, so encrypted columns hold real ciphertext and money is stored in
minor units. Ledger entries are built in order with the engine's own hash function: every
invariant that `flask ledger verify` checks holds afterwards (entries balance, running balances,
cash never negative, the chain, sub-ledgers against control accounts).

Everything is USD (no exchange differences to reconcile) and dated between 2019 and October 2026.
It refuses to run on a database that already holds victims or ledger entries.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from types import SimpleNamespace
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import Connection, Table, func, select, text

from ledger import engine
from ledger.engine import EntryKind
from ledger.models import (
    Account,
    DirectSupport,
    Donor,
    Entry,
    Pledge,
    Posting,
    Project,
    ProjectBeneficiary,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.services import psc_rate
from vat import audit
from vat.allegations.models import Allegation, VictimAllegation
from vat.auth import services as auth
from vat.auth.models import Role
from vat.claims.models import Claim, ClaimEvent, ClaimStep, Letter, Payment, SupportOrder, claim_child
from vat.crypto import blind_index
from vat.db import db
from vat.victims.models import (
    Assistance,
    CaseCounter,
    Child,
    Communication,
    Consent,
    Victim,
    VictimNameKey,
)
from vat.victims.services import NAME_PURPOSE, default_prefix

SEED = 20261122
FIRST_DAY = date(2019, 1, 1)
LAST_DAY = date(2026, 10, 31)
CHUNK = 2_000  # victims per transaction
LEDGER_BATCH = 2_000  # entries per transaction
USD = "USD"

COUNTRIES = [
    ("CAF", "MINUSCA"),
    ("COD", "MONUSCO"),
    ("SSD", "UNMISS"),
    ("MLI", "MINUSMA"),
    ("LBN", "UNIFIL"),
    ("HTI", "BINUH"),
    ("CYP", "UNFICYP"),
    ("SOM", None),
    ("LBR", None),
    ("SDN", "UNITAMS"),
]
CONTRIBUTING = ["BGD", "PAK", "IND", "NPL", "RWA", "GHA", "NGA", "EGY", "URY", "ZAF", "TZA", "SEN"]
DONORS = ["NOR", "SWE", "DEU", "GBR", "USA", "JPN", "CAN", "AUS", "NLD", "CHE", "DNK", "FIN", "IRL", "ITA"]
GIVEN = [
    "Amina",
    "Grace",
    "Marie",
    "Fatou",
    "Aisha",
    "Esther",
    "Ruth",
    "Nadia",
    "Joy",
    "Awa",
    "Mariam",
    "Sara",
]
FAMILY = ["Kone", "Mbeki", "Diallo", "Ngoy", "Traore", "Kamara", "Okafor", "Mensah", "Bangura", "Sesay"]
SERVICE_TYPES = ["medical", "psychosocial", "legal", "material", "shelter", "education", "livelihood"]
SERVICE_STATUSES = ["referred", "in_progress", "completed", "completed", "completed", "declined"]
FUNDING = ["trust_fund_project", "direct_trust_fund", "mission_budget", "agency", "unknown"]
CLAIM_STEPS = [s.value for s in ClaimStep]


def _day(rng: random.Random, start: date = FIRST_DAY, end: date = LAST_DAY) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _stamp(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _later(day: date, rng: random.Random, most: int) -> date:
    return min(day + timedelta(days=rng.randrange(1, most)), LAST_DAY)


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind N victims give (the ratios of issue 7)."""

    victims: int

    @property
    def allegations(self) -> int:
        return max(self.victims // 5, 1)

    @property
    def claims(self) -> int:
        return self.victims // 20

    @property
    def projects(self) -> int:
        return max(self.victims // 50, 1)

    @property
    def pledges(self) -> int:
        return self.victims // 2

    @property
    def withholdings(self) -> int:
        return self.victims // 2

    @property
    def direct_support(self) -> int:
        return 2 * self.victims


@dataclass
class Loader:
    """Inserts lists of dicts with executemany and advances the progress bar."""

    connection: Connection
    bar: Any
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.connection.execute(table.insert(), list(rows))
            self.counts[table.name] += len(rows)


@click.command("seed-scale")
@with_appcontext
@click.option("--victims", "victim_count", default=100_000, show_default=True, type=click.IntRange(100))
@click.option("--seed", default=SEED, show_default=True, help="seed of the random generator")
def seed_scale(victim_count: int, seed: int) -> None:
    """Load synthetic data at scale (benchmarks): victims, services, allegations, claims, projects
    and about ten ledger postings per victim. Needs a freshly migrated database."""
    if db.session.scalar(select(func.count(Victim.id))) or db.session.scalar(select(func.count(Entry.id))):
        raise click.ClickException("seed-scale needs a freshly migrated database (victims or entries exist)")
    plan = Plan(victim_count)
    advocates = _advocates()
    db.session.commit()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    with db.engine.connect() as connection:
        length = plan.victims + _ledger_size(plan)
        with click.progressbar(length=length, label=f"seeding {plan.victims:,} victims", width=30) as bar:
            loader = Loader(connection, bar)
            people = seed_victims(loader, plan, rng, advocates)
            seed_ledger(loader, plan, rng, people)
            _finish(connection)
    audit.record(
        "seed.scale", actor=None, object_type="database", detail={"victims": plan.victims, "seed": seed}
    )
    db.session.commit()
    for table, count in sorted(loader.counts.items()):
        click.echo(f"  {table:<28} {count:>10,}")


def _advocates() -> dict[str, int]:
    """One senior advocate per country (their password is never shown: reset it to use one)."""
    ids = {}
    for country, mission in COUNTRIES:
        user = auth.create_user(
            actor=None,
            username=f"scale-{country.lower()}",
            password=secrets.token_urlsafe(24),
            role=Role.SENIOR_ADVOCATE,
            scope=f"{country}/{mission}" if mission else country,
        )
        ids[country] = user.id
    return ids


# --- the victim-assistance domain ------------------------------------------------------------


@dataclass
class People:
    """What the ledger needs from the victims: case codes and countries, allegation references."""

    case_codes: list[str]
    countries: list[str]
    allegations: list[tuple[str, str]]  # (reference, country)


def seed_victims(loader: Loader, plan: Plan, rng: random.Random, advocates: dict[str, int]) -> People:
    allegations = _seed_allegations(loader, plan, rng)
    by_country: dict[str, list[int]] = defaultdict(list)
    for number, (_, country) in enumerate(allegations, start=1):
        by_country[country].append(number)
    counters: dict[tuple[str, int], int] = defaultdict(int)
    case_codes: list[str] = []
    countries: list[str] = []
    ids: dict[str, int] = defaultdict(int)
    claim_every = max(plan.victims // max(plan.claims, 1), 1) if plan.claims else 0

    for start in range(1, plan.victims + 1, CHUNK):
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for victim_id in range(start, min(start + CHUNK, plan.victims + 1)):
            country, mission = COUNTRIES[rng.randrange(len(COUNTRIES))]
            registered = _day(rng, FIRST_DAY, date(2026, 9, 30))
            prefix = default_prefix(country)
            counters[(prefix, registered.year)] += 1
            code = f"{prefix}-{registered.year}-{counters[(prefix, registered.year)]:04d}"
            case_codes.append(code)
            countries.append(country)
            name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {victim_id}"
            last_update = None if rng.random() < 0.1 else _later(registered, rng, 700)
            rows["victim"].append(
                {
                    "id": victim_id,
                    "case_code": code,
                    "country_code": country,
                    "mission": mission,
                    "advocate_id": advocates[country],
                    "status": rng.choices(["active", "closed", "lost_contact"], [80, 15, 5])[0],
                    "sex": rng.choices(["female", "male", "unknown"], [85, 10, 5])[0],
                    "age_group": rng.choices(["adult", "minor", "unknown"], [70, 25, 5])[0],
                    "registered_on": registered,
                    "last_update_on": last_update,
                    "next_update_due": (last_update or registered) + timedelta(days=90),
                    "created_at": _stamp(registered),
                    "updated_at": _stamp(registered),
                    "name": name,
                    "aliases": None,
                    "date_of_birth": _day(rng, date(1970, 1, 1), date(2010, 12, 31)).isoformat(),
                    "contact": f"+236 7{rng.randrange(10**7):07d}" if rng.random() < 0.5 else None,
                    "location": None,
                    "notes": None,
                }
            )
            ids["name_key"] += 1
            rows["name_key"].append(
                {"id": ids["name_key"], "victim_id": victim_id, "digest": blind_index(name, NAME_PURPOSE)}
            )
            _victim_records(rows, ids, rng, victim_id, registered)
            pool = by_country.get(country)
            if pool:
                ids["link"] += 1
                rows["link"].append(
                    {
                        "id": ids["link"],
                        "victim_id": victim_id,
                        "allegation_id": pool[rng.randrange(len(pool))],
                        "linked_at": _stamp(registered),
                    }
                )
            if claim_every and victim_id % claim_every == 0 and ids["claim"] < plan.claims:
                _claim(rows, ids, rng, victim_id, registered, country)
        _flush_victims(loader, rows)
        loader.connection.commit()
        loader.bar.update(len(rows["victim"]))

    loader.insert(
        CaseCounter.__table__,
        [{"prefix": p, "year": y, "last": n} for (p, y), n in sorted(counters.items())],
    )
    loader.connection.commit()
    return People(case_codes, countries, allegations)


def _seed_allegations(loader: Loader, plan: Plan, rng: random.Random) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []
    rows = []
    for number in range(1, plan.allegations + 1):
        country, mission = COUNTRIES[rng.randrange(len(COUNTRIES))]
        received = _day(rng, FIRST_DAY, date(2026, 9, 30))
        reference = f"{mission or country}-{received.year}-A{number:06d}"
        steps = rng.randrange(7)
        dates: list[date | None] = []
        day = received
        for position in range(6):
            dates.append(day if position < steps else None)
            day = _later(day, rng, 60)
        outcome = "pending" if steps < 6 else rng.choice(["substantiated", "unsubstantiated"])
        rows.append(
            {
                "id": number,
                "reference": reference,
                "country_code": country,
                "mission": mission,
                "personnel_category": rng.choice(["military_contingent", "civilian", "formed_police"]),
                "perpetrator_country": rng.choice(CONTRIBUTING),
                "type": rng.choice(["exploitation", "abuse"]),
                "sub_type": None,
                "urgency": rng.choices(["normal", "high_priority", "urgent"], [80, 15, 5])[0],
                "received_on": dates[0] or received,
                "assessed_on": dates[1],
                "referred_on": dates[2],
                "nio_decision_on": dates[3],
                "investigation_completed_on": dates[4],
                "report_submitted_on": dates[5],
                "outcome": outcome,
                "actions_taken": None,
                "created_at": _stamp(received),
                "updated_at": _stamp(received),
            }
        )
        made.append((reference, country))
        if len(rows) == 5_000:
            loader.insert(Allegation.__table__, rows)
            rows = []
    loader.insert(Allegation.__table__, rows)
    loader.connection.commit()
    return made


def _victim_records(
    rows: dict[str, list[dict[str, Any]]], ids: dict[str, int], rng: random.Random, victim_id: int, day: date
) -> None:
    for purpose, share in (("services", 1.0), ("aggregate_reporting", 0.85)):
        if rng.random() < share:
            ids["consent"] += 1
            rows["consent"].append(
                {
                    "id": ids["consent"],
                    "victim_id": victim_id,
                    "purpose": purpose,
                    "given_on": day,
                    "method": "written",
                    "version": "2019-1",
                    "recipient": None,
                    "withdrawn_on": None,
                    "superseded": False,
                    "recorded_by_id": None,
                    "created_at": _stamp(day),
                }
            )
    for _ in range(rng.randrange(3, 8)):  # five on average
        ids["assistance"] += 1
        referral = _later(day, rng, 120)
        status = rng.choice(SERVICE_STATUSES)
        started = _later(referral, rng, 60) if status in ("in_progress", "completed") else None
        rows["assistance"].append(
            {
                "id": ids["assistance"],
                "victim_id": victim_id,
                "service_type": rng.choice(SERVICE_TYPES),
                "provider": rng.choice(["MSF", "IRC", "UNFPA", "Caritas", None]),
                "referral_date": referral,
                "start_date": started,
                "end_date": _later(started, rng, 200) if started and status == "completed" else None,
                "status": status,
                "cost": Decimal(rng.randrange(2_000, 90_000)).scaleb(-2),
                "currency": USD,
                "funding_source": rng.choice(FUNDING),
                "ledger_entry_id": None,
                "notes": "follow-up agreed with the provider" if rng.random() < 0.2 else None,
                "created_at": _stamp(referral),
                "updated_at": _stamp(referral),
            }
        )
    when = day
    for _ in range(rng.randrange(0, 7)):  # three on average
        ids["communication"] += 1
        when = _later(when, rng, 150)
        rows["communication"].append(
            {
                "id": ids["communication"],
                "victim_id": victim_id,
                "occurred_on": when,
                "channel": rng.choice(["in_person", "phone", "message"]),
                "language": rng.choice(["French", "Sango", "English", "Lingala"]),
                "by_whom": "victims' rights advocate",
                "recorded_by_id": None,
                "case_update_given": rng.random() < 0.5,
                "next_update_due": when + timedelta(days=90),
                "summary": "checked on services and next steps" if rng.random() < 0.5 else None,
                "created_at": _stamp(when),
            }
        )


def _claim(
    rows: dict[str, list[dict[str, Any]]],
    ids: dict[str, int],
    rng: random.Random,
    victim_id: int,
    day: date,
    country: str,
) -> None:
    ids["child"] += 1
    ids["claim"] += 1
    claim_id = ids["claim"]
    born = _later(day, rng, 300)
    rows["child"].append(
        {
            "id": ids["child"],
            "victim_id": victim_id,
            "birth_date": born,
            "sex": rng.choice(["female", "male"]),
            "notes": None,
            "created_at": _stamp(born),
        }
    )
    rows["claim_child"].append({"claim_id": claim_id, "child_id": ids["child"]})
    step = rng.randrange(len(CLAIM_STEPS))
    opened = _later(born, rng, 200)
    when = opened
    previous = None
    for position in range(step + 1):
        ids["claim_event"] += 1
        rows["claim_event"].append(
            {
                "id": ids["claim_event"],
                "claim_id": claim_id,
                "from_step": previous,
                "to_step": CLAIM_STEPS[position],
                "occurred_on": when,
                "kind": "step",
                "note": None,
                "recorded_by_id": None,
                "recorded_at": _stamp(when),
            }
        )
        previous = CLAIM_STEPS[position]
        if position < step:
            when = _later(when, rng, 90)
    rows["claim"].append(
        {
            "id": claim_id,
            "victim_id": victim_id,
            "allegation_id": None,
            "share_consent_id": None,
            "member_state": rng.choice(CONTRIBUTING),
            "father_nationality": None,
            "father_category": "military_contingent",
            "step": CLAIM_STEPS[step],
            "step_on": when,
            "step_recorded_on": when,
            "opened_on": opened,
            "closing_reason": "unresolved" if CLAIM_STEPS[step] == "closed" else None,
            "step_before_close": "referred" if CLAIM_STEPS[step] == "closed" else None,
            "referral_channel": None,
            "referral_reference": None,
            "referred_on": None,
            "dna_requested_on": None,
            "mother_child_sampled_on": None,
            "father_sampled_on": None,
            "dna_result": None,
            "dna_result_on": None,
            "paternity_basis": None,
            "paternity_established_on": None,
            "closed_on": when if CLAIM_STEPS[step] == "closed" else None,
            "created_by_id": None,
            "created_at": _stamp(opened),
            "updated_at": _stamp(when),
            "father_name": f"Father {claim_id}",
            "father_service_number": f"SN{rng.randrange(10**6):06d}",
            "father_unit": None,
        }
    )
    for number, direction in enumerate(("sent", "received")):
        ids["letter"] += 1
        rows["letter"].append(
            {
                "id": ids["letter"],
                "claim_id": claim_id,
                "direction": direction,
                "dated_on": opened + timedelta(days=30 * (number + 1)),
                "channel": "permanent_mission",
                "reference": f"NV/{claim_id}/{number + 1}",
                "summary": "request for paternity determination" if direction == "sent" else None,
                "recorded_by_id": None,
                "created_at": _stamp(opened),
            }
        )
    if step >= CLAIM_STEPS.index("support_ordered"):
        ids["order"] += 1
        rows["order"].append(
            {
                "id": ids["order"],
                "claim_id": claim_id,
                "ordered_on": when,
                "amount": Decimal(rng.randrange(50, 300)),
                "currency": USD,
                "frequency": "monthly",
                "starts_on": when,
                "ends_on": None,
                "recorded_by_id": None,
                "created_at": _stamp(when),
            }
        )
        for month in range(3):
            ids["payment"] += 1
            rows["payment"].append(
                {
                    "id": ids["payment"],
                    "claim_id": claim_id,
                    "amount": Decimal(rng.randrange(50, 300)),
                    "currency": USD,
                    "received_on": when + timedelta(days=30 * month),
                    "route": "bank_transfer",
                    "reference": f"PAY-{ids['payment']}",
                    "token": None,
                    "recorded_by_id": None,
                    "created_at": _stamp(when),
                }
            )


def _flush_victims(loader: Loader, rows: dict[str, list[dict[str, Any]]]) -> None:
    for key, table in (
        ("victim", Victim.__table__),
        ("name_key", VictimNameKey.__table__),
        ("consent", Consent.__table__),
        ("assistance", Assistance.__table__),
        ("communication", Communication.__table__),
        ("link", VictimAllegation.__table__),
        ("child", Child.__table__),
        ("claim", Claim.__table__),
        ("claim_child", claim_child),
        ("claim_event", ClaimEvent.__table__),
        ("letter", Letter.__table__),
        ("order", SupportOrder.__table__),
        ("payment", Payment.__table__),
    ):
        loader.insert(table, rows.get(key, []))


# --- the ledger ------------------------------------------------------------------------------


@dataclass(order=True)
class Event:
    """One entry to book: sorted by date, then by the order it was planned in."""

    day: date
    order: int
    kind: str = field(compare=False)
    amount: int = field(compare=False)  # US cents
    refs: dict[str, Any] = field(compare=False, default_factory=dict)


def _months() -> list[date]:
    months, month = [], FIRST_DAY
    while month <= LAST_DAY:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _in_month(month: date, rng: random.Random) -> date:
    following = (month + timedelta(days=32)).replace(day=1)
    return month + timedelta(days=rng.randrange(min((following - month).days, (LAST_DAY - month).days + 1)))


def _ledger_size(plan: Plan) -> int:
    """Roughly how many entries `plan_ledger` makes (for the progress bar)."""
    return plan.pledges * 3 + plan.withholdings * 2 + plan.projects * 45 + plan.direct_support


def plan_ledger(plan: Plan, rng: random.Random, people: People) -> tuple[list[Event], list[dict[str, Any]]]:
    """Every entry to book, in date order, and the projects they fund."""
    months = _months()
    events: list[Event] = []
    order = iter(range(10**9))

    def add(day: date, kind: str, amount: int, **refs: Any) -> None:
        if day <= LAST_DAY:
            events.append(Event(day, next(order), kind, amount, refs))

    for pledge_id in range(1, plan.pledges + 1):
        day = _day(rng, FIRST_DAY, date(2026, 6, 30))
        donor_id = rng.randrange(1, len(DONORS) + 1)
        amount = rng.randrange(2_000_000, 20_000_000)
        add(day, EntryKind.PLEDGE, amount, pledge_id=pledge_id, donor_id=donor_id)
        first = amount // 2
        add(_later(day, rng, 60), EntryKind.RECEIPT, first, pledge_id=pledge_id, donor_id=donor_id)
        add(_later(day, rng, 400), EntryKind.RECEIPT, amount - first, pledge_id=pledge_id, donor_id=donor_id)
    for withholding_id in range(1, plan.withholdings + 1):
        day = _day(rng, FIRST_DAY, date(2026, 8, 31))
        reference, _ = people.allegations[rng.randrange(len(people.allegations))]
        amount = rng.randrange(100_000, 5_000_000)
        refs = {
            "withholding_id": withholding_id,
            "allegation_ref": reference,
            "country": rng.choice(CONTRIBUTING),
        }
        add(day, EntryKind.WITHHOLDING, amount, **refs)
        if rng.random() < 0.8:
            paid = amount if rng.random() < 0.7 else amount // 2
            add(_later(day, rng, 500), EntryKind.WITHHELD_TRANSFER, paid, **refs)
    projects = []
    for project_id in range(1, plan.projects + 1):
        day = _in_month(months[rng.randrange(6, len(months) - 24)], rng)
        country, _ = COUNTRIES[rng.randrange(len(COUNTRIES))]
        tranche = rng.randrange(500_000, 5_000_000)
        approved = tranche * 30
        add(day, EntryKind.GRANT_APPROVAL, approved, project_id=project_id, country=country)
        paid = 0
        for number in range(1, 22):
            paid_on = _in_month((day + timedelta(days=31 * number)).replace(day=1), rng)
            if paid_on <= LAST_DAY:
                paid += 1
                add(
                    paid_on,
                    EntryKind.DISBURSEMENT,
                    tranche,
                    project_id=project_id,
                    country=country,
                    number=number,
                )
        codes = sorted({people.case_codes[rng.randrange(len(people.case_codes))] for _ in range(10)})
        projects.append(
            {
                "id": project_id,
                "title": f"Support project {project_id}",
                "partner": rng.choice(["Caritas", "IRC", "MSF", "Femmes Actives", "Plan"]),
                "country_code": country,
                "focus": rng.choice(["direct_support", "services", "income_generation", "education"]),
                "currency": USD,
                "approved_minor": approved,
                "approved_on": day,
                "planned_start": day + timedelta(days=30),
                "planned_end": day + timedelta(days=760),
                "actual_start": _in_month((day + timedelta(days=31)).replace(day=1), rng) if paid else None,
                "actual_end": None,
                "status": "ongoing" if paid else "approved",
                "victims_supported": len(codes),
                "released_minor": 0,
                "entry_id": None,
                "case_codes": codes,
            }
        )
    for _ in range(plan.direct_support):
        victim = rng.randrange(len(people.case_codes))
        add(
            _day(rng, date(2019, 7, 1)),
            EntryKind.VICTIM_SUPPORT,
            rng.randrange(5_000, 200_000),
            case_code=people.case_codes[victim],
            country=people.countries[victim],
        )
    events.sort()
    return events, projects


@dataclass
class Chain:
    """The state of the ledger while entries are appended: head, running balances, cash."""

    accounts: dict[str, int]
    codes: dict[int, str]
    psc: Decimal
    seq: int = 0
    head: str = engine.GENESIS
    running: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    ids: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def seed_ledger(loader: Loader, plan: Plan, rng: random.Random, people: People) -> None:
    accounts = {code: id_ for code, id_ in loader.connection.execute(select(Account.code, Account.id))}
    chain = Chain(accounts=accounts, codes={v: k for k, v in accounts.items()}, psc=psc_rate())
    donors = [
        {"id": n, "name": f"Government of {code}", "kind": "member_state", "country_code": code}
        for n, code in enumerate(DONORS, start=1)
    ]
    loader.insert(Donor.__table__, [{**d, "created_at": _stamp(FIRST_DAY)} for d in donors])
    loader.connection.commit()
    donor_country = {d["id"]: d["country_code"] for d in donors}
    events, projects = plan_ledger(plan, rng, people)
    project_by_id = {p["id"]: p for p in projects}

    batch = Batch()
    for event in events:
        _book(batch, chain, event, donor_country, project_by_id)
        if len(batch.entries) >= LEDGER_BATCH:
            batch.flush(loader)
    batch.flush(loader)


@dataclass
class Batch:
    """Rows of one transaction, inserted in foreign-key order."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    postings: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    ORDER = (
        ("project", Project.__table__),
        ("beneficiary", ProjectBeneficiary.__table__),
        ("pledge", Pledge.__table__),
        ("receipt", Receipt.__table__),
        ("withholding", Withholding.__table__),
        ("transfer", WithholdingTransfer.__table__),
        ("tranche", Tranche.__table__),
        ("direct", DirectSupport.__table__),
    )

    def flush(self, loader: Loader) -> None:
        for chunk in _chunks(self.entries, 1_000):
            loader.insert(Entry.__table__, chunk)
        for key, table in self.ORDER:
            loader.insert(table, self.records.get(key, []))
        for chunk in _chunks(self.postings, 2_000):
            loader.insert(Posting.__table__, chunk)
        loader.connection.commit()
        loader.bar.update(len(self.entries))
        self.entries, self.postings, self.records = [], [], defaultdict(list)


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


NO_DIMENSIONS = dict.fromkeys(engine.DIMENSIONS)


def _append(
    batch: Batch,
    chain: Chain,
    *,
    kind: str,
    day: date,
    memo: str,
    lines: list[tuple[str, int, dict[str, Any]]],
    key: str | None = None,
) -> int | None:
    """Append one balanced USD entry; None (nothing booked) if it would take cash below zero."""
    cash = chain.accounts[engine.CASH]
    cash_change = sum(amount for code, amount, _ in lines if chain.accounts[code] == cash)
    if chain.running[cash] + cash_change < 0:
        return None
    chain.seq += 1
    entry_id = chain.seq
    postings = []
    for code, amount, dims in lines:
        account_id = chain.accounts[code]
        chain.running[account_id] += amount
        chain.ids["posting"] += 1
        postings.append(
            {
                "id": chain.ids["posting"],
                "entry_id": entry_id,
                "account_id": account_id,
                "currency": USD,
                "amount_minor": amount,
                "rate": Decimal(1),
                "fx_rate_id": None,
                "usd_minor": amount,
                "running_usd_minor": chain.running[account_id],
                **NO_DIMENSIONS,
                **dims,
            }
        )
    key = key or f"scale-{entry_id}"
    entry = {
        "id": entry_id,
        "seq": entry_id,
        "entry_date": day,
        "kind": kind,
        "memo": memo[:300],
        "idempotency_key": key,
        "request_hash": engine.request_hash({"event": kind, "key": key}),
        "reverses_id": None,
        "maker_id": None,
        "checker_id": None,
        "created_at": _stamp(day),
        "prev_hash": chain.head,
    }
    shape = SimpleNamespace(**entry, postings=[SimpleNamespace(**p) for p in postings])
    entry["hash"] = chain.head = engine.entry_hash(shape, chain.codes)  # type: ignore[arg-type]
    batch.entries.append(entry)
    batch.postings.extend(postings)
    return entry_id


def _book(
    batch: Batch,
    chain: Chain,
    event: Event,
    donor_country: dict[int, str],
    projects: dict[int, dict[str, Any]],
) -> None:
    refs, amount, day = event.refs, event.amount, event.day
    records = batch.records
    if event.kind in (EntryKind.PLEDGE, EntryKind.RECEIPT):
        dims = {
            "donor_id": refs["donor_id"],
            "pledge_id": refs["pledge_id"],
            "country_code": donor_country[refs["donor_id"]],
        }
        if event.kind == EntryKind.PLEDGE:
            lines = [(engine.PLEDGES_RECEIVABLE, amount, dims), (engine.CONTRIBUTIONS, -amount, dims)]
            entry_id = _append(
                batch, chain, kind=event.kind, day=day, memo=f"Pledge {refs['pledge_id']}", lines=lines
            )
            records["pledge"].append(
                {
                    "id": refs["pledge_id"],
                    "donor_id": refs["donor_id"],
                    "currency": USD,
                    "amount_minor": amount,
                    "pledged_on": day,
                    "earmark": None,
                    "reference": f"PL-{refs['pledge_id']}",
                    "entry_id": entry_id,
                }
            )
            return
        lines = [(engine.CASH, amount, dims), (engine.PLEDGES_RECEIVABLE, -amount, dims)]
        entry_id = _append(
            batch, chain, kind=event.kind, day=day, memo=f"Receipt on pledge {refs['pledge_id']}", lines=lines
        )
        chain.ids["receipt"] += 1
        records["receipt"].append(
            {
                "id": chain.ids["receipt"],
                "donor_id": refs["donor_id"],
                "pledge_id": refs["pledge_id"],
                "currency": USD,
                "amount_minor": amount,
                "received_on": day,
                "bank_reference": f"BANK-{chain.ids['receipt']}",
                "rate": Decimal(1),
                "entry_id": entry_id,
            }
        )
    elif event.kind in (EntryKind.WITHHOLDING, EntryKind.WITHHELD_TRANSFER):
        dims = {
            "withholding_id": refs["withholding_id"],
            "country_code": refs["country"],
            "allegation_ref": refs["allegation_ref"],
        }
        if event.kind == EntryKind.WITHHOLDING:
            lines = [(engine.WITHHELD_RECEIVABLE, amount, dims), (engine.WITHHELD_INCOME, -amount, dims)]
            entry_id = _append(
                batch, chain, kind=event.kind, day=day, memo=f"Withheld from {refs['country']}", lines=lines
            )
            records["withholding"].append(
                {
                    "id": refs["withholding_id"],
                    "allegation_ref": refs["allegation_ref"],
                    "country_code": refs["country"],
                    "currency": USD,
                    "amount_minor": amount,
                    "decided_on": day,
                    "decision_reference": None,
                    "entry_id": entry_id,
                }
            )
            return
        lines = [(engine.CASH, amount, dims), (engine.WITHHELD_RECEIVABLE, -amount, dims)]
        entry_id = _append(
            batch, chain, kind=event.kind, day=day, memo=f"Transfer from {refs['country']}", lines=lines
        )
        chain.ids["transfer"] += 1
        records["transfer"].append(
            {
                "id": chain.ids["transfer"],
                "withholding_id": refs["withholding_id"],
                "amount_minor": amount,
                "transferred_on": day,
                "reference": f"TR-{chain.ids['transfer']}",
                "entry_id": entry_id,
            }
        )
    elif event.kind == EntryKind.GRANT_APPROVAL:
        project = projects[refs["project_id"]]
        dims = {"project_id": project["id"], "country_code": project["country_code"]}
        lines = [(engine.GRANT_EXPENSE, amount, dims), (engine.GRANTS_PAYABLE, -amount, dims)]
        entry_id = _append(
            batch, chain, kind=event.kind, day=day, memo=f"Grant approved: {project['title']}", lines=lines
        )
        codes = project["case_codes"]
        records["project"].append(
            {k: v for k, v in project.items() if k != "case_codes"} | {"entry_id": entry_id}
        )
        for code in codes:
            chain.ids["beneficiary"] += 1
            records["beneficiary"].append(
                {"id": chain.ids["beneficiary"], "project_id": project["id"], "case_code": code}
            )
    elif event.kind == EntryKind.DISBURSEMENT:
        _tranche(batch, chain, event, projects[refs["project_id"]])
    else:
        dims = {"case_code": refs["case_code"], "country_code": refs["country"]}
        lines = [(engine.VICTIM_SUPPORT, amount, dims), (engine.CASH, -amount, dims)]
        entry_id = _append(
            batch, chain, kind=event.kind, day=day, memo=f"Direct support to {refs['case_code']}", lines=lines
        )
        if entry_id is not None:
            chain.ids["direct"] += 1
            records["direct"].append(
                {
                    "id": chain.ids["direct"],
                    "case_code": refs["case_code"],
                    "country_code": refs["country"],
                    "purpose": "school fees",
                    "currency": USD,
                    "amount_minor": amount,
                    "paid_on": day,
                    "entry_id": entry_id,
                }
            )


def _tranche(batch: Batch, chain: Chain, event: Event, project: dict[str, Any]) -> None:
    """A disbursement and its programme support cost, as `_post_tranche` books them."""
    amount, day = event.amount, event.day
    psc = int((Decimal(amount) * chain.psc).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    cash = chain.accounts[engine.CASH]
    if chain.running[cash] < amount + psc:
        return
    key = f"scale-tranche-{project['id']}-{event.refs['number']}"
    dims = {"project_id": project["id"], "country_code": project["country_code"]}
    memo = f"Tranche to {project['partner']} for {project['title']}"
    lines = [(engine.GRANTS_PAYABLE, amount, dims), (engine.CASH, -amount, dims)]
    entry_id = _append(batch, chain, kind=EntryKind.DISBURSEMENT, day=day, memo=memo, lines=lines, key=key)
    psc_id = None
    if psc:
        lines = [(engine.PROGRAMME_SUPPORT, psc, dims), (engine.CASH, -psc, dims)]
        memo = f"Programme support cost on entry {entry_id}"
        psc_id = _append(
            batch, chain, kind=EntryKind.PROGRAMME_SUPPORT, day=day, memo=memo, lines=lines, key=key + ":psc"
        )
    chain.ids["tranche"] += 1
    batch.records["tranche"].append(
        {
            "id": chain.ids["tranche"],
            "project_id": project["id"],
            "amount_minor": amount,
            "paid_on": day,
            "reference": f"TRN-{chain.ids['tranche']}",
            "idempotency_key": key,
            "request_hash": engine.request_hash({"event": "disbursement", "tranche": chain.ids["tranche"]}),
            "status": "posted",
            "maker_id": None,
            "checker_id": None,
            "requested_at": _stamp(day),
            "decided_at": _stamp(day),
            "entry_id": entry_id,
            "psc_entry_id": psc_id,
        }
    )


# --- afterwards ------------------------------------------------------------------------------


def _finish(connection: Connection) -> None:
    """PostgreSQL: move each id sequence past the ids given explicitly. Both: refresh statistics."""
    if connection.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is not False:
                following = (connection.scalar(select(func.max(table.c.id))) or 0) + 1
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :following, false)"),
                    {"table": table.name, "following": following},
                )
        connection.commit()
        # VACUUM sets the visibility map too (index-only scans); it cannot run in a transaction.
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        connection.execute(text("ANALYZE"))
    connection.commit()
