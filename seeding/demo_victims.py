"""Demo victims, allegations, services and communications for `flask seed-demo`.

Everyone here is invented: names are drawn from common given names and family names of each
country, combined at random. Roughly a third of the victims get no assistance, as in OIOS §110.
Everything is written through the services, so consents, audit and the clock work as in real use.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from vat.allegations import services as allegations
from vat.auth.models import User
from vat.db import db
from vat.victims import assistance, consents, family, identity, needs, outcomes
from vat.victims.models import Victim

PLACES: dict[str, dict[str, Any]] = {
    "CAF": {
        "mission": "MINUSCA",
        "advocate": "amina.advocate",
        "count": 14,
        "given": [
            "Grâce",
            "Odette",
            "Clarisse",
            "Nadège",
            "Prisca",
            "Fatimé",
            "Brigitte",
            "Estelle",
            "Aïcha",
        ],
        "family": ["Yakité", "Ngaïkoumon", "Zanga", "Bangui-Koyassambia", "Doko", "Mbaïkoua", "Sélého"],
        "places": ["PK5, Bangui", "Bambari", "Kaga-Bandoro", "Bria", "M'Poko site"],
        "languages": ["Sango", "French"],
        "providers": ["Hôpital communautaire", "Association des femmes juristes", "IRC", "UNFPA", "MSF"],
        "currency": "XAF",
    },
    "COD": {
        "mission": "MONUSCO",
        "advocate": "jean.advocate",
        "count": 12,
        "given": ["Esther", "Furaha", "Neema", "Bahati", "Sifa", "Riziki", "Mapendo", "Aline"],
        "family": ["Mbuyi", "Kahindo", "Masika", "Baraka", "Kavira", "Mugisha", "Lukusa"],
        "places": ["Goma", "Bunia", "Beni", "Kalemie", "Uvira"],
        "languages": ["Swahili", "French", "Lingala"],
        "providers": ["HEAL Africa", "Panzi Foundation", "UNICEF", "Dynamique des femmes juristes"],
        "currency": "CDF",
    },
    "HTI": {
        "mission": "MINUJUSTH",
        "advocate": "jean.advocate",
        "count": 8,
        "given": ["Rose-Marie", "Nadège", "Mirlande", "Guerline", "Fabienne", "Widline", "Stéphanie"],
        "family": ["Joseph", "Pierre-Louis", "Jean-Baptiste", "Dorvil", "Célestin", "Augustin"],
        "places": ["Cité Soleil", "Port-Salut", "Les Cayes", "Hinche", "Cap-Haïtien"],
        "languages": ["Haitian Creole", "French"],
        "providers": ["GHESKIO", "Kay Fanm", "UNFPA", "an implementing partner school"],
        "currency": "HTG",
    },
    "SSD": {
        "mission": "UNMISS",
        "advocate": "grace.senior",
        "count": 6,
        "given": ["Nyandeng", "Achol", "Nyibol", "Awut", "زينب", "Mary", "Ajak"],
        "family": ["Deng", "Garang", "Lado", "عبد الله", "Akol", "Wani"],
        "places": ["PoC site 3, Juba", "Malakal PoC", "Bentiu", "Wau"],
        "languages": ["Juba Arabic", "Dinka", "Nuer", "English"],
        "providers": ["Nonviolent Peaceforce", "UNFPA", "a women's centre", "MSF"],
        "currency": "SSP",
    },
}
CONTRIBUTORS = ["BGD", "PAK", "NPL", "RWA", "COG", "GAB", "MAR", "BDI", "ZAF", "URY", "EGY", "TZA"]
CATEGORIES = ["military_contingent"] * 5 + ["formed_police", "civilian", "contractor", "individual_police"]
KINDS = [
    ("abuse", "rape"),
    ("exploitation", "transactional_sex"),
    ("exploitation", "exploitative_relationship"),
    ("abuse", "sexual_activity_with_minor"),
    ("abuse", "sexual_assault"),
    ("unknown", ""),
]
SERVICES = ["medical", "psychosocial", "material", "legal", "education", "livelihood", "shelter"]


def seed(*, today: date | None = None) -> int:
    """Create the demo records; returns how many victims. Needs the demo users to exist."""
    today = today or date.today()
    rng = random.Random(2017)  # noqa: S311 - a fixed sequence for repeatable demo data, not security
    users = {u.username: u for u in db.session.scalars(select(User))}
    actor = users["grace.senior"]
    victims: dict[str, list[Victim]] = {}
    for country, place in PLACES.items():
        victims[country] = [_victim(rng, actor, users, country, place, today) for _ in range(place["count"])]
    for country, place in PLACES.items():
        _allegations(rng, actor, country, place, victims[country], today)
    total = 0
    for country, place in PLACES.items():
        for victim in victims[country]:
            _assist_and_inform(rng, actor, place, victim, today)
            total += 1
    return total


def _victim(
    rng: random.Random, actor: User, users: dict[str, User], country: str, place: dict[str, Any], today: date
) -> Victim:
    registered = today - timedelta(days=rng.randint(20, 5 * 365))
    minor = rng.random() < 0.25
    victim = identity.register_victim(
        actor=actor,
        country_code=country,
        mission=place["mission"],
        registered_on=registered,
        sex=rng.choice(["female"] * 9 + ["male", "unknown"]),
        age_group="minor" if minor else rng.choice(["adult"] * 4 + ["unknown"]),
        date_of_birth=registered
        - timedelta(days=365 * (rng.randint(13, 17) if minor else rng.randint(18, 40)))
        if rng.random() < 0.6
        else None,
        name=f"{rng.choice(place['given'])} {rng.choice(place['family'])}",
        aliases=rng.choice(["", "", f"Maman {rng.choice(place['given'])}"]),
        contact=rng.choice(
            [
                "",
                f"+{rng.randint(200, 599)} {rng.randint(10, 99)} {rng.randint(100000, 999999)}",
                "through the community focal point",
            ]
        ),
        location=rng.choice(place["places"]),
        notes=rng.choice(
            ["", "Prefers to meet at the women's centre.", "Lives with her aunt.", "Needs an interpreter."]
        ),
        advocate_id=users[place["advocate"]].id,
    )
    given = registered + timedelta(days=rng.randint(0, 5))
    purposes = ["services", "contact", "aggregate_reporting"] if rng.random() < 0.9 else ["contact"]
    if rng.random() < 0.6:
        purposes.append("referral")
    if rng.random() < 0.3:
        purposes += ["share_member_state", "paternity_disclosure"]
    for purpose in purposes:
        consents.record_consent(
            actor=actor,
            victim=victim,
            purpose=purpose,
            given_on=min(given, today),
            method=rng.choice(["written", "verbal", "thumbprint", "guardian" if minor else "written"]),
            version="2019-1",
        )
    return victim


def _allegations(
    rng: random.Random, actor: User, country: str, place: dict[str, Any], victims: list[Victim], today: date
) -> None:
    pool = list(victims)
    rng.shuffle(pool)
    number = 0
    while pool:
        size = rng.randint(1, 3)
        group, pool = pool[:size], pool[size:]
        number += 1
        earliest = min(v.registered_on for v in group)
        received = max(earliest - timedelta(days=rng.randint(0, 10)), date(2015, 1, 1))
        steps = _steps(rng, received, today)
        kind, sub_type = rng.choice(KINDS)
        allegation = allegations.create_allegation(
            actor=actor,
            reference=_reference(rng, received),
            country_code=country,
            mission=place["mission"],
            entity_category="peacekeeping",  # the demo's places are peacekeeping missions
            personnel_category=rng.choice(CATEGORIES),
            perpetrator_country=rng.choice(CONTRIBUTORS),
            type=kind,
            sub_type=sub_type,
            urgency=rng.choice(["normal"] * 3 + ["high_priority", "urgent"]),
            **steps,
        )
        for victim in group:
            outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
        if steps["report_submitted_on"]:
            outcome = "substantiated" if rng.random() < 0.4 else "unsubstantiated"
            actions = (
                "Repatriated and banned from future service; payment withheld."
                if outcome == "substantiated"
                else ""
            )
            values = {
                k: getattr(allegation, k)
                for k in (
                    "country_code",
                    "mission",
                    "entity_category",
                    "personnel_category",
                    "perpetrator_country",
                    "type",
                    "sub_type",
                    "urgency",
                    *allegations.STEP_FIELDS,
                )
            }
            allegations.update_allegation(
                actor=actor, allegation=allegation, outcome=outcome, actions_taken=actions, **values
            )


def seed_withheld_allegations(withheld: Iterable[tuple[str, str, date]]) -> None:
    """The substantiated allegations the demo ledger withholds for — (reference, contributing
    country, decision date) — recorded as historical cases in the Central African Republic (the
    ledger refuses a withholding for an allegation it cannot find substantiated)."""
    actor = db.session.scalars(select(User).where(User.username == "grace.senior")).one()
    for reference, country, decided in withheld:
        allegations.create_allegation(
            actor=actor,
            reference=reference,
            country_code="CAF",
            mission="MINUSCA",
            entity_category="peacekeeping",
            personnel_category="military_contingent",
            perpetrator_country=country,
            type="exploitation",
            received_on=decided - timedelta(days=240),
            report_submitted_on=decided - timedelta(days=30),
            outcome="substantiated",
            historical=True,
        )


def _reference(rng: random.Random, received: date) -> str:
    """A reference number in the UN's style (0399/15), not yet used."""
    while True:
        reference = f"{rng.randint(1, 999):04d}/{received.year % 100:02d}"
        if allegations.find_by_reference_anywhere(reference) is None:
            return reference


