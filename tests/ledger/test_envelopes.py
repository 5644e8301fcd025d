"""A mission's rapid-response envelope (issue 18, item 6): opened by one fund manager, confirmed
by another; its payments post at once through the posting engine, past the four-eyes limits of
single payments, and are refused (never held) beyond what is left or the cap per victim, also
when made at the same moment from several threads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger.models import Entry, MissionEnvelope
from ledger.outflows import Outflow
from ledger.services import envelopes
from ledger.verify import verify
from tests.ledger.conftest import key, run_together
from vat.db import db
from vat.errors import Conflict, DomainError, NotAllowed

ON = date(2019, 2, 1)
TERMS = {
    "mission": "MINUSCA",
    "country_code": "CAF",
    "usd": Decimal("1000"),
    "victim_cap": Decimal("400"),
    "opens_on": date(2019, 1, 15),
    "closes_on": date(2019, 3, 31),
    "basis": "TFC decision 2019/04",
}


def opened(fund: Any, confirm: bool = True, **terms: Any) -> MissionEnvelope:
    envelope = envelopes.open_envelope(actor=fund.maker, **{**TERMS, **terms})
    if confirm:
        envelopes.confirm_envelope(actor=fund.second(), envelope=envelope)
    return envelope


def pay(fund: Any, envelope: MissionEnvelope, amount: str, case: str = "CAR-2019-0001", **kw: Any) -> Any:
    return envelopes.pay_urgent(
        actor=kw.get("actor", fund.maker),
        key=kw.get("key") or key(),
        envelope=envelope,
        case_code=case,
        amount=Decimal(amount),
        currency="USD",
        paid_on=kw.get("on", ON),
        purpose="medical evacuation",
    )


def test_an_envelope_is_opened_by_one_and_confirmed_by_another(fund):
    with pytest.raises(DomainError, match="more than the whole envelope"):
        opened(fund, victim_cap=Decimal("1001"))
    with pytest.raises(DomainError, match="closes before it opens"):
        opened(fund, closes_on=date(2019, 1, 1))
    with pytest.raises(DomainError, match="Name the mission"):
        opened(fund, mission=" ")
    envelope = opened(fund, confirm=False)
    with pytest.raises(NotAllowed, match="another fund manager"):
        envelopes.confirm_envelope(actor=fund.maker, envelope=envelope)
    envelopes.confirm_envelope(actor=fund.second(), envelope=envelope)
    assert envelope.checker_id == fund.second().id and envelope.confirmed_at is not None
    with pytest.raises(Conflict, match="already confirmed"):
        envelopes.confirm_envelope(actor=fund.second(), envelope=envelope)


def test_payments_post_at_once_within_the_envelope_and_are_refused_beyond(ctx, fund):
    ctx.config["LEDGER_VICTIM_CAP_USD"] = Decimal("100")  # a single payment of more would wait
    fund.contribute("5000")
    unconfirmed = opened(fund, confirm=False)
    with pytest.raises(DomainError, match="not confirmed"):
        pay(fund, unconfirmed, "50")
    envelope = opened(fund)
    with pytest.raises(DomainError, match="not open on that day"):
        pay(fund, envelope, "50", on=date(2019, 1, 14))
    first = pay(fund, envelope, "350")
    assert first.entry_id is not None and first.route == "mission" and first.envelope_id == envelope.id
    assert "TFC decision 2019/04" in (first.basis or "")
    with pytest.raises(DomainError, match="cap of US\\$400.00"):
        pay(fund, envelope, "50.01")
    pay(fund, envelope, "400", case="CAR-2019-0002")
    with pytest.raises(DomainError, match="Only US\\$250.00 is left"):
        pay(fund, envelope, "250.01", case="CAR-2019-0003")
    same = key()
    last = pay(fund, envelope, "250", case="CAR-2019-0003", key=same)
    assert pay(fund, envelope, "250", case="CAR-2019-0003", key=same).id == last.id  # the form again
    assert envelopes.paid_minor(envelope) == 100000
    # A payment reversed gives its room back.
    fund.reverse(db.session.get_one(Entry, first.entry_id), ON, "paid twice")
    assert envelopes.paid_minor(envelope) == 65000
    pay(fund, envelope, "350")
    statuses = db.session.scalars(select(Outflow.status).where(Outflow.kind == "direct_support"))
    assert set(statuses) == {"posted"}
    assert verify().problem is None


def test_concurrent_payments_cannot_overspend_the_envelope(ctx, fund):
    fund.contribute("5000")
    envelope_id = opened(fund, victim_cap=Decimal("300")).id
    db.session.commit()

    def paying(case: str) -> Any:
        return lambda actor: pay(
            fund, db.session.get_one(MissionEnvelope, envelope_id), "300", case, actor=actor
        )

    jobs = [(fund.maker.id, paying(f"CAR-2019-000{n}")) for n in range(5)]
    outcomes = run_together(ctx, jobs)
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok"] * 3 + ["refused"] * 2, outcomes
    db.session.expire_all()
    assert envelopes.paid_minor(db.session.get_one(MissionEnvelope, envelope_id)) == 90000
    assert db.session.scalar(select(func.count(Outflow.id))) == 3
    assert verify().problem is None
