"""Demo claims at every step, for `flask seed-demo`: invented people only, written through the
victims and claims services (so every row is audited like real work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from vat.auth.models import User
from vat.claims import correspondence, frameworks, pipeline, support
from vat.claims.models import Claim, ClaimStep
from vat.db import db
from vat.victims import consents, family, identity

S = ClaimStep
ALL_CONSENTS = ("share_member_state", "paternity_disclosure", "dna_testing", "contact")


@dataclass
class Story:
    """One claim: where the victim lives, who the alleged father is, and its steps (days ago)."""

    advocate: str
    country: str
    nationality: str
    category: str
    opened: int  # days ago
    steps: list[tuple[ClaimStep, int, dict[str, Any]]] = field(default_factory=list)
    letters: list[tuple[str, int]] = field(default_factory=list)  # (direction, days ago)
    payments: list[tuple[str, int]] = field(default_factory=list)  # (amount, days ago)
    consents: tuple[str, ...] = ALL_CONSENTS
    informed: int | None = None  # the last case update given to the victim (days ago)
    reopen: int | None = None


REFER = {"channel": "permanent_mission", "reference": "NV/DEMO"}
Step = tuple[ClaimStep, int, dict[str, Any]]  # (step, days ago, its details)


def referred(consent: int, referral: int, *later: Step) -> list[Step]:
    """The victim's consent, then the referral to the member state: how every story past its
    opening goes on (days ago), then its `later` steps."""
    return [(S.CONSENT_OBTAINED, consent, {}), (S.REFERRED, referral, REFER), *later]


def dna(requested: int, sampled: int | None = None, result: tuple[str, int] | None = None) -> list[Step]:
    """A DNA test requested, then (days ago) the samples taken and its (result, day), as far as it went."""
    steps: list[Step] = [(S.DNA_REQUESTED, requested, {})]
    if sampled is not None:
        steps.append((S.SAMPLES_TAKEN, sampled, {}))
    if result is not None:
        steps.append((S.DNA_RESULT, result[1], {"result": result[0]}))
    return steps


def in_court(requested: int, sampled: int, matched: int, decided: int) -> list[Step]:
    """A DNA test that matched (days ago), then a court's decision establishing paternity."""
    court = {"basis": "court_decision"}
    return [*dna(requested, sampled, ("match", matched)), (S.PATERNITY_ESTABLISHED, decided, court)]


def ordered(days: int, amount: str, currency: str, frequency: str, starts: int) -> Step:
    """Support ordered `days` ago, paid from `starts` days ago."""
    order = {"amount": Decimal(amount), "currency": currency, "frequency": frequency}
    return (S.SUPPORT_ORDERED, days, {**order, "starts_on_days": starts})


# One story a few lines: who and where (opened days ago), its steps, then its letters and updates.
# fmt: off
STORIES = [
    Story("amina.advocate", "CAF", "BGD", "military_contingent", 20, consents=("contact",), informed=15),
    Story("amina.advocate", "CAF", "PAK", "military_contingent", 45, [(S.CONSENT_OBTAINED, 40, {})],
          informed=40),
    # referred long ago and never answered: flagged at 180 days, and the victim was never told
    Story("amina.advocate", "CAF", "BGD", "military_contingent", 260, referred(250, 210)),
    Story(
        "amina.advocate", "CAF", "NPL", "formed_police", 150,
        referred(145, 140),
        letters=[("received", 100), ("sent", 95)], informed=95,
    ),
    Story(
        "amina.advocate", "CAF", "RWA", "military_contingent", 200,
        referred(195, 190, *dna(120)),
        letters=[("received", 150), ("sent", 35)], informed=110,
    ),
    # the alleged father refused to be sampled: a court may decide on his refusal
    Story(
        "amina.advocate", "CAF", "GHA", "military_contingent", 240,
        referred(235, 230, *dna(150), (S.FATHER_UNAVAILABLE, 90, {"obstacle": "refused_sampling"})),
        letters=[("received", 170), ("received", 92)], informed=85,
    ),
    Story(
        "amina.advocate", "CAF", "ZMB", "military_contingent", 300,
        referred(295, 290, *dna(200, 150)),
        letters=[("received", 210)], informed=140,
    ),
    Story(
        "amina.advocate", "CAF", "BGD", "military_contingent", 400,
        referred(395, 390, *dna(300, 260, ("inconclusive", 200))),
        letters=[("received", 320)], informed=60,
    ),
    # an acknowledgment establishes paternity without any DNA test
    Story(
        "jean.advocate", "COD", "URY", "military_expert", 240,
        referred(235, 230, (S.PATERNITY_ESTABLISHED, 120, {"basis": "acknowledgment"})),
        letters=[("received", 125)], informed=118,
    ),
    Story(
        "jean.advocate", "COD", "ZAF", "military_contingent", 500,
        referred(495, 490, *in_court(400, 380, 330, 250), ordered(100, "60.00", "USD", "monthly", 95)),
        letters=[("received", 420)], informed=90,
    ),
    Story(
        "amina.advocate", "CAF", "MAR", "military_contingent", 700,
        referred(690, 680, *in_court(600, 580, 500, 420), ordered(380, "25000.00", "XAF", "monthly", 365)),
        letters=[("received", 600)],
        payments=[("25000.00", 360), ("25000.00", 330), ("50000.00", 240), ("25000.00", 100)],
        informed=30,
    ),
    Story(
        "amina.advocate", "CAF", "TZA", "military_contingent", 420,
        referred(
            415, 410, *dna(330, 300, ("exclusion", 260)), (S.CLOSED, 255, {"reason": "father_excluded"})
        ),
        letters=[("received", 350)], informed=250,
    ),
    Story(
        "jean.advocate", "HTI", "BRA", "formed_police", 900,
        referred(
            890, 880, (S.PATERNITY_ESTABLISHED, 700, {"basis": "acknowledgment"}),
            ordered(650, "1500.00", "USD", "once", 640),
        ),
        letters=[("received", 760)], payments=[("1500.00", 600)], informed=500,
    ),
    # withdrawn by the victim, then reopened when she changed her mind
    Story(
        "amina.advocate", "CAF", "SEN", "civilian", 180,
        referred(175, 170, (S.CLOSED, 120, {"reason": "withdrawn"})),
        informed=10, reopen=12,
    ),
]
# fmt: on


