"""KWD 12.345 and JPY 1,200 on the victim side: an assistance cost, and a direct-support payment
booked by the ledger that records the victim's assistance; KWD 12.3456 is refused."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.db import db
from vat.inputs import InvalidField
from vat.victims import assistance
from vat.victims.models import Assistance


def forty_days_ago() -> date:
    return date.today() - timedelta(days=40)


def completed(**values: Any) -> dict[str, Any]:
    return {
        "service_type": "material",
        "status": "completed",
        "referral_date": forty_days_ago(),
        "start_date": forty_days_ago(),
        "end_date": forty_days_ago(),
        "funding_source": "agency",
        **values,
    }


def test_assistance_costs_keep_their_currency_decimals(actor: User) -> None:
    victim = register(actor)
    kwd = assistance.record_assistance(actor=actor, victim=victim, **completed(cost="12.345", currency="KWD"))
    jpy = assistance.record_assistance(actor=actor, victim=victim, **completed(cost="1,200", currency="JPY"))
    with pytest.raises(InvalidField, match="KWD amounts have at most 3 decimal places") as refused:
        assistance.record_assistance(actor=actor, victim=victim, **completed(cost="12.3456", currency="KWD"))
    assert refused.value.field == "cost"
    db.session.commit()
    db.session.expire_all()
    assert (kwd.cost, kwd.cost_minor, jpy.cost, jpy.cost_minor) == (Decimal("12.345"), 12345, 1200, 1200)
    assistance.update_assistance(
        actor=actor, victim=victim, service=jpy, **completed(cost="7.125", currency="KWD")
    )
    assert (jpy.cost, jpy.cost_minor, jpy.currency) == (Decimal("7.125"), 7125, "KWD")


def test_a_kwd_direct_support_payment_is_the_victims_assistance(actor: User, make_user) -> None:  # type: ignore[no-untyped-def]
    from ledger.models import DonorKind
    from ledger.services import contributions
    from tests.ledger.conftest import Fund

    victim = register(actor)
    db.session.commit()
    manager = db.session.get(User, make_user(Role.FUND_MANAGER, "").id)
    fund = Fund(manager)
    donor = contributions.create_donor(actor=manager, name="Donor K", kind=DonorKind.OTHER)
    fund.rate("KWD", forty_days_ago().replace(day=1), "0.30")
    fund.receive(donor, "1000.000", forty_days_ago(), currency="KWD", bank_reference="BR-K")
    payment = fund.pay(victim.case_code, "12.345", forty_days_ago(), purpose="school fees", currency="KWD")
    assert payment.amount_minor == 12345
    service = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == payment.entry_id))
    assert service is not None and (service.cost, service.currency) == (Decimal("12.345"), "KWD")
    with pytest.raises(InvalidField, match="KWD amounts have at most 3 decimal places"):
        fund.pay(victim.case_code, "12.3456", forty_days_ago(), purpose="school fees", currency="KWD")


def test_the_assistance_form_takes_kwd_and_refuses_a_fourth_decimal(
    app: Flask, client: FlaskClient, own_victim: int
) -> None:
    form = {
        "service_type": "medical",
        "status": "completed",
        "referral_date": forty_days_ago().isoformat(),
        "start_date": forty_days_ago().isoformat(),
        "end_date": forty_days_ago().isoformat(),
        "funding_source": "agency",
        "currency": "KWD",
    }
    refused = client.post(f"/vat/victims/{own_victim}/assistance/new", data={**form, "cost": "12.3456"})
    assert refused.status_code == 200
    assert "KWD amounts have at most 3 decimal places." in refused.get_data(as_text=True)
    saved = client.post(f"/vat/victims/{own_victim}/assistance/new", data={**form, "cost": "12.345"})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Assistance.cost_minor)).all() == [12345]
