"""The fund's history at the scale of DOMAIN.md, for demonstrations: 20 member-state donors,
about US$2.5 million of income of which about US$600,000 withheld from contributing countries
(much of it transferred late), and 12 projects in the DRC, the CAR and Liberia. Invented figures,
booked through the services like any other entry.

The tables below are written as seen on ANCHOR; every date moves by the days from ANCHOR to the
day the demo is seeded, so the history ends today: exchange rates up to this month (a booking in
a foreign currency works at once), projects on and behind schedule, recent direct support."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import func, select

from ledger.models import DonorKind, Entry, ProjectFocus, ProjectStatus
from ledger.outflows import Outflow, OutflowKind
from ledger.services import contributions, four_eyes, grants, months, victim_support, withholdings
from vat import inputs
from vat.auth.models import Role, User
from vat.db import db

D = Decimal

# Units per US dollar around 2016–2020; each month drifts a little from these.
BASE_RATES = {
    "EUR": D("0.89"),
    "GBP": D("0.77"),
    "JPY": D("110.5"),
    "CHF": D("0.99"),
    "NOK": D("8.5"),
    "AUD": D("1.36"),
    "CAD": D("1.31"),
}

# donor (ISO 3166 alpha-3), currency, amount pledged, date pledged, share received, instalments
PLEDGES = [
    ("NOR", "NOK", D("2000000"), date(2016, 9, 15), D("1"), 2),
    ("JPN", "JPY", D("30000000"), date(2016, 11, 2), D("1"), 1),
    ("DEU", "EUR", D("180000"), date(2017, 1, 20), D("1"), 2),
    ("GBR", "GBP", D("120000"), date(2017, 2, 8), D("1"), 1),
    ("AUS", "AUD", D("150000"), date(2017, 3, 14), D("1"), 1),
    ("CAN", "CAD", D("130000"), date(2017, 5, 3), D("1"), 2),
    ("CHE", "CHF", D("100000"), date(2017, 6, 21), D("1"), 1),
    ("ITA", "EUR", D("100000"), date(2017, 9, 12), D("1"), 1),
    ("NLD", "EUR", D("90000"), date(2017, 10, 5), D("1"), 1),
    ("IND", "USD", D("100000"), date(2017, 11, 16), D("1"), 1),
    ("BGD", "USD", D("50000"), date(2018, 1, 9), D("1"), 1),
    ("FIN", "EUR", D("80000"), date(2018, 3, 1), D("1"), 2),
    ("LUX", "EUR", D("50000"), date(2018, 4, 24), D("1"), 1),
    ("PRT", "EUR", D("30000"), date(2018, 6, 7), D("1"), 1),
    ("CYP", "EUR", D("10000"), date(2018, 9, 18), D("1"), 1),
    ("SVK", "EUR", D("20000"), date(2018, 11, 27), D("0.5"), 1),
    ("NGA", "USD", D("25000"), date(2019, 2, 11), D("0"), 1),
    ("LKA", "USD", D("20000"), date(2019, 4, 2), D("1"), 1),
    ("BTN", "USD", D("10000"), date(2019, 6, 19), D("0.5"), 1),
    ("USA", "USD", D("100000"), date(2019, 7, 30), D("1"), 1),
]

# allegation reference (numbers above 999: the demo victims' own allegations draw 1 to 999, and the
# year is that of the shifted receipt), contributing country, amount withheld (USD), decided,
# share transferred, when
WITHHOLDINGS = [
    ("1311/16", "COG", D("48500"), date(2016, 10, 4), D("1"), date(2018, 11, 20)),
    ("1347/16", "GAB", D("36200"), date(2016, 12, 12), D("1"), date(2019, 3, 15)),
    ("1402/17", "ZAF", D("61800"), date(2017, 3, 22), D("0.5"), date(2019, 5, 10)),
    ("1415/17", "TZA", D("52400"), date(2017, 5, 30), D("1"), date(2019, 7, 1)),
    ("1433/17", "BDI", D("27900"), date(2017, 8, 17), D("0"), None),
    ("1456/17", "MAR", D("44300"), date(2017, 11, 6), D("1"), date(2019, 9, 12)),
    ("1478/18", "CMR", D("39600"), date(2018, 2, 19), D("0"), None),
    ("1491/18", "NER", D("33100"), date(2018, 4, 25), D("1"), date(2019, 10, 30)),
    ("1502/18", "SEN", D("41700"), date(2018, 7, 9), D("0.6"), date(2019, 12, 5)),
    ("1517/18", "COG", D("55200"), date(2018, 9, 27), D("0"), None),
    ("1529/19", "BFA", D("29800"), date(2019, 1, 23), D("1"), date(2020, 2, 14)),
    ("1544/19", "ZAF", D("38900"), date(2019, 4, 16), D("0"), None),
    ("1561/19", "GAB", D("31600"), date(2019, 8, 8), D("0"), None),
    ("1573/19", "TZA", D("24800"), date(2019, 11, 19), D("0"), None),
    ("1588/19", "NER", D("34200"), date(2019, 12, 2), D("0"), None),
]

# title, partner, country, focus, USD approved, approved, planned start, planned end, status,
# share disbursed, victims directly supported
PROJECTS = [
    ("Medical and psychosocial care, Beni", "Panzi Foundation", "COD",
     ProjectFocus.SERVICES, D("180000"), date(2017, 11, 20), date(2018, 1, 15), date(2019, 1, 15),
     ProjectStatus.COMPLETED, D("1"), 48),
    ("Livelihoods for mothers of children born of SEA", "World Vision", "COD",
     ProjectFocus.INCOME_GENERATION, D("140000"), date(2017, 12, 5), date(2018, 2, 1), date(2019, 3, 31),
     ProjectStatus.COMPLETED, D("1"), 25),
    ("Community outreach on reporting channels", "Search for Common Ground", "LBR",
     ProjectFocus.OUTREACH, D("75000"), date(2018, 2, 14), date(2018, 4, 1), date(2019, 3, 31),
     ProjectStatus.COMPLETED, D("1"), 0),
    ("Legal aid clinics, Bangui", "Avocats Sans Frontières", "CAF",
     ProjectFocus.SERVICES, D("120000"), date(2018, 5, 9), date(2018, 7, 1), date(2019, 12, 31),
     ProjectStatus.ONGOING, D("0.6"), 31),
    ("Direct support to victims, CAR", "International Rescue Committee", "CAF",
     ProjectFocus.DIRECT_SUPPORT, D("160000"), date(2018, 10, 24), date(2018, 11, 1), date(2019, 11, 30),
     ProjectStatus.ONGOING, D("0.75"), 62),
    ("School fees and vocational training", "Norwegian Refugee Council", "LBR",
     ProjectFocus.EDUCATION, D("95000"), date(2018, 11, 14), date(2019, 1, 7), date(2020, 6, 30),
     ProjectStatus.ONGOING, D("0.5"), 40),
    ("Income generation, Kananga", "Caritas Congo", "COD",
     ProjectFocus.INCOME_GENERATION, D("110000"), date(2019, 1, 29), date(2019, 3, 1), date(2020, 2, 29),
     ProjectStatus.ONGOING, D("0.4"), 35),
    ("Psychosocial support, Bambari", "Médecins du Monde", "CAF",
     ProjectFocus.SERVICES, D("130000"), date(2019, 3, 20), date(2019, 5, 1), date(2020, 4, 30),
     ProjectStatus.ONGOING, D("0.3"), 28),
    ("Outreach to communities near camps", "Liberia Crusaders for Peace", "LBR",
     ProjectFocus.OUTREACH, D("60000"), date(2019, 5, 15), date(2019, 7, 1), date(2020, 6, 30),
     ProjectStatus.ONGOING, D("0.5"), 0),
    ("Medical referral network, Ituri", "Médecins Sans Frontières", "COD",
     ProjectFocus.SERVICES, D("150000"), date(2019, 7, 10), date(2019, 9, 1), date(2020, 8, 31),
     ProjectStatus.ONGOING, D("0.25"), 22),
    ("Vocational training for young mothers", "Plan International", "CAF",
     ProjectFocus.EDUCATION, D("90000"), date(2019, 9, 25), date(2019, 11, 1), date(2020, 10, 31),
     ProjectStatus.ONGOING, D("0.2"), 18),
    ("Livelihoods grants, Monrovia", "BRAC Liberia", "LBR",
     ProjectFocus.INCOME_GENERATION, D("85000"), date(2019, 11, 27), date(2020, 2, 1), date(2021, 1, 31),
     ProjectStatus.APPROVED, D("0"), 0),
]  # fmt: skip

# case code, country, purpose, USD, paid
DIRECT_SUPPORT = [
    ("CAR-2017-0042", "CAF", "School fees and uniforms for two children", D("640"), date(2019, 2, 18)),
    ("CAR-2017-0057", "CAF", "Rent for six months after relocation", D("900"), date(2019, 4, 3)),
    ("COD-2018-0113", "COD", "Medical treatment not covered by a project", D("1250"), date(2019, 6, 26)),
    ("LBR-2016-0008", "LBR", "Start-up capital for a market stall", D("500"), date(2019, 9, 9)),
    ("COD-2017-0091", "COD", "Transport and lodging for a court hearing", D("380"), date(2020, 1, 21)),
]

CLOSE_THROUGH = date(2019, 12, 1)
ANCHOR = date(2020, 6, 30)  # "today" in the tables above
# Direct support paid this many days before today: recent, after the recipients registered.
PAID_DAYS_AGO = (150, 110, 75, 40, 10)
RECIPIENTS_REGISTERED_BEFORE = timedelta(days=max(PAID_DAYS_AGO) + 10)


def shifted(day: date, today: date) -> date:
    """A date of the tables, moved so that ANCHOR falls on `today`."""
    return day + (today - ANCHOR)


def withheld_allegations(today: date) -> list[tuple[str, str, Decimal, date, Decimal, date | None]]:
    """WITHHOLDINGS as of `today`, each reference's year that of its allegation's receipt (the
    UN's style, 0399/15), 240 days before its decision as `seed_withheld_allegations` records it."""
    rows = []
    for ref, country, amount, decided, share, transferred in WITHHOLDINGS:
        on = shifted(decided, today)
        number = ref.split("/")[0]
        moved = shifted(transferred, today) if transferred else None
        rows.append(
            (f"{number}/{(on - timedelta(days=240)).year % 100:02d}", country, amount, on, share, moved)
        )
    return rows


def _key() -> str:
    return uuid.uuid4().hex


def _months(start: date, end: date) -> list[date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _rate(base: Decimal, index: int, currency: str) -> Decimal:
    drift = D(str(round(0.03 * math.sin(index / 3.0) + 0.01 * math.cos(index), 4)))
    places = D("0.01") if currency == "JPY" else D("0.0001")
    return (base * (1 + drift)).quantize(places)


def _manager(username: str) -> User:
    return db.session.scalars(
        select(User).where(User.username == username, User.role == Role.FUND_MANAGER)
    ).one()


def seed_ledger_demo(recipients: Sequence[tuple[str, str]] = (), *, today: date | None = None) -> bool:
    """Book the demo history once, ending `today` (by default the installation's); False if the
    ledger already holds entries.

    `recipients` are (case code, country) pairs of registered victims to pay direct support to, in
    place of the invented ones (the victims' service refuses a payment to an unknown case code);
    they must have registered RECIPIENTS_REGISTERED_BEFORE today at least.
    """
    if db.session.scalar(select(func.count(Entry.id))):
        return False
    today = today or inputs.today()
    maker = _manager("omar.fund")
    checker = _manager("li.fund")
    for index, month in enumerate(_months(shifted(date(2016, 7, 1), today), today)):
        for currency, base in BASE_RATES.items():
            proposed = months.set_rate(
                actor=maker,
                currency=currency,
                month=month,
                rate=_rate(base, index, currency),
                source="UN operational rates of exchange (demo)",
            )
            months.confirm_rate(actor=checker, rate=proposed)  # four eyes on every rate

    events: list[tuple[date, int, Callable[[], Any]]] = []
    booked: dict[str, Any] = {}  # what an event booked, by name, for the later events that use it

    def at(
        day: date, book: Callable[..., Any], name: str = "", uses: dict[str, str] | None = None, **values: Any
    ) -> None:
        """Book `book(**values)` on `day` (events run in date order): `uses` maps an argument to the
        name of what an earlier event booked, `name` keeps what this one books."""

        def run() -> None:
            found = {argument: booked[ref] for argument, ref in (uses or {}).items()}
            booked[name] = book(**values, **found)

        events.append((day, len(events), run))

    donors = {}
    for index, (code, currency, amount, pledged, share, instalments) in enumerate(PLEDGES):
        pledged_on = shifted(pledged, today)
        donors[code] = contributions.create_donor(
            actor=maker, name="", kind=DonorKind.MEMBER_STATE, country_code=code
        )
        money: dict[str, Any] = {"actor": maker, "donor": donors[code], "currency": currency}
        pledge = f"pledge {index}"
        letter = f"Letter {pledged_on:%Y}/{code}"
        at(
            pledged_on,
            contributions.record_pledge,
            pledge,
            key=_key(),
            amount=amount,
            pledged_on=pledged_on,
            reference=letter,
            **money,
        )
        received = (amount * share).quantize(D("1"))
        base = (received / instalments).quantize(D("1"))
        parts = [base] * (instalments - 1) + [received - base * (instalments - 1)] if received else []
        for n, part in enumerate(parts):
            on = pledged_on + timedelta(days=45 + 120 * n)
            receipt: dict[str, Any] = {"received_on": on, "bank_reference": f"BNK-{on:%y%m%d}-{code}{n + 1}"}
            at(
                on,
                contributions.record_receipt,
                uses={"pledge": pledge},
                key=_key(),
                amount=part,
                **receipt,
                **money,
            )

    for code, amount, on in (
        ("IND", D("50000"), shifted(date(2018, 12, 14), today)),
        ("JPN", D("40000"), shifted(date(2019, 12, 10), today)),
    ):
        unpledged: dict[str, Any] = {
            "donor": donors[code],
            "currency": "USD",
            "bank_reference": f"BNK-{on:%y%m%d}-{code}",
        }
        at(
            on,
            contributions.record_receipt,
            actor=maker,
            key=_key(),
            amount=amount,
            received_on=on,
            **unpledged,
        )

    for ref, country, amount, decided, share, transferred_on in withheld_allegations(today):
        withholding = f"withholding {ref}"
        decision: dict[str, Any] = {
            "allegation_ref": ref,
            "country_code": country,
            "decision_reference": f"DFS/{decided:%Y}/{ref}",
        }
        at(
            decided,
            withholdings.record_withholding,
            withholding,
            actor=maker,
            key=_key(),
            amount=amount,
            decided_on=decided,
            **decision,
        )
        if share and transferred_on:
            transfer: dict[str, Any] = {
                "transferred_on": transferred_on,
                "reference": f"UNHQ-TRF-{transferred_on:%Y%m%d}",
            }
            transferred = (amount * share).quantize(D("0.01"))
            at(
                transferred_on,
                withholdings.record_withholding_transfer,
                uses={"withholding": withholding},
                actor=maker,
                key=_key(),
                amount=transferred,
                **transfer,
            )

    for n, (
        title,
        partner,
        country,
        focus,
        amount,
        approved_as_written,
        start_as_written,
        end_as_written,
        status,
        share,
        victims,
    ) in enumerate(PROJECTS):
        approved, start, end = (
            shifted(d, today) for d in (approved_as_written, start_as_written, end_as_written)
        )
        project = f"project {n}"
        direct = focus is ProjectFocus.DIRECT_SUPPORT
        codes = [f"CAR-2018-{i:04d}" for i in range(1, victims + 1)] if direct else []
        terms: dict[str, Any] = {
            "title": title,
            "partner": partner,
            "country_code": country,
            "focus": focus,
            "case_codes": codes,
        }
        plan: dict[str, Any] = {"approved_on": approved, "planned_start": start, "planned_end": end}
        at(
            approved,
            grants.approve_project,
            project,
            actor=maker,
            key=_key(),
            currency="USD",
            amount=amount,
            **terms,
            **plan,
        )
        tranches = 3 if share == 1 else max(1, int(share * 4))
        paid = (amount * share).quantize(D("0.01"))
        slice_ = (paid / tranches).quantize(D("0.01"))
        # Most projects started late: the first tranche goes out weeks after the planned start.
        first = start + timedelta(days=20 + 9 * n)
        for t in range(tranches if paid else 0):
            value = slice_ if t < tranches - 1 else paid - slice_ * (tranches - 1)
            on = first + timedelta(days=110 * t)
            if on > today:  # a tranche still to come
                break
            at(
                on,
                _disburse,
                uses={"project": project},
                maker=maker,
                checker=checker,
                number=t + 1,
                amount=value,
                paid_on=on,
            )
        ended = end + timedelta(days=75)
        at(
            today,
            _progress,
            uses={"project": project},
            actor=maker,
            status=status,
            victims=victims,
            ended=ended,
        )

    recent = [
        (code, country, purpose, amount, today - timedelta(days=ago))
        for (code, country, purpose, amount, _), ago in zip(DIRECT_SUPPORT, PAID_DAYS_AGO, strict=True)
    ]
    payments = recent
    if recipients:
        paired = zip(recipients, recent, strict=False)  # as many payments as recipients
        payments = [
            (code, country, purpose, amount, paid_on)
            for (code, country), (_, _, purpose, amount, paid_on) in paired
        ]
    for case_code, country, purpose, amount, paid_on in payments:
        payment: dict[str, Any] = {
            "case_code": case_code,
            "country_code": country,
            "purpose": purpose,
            "amount": amount,
        }
        at(paid_on, _pay_direct_support, maker=maker, checker=checker, paid_on=paid_on, **payment)

    for _, _, action in sorted(events, key=lambda e: (e[0], e[1])):
        action()
    for month in _months(shifted(date(2016, 9, 1), today), shifted(CLOSE_THROUGH, today)):
        months.close_period(actor=maker, month=month)
    return True


def _disburse(*, maker: User, checker: User | None, project: Any, number: int, **tranche: Any) -> None:
    """A tranche paid as the maker; what the four-eyes policy holds, the second fund manager approves."""
    reference = f"PAY-{tranche['paid_on']:%Y%m%d}-{project.id}-{number}"
    paid = grants.request_disbursement(
        actor=maker, key=_key(), project=project, reference=reference, **tranche
    )
    if paid.status == "pending" and checker is not None:
        grants.approve_disbursement(actor=checker, tranche=paid)


def _progress(*, actor: User, project: Any, status: ProjectStatus, victims: int, ended: date) -> None:
    """Where the project stands today: completed (on `ended`) or ongoing; else as approved."""
    if status in (ProjectStatus.COMPLETED, ProjectStatus.ONGOING):
        actual_end = ended if status is ProjectStatus.COMPLETED else None
        progress: dict[str, Any] = {
            "actual_start": project.actual_start,
            "actual_end": actual_end,
            "victims_supported": victims,
        }
        grants.update_project(actor=actor, project=project, status=status, **progress)


def _pay_direct_support(*, maker: User, checker: User, **payment: Any) -> None:
    """Pay as the maker; what the four-eyes policy holds, the second fund manager approves."""
    # The demo's payments go through the mission on the committee's decision (issue 18, item 6).
    support = victim_support.pay_direct_support(
        actor=maker, key=_key(), currency="USD", route="mission", basis="Trust fund decision", **payment
    )
    if support.entry_id is None:
        outflow = four_eyes.of_record(OutflowKind.DIRECT_SUPPORT, support.id)
        four_eyes.approve(actor=checker, outflow=cast(Outflow, outflow))
