"""When each claim's wait on its member state began (`vat_claim.waiting_since`): the date of the
first letter sent to it that no reply follows, by date then by the order recorded (None: nothing
unanswered). Kept exact in the transaction that adds a letter (`add_letter`; letters are never
edited, and go only with their claim), so the claims list's order and the dashboard's waits and
flags read a column of the claim instead of searching every claim's letters. One definition,
twice: `first_unanswered` over a claim's letters, and its SQL twin `_from_letters`, which
`differences` and `rebuild` compare with and recompute from (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from vat.claims.models import Claim, Letter, LetterDirection
from vat.db import db

NAME = "claim waits"


def first_unanswered(letters: Iterable[Letter]) -> date | None:
    """The date of the first letter sent after the last reply (by date, then by the order
    recorded): when the wait on the member state began (None: nothing unanswered)."""
    since: date | None = None
    for letter in sorted(letters, key=lambda x: (x.dated_on, x.id or 0)):
        if letter.direction == LetterDirection.RECEIVED:
            since = None
        elif since is None:
            since = letter.dated_on
    return since


def add_letter(claim: Claim, letter: Letter) -> None:
    """Add the letter to the claim and keep when the claim's wait began, in this transaction (the
    claim's row is locked by the request that changes it, so two letters at once take turns)."""
    claim.letters.append(letter)
    db.session.flush()  # the letter's id orders it after those of the same day
    claim.waiting_since = first_unanswered(claim.letters)


def _from_letters() -> Any:
    """`first_unanswered` in SQL, per claim: a correlated scalar subquery over its letters."""
    sent, reply = aliased(Letter), aliased(Letter)
    later_reply = exists().where(
        reply.claim_id == sent.claim_id,
        reply.direction == LetterDirection.RECEIVED.value,
        or_(reply.dated_on > sent.dated_on, and_(reply.dated_on == sent.dated_on, reply.id > sent.id)),
    )
    return (
        select(func.min(sent.dated_on))
        .where(sent.claim_id == Claim.id, sent.direction == LetterDirection.SENT.value, ~later_reply)
        .scalar_subquery()
    )


def differences() -> list[str]:
    """Each claim whose kept start of the wait differs from what its letters say."""
    computed = _from_letters()
    query = (
        select(Claim.id, Claim.waiting_since, computed)
        .where(Claim.waiting_since.is_distinct_from(computed))
        .order_by(Claim.id)
    )
    return [
        f"{NAME}: claim {claim_id} waits since {kept}; its letters say since {since}"
        for claim_id, kept, since in db.session.execute(query)
    ]


def rebuild() -> int:
    """Write every claim's start of the wait anew from its letters; how many claims there are."""
    db.session.execute(
        update(Claim).values(waiting_since=_from_letters()).execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(Claim)) or 0)
