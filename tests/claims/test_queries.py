"""The claims list and a claim's page cost the same number of statements however much they hold."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert

from tests.claims.conftest import S, claim_at, new_victim, pay
from tests.statements import counting
from vat.auth.models import Role, User
from vat.claims import correspondence, listing, waits
from vat.claims.models import Claim, Letter, Payment, SupportOrder
from vat.db import db


def add_claims(app, user_id: int, how_many: int) -> int:
    with app.app_context():
        actor = db.session.get(User, user_id)
        for _ in range(how_many):
            claim = claim_at(actor, S.PAYING)
            correspondence.record_letter(
                actor=actor, claim=claim, direction="sent", dated_on=date.today(), channel="email"
            )
            for days in (3, 2, 1):
                pay(actor, claim, "10.00", received_on=date.today() - timedelta(days=days))
        db.session.commit()
        return claim.id


def test_list_and_page_queries_do_not_grow(app, client, login):
    user = login(Role.ADVOCATE, "CAF")
    small = add_claims(app, user.id, 1)
    with counting(app) as few:
        assert client.get("/vat/claims/").status_code == 200
    with counting(app) as page_small:
        assert client.get(f"/vat/claims/{small}").status_code == 200
    large = add_claims(app, user.id, 12)
    with app.app_context():
        actor = db.session.get(User, user.id)
        claim = listing.get_claim(actor, large)
        for days in range(20):
            pay(actor, claim, "1.00", received_on=date.today() - timedelta(days=days % 3))
        db.session.commit()
    with counting(app) as many:
        assert client.get("/vat/claims/").status_code == 200
    with counting(app) as page_large:
        assert client.get(f"/vat/claims/{large}").status_code == 200
    assert len(few) == len(many), (len(few), len(many))
    assert len(page_small) == len(page_large), (len(page_small), len(page_large))


def bulk_claims(app, user_id: int, how_many: int) -> None:
    """`how_many` claims for one victim in the user's scope, each with a letter sent and one
    answered, a monthly order and a payment, inserted in bulk (a few statements, not services)."""
    with app.app_context():
        victim = new_victim(db.session.get(User, user_id), children=0)
        opened = date.today() - timedelta(days=400)
        ids = db.session.scalars(
            insert(Claim).returning(Claim.id, sort_by_parameter_order=True),
            [
                {
                    "victim_id": victim.id,
                    "member_state": "BGD",
                    "father_category": "military_contingent",
                    "step": S.PAYING.value,
                    "step_on": opened,
                    "step_recorded_on": opened,
                    "opened_on": opened + timedelta(days=n % 300),
                }
                for n in range(how_many)
            ],
        ).all()
        db.session.execute(
            insert(Letter),
            [
                {"claim_id": claim_id, "direction": direction, "dated_on": opened, "channel": "email"}
                for claim_id in ids
                for direction in ("sent", "received", "sent")
            ],
        )
        db.session.execute(
            insert(SupportOrder),
            [
                {
                    "claim_id": claim_id,
                    "ordered_on": opened,
                    "amount_minor": 2000,  # USD 20.00
                    "currency": "USD",
                    "frequency": "monthly",
                    "starts_on": opened,
                }
                for claim_id in ids
            ],
        )
        db.session.execute(
            insert(Payment),
            [
                {
                    "claim_id": claim_id,
                    "amount_minor": 2000,  # USD 20.00
                    "currency": "USD",
                    "received_on": opened,
                    "route": "other",
                }
                for claim_id in ids
            ],
        )
        waits.rebuild()  # the letters were written around the service that keeps the waits
        db.session.commit()


def test_the_claims_list_costs_the_same_statements_for_3_and_for_603_claims(app, client, login):
    user = login(Role.SENIOR_ADVOCATE, "CAF")
    bulk_claims(app, user.id, 3)
    with counting(app) as few:
        page = client.get("/vat/claims/").get_data(as_text=True)
    assert "3 claims, oldest waiting first." in page
    bulk_claims(app, user.id, 600)  # more than a selectin chunk (500) of claims, orders, payments
    with counting(app) as many:
        page = client.get("/vat/claims/?page=2").get_data(as_text=True)
    assert "603 claims, oldest waiting first." in page and "Page 2 of 13" in page
    assert len(few) == len(many), (len(few), len(many))
    assert len(many) <= 16, many