def _steps(rng: random.Random, received: date, today: date) -> dict[str, date | None]:
    """Dated steps, stopping where this case has got to (some late, some still open)."""
    gaps = [
        ("assessed_on", 2, 30),
        ("referred_on", 1, 40),
        ("nio_decision_on", 3, 25),
        ("investigation_completed_on", 60, 330),
        ("report_submitted_on", 5, 40),
    ]
    steps: dict[str, date | None] = {"received_on": received}
    current = received
    stopped = False
    for field, low, high in gaps:
        nxt = (
            current if field != "investigation_completed_on" else steps.get("referred_on") or current
        ) + timedelta(days=rng.randint(low, high))
        if stopped or nxt > today or rng.random() < 0.12:
            stopped = True
            steps[field] = None
            continue
        steps[field] = nxt
        if field != "nio_decision_on":
            current = nxt
    return steps


def _assist_and_inform(
    rng: random.Random, actor: User, place: dict[str, Any], victim: Victim, today: date
) -> None:
    can_serve = consents.active_consent(victim, "services") is not None
    draw = _assess_needs(actor, victim, today)
    if can_serve and rng.random() < 0.72:
        for number in range(rng.randint(1, 3)):
            _service(rng, actor, place, victim, today, delivered=number == 0)
    _feedback(draw, actor, victim)
    if consents.active_consent(victim, "contact") is None:
        return
    when = victim.registered_on
    while rng.random() < 0.7:
        when = when + timedelta(days=rng.randint(20, 150))
        if when > today:
            break
        open_tasks = [
            t.id
            for t in victim.tasks
            if t.closed_at is None and t.allegation and (t.allegation.report_submitted_on or today) <= when
        ]
        family.log_communication(
            actor=actor,
            victim=victim,
            occurred_on=when,
            channel=rng.choice(["in_person", "in_person", "phone", "third_party", "letter"]),
            language=rng.choice(place["languages"]),
            summary=rng.choice(
                [
                    "Explained where the investigation stands.",
                    "Checked on her health and school fees.",
                    "Follow-up visit with the psychosocial worker.",
                    "She asked about the child's support.",
                ]
            ),
            case_update_given=True,
            closes_task_ids=open_tasks if rng.random() < 0.6 else [],
            next_update_due=when + timedelta(days=90),
        )
    if rng.random() < 0.15:
        birth = victim.registered_on + timedelta(days=rng.randint(30, 250))
        family.add_child(
            actor=actor,
            victim=victim,
            birth_date=min(birth, today),
            sex=rng.choice(["female", "male"]),
            notes=rng.choice(["", "Attends primary school.", "Needs a birth certificate."]),
        )


