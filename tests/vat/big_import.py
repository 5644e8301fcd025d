"""A 10,000-row workbook (the importer's limit) for measuring imports: victims with names and
consents, allegations, links and services, in the proportions of a tracker kept for years."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import Workbook

VICTIMS, ALLEGATIONS, LINKS, SERVICES = 3000, 200, 1800, 5000  # 10,000 rows
# The header rows of the importer's sheets (the columns every workbook in the tests fills).
VICTIM_COLUMNS = tuple("case_code country_code mission sex age_group name consents consent_date".split())
ALLEGATION_COLUMNS = tuple(
    "reference country_code mission personnel_category type received_on outcome".split()
)
ASSISTANCE_COLUMNS = tuple("case_code service_type provider referral_date start_date status cost".split())


def big_workbook(today: date, *, victims: int = VICTIMS, services: int = SERVICES) -> io.BytesIO:
    """The workbook; every row imports (CAF, MINUSCA), every service has a consent to rely on."""
    past, later = (today - timedelta(days=400)).isoformat(), (today - timedelta(days=300)).isoformat()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("victims")
    sheet.append([*VICTIM_COLUMNS, "contact"])
    for n in range(victims):
        sheet.append(
            [
                f"CAR-2016-{n:05d}",
                "CAF",
                "MINUSCA",
                "female",
                "adult",
                f"Name {n}",
                "services;contact",
                past,
                f"+236 7000 {n:04d}",
            ]
        )
    sheet = book.create_sheet("allegations")
    sheet.append(ALLEGATION_COLUMNS)
    allegations = ALLEGATIONS if victims == VICTIMS else max(victims // 15, 1)
    for n in range(allegations):
        sheet.append([f"{n:04d}/16", "CAF", "MINUSCA", "military_contingent", "abuse", past, "pending"])
    sheet = book.create_sheet("links")
    sheet.append(["case_code", "reference"])
    links = LINKS if victims == VICTIMS else victims * 3 // 5
    for n in range(links):
        sheet.append([f"CAR-2016-{n:05d}", f"{n % allegations:04d}/16"])
    sheet = book.create_sheet("assistance")
    sheet.append([*ASSISTANCE_COLUMNS, "currency", "notes"])
    for n in range(services):
        sheet.append(
            [
                f"CAR-2016-{n % victims:05d}",
                "medical",
                "",
                past,
                later,
                "in_progress",
                "120.50",
                "USD",
                f"visit {n}",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer
