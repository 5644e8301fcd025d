"""What `flask seed-scale` makes, and the tools its two halves share: the countries, the ratios of
issue 7 (`Plan`), dates, and the loader that inserts rows in batches."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import FromClause, Table, insert

from vat.claims.models import ClaimStep
from vat.db import db

SEED = 20261122
FIRST_DAY = date(2019, 1, 1)
LAST_DAY = date(2026, 10, 31)
CHUNK = 2_000  # victims per transaction
LEDGER_BATCH = 2_000  # entries per transaction
USD = "USD"

COUNTRIES = [
    ("CAF", "MINUSCA"),
    ("COD", "MONUSCO"),
    ("SSD", "UNMISS"),
    ("MLI", "MINUSMA"),
    ("LBN", "UNIFIL"),
    ("HTI", "BINUH"),
    ("CYP", "UNFICYP"),
    ("SOM", None),
    ("LBR", None),
    ("SDN", "UNITAMS"),
]
CONTRIBUTING = ["BGD", "PAK", "IND", "NPL", "RWA", "GHA", "NGA", "EGY", "URY", "ZAF", "TZA", "SEN"]
DONORS = ["NOR", "SWE", "DEU", "GBR", "USA", "JPN", "CAN", "AUS", "NLD", "CHE", "DNK", "FIN", "IRL", "ITA"]
GIVEN = [
    "Amina",
    "Grace",
    "Marie",
    "Fatou",
    "Aisha",
    "Esther",
    "Ruth",
    "Nadia",
    "Joy",
    "Awa",
    "Mariam",
    "Sara",
]
FAMILY = ["Kone", "Mbeki", "Diallo", "Ngoy", "Traore", "Kamara", "Okafor", "Mensah", "Bangura", "Sesay"]
SERVICE_TYPES = ["medical", "psychosocial", "legal", "material", "shelter", "education", "livelihood"]
SERVICE_STATUSES = ["referred", "in_progress", "completed", "completed", "completed", "declined"]
FUNDING = ["trust_fund_project", "direct_trust_fund", "mission_budget", "agency", "unknown"]
CLAIM_STEPS = [s.value for s in ClaimStep]


# OIOS found 133 of 356 victims (37%) had received no assistance at all (DOMAIN.md, para. 110):
# the scale data leaves the same share of victims with no service delivered and no money paid.
NOT_REACHED_PER_MILLE = 374


def reached(victim_id: int) -> bool:
    """Whether a scale victim gets any support: 626 in 1,000, spread evenly over the ids (a
    multiplicative hash, so every chunk and every country holds its share)."""
    return (victim_id * 2_654_435_761) % 1_000 >= NOT_REACHED_PER_MILLE


def random_day(rng: random.Random, start: date = FIRST_DAY, end: date = LAST_DAY) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def later(day: date, rng: random.Random, most: int) -> date:
    return min(day + timedelta(days=rng.randrange(1, most)), LAST_DAY)


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind N victims give (the ratios of issue 7)."""

    victims: int
    allegations: int
    claims: int
    projects: int
    pledges: int
    withholdings: int
    direct_support: int

    @classmethod
    def of(cls, victims: int) -> Plan:
        return cls(
            victims,
            allegations=max(victims // 5, 1),
            claims=victims // 20,
            projects=max(victims // 50, 1),
            pledges=victims // 2,
            withholdings=victims // 2,
            direct_support=2 * victims,
        )


def as_table(clause: FromClause) -> Table:
    """A model's `__table__`, which SQLAlchemy types as any FROM clause, as the Table it is."""
    if not isinstance(clause, Table):
        raise TypeError(f"not a table: {clause}")
    return clause


@dataclass
class Loader:
    """Inserts lists of dicts with executemany (in the session's transaction); counts rows per table."""

    bar: Any
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def insert(self, table: FromClause, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            db.session.execute(insert(as_table(table)), list(rows))
            self.counts[as_table(table).name] += len(rows)


@dataclass
class People:
    """What the ledger needs from the victims: case codes and countries, allegation references."""

    case_codes: list[str]
    countries: list[str]
    allegations: list[tuple[str, str]]  # (reference, country)