def _assess_needs(actor: User, victim: Victim, today: date) -> random.Random:
    """One to three needs, assessed soon after registration (the services then keep them). Drawn
    from a generator of the victim's own, so the rest of the demo stays as it was."""
    draw = random.Random(f"needs {victim.case_code}")  # noqa: S311 - repeatable demo data, not security
    assessed = min(victim.registered_on + timedelta(days=draw.randint(0, 10)), today)
    for kind in draw.sample(SERVICES, draw.randint(1, 3)):
        status = draw.choice(["unmet", "unmet", "unmet", "partly_met", "declined"])
        reasons = [None, "no_provider", "no_funds", "waiting_list", "victim_unreachable"]
        reason = draw.choice(reasons) if status in needs.NOT_MET else None
        needs.assess_need(
            actor=actor, victim=victim, need_type=kind, status=status, assessed_on=assessed, reason=reason
        )
    return draw


def _feedback(draw: random.Random, actor: User, victim: Victim) -> None:
    """The victim's word on some of the services delivered."""
    for service in list(victim.services):
        if service.start_date is None or draw.random() < 0.4:
            continue
        complained = draw.random() < 0.2
        needs.record_feedback(
            actor=actor,
            victim=victim,
            service=service,
            given_on=service.end_date or service.start_date,
            satisfaction=draw.choice(["satisfied", "satisfied", "not_satisfied", "unsure"]),
            complaint=complained,
            complaint_text="Waited a long time to be seen." if complained else None,
        )


