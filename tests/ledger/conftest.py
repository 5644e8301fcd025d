"""Ledger fixtures: an app context with two fund managers, and helpers that book events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import select

from ledger import engine
from ledger.engine import EntryKind, Line
from ledger.models import (
    DirectSupport,
    Donor,
    DonorKind,
    Entry,
    ExchangeRate,
    Pledge,
    Project,
    ProjectFocus,
    ProjectStatus,
    Receipt,
    Withholding,
    WithholdingTransfer,
)
from ledger.services import contributions, corrections, grants, months, victim_support, withholdings
from ledger.views import contributions as contribution_pages
from ledger.views import direct_support, projects
from tests.conftest import all_at_once, signed_in_client
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.db import db
from vat.errors import DomainError

PASSWORD = "correct horse battery staple"
T = TypeVar("T")


def key() -> str:
    return uuid.uuid4().hex


def post_receipt(lines: list[Line]) -> Entry:
    """Book `lines` straight through the engine, as no user (the engine's own checks only)."""
    return engine.post(
        None,
        engine.Event(
            key=key(), payload={}, kind=EntryKind.RECEIPT, entry_date=date(2019, 1, 1), memo="", lines=lines
        ),
    )


@dataclass
class Fund:
    """Books events for a test with sensible defaults; every call mints a new key. The checker
    approves what needs a second fund manager; tests that only receive and pay need none."""

    maker: User
    checker: User | None = None

    def donor(self, country: str = "NOR") -> Donor:
        existing = db.session.scalar(select(Donor).where(Donor.country_code == country))
        return existing or contributions.create_donor(
            actor=self.maker, name="", kind=DonorKind.MEMBER_STATE, country_code=country
        )

    def rate(self, currency: str, month: date, rate: str, reason: str | None = "test") -> Any:
        """The month's rate, recorded by the maker and confirmed by the checker (four eyes)."""
        row = months.set_rate(
            actor=self.maker, currency=currency, month=month, rate=Decimal(rate), source="test", reason=reason
        )
        return months.confirm_rate(actor=self.second(), rate=row)

    def second(self) -> User:
        """The checker: a second fund manager, created when the test named none."""
        if self.checker is None:
            self.checker = auth.create_user(
                actor=None, username=f"checker{key()[:8]}", password=PASSWORD, role=Role.FUND_MANAGER
            )
        return self.checker

    def booked(self, service: Callable[..., T], **details: Any) -> T:
        """`service` called by the maker under a new key, as each booking is a new request."""
        return service(actor=self.maker, key=key(), **details)

    def contribute(
        self, amount: str = "100000", on: date = date(2019, 1, 10), donor: Donor | None = None
    ) -> Receipt:
        """Unpledged US dollars received (from Norway unless another donor is named)."""
        return self.receive(donor or self.donor(), amount, on, bank_reference="BANK-1")

    def pledge(
        self, donor: Donor, amount: str, on: date, currency: str = "USD", reference: str | None = None
    ) -> Pledge:
        return self.booked(
            contributions.record_pledge,
            donor=donor,
            currency=currency,
            amount=Decimal(amount),
            pledged_on=on,
            reference=reference,
        )

    def receive(
        self,
        donor: Donor,
        amount: str,
        on: date,
        currency: str = "USD",
        pledge: Pledge | None = None,
        bank_reference: str = "B",
        rate: str | None = None,
    ) -> Receipt:
        if rate is not None and currency != "USD":
            known = db.session.scalar(
                select(ExchangeRate).where(
                    ExchangeRate.currency == currency, ExchangeRate.month == on.replace(day=1)
                )
            )
            if known is None:
                self.rate(currency, on, rate, reason="test")
        return self.booked(
            contributions.record_receipt,
            donor=donor,
            pledge=pledge,
            amount=Decimal(amount),
            currency=currency,
            received_on=on,
            bank_reference=bank_reference,
            rate=None if rate is None else Decimal(rate),
        )

    def reverse(self, entry: Entry, on: date, reason: str) -> Entry:
        return self.booked(corrections.reverse_entry, entry=entry, on=on, reason=reason)

    def withhold(self, ref: str, country: str, amount: str, on: date, currency: str = "USD") -> Withholding:
        return self.booked(
            withholdings.record_withholding,
            allegation_ref=ref,
            country_code=country,
            amount=Decimal(amount),
            decided_on=on,
            currency=currency,
        )

    def transfer(
        self, withholding: Withholding, amount: str, on: date, reference: str = "T"
    ) -> WithholdingTransfer:
        return self.booked(
            withholdings.record_withholding_transfer,
            withholding=withholding,
            amount=Decimal(amount),
            transferred_on=on,
            reference=reference,
        )

    def project(
        self,
        amount: str = "50000",
        on: date = date(2019, 2, 1),
        currency: str = "USD",
        *,
        until: date = date(2020, 1, 31),
        **terms: Any,
    ) -> Project:
        """A CAF project approved on `on` and planned to start that day; `terms` may name its
        title, partner, focus, planned start and beneficiaries' case codes."""
        defaults = {"title": "Livelihoods", "partner": "IRC", "focus": ProjectFocus.INCOME_GENERATION}
        return self.booked(
            grants.approve_project,
            country_code="CAF",
            currency=currency,
            amount=Decimal(amount),
            approved_on=on,
            planned_end=until,
            **{**defaults, "planned_start": on, **terms},
        )

    def start(self, project: Project, on: date, victims: int) -> Project:
        """The project is under way since `on` (no money moves)."""
        return grants.update_project(
            actor=self.maker,
            project=project,
            status=ProjectStatus.ONGOING,
            actual_start=on,
            actual_end=None,
            victims_supported=victims,
        )

    def disburse(self, project: Project, amount: str, on: date = date(2019, 3, 1), **kw: Any) -> Any:
        """A tranche of `project` paid on `on` (`actor`, `key`, `reference` and `victim_payments`
        may be given)."""
        return grants.request_disbursement(
            actor=kw.get("actor", self.maker),
            key=kw.get("key") or key(),
            project=project,
            amount=Decimal(amount),
            paid_on=on,
            reference=kw.get("reference", "PAY-1"),
            victim_payments=kw.get("victim_payments", ()),
        )

    def pay(
        self,
        case_code: str,
        amount: str,
        on: date = date(2019, 2, 1),
        purpose: str = "rent",
        currency: str = "USD",
        **kw: Any,
    ) -> DirectSupport:
        """Direct support to one victim (`actor` and `country_code` may be given)."""
        return victim_support.pay_direct_support(
            actor=kw.get("actor", self.maker),
            key=key(),
            case_code=case_code,
            amount=Decimal(amount),
            currency=currency,
            paid_on=on,
            purpose=purpose,
            country_code=kw.get("country_code"),
            route=kw.get("route", "mission"),
            project_id=kw.get("project_id"),
            basis=kw.get("basis", "TFC decision 2019/01"),
        )


def run_together(app: Flask, jobs: list[tuple[int, Callable[[User], object]]]) -> list[str]:
    """Start every (user id, job) at once, each in a thread with its own session, the job given
    that user and its transaction committed; return the outcomes ("ok" or "refused: ...")."""

    def outcome(user_id: int, job: Callable[[User], object]) -> str:
        with app.app_context():
            try:
                job(db.session.get_one(User, user_id))
                db.session.commit()
                return "ok"
            except DomainError as error:
                db.session.rollback()
                return f"refused: {error}"
            finally:
                db.session.remove()

    return all_at_once([partial(outcome, user_id, job) for user_id, job in jobs])


@pytest.fixture
def manager(login: Any) -> User:
    """The test client's user: a fund manager with no country scope."""
    return login(Role.FUND_MANAGER, "")


@pytest.fixture
def checker(app: Flask, make_user: Any) -> Any:
    """A second test client, signed in as another fund manager (the four eyes' second pair)."""
    client = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    return client


@pytest.fixture
def two_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """The donors', projects' and direct support's lists two rows a page."""
    for page_module in (contribution_pages, direct_support, projects):
        monkeypatch.setattr(page_module, "LIST_PAGE", 2)


@pytest.fixture
def fund(ctx: Flask) -> Fund:
    users = [
        auth.create_user(actor=None, username=f"fund{n}", password=PASSWORD, role=Role.FUND_MANAGER)
        for n in (1, 2)
    ]
    db.session.commit()
    return Fund(*users)


@pytest.fixture(autouse=True)
def ledger_alone(request: pytest.FixtureRequest, app: Flask) -> Iterator[None]:
    """Ledger tests pay invented case codes and withhold for invented allegations: the app's
    links that record each direct-support payment as the victim's assistance (which refuses
    unknown case codes) and check each withholding against its allegation are off here, except
    in tests marked `linked_domains`."""
    import vat
    from vat.allegations.services import check_withholding
    from vat.victims.assistance import cancel_trust_fund_support, record_trust_fund_support

    if request.node.get_closest_marker("linked_domains"):
        yield
        return
    victim_support.direct_support_paid.disconnect(vat._without_sender(record_trust_fund_support))
    victim_support.direct_support_reversed.disconnect(vat._without_sender(cancel_trust_fund_support))
    withholdings.withholding_requested.disconnect(check_withholding)
    try:
        yield
    finally:
        vat.connect_domains()
