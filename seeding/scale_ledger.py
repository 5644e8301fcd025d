"""The ledger half of `flask seed-scale`: donors, pledges and receipts, withholdings and their
transfers, projects and their tranches, direct support, all in US dollars. Every entry is booked
by the posting engine (`ledger.engine.post_many`), a batch per transaction, so the hash chain,
running balances and audit events are the engine's own and `flask ledger verify` passes.

Sub-ledger rows that postings name (pledges, withholdings, projects) are written before their
entries and given their entry's id after, as the ledger's services do; the others are written
after, with their entry's id.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import FromClause, String, cast, literal, select, update

from ledger import engine
from ledger.engine import EntryKind, Line
from ledger.models import (
    DirectSupport,
    Donor,
    Entry,
    Pledge,
    Project,
    ProjectBeneficiary,
    ProjectPayment,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.services.grants import psc_rate
from seeding.scale_plan import (
    CONTRIBUTING,
    COUNTRIES,
    DONORS,
    FIRST_DAY,
    LAST_DAY,
    USD,
    Loader,
    People,
    Plan,
    as_table,
    later,
    noon,
    random_day,
    reached,
)
from vat.db import db
from vat.victims.models import FundPayment

LEDGER_BATCH = 2_000  # entries per call of the engine and per transaction


@dataclass(order=True)
class Planned:
    """One entry the plan books: sorted by date, then by the order it was planned in."""

    day: date
    order: int
    kind: str = field(compare=False)
    amount: int = field(compare=False)  # US cents
    refs: dict[str, Any] = field(compare=False, default_factory=dict)


def _months() -> list[date]:
    months, month = [], FIRST_DAY
    while month <= LAST_DAY:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _in_month(month: date, rng: random.Random) -> date:
    following = (month + timedelta(days=32)).replace(day=1)
    return month + timedelta(days=rng.randrange(min((following - month).days, (LAST_DAY - month).days + 1)))


def ledger_size(plan: Plan) -> int:
    """Roughly how many entries `plan_ledger` makes (for the progress bar)."""
    return plan.pledges * 3 + plan.withholdings * 2 + plan.projects * 45 + plan.direct_support


def plan_ledger(plan: Plan, rng: random.Random, people: People) -> tuple[list[Planned], list[dict[str, Any]]]:
    """Every entry to book, in date order, and the projects they fund."""
    months = _months()
    events: list[Planned] = []
    order = iter(range(10**9))

    def add(day: date, kind: str, amount: int, **refs: Any) -> None:
        if day <= LAST_DAY:
            events.append(Planned(day, next(order), kind, amount, refs))

    for pledge_id in range(1, plan.pledges + 1):
        day = random_day(rng, FIRST_DAY, date(2026, 6, 30))
        donor_id = rng.randrange(1, len(DONORS) + 1)
        amount = rng.randrange(2_000_000, 20_000_000)
        add(day, EntryKind.PLEDGE, amount, pledge_id=pledge_id, donor_id=donor_id)
        first = amount // 2
        add(later(day, rng, 60), EntryKind.RECEIPT, first, pledge_id=pledge_id, donor_id=donor_id)
        add(later(day, rng, 400), EntryKind.RECEIPT, amount - first, pledge_id=pledge_id, donor_id=donor_id)
    for withholding_id in range(1, plan.withholdings + 1):
        day = random_day(rng, FIRST_DAY, date(2026, 8, 31))
        reference, _ = people.allegations[rng.randrange(len(people.allegations))]
        amount = rng.randrange(100_000, 5_000_000)
        refs = {
            "withholding_id": withholding_id,
            "allegation_ref": reference,
            "country": rng.choice(CONTRIBUTING),
        }
        add(day, EntryKind.WITHHOLDING, amount, **refs)
        if rng.random() < 0.8:
            paid = amount if rng.random() < 0.7 else amount // 2
            add(later(day, rng, 500), EntryKind.WITHHELD_TRANSFER, paid, **refs)
    projects = []
    for project_id in range(1, plan.projects + 1):
        day = _in_month(months[rng.randrange(6, len(months) - 24)], rng)
        country, _ = COUNTRIES[rng.randrange(len(COUNTRIES))]
        tranche = rng.randrange(500_000, 5_000_000)
        approved = tranche * 30
        add(day, EntryKind.GRANT_APPROVAL, approved, project_id=project_id, country=country)
        paid = 0
        for number in range(1, 22):
            paid_on = _in_month((day + timedelta(days=31 * number)).replace(day=1), rng)
            if paid_on <= LAST_DAY:
                paid += 1
                add(
                    paid_on,
                    EntryKind.DISBURSEMENT,
                    tranche,
                    project_id=project_id,
                    country=country,
                    number=number,
                )
        listed = {rng.randrange(len(people.case_codes)) for _ in range(10)}
        victims = {people.case_codes[n]: n + 1 for n in listed}  # victim ids follow the case codes
        codes = sorted(victims)
        projects.append(
            {
                "id": project_id,
                "title": f"Support project {project_id}",
                "partner": rng.choice(["Caritas", "IRC", "MSF", "Femmes Actives", "Plan"]),
                "country_code": country,
                "focus": rng.choice(["direct_support", "services", "income_generation", "education"]),
                "currency": USD,
                "approved_minor": approved,
                "approved_on": day,
                "planned_start": day + timedelta(days=30),
                "planned_end": day + timedelta(days=760),
                "actual_start": _in_month((day + timedelta(days=31)).replace(day=1), rng) if paid else None,
                "actual_end": None,
                "status": "ongoing" if paid else "approved",
                "victims_supported": len(codes),
                "released_minor": 0,
                "entry_id": None,
                "case_codes": codes,
                "victim_ids": victims,
            }
        )
    reachable = [n for n in range(len(people.case_codes)) if reached(n + 1)]
    for _ in range(plan.direct_support if reachable else 0):
        victim = rng.choice(reachable)
        add(
            random_day(rng, date(2019, 7, 1)),
            EntryKind.VICTIM_SUPPORT,
            rng.randrange(5_000, 200_000),
            case_code=people.case_codes[victim],
            country=people.countries[victim],
            victim_id=victim + 1,
        )
    events.sort()
    return events, projects


def seed_ledger(loader: Loader, plan: Plan, rng: random.Random, people: People) -> None:
    donors: list[dict[str, Any]] = [
        {"id": n, "name": f"Government of {code}", "kind": "member_state", "country_code": code}
        for n, code in enumerate(DONORS, start=1)
    ]
    loader.insert(Donor.__table__, [{**d, "created_at": noon(FIRST_DAY)} for d in donors])
    db.session.commit()
    events, projects = plan_ledger(plan, rng, people)
    books = Books(
        donor_country={d["id"]: d["country_code"] for d in donors},
        projects={p["id"]: p for p in projects},
        psc=psc_rate(),
    )
    for event in events:
        books.add(event)
        if len(books.batch.events) >= LEDGER_BATCH:
            books.batch.post(loader)
    books.batch.post(loader)


# Sub-ledger rows in foreign-key order: those the postings name, then those that name their entry.
# The entry of a pledge, withholding or project is booked under the key `scale-<name>-<row id>`,
# so one UPDATE per batch and table gives those rows their `entry_id`.
NAMED: tuple[tuple[str, FromClause], ...] = (
    ("project", Project.__table__),
    ("beneficiary", ProjectBeneficiary.__table__),
    ("pledge", Pledge.__table__),
    ("withholding", Withholding.__table__),
)
NAMING: tuple[tuple[str, FromClause], ...] = (
    ("receipt", Receipt.__table__),
    ("transfer", WithholdingTransfer.__table__),
    ("tranche", Tranche.__table__),
    ("direct", DirectSupport.__table__),
    ("project_payment", ProjectPayment.__table__),
    ("fund_payment", FundPayment.__table__),
)
# The column of a receipt's or a transfer's row that holds its reference, and the prefix of it.
CASH_IN_REFERENCES = {"receipt": ("bank_reference", "BANK"), "transfer": ("reference", "TR")}
# The columns of those rows that hold their event's position until the entries are booked.
ENTRY_COLUMNS = ("entry_id", "psc_entry_id", "ledger_entry_id")
PAID_PER_TRANCHE = 3  # victims a direct-support project's tranche pays, a tenth of it each
# The scale data's direct support goes through the mission, on one invented committee decision.
MISSION_ROUTE = {"route": "mission", "basis": "Trust fund committee decision (scale data)"}


LINKED = ("project", "pledge", "withholding")


def _key_prefix(name: str) -> str:
    return f"scale-{name}-"


def _key(name: str, row_id: int) -> str:
    return f"{_key_prefix(name)}{row_id}"


@dataclass
class Batch:
    """The entries of one transaction and their sub-ledger rows. Until the engine has booked the
    entries, the `entry_id` of a row that names its entry (and a tranche's `psc_entry_id`) holds
    its event's position."""

    events: list[engine.Event] = field(default_factory=list)
    named: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    naming: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def book(self, kind: str, day: date, memo: str, lines: list[Line], key: str) -> int:
        """Queue one entry; its position in the batch."""
        payload = {"event": kind, "key": key}
        self.events.append(engine.Event(key, payload, kind, day, memo, lines))
        return len(self.events) - 1

    def post(self, loader: Loader) -> None:
        if not self.events:
            return
        for name, table in NAMED:
            loader.insert(table, self.named.get(name, []))
        ids = engine.post_many(actor=None, events=self.events)
        entries = as_table(Entry.__table__)
        for name, table in NAMED:
            rows = self.named.get(name, [])
            if name in LINKED and rows:
                key = literal(_key_prefix(name)) + cast(table.c.id, String)
                entry = select(entries.c.id).where(entries.c.idempotency_key == key).scalar_subquery()
                linked = update(as_table(table)).where(table.c.id.in_([row["id"] for row in rows]))
                db.session.execute(linked.values(entry_id=entry))
        for name, table in NAMING:
            rows = self.naming.get(name, [])
            for row in rows:
                for column in ENTRY_COLUMNS:
                    if row.get(column) is not None:
                        row[column] = ids[row[column]]
            loader.insert(table, rows)
        db.session.commit()
        loader.bar.update(len(self.events))
        self.events, self.named, self.naming = [], defaultdict(list), defaultdict(list)


def _usd(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _pair(debit: str, credit: str, cents: int, dims: dict[str, Any]) -> list[Line]:
    amount = _usd(cents)
    return [Line(debit, USD, amount, dims=dims), Line(credit, USD, -amount, dims=dims)]


@dataclass
class Books:
    """Turns planned events into engine events and sub-ledger rows. It follows the fund's cash
    to skip, as the fund would, a payment that the cash at hand cannot cover (the engine would
    refuse it)."""

    donor_country: dict[int, str]
    projects: dict[int, dict[str, Any]]
    psc: Decimal
    cash: int = 0  # US cents
    batch: Batch = field(default_factory=Batch)
    ids: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, event: Planned) -> None:
        book: Callable[[Planned], None] = {
            EntryKind.PLEDGE: self._pledge,
            EntryKind.RECEIPT: self._receipt,
            EntryKind.WITHHOLDING: self._withholding,
            EntryKind.WITHHELD_TRANSFER: self._transfer,
            EntryKind.GRANT_APPROVAL: self._grant,
            EntryKind.DISBURSEMENT: self._tranche,
            EntryKind.VICTIM_SUPPORT: self._direct_support,
        }[event.kind]
        book(event)

    def _number(self, table: str) -> int:
        """The next id of a sub-ledger table's rows (the plan numbers pledges, withholdings, projects)."""
        self.ids[table] += 1
        return self.ids[table]

    def _book_with_row(self, event: Planned, memo: str, lines: list[Line], table: str, **row: Any) -> int:
        """Queue the event's entry and the sub-ledger row that names it; the entry's position."""
        position = self.batch.book(event.kind, event.day, memo, lines, f"scale-{event.order}")
        self.batch.naming[table].append({**row, "amount_minor": event.amount, "entry_id": position})
        return position

    def _pledge_dims(self, refs: dict[str, Any]) -> dict[str, Any]:
        donor_id = refs["donor_id"]
        return {
            "donor_id": donor_id,
            "pledge_id": refs["pledge_id"],
            "country_code": self.donor_country[donor_id],
        }

    def _pledge(self, event: Planned) -> None:
        refs, pledge_id = event.refs, event.refs["pledge_id"]
        lines = _pair(engine.PLEDGES_RECEIVABLE, engine.CONTRIBUTIONS, event.amount, self._pledge_dims(refs))
        self.batch.book(event.kind, event.day, f"Pledge {pledge_id}", lines, _key("pledge", pledge_id))
        self.batch.named["pledge"].append(
            {
                "id": pledge_id,
                "donor_id": refs["donor_id"],
                "currency": USD,
                "amount_minor": event.amount,
                "pledged_on": event.day,
                "earmark": None,
                "reference": f"PL-{pledge_id}",
                "entry_id": None,
            }
        )

    def _cash_in(
        self,
        event: Planned,
        table: str,
        memo: str,
        receivable: str,
        dims: dict[str, Any],
        row: dict[str, Any],
    ) -> None:
        """Cash received against a pledge's or a withholding's receivable, queued with its row in
        `table` (receipt or transfer), numbered, and its reference made of that number."""
        self.cash += event.amount
        number = self._number(table)
        column, prefix = CASH_IN_REFERENCES[table]
        lines = _pair(engine.CASH, receivable, event.amount, dims)
        self._book_with_row(event, memo, lines, table, id=number, **row, **{column: f"{prefix}-{number}"})

    def _receipt(self, event: Planned) -> None:
        refs, pledge_id = event.refs, event.refs["pledge_id"]
        memo = f"Receipt on pledge {pledge_id}"
        row = {"donor_id": refs["donor_id"], "pledge_id": pledge_id, "currency": USD, "rate": Decimal(1)}
        row["received_on"] = event.day
        self._cash_in(event, "receipt", memo, engine.PLEDGES_RECEIVABLE, self._pledge_dims(refs), row)

    @staticmethod
    def _withheld_dims(refs: dict[str, Any]) -> dict[str, Any]:
        return {
            "withholding_id": refs["withholding_id"],
            "country_code": refs["country"],
            "allegation_ref": refs["allegation_ref"],
        }

    def _withholding(self, event: Planned) -> None:
        refs = event.refs
        lines = _pair(
            engine.WITHHELD_RECEIVABLE, engine.WITHHELD_INCOME, event.amount, self._withheld_dims(refs)
        )
        key = _key("withholding", refs["withholding_id"])
        self.batch.book(event.kind, event.day, f"Withheld from {refs['country']}", lines, key)
        self.batch.named["withholding"].append(
            {
                "id": refs["withholding_id"],
                "allegation_ref": refs["allegation_ref"],
                "country_code": refs["country"],
                "currency": USD,
                "amount_minor": event.amount,
                "decided_on": event.day,
                "decision_reference": None,
                "entry_id": None,
            }
        )

    def _transfer(self, event: Planned) -> None:
        refs = event.refs
        memo = f"Transfer from {refs['country']}"
        row = {"withholding_id": refs["withholding_id"], "transferred_on": event.day}
        self._cash_in(event, "transfer", memo, engine.WITHHELD_RECEIVABLE, self._withheld_dims(refs), row)

    def _grant(self, event: Planned) -> None:
        project = self.projects[event.refs["project_id"]]
        dims = {"project_id": project["id"], "country_code": project["country_code"]}
        lines = _pair(engine.GRANT_EXPENSE, engine.GRANTS_PAYABLE, event.amount, dims)
        key = _key("project", project["id"])
        self.batch.book(event.kind, event.day, f"Grant approved: {project['title']}", lines, key)
        self.batch.named["project"].append(
            {k: v for k, v in project.items() if k not in ("case_codes", "victim_ids")}
        )
        for code in project["case_codes"]:
            self.batch.named["beneficiary"].append(
                {"id": self._number("beneficiary"), "project_id": project["id"], "case_code": code}
            )

    def _direct_support(self, event: Planned) -> None:
        refs, amount = event.refs, event.amount
        if amount > self.cash:
            return
        self.cash -= amount
        position = self._book_with_row(
            event,
            f"Direct support to {refs['case_code']}",
            _pair(
                engine.VICTIM_SUPPORT,
                engine.CASH,
                amount,
                {"case_code": refs["case_code"], "country_code": refs["country"]},
            ),
            "direct",
            id=self._number("direct"),
            case_code=refs["case_code"],
            country_code=refs["country"],
            purpose="school fees",
            currency=USD,
            paid_on=event.day,
            **MISSION_ROUTE,
        )
        self._reached(refs["victim_id"], "direct", position, amount, event.day, route=MISSION_ROUTE)

    def _reached(
        self,
        victim_id: int,
        source: str,
        position: int,
        amount: int,
        day: date,
        project_id: int | None = None,
        route: dict[str, str] | None = None,
    ) -> None:
        """The money that reached a victim, as the victims' records hold it (vat_fund_payment),
        with a direct payment's route and approved basis."""
        self.batch.naming["fund_payment"].append(
            {
                "id": self._number("fund_payment"),
                "victim_id": victim_id,
                "source": source,
                "ledger_entry_id": position,
                "project_id": project_id,
                "currency": USD,
                "amount_minor": amount,
                "usd_minor": amount,
                "paid_on": day,
                "route": (route or {}).get("route"),
                "basis": (route or {}).get("basis"),
                "reversed": False,
                "created_at": noon(day),
            }
        )

    def _tranche(self, event: Planned) -> None:
        """A disbursement and its programme support cost, as the ledger's services book them."""
        amount, day, project = event.amount, event.day, self.projects[event.refs["project_id"]]
        psc = int((Decimal(amount) * self.psc).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        if self.cash < amount + psc:
            return
        self.cash -= amount + psc
        number = self._number("tranche")
        key = f"scale-tranche-{project['id']}-{event.refs['number']}"
        dims = {"project_id": project["id"], "country_code": project["country_code"]}
        memo = f"Tranche to {project['partner']} for {project['title']}"
        lines = _pair(engine.GRANTS_PAYABLE, engine.CASH, amount, dims)
        position = self.batch.book(EntryKind.DISBURSEMENT, day, memo, lines, key)
        psc_position = None
        if psc:
            lines = _pair(engine.PROGRAMME_SUPPORT, engine.CASH, psc, dims)
            memo = f"Programme support cost on tranche TRN-{number}"
            psc_position = self.batch.book(EntryKind.PROGRAMME_SUPPORT, day, memo, lines, key + ":psc")
        self.batch.naming["tranche"].append(
            {
                "id": number,
                "project_id": project["id"],
                "amount_minor": amount,
                "paid_on": day,
                "reference": f"TRN-{number}",
                "idempotency_key": key,
                "request_hash": engine.request_hash({"event": "disbursement", "tranche": number}),
                "status": "posted",
                "maker_id": None,
                "checker_id": None,
                "requested_at": noon(day),
                "decided_at": noon(day),
                "entry_id": position,
                "psc_entry_id": psc_position,
            }
        )
        if project["focus"] != "direct_support":
            return
        paid = [code for code in project["case_codes"] if reached(project["victim_ids"][code])]
        for code in paid[:PAID_PER_TRANCHE]:
            self.batch.naming["project_payment"].append(
                {
                    "id": self._number("project_payment"),
                    "tranche_id": number,
                    "project_id": project["id"],
                    "case_code": code,
                    "amount_minor": amount // 10,
                    "usd_minor": amount // 10,
                    "entry_id": position,
                }
            )
            self._reached(project["victim_ids"][code], "project", position, amount // 10, day, project["id"])
