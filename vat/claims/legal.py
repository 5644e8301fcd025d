"""A claim as a case at law and as the care around it: the applicable law and the forum, the
victim's legal representation, the case's dates, the DNA test's cost and who paid it, the child
linked once born (a claim opened during pregnancy), and the interim support to mother and child.

Money is never booked here: interim support is a service already on the victim's file (the fund's
payments reach it only through the ledger's posting service); the DNA cost is a fact recorded,
paid by someone else's books.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vat import money
from vat.auth.actor import Actor
from vat.claims.history import audit_claim, change_claim
from vat.claims.models import COURT_BASES, Claim, CostPayer, Forum, Representation
from vat.db import db
from vat.inputs import InvalidField, choice, clean_text, country, each_field, past_date, refuse_all, today
from vat.plausibility import Usual
from vat.victims import family
from vat.victims.models import Assistance, Child

# A hearing is often set months ahead; beyond this it is a typing mistake.
HEARING_HORIZON_DAYS = 3 * 366


def record_legal(
    *,
    actor: Actor,
    claim: Claim,
    applicable_law: str | None = None,
    forum: str | None = None,
    representation: str | None = None,
    represented_by: str | None = None,
    filed_on: date | None = None,
    hearing_on: date | None = None,
    judgment_on: date | None = None,
) -> Claim:
    """The case at law: which country's law applies, where it is decided, who represents the
    victim (counsel, or legal aid and by whom), and the filing, hearing and judgment dates."""
    cleaned = each_field(
        {
            "applicable_law": lambda: country("applicable_law", applicable_law, required=False),
            "forum": lambda: choice("forum", forum, Forum) if forum else None,
            "representation": lambda: (
                choice("representation", representation, Representation) if representation else None
            ),
            "represented_by": lambda: clean_text("represented_by", represented_by, max_length=200),
            "filed_on": lambda: past_date("filed_on", filed_on),
            "hearing_on": lambda: _hearing(hearing_on),
            "judgment_on": lambda: past_date("judgment_on", judgment_on),
        }
    )
    refuse_all(_legal_rules(claim, cleaned))
    return change_claim("claim.legal", actor=actor, claim=claim, values=cleaned)


def _hearing(hearing_on: date | None) -> date | None:
    """A hearing may be ahead, but not beyond the horizon a court lists its hearings."""
    if hearing_on is not None and (
        hearing_on.year < 1900 or hearing_on > today() + timedelta(days=HEARING_HORIZON_DAYS)
    ):
        raise InvalidField("hearing_on", _l("Give the date of the hearing."))
    return hearing_on


def _legal_rules(claim: Claim, cleaned: dict[str, Any]) -> list[InvalidField]:
    """The rules between the case's fields, each broken one a refusal."""
    broken = []
    if cleaned["represented_by"] and cleaned["representation"] in (None, Representation.NONE):
        broken.append(InvalidField("representation", _l("Say whether it is counsel or legal aid.")))
    if cleaned["representation"] == Representation.LEGAL_AID and not cleaned["represented_by"]:
        broken.append(InvalidField("represented_by", _l("Say who gives the legal aid.")))
    filed = cleaned["filed_on"]
    for later in ("hearing_on", "judgment_on"):
        if filed is not None and cleaned[later] is not None and cleaned[later] < filed:
            broken.append(InvalidField(later, _l("This date cannot come before the filing.")))
    if cleaned["forum"] == Forum.AGREEMENT and claim.paternity_basis in COURT_BASES:
        broken.append(
            InvalidField("forum", _l("A court established paternity on this claim: the forum is a court."))
        )
    return broken


DNA_COSTS = Usual(
    "dna_cost",
    _l("DNA test costs"),
    lambda c: select(Claim.dna_cost_minor).where(
        Claim.dna_cost_currency == c, Claim.dna_cost_minor.is_not(None)
    ),
)


def record_dna_cost(
    *, actor: Actor, claim: Claim, amount: Any, currency: str | None, paid_by: str | None
) -> Claim:
    """What the DNA test cost, in its currency's exponent, and who paid it."""
    checked = each_field(
        {
            "currency": lambda: money.currency("currency", currency),
            "amount": lambda: money.amount("amount", amount, money.known(currency)),
            "paid_by": lambda: _paid_by(paid_by),
        }
    )
    code, value = checked["currency"], checked["amount"]
    claim.dna_cost_currency = code
    claim.dna_cost = value
    claim.dna_cost_paid_by = checked["paid_by"]
    db.session.flush()
    audit_claim(
        "claim.dna_cost",
        actor=actor,
        claim=claim,
        amount=value,
        currency=code,
        paid_by=claim.dna_cost_paid_by,
    )
    return claim


def _paid_by(paid_by: str | None) -> str:
    if not paid_by:
        raise InvalidField("paid_by", _l("Say who paid for the DNA test."))
    return choice("paid_by", paid_by, CostPayer)


def link_child(
    *,
    actor: Actor,
    claim: Claim,
    child_id: int | None = None,
    birth_date: date | None = None,
    sex: str | None = None,
) -> Child:
    """Link the child the claim is for: one already on the victim's file, or the child just born
    (recorded on the victim's file here). The expected birth date stays as it was recorded."""
    if child_id is not None:
        child = next((c for c in claim.victim.children if c.id == child_id), None)
        if child is None:
            raise InvalidField("child_id", _l("Choose one of this victim's children."))
        if child in claim.children:
            raise InvalidField("child_id", _l("This child is already linked to the claim."))
    else:
        if birth_date is None:
            raise InvalidField("birth_date", _l("Give the child's date of birth."))
        child = family.add_child(actor=actor, victim=claim.victim, birth_date=birth_date, sex=sex)
    claim.children.append(child)
    db.session.flush()
    audit_claim("claim.link_child", actor=actor, claim=claim, child=child.id)
    return child


def link_support(*, actor: Actor, claim: Claim, assistance_id: int) -> Assistance:
    """Link a service given to the victim (medical, material care, shelter...) to the claim, as
    interim support to mother and child while the claim goes on."""
    service = next((s for s in claim.victim.services if s.id == assistance_id), None)
    if service is None:
        raise InvalidField("assistance_id", _l("Choose one of this victim's services."))
    if service in claim.interim_support:
        raise InvalidField("assistance_id", _l("This service is already linked to the claim."))
    claim.interim_support.append(service)
    db.session.flush()
    audit_claim("claim.link_support", actor=actor, claim=claim, service=service.id)
    return service


def unlinked_services(claim: Claim) -> list[Assistance]:
    return [s for s in claim.victim.services if s not in claim.interim_support]


def unlinked_children(claim: Claim) -> list[Child]:
    return [c for c in claim.victim.children if c not in claim.children]
