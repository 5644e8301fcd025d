"""The victim-assistance half of `flask seed-scale`: allegations, victims with their consents,
services and communications, and paternity claims, inserted in batches with the models' own column
types (so encrypted columns hold real ciphertext)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from seeding.scale_plan import (
    CHUNK,
    CLAIM_STEPS,
    CONTRIBUTING,
    COUNTRIES,
    FAMILY,
    FIRST_DAY,
    FUNDING,
    GIVEN,
    SERVICE_STATUSES,
    SERVICE_TYPES,
    USD,
    Loader,
    People,
    Plan,
    later,
    noon,
    random_day,
    reached,
)
from vat.allegations.models import Allegation
from vat.claims.models import Claim, ClaimEvent, Letter, Payment, SupportOrder, claim_child
from vat.db import db
from vat.victims.identity import default_prefix, name_digests
from vat.victims.models import (
    Assistance,
    CaseCounter,
    Child,
    Communication,
    Consent,
    Need,
    Victim,
    VictimAllegation,
    VictimNameKey,
)
from vat.victims.support_summary import DELIVERED


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
            registered = random_day(rng, FIRST_DAY, date(2026, 9, 30))
            prefix = default_prefix(country)
            counters[(prefix, registered.year)] += 1
            code = f"{prefix}-{registered.year}-{counters[(prefix, registered.year)]:04d}"
            case_codes.append(code)
            countries.append(country)
            name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {victim_id}"
            last_update = None if rng.random() < 0.1 else later(registered, rng, 700)
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
                    "created_at": noon(registered),
                    "updated_at": noon(registered),
                    "name": name,
                    "aliases": None,
                    "date_of_birth": random_day(rng, date(1970, 1, 1), date(2010, 12, 31)).isoformat(),
                    "contact": f"+236 7{rng.randrange(10**7):07d}" if rng.random() < 0.5 else None,
                    "location": None,
                    "notes": None,
                }
            )
            for digest in name_digests(name, None):
                ids["name_key"] += 1
                rows["name_key"].append({"id": ids["name_key"], "victim_id": victim_id, "digest": digest})
            _victim_records(rows, ids, rng, victim_id, registered)
            _needs(rows, ids, victim_id, registered)
            pool = by_country.get(country)
            if pool:
                ids["link"] += 1
                rows["link"].append(
                    {
                        "id": ids["link"],
                        "victim_id": victim_id,
                        "allegation_id": pool[rng.randrange(len(pool))],
                        "linked_at": noon(registered),
                    }
                )
            if claim_every and victim_id % claim_every == 0 and ids["claim"] < plan.claims:
                _claim(rows, ids, rng, victim_id, registered, country)
        _flush_victims(loader, rows)
        db.session.commit()
        loader.bar.update(len(rows["victim"]))

    loader.insert(
        CaseCounter.__table__,
        [{"prefix": p, "year": y, "last": n} for (p, y), n in sorted(counters.items())],
    )
    db.session.commit()
    return People(case_codes, countries, allegations)


def _seed_allegations(loader: Loader, plan: Plan, rng: random.Random) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []
    rows = []
    for number in range(1, plan.allegations + 1):
        country, mission = COUNTRIES[rng.randrange(len(COUNTRIES))]
        received = random_day(rng, FIRST_DAY, date(2026, 9, 30))
        reference = f"{mission or country}-{received.year}-A{number:06d}"
        steps = rng.randrange(7)
        dates: list[date | None] = []
        day = received
        for position in range(6):
            dates.append(day if position < steps else None)
            day = later(day, rng, 60)
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
                "created_at": noon(received),
                "updated_at": noon(received),
            }
        )
        made.append((reference, country))
        if len(rows) == 5_000:
            loader.insert(Allegation.__table__, rows)
            rows = []
    loader.insert(Allegation.__table__, rows)
    db.session.commit()
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
                    "created_at": noon(day),
                }
            )
    for _ in range(rng.randrange(3, 8)):  # five on average
        ids["assistance"] += 1
        referral = later(day, rng, 120)
        status = rng.choice(SERVICE_STATUSES)
        if status in DELIVERED and not reached(victim_id):
            status = "referred"  # referred, never delivered: the victim OIOS counts as unassisted
        started = later(referral, rng, 60) if status in DELIVERED else None
        rows["assistance"].append(
            {
                "id": ids["assistance"],
                "victim_id": victim_id,
                "service_type": rng.choice(SERVICE_TYPES),
                "provider": rng.choice(["MSF", "IRC", "UNFPA", "Caritas", None]),
                "referral_date": referral,
                "start_date": started,
                "end_date": later(started, rng, 200) if started and status == "completed" else None,
                "status": status,
                "cost": rng.randrange(2_000, 90_000),  # US cents
                "currency": USD,
                "funding_source": rng.choice(FUNDING),
                "ledger_entry_id": None,
                "notes": "follow-up agreed with the provider" if rng.random() < 0.2 else None,
                "created_at": noon(referral),
                "updated_at": noon(referral),
            }
        )
    when = day
    for _ in range(rng.randrange(0, 7)):  # three on average
        ids["communication"] += 1
        when = later(when, rng, 150)
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
                "created_at": noon(when),
            }
        )


NEED_STATUSES = ["met", "partly_met", "unmet", "unmet", "declined", "no_longer_needed"]
UNMET_REASONS = ["no_provider", "no_funds", "no_consent", "waiting_list", "victim_unreachable"]


def _needs(rows: dict[str, list[dict[str, Any]]], ids: dict[str, int], victim_id: int, day: date) -> None:
    """Up to three needs assessed per victim (1.5 on average), drawn from a generator of their
    own so that adding them left every other seeded figure as it was."""
    rng = random.Random(victim_id)  # noqa: S311 - synthetic data, reproducible on purpose
    for need_type in rng.sample(SERVICE_TYPES, rng.randrange(0, 4)):
        status = rng.choice(NEED_STATUSES)
        assessed = later(day, rng, 60)
        ids["need"] += 1
        rows["need"].append(
            {
                "id": ids["need"],
                "victim_id": victim_id,
                "need_type": need_type,
                "assessed_on": assessed,
                "status": status,
                "reason": rng.choice(UNMET_REASONS) if status in ("unmet", "partly_met") else None,
                "note": None,
                "assessed_by_id": None,
                "created_at": noon(assessed),
                "updated_at": noon(assessed),
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
    born = later(day, rng, 300)
    rows["child"].append(
        {
            "id": ids["child"],
            "victim_id": victim_id,
            "birth_date": born,
            "sex": rng.choice(["female", "male"]),
            "notes": None,
            "created_at": noon(born),
        }
    )
    rows["claim_child"].append({"claim_id": claim_id, "child_id": ids["child"]})
    step = rng.randrange(len(CLAIM_STEPS))
    opened = later(born, rng, 200)
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
                "recorded_at": noon(when),
            }
        )
        previous = CLAIM_STEPS[position]
        if position < step:
            when = later(when, rng, 90)
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
            "created_at": noon(opened),
            "updated_at": noon(when),
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
                "created_at": noon(opened),
            }
        )
    if step >= CLAIM_STEPS.index("support_ordered"):
        ids["order"] += 1
        rows["order"].append(
            {
                "id": ids["order"],
                "claim_id": claim_id,
                "ordered_on": when,
                "amount": rng.randrange(50, 300) * 100,  # US cents
                "currency": USD,
                "frequency": "monthly",
                "starts_on": when,
                "ends_on": None,
                "recorded_by_id": None,
                "created_at": noon(when),
            }
        )
        for month in range(3):
            ids["payment"] += 1
            rows["payment"].append(
                {
                    "id": ids["payment"],
                    "claim_id": claim_id,
                    "amount": rng.randrange(50, 300) * 100,  # US cents
                    "currency": USD,
                    "received_on": when + timedelta(days=30 * month),
                    "route": "bank_transfer",
                    "reference": f"PAY-{ids['payment']}",
                    "token": None,
                    "recorded_by_id": None,
                    "created_at": noon(when),
                }
            )


def _flush_victims(loader: Loader, rows: dict[str, list[dict[str, Any]]]) -> None:
    for key, table in (
        ("victim", Victim.__table__),
        ("name_key", VictimNameKey.__table__),
        ("consent", Consent.__table__),
        ("assistance", Assistance.__table__),
        ("communication", Communication.__table__),
        ("need", Need.__table__),
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