def _service(
    rng: random.Random, actor: User, place: dict[str, Any], victim: Victim, today: date, *, delivered: bool
) -> None:
    referral = victim.registered_on + timedelta(days=rng.randint(0, 60))
    if referral > today:
        referral = today
    provider = rng.choice(place["providers"]) if consents.active_consent(victim, "referral") else None
    roll = rng.random() * (0.7 if delivered else 1)
    start = referral + timedelta(days=rng.randint(1, 40))
    end = start + timedelta(days=rng.randint(1, 200))
    values: dict[str, Any] = {
        "service_type": rng.choice(SERVICES),
        "provider": provider,
        "referral_date": referral,
        "funding_source": rng.choice(
            ["agency", "agency", "trust_fund_project", "mission_budget", "petty_cash", "unknown"]
        ),
    }
    if roll < 0.5 and end <= today:
        values |= {"status": "completed", "start_date": start, "end_date": end}
    elif roll < 0.7 and start <= today:
        values |= {"status": "in_progress", "start_date": start}
    elif roll < 0.8:
        values |= {"status": rng.choice(["declined", "not_available"])}
    else:
        values |= {"status": "referred"}
    if (
        values["funding_source"] in ("trust_fund_project", "petty_cash", "mission_budget")
        and rng.random() < 0.7
    ):
        values |= {
            "cost": Decimal(
                rng.randint(20, 800) * 1000 if place["currency"] in ("XAF", "CDF") else rng.randint(50, 4000)
            ),
            "currency": place["currency"],
        }
    assistance.record_assistance(actor=actor, victim=victim, **values)
