"""Fixtures for claims: victims with children and consents, and claims at any step."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from tests.vat.conftest import give_consents
from vat.auth.models import Role, User
from vat.claims import listing, pipeline, support, waits
from vat.claims.history import IllegalMove
from vat.claims.models import Claim, ClaimStep, Letter, Payment, SupportOrder
from vat.db import db
from vat.victims import family, identity
from vat.victims.models import Victim

S = ClaimStep
CONSENTS = ("share_member_state", "dna_testing", "contact", "paternity_disclosure")

# The details each step needs to be entered (the state machine test uses them for every move).
DETAILS: dict[ClaimStep, dict[str, Any]] = {
    S.CONSENT_OBTAINED: {},
    S.REFERRED: {"channel": "permanent_mission", "reference": "NV/2026/17"},
    S.DNA_REQUESTED: {},
    S.SAMPLES_TAKEN: {},
    S.FATHER_UNAVAILABLE: {"obstacle": "refused_sampling"},
    S.DNA_RESULT: {"result": "match"},
    S.PATERNITY_ESTABLISHED: {"basis": "acknowledgment"},
    S.SUPPORT_ORDERED: {"amount": Decimal("50.00"), "currency": "USD", "frequency": "monthly"},
    S.CLOSED: {"reason": "unresolved"},
}
PATH = [
    S.CONSENT_OBTAINED,
    S.REFERRED,
    S.DNA_REQUESTED,
    S.SAMPLES_TAKEN,
    S.DNA_RESULT,
    S.PATERNITY_ESTABLISHED,
    S.SUPPORT_ORDERED,
    S.PAYING,
]


@pytest.fixture
def advocate(ctx: Flask, make_user: Callable[..., Any]) -> User:
    user = make_user(Role.ADVOCATE, "CAF")
    return db.session.get(User, user.id)


@pytest.fixture
def claim_id(app: Flask, make_user: Callable[..., Any]) -> int:
    """A claim at "support order" (50.00 USD a month) for a victim in CAF, recorded by its own
    advocate (for the pages' tests)."""
    owner = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        claim = claim_at(db.session.get(User, owner.id), S.SUPPORT_ORDERED)
        db.session.commit()
        return claim.id


def new_victim(
    actor: User, *, country: str = "CAF", consents: tuple[str, ...] = CONSENTS, children: int = 1
) -> Victim:
    victim = identity.register_victim(
        actor=actor,
        country_code=country,
        sex="female",
        name="Amani Test",
        registered_on=date.today() - timedelta(days=400),
    )
    give_consents(actor, victim, consents, given_on=date.today() - timedelta(days=300), version="v1")
    for _ in range(children):
        family.add_child(
            actor=actor, victim=victim, birth_date=date.today() - timedelta(days=200), sex="male"
        )
    return victim


def open_claim(actor: User, victim: Victim, **values: Any) -> Claim:
    values = {
        "child_ids": [c.id for c in victim.children],
        "father_name": "Sgt Example",
        "father_service_number": "SN-1234",
        "father_unit": "3rd Battalion",
        "father_nationality": "BGD",
        "father_category": "military_contingent",
        "opened_on": date.today() - timedelta(days=100),
        **values,
    }
    return pipeline.open_claim(actor=actor, victim=victim, **values)


def claim_at(
    actor: User,
    step: ClaimStep,
    *,
    dna_result: str = "match",
    victim: Victim | None = None,
    opened_on: date | None = None,
) -> Claim:
    """A claim walked along the usual path up to `step` (CLOSED: closed from "recorded"), every
    step dated the day the claim was opened (100 days ago unless told)."""
    opened_on = opened_on or date.today() - timedelta(days=100)
    claim = open_claim(actor, victim or new_victim(actor), opened_on=opened_on)
    if step is S.CLOSED:
        pipeline.advance(actor=actor, claim=claim, to=S.CLOSED, on=opened_on, reason="unresolved")
        return claim
    if step is S.FATHER_UNAVAILABLE:
        for target in (S.CONSENT_OBTAINED, S.REFERRED, S.FATHER_UNAVAILABLE):
            pipeline.advance(actor=actor, claim=claim, to=target, on=opened_on, **DETAILS[target])
        return claim
    for target in PATH:
        if claim.current_step is step:
            break
        if target is S.PAYING:
            pay(actor, claim)
            continue
        details = dict(DETAILS[target])
        if target is S.DNA_RESULT:
            details["result"] = dna_result
        if target is S.PATERNITY_ESTABLISHED:
            details["basis"] = "court_decision"
        pipeline.advance(actor=actor, claim=claim, to=target, on=opened_on, **details)
    assert claim.current_step is step
    return claim


Change = Callable[[User, Claim], object]


def taking_turns(
    app: Flask, make_user: Callable[..., Any], step: ClaimStep, first: Change, second: Change
) -> int:
    """A claim at `step` and two CAF advocates changing it at once, each in a request and a
    transaction of their own: the first takes the claim's row and holds it, uncommitted, while the
    second arrives and waits for it; each commits in turn. The claim's id; whatever either request
    raised fails the test."""
    users = [make_user(Role.ADVOCATE, "CAF").id for _ in range(2)]
    with app.app_context():
        claim_id = claim_at(db.session.get_one(User, users[0]), step).id
        db.session.commit()
    holding = threading.Event()
    errors: list[BaseException] = []

    def change_in_a_request(user_id: int, change: Change, hold: bool) -> None:
        try:
            with app.test_request_context():
                actor = db.session.get_one(User, user_id)
                claim = listing.get_claim(actor, claim_id, for_update=True)
                assert claim is not None
                change(actor, claim)
                if hold:
                    holding.set()
                    time.sleep(0.5)  # the other request arrives while this one holds the claim
                db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    holder = threading.Thread(target=change_in_a_request, args=(users[0], first, True))
    holder.start()
    holding.wait(5)
    waiter = threading.Thread(target=change_in_a_request, args=(users[1], second, False))
    waiter.start()
    holder.join(10)
    waiter.join(10)
    assert not errors, errors
    return claim_id


def refuse_move(
    actor: User, claim: Claim, to: ClaimStep, match: str, error: type[Exception] = IllegalMove, **details: Any
) -> None:
    """Moving `claim` to `to` is refused with a message matching `match`, and the claim stays at
    its step."""
    step = claim.current_step
    with pytest.raises(error, match=match):
        pipeline.advance(actor=actor, claim=claim, to=to, **details)
    assert claim.current_step is step


def order_support(actor: User, claim: Claim, **terms: Any) -> Any:
    """Move the claim to SUPPORT_ORDERED under an order with these terms (amount, currency...)."""
    return pipeline.advance(actor=actor, claim=claim, to=S.SUPPORT_ORDERED, **terms)


def pay(actor: User, claim: Claim, amount: str = "50.00", **values: Any) -> Any:
    return support.record_payment(
        actor=actor,
        claim=claim,
        amount=Decimal(amount),
        currency_code=values.pop("currency_code", "USD"),
        received_on=values.pop("received_on", claim.step_on),
        route=values.pop("route", "bank_transfer"),
        **values,
    )


# Histories the claims list and the claims report both count, as at 30 June 2021 (each test works
# its figures out by hand): a monthly USD order with a payment, a waiting letter sent the day a
# reply came; EUR orders replaced, all paid, answered; a lump sum unpaid.
MONTHLY_USD = {
    "letters": [("sent", date(2020, 7, 1)), ("received", date(2020, 8, 1)), ("sent", date(2020, 8, 1))],
    "orders": [("100.00", "USD", "monthly", date(2021, 1, 31))],  # 31 Jan, 28 Feb ... 30 Jun: 600
    "payments": [("250.00", "USD", date(2021, 3, 1))],
}
EUR_PAID = {
    "letters": [("sent", date(2019, 2, 1)), ("received", date(2019, 3, 1))],
    "orders": [
        ("300.00", "EUR", "quarterly", date(2020, 1, 15)),  # 4 quarters until the next order: 1,200
        ("1000.00", "EUR", "yearly", date(2021, 1, 15)),  # 1,000
    ],
    "payments": [("2200.00", "EUR", date(2021, 2, 1))],
}
LUMP_SUM_UNPAID = {"orders": [("500.00", "USD", "once", date(2018, 6, 1))]}


def support_order(
    amount: str, currency: str, frequency: str, starts_on: date, ends_on: date | None = None
) -> SupportOrder:
    """An order made the day it starts, not yet added to a claim."""
    return SupportOrder(
        ordered_on=starts_on,
        amount=Decimal(amount),
        currency=currency,
        frequency=frequency,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def build_claim(
    victim: Victim,
    member_state: str,
    step: ClaimStep,
    opened: date,
    step_on: date | None = None,
    *,
    letters: tuple[tuple[str, date], ...] | list[tuple[str, date]] = (),
    orders: tuple[tuple[str, str, str, date], ...] | list[tuple[str, str, str, date]] = (),
    payments: tuple[tuple[str, str, date], ...] | list[tuple[str, str, date]] = (),
    **values: Any,
) -> Claim:
    """A claim written straight to its tables, at `step` since `step_on` (the day it was opened
    unless told), without walking the pipeline: a hand-built history whose figures a test works
    out by hand. Letters are (direction, date), orders (amount, currency, frequency, start) and
    payments (amount, currency, date); `values` set other columns (a closing reason)."""
    step_on = step_on or opened
    claim = Claim(
        victim=victim,
        member_state=member_state,
        father_category="military_contingent",
        step=step,
        step_on=step_on,
        step_recorded_on=step_on,
        opened_on=opened,
        closed_on=step_on if step == S.CLOSED else None,
        **values,
    )
    for direction, on in letters:
        claim.letters.append(Letter(direction=direction, dated_on=on, channel="note_verbale"))
    claim.waiting_since = waits.first_unanswered(claim.letters)  # in the order given
    for amount, currency, frequency, starts in orders:
        claim.orders.append(support_order(amount, currency, frequency, starts))
    for amount, currency, on in payments:
        claim.payments.append(
            Payment(amount=Decimal(amount), currency=currency, received_on=on, route="other")
        )
    db.session.add(claim)
    db.session.flush()
    return claim
