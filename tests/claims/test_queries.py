"""The claims list and a claim's page cost the same number of statements however much they hold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event

from tests.claims.conftest import S, claim_at, pay
from vat.auth.models import Role, User
from vat.claims import services
from vat.db import db


@contextmanager
def counting(app) -> Iterator[list[str]]:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_claims(app, user_id: int, how_many: int) -> int:
    with app.app_context():
        actor = db.session.get(User, user_id)
        for _ in range(how_many):
            claim = claim_at(actor, S.PAYING)
            services.record_letter(
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
        claim = services.get_claim(actor, large)
        for days in range(20):
            pay(actor, claim, "1.00", received_on=date.today() - timedelta(days=days % 3))
        db.session.commit()
    with counting(app) as many:
        assert client.get("/vat/claims/").status_code == 200
    with counting(app) as page_large:
        assert client.get(f"/vat/claims/{large}").status_code == 200
    assert len(few) == len(many), (len(few), len(many))
    assert len(page_small) == len(page_large), (len(page_small), len(page_large))