# How claims go with a few member states (invented focal points and figures, for the demo only).
FRAMEWORK_FIELDS = (
    "member_state",
    "focal_point",
    "forum",
    "documents",
    "reply_days",
    "dna_days",
    "decision_days",
)
FRAMEWORKS = [
    (
        "BGD",
        "Permanent mission, legal adviser (demo)",
        "member_state_courts",
        "Birth certificate; DNA consent",
        30,
        90,
        240,
    ),
    (
        "PAK",
        "Permanent mission, military adviser (demo)",
        "member_state_courts",
        "Birth certificate",
        45,
        120,
        365,
    ),
    (
        "URY",
        "Ministry of Defence focal point (demo)",
        "agreement",
        "Mother's statement; child's photo",
        21,
        60,
        120,
    ),
    (
        "ZAF",
        "Department of Defence legal office (demo)",
        "host_state_courts",
        "Court filing; DNA consent",
        30,
        75,
        300,
    ),
]


def seed_frameworks(actor: User) -> None:
    """Member-state frameworks, shown on each claim with a father of that nationality."""
    for values in FRAMEWORKS:
        details: dict[str, Any] = dict(zip(FRAMEWORK_FIELDS, values, strict=True))
        frameworks.save_framework(actor=actor, laboratory="Regional forensic laboratory (demo)", **details)


def seed_claims(today: date | None = None) -> list[Claim]:
    """Claims at every step for the demo advocates' victims; nothing if they do not exist."""
    today = today or date.today()
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.like("%.advocate")))}
    senior = db.session.scalar(select(User).where(User.username == "grace.senior"))
    if senior is not None:
        seed_frameworks(senior)
    claims = []
    for number, story in enumerate(STORIES, start=1):
        actor = users.get(story.advocate)
        if actor is None:
            continue
        claims.append(_tell(actor, story, today, number))
    # the stories close the last one after resolving it: "resolved"
    resolved = next(
        (c for c in claims if c.current_step is S.PAYING and c.orders[0].frequency == "once"), None
    )
    if resolved is not None and resolved.created_by is not None:
        pipeline.advance(actor=resolved.created_by, claim=resolved, to=S.CLOSED, on=today, reason="resolved")
    return claims


def _tell(actor: User, story: Story, today: date, number: int) -> Claim:
    ago = lambda days: today - timedelta(days=days)  # noqa: E731 - reads best inline
    victim = identity.register_victim(
        actor=actor,
        country_code=story.country,
        sex="female",
        age_group="adult",
        name=f"Demo Mother {number}",
        registered_on=ago(story.opened + 30),
    )
    for purpose in story.consents:
        consents.record_consent(
            actor=actor,
            victim=victim,
            purpose=purpose,
            given_on=ago(story.opened),
            method="written",
            version="v1",
        )
    family.add_child(actor=actor, victim=victim, birth_date=ago(story.opened + 200), sex="unknown")
    claim = pipeline.open_claim(
        actor=actor,
        victim=victim,
        child_ids=[c.id for c in victim.children],
        father_name=f"Demo Father {number}",
        father_service_number=f"DEMO-{number:04d}",
        father_unit="Demo unit",
        father_nationality=story.nationality,
        father_category=story.category,
        opened_on=ago(story.opened),
    )
    letters = sorted(story.letters, key=lambda item: -item[1])
    payments = sorted(story.payments, key=lambda item: -item[1])
    for step, days, details in story.steps:
        for direction, when in [x for x in letters if x[1] > days]:
            correspondence.record_letter(
                actor=actor, claim=claim, direction=direction, dated_on=ago(when), channel="email"
            )
        letters = [x for x in letters if x[1] <= days]
        extra = dict(details)
        if "starts_on_days" in extra:
            extra["starts_on"] = ago(extra.pop("starts_on_days"))
        if step is S.CLOSED:
            for amount, when in payments:
                _pay(actor, claim, amount, ago(when))
            payments = []
        pipeline.advance(actor=actor, claim=claim, to=step, on=ago(days), **extra)
    for direction, when in letters:
        correspondence.record_letter(
            actor=actor, claim=claim, direction=direction, dated_on=ago(when), channel="email"
        )
    for amount, when in payments:
        _pay(actor, claim, amount, ago(when))
    if story.reopen is not None:
        pipeline.reopen(actor=actor, claim=claim, on=ago(story.reopen))
    if story.informed is not None and "contact" in story.consents:
        correspondence.inform_victim(
            actor=actor,
            claim=claim,
            occurred_on=ago(story.informed),
            channel="in_person",
            summary="Claim update.",
        )
    return claim


def _pay(actor: User, claim: Claim, amount: str, received_on: date) -> None:
    support.record_payment(
        actor=actor,
        claim=claim,
        amount=Decimal(amount),
        currency_code=claim.orders[-1].currency,
        received_on=received_on,
        route="through_member_state",
    )
