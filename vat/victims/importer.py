"""Import the spreadsheets advocates kept before this tool: victims, allegations, victim–allegation
links and assistance, from CSV (one kind per file) or XLSX (one sheet per kind).

All or nothing: every row goes through the same services as the forms, inside a savepoint; any
bad row rolls the whole file back and the report names each bad row, column and reason.

No row is dropped silently. Two rows are the same only when the file says so: the same key
column (a victim's case code, an allegation's reference number, a link's pair, a service's
`row_key`), or, for a service without a `row_key`, identical content in every column. A row the
same as an earlier row of the file, or as a row imported before, is skipped, and the report lists
each skipped row with its number and why. A service remembers the keyed digest of its row, so
importing a file again creates nothing twice.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, cast

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from vat import audit
from vat.allegations import services as allegations
from vat.allegations.models import SUB_TYPES, Allegation, AllegationType, Outcome, PersonnelCategory, Urgency
from vat.auth.actor import Actor
from vat.crypto import mac
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.uploads import UploadRefused, check_workbook, csv_rows
from vat.victims import assistance, consents, identity, outcomes
from vat.victims.models import (
    AgeGroup,
    Assistance,
    ConsentMethod,
    ConsentPurpose,
    FundingSource,
    ServiceStatus,
    ServiceType,
    Sex,
    Victim,
)

KINDS = ("victims", "allegations", "links", "assistance")
MAX_ROWS = 10_000
MAX_BLANK_ROWS = 10_000  # blank rows between and after them, as spreadsheets keep formatted ones
MAX_CELL = 5000

COLUMNS: dict[str, list[tuple[str, bool, str]]] = {
    "victims": [
        ("case_code", True, "e.g. CAR-2016-0007; kept as is, and the key for re-imports"),
        ("country_code", True, "ISO 3166 alpha-3: CAF, COD, HTI, SSD…"),
        ("mission", False, "e.g. MINUSCA"),
        ("registered_on", False, "YYYY-MM-DD; today if empty"),
        ("sex", False, ", ".join(m.value for m in Sex)),
        ("age_group", False, ", ".join(m.value for m in AgeGroup)),
        ("date_of_birth", False, "YYYY-MM-DD"),
        ("name", False, "encrypted"),
        ("aliases", False, "encrypted; separate names with ;"),
        ("contact", False, "encrypted"),
        ("location", False, "encrypted"),
        ("notes", False, "encrypted"),
        ("consents", False, "purposes given, separated by ; — " + ", ".join(m.value for m in ConsentPurpose)),
        ("consent_date", False, "YYYY-MM-DD (needed with consents)"),
        ("consent_method", False, ", ".join(m.value for m in ConsentMethod)),
    ],
    "allegations": [
        ("reference", True, "e.g. 0399/15; the key for re-imports"),
        ("country_code", True, "ISO 3166 alpha-3"),
        ("mission", False, "entity or mission"),
        ("personnel_category", False, ", ".join(m.value for m in PersonnelCategory)),
        ("perpetrator_country", False, "ISO 3166 alpha-3"),
        ("type", False, ", ".join(m.value for m in AllegationType)),
        ("sub_type", False, ", ".join(v for v, _ in SUB_TYPES if v)),
        ("urgency", False, ", ".join(m.value for m in Urgency)),
        ("received_on", False, "YYYY-MM-DD"),
        ("assessed_on", False, "YYYY-MM-DD"),
        ("referred_on", False, "YYYY-MM-DD"),
        ("nio_decision_on", False, "YYYY-MM-DD"),
        ("investigation_completed_on", False, "YYYY-MM-DD"),
        ("report_submitted_on", False, "YYYY-MM-DD"),
        ("outcome", False, ", ".join(m.value for m in Outcome)),
        ("actions_taken", False, "free text"),
        (
            "historical",
            False,
            "yes for a record from an old tracker: steps without a date are not recorded, not overdue",
        ),
    ],
    "links": [
        ("case_code", True, "a victim's case code"),
        ("reference", True, "an allegation's reference number"),
    ],
    "assistance": [
        ("case_code", True, "a victim's case code"),
        ("service_type", True, ", ".join(m.value for m in ServiceType)),
        ("provider", False, "e.g. UNFPA, an NGO"),
        ("referral_date", False, "YYYY-MM-DD"),
        ("start_date", False, "YYYY-MM-DD"),
        ("end_date", False, "YYYY-MM-DD"),
        ("status", False, ", ".join(m.value for m in ServiceStatus)),
        ("cost", False, "a number, e.g. 120.50"),
        ("currency", False, "ISO 4217, e.g. USD, XAF"),
        ("funding_source", False, ", ".join(m.value for m in FundingSource)),
        ("notes", False, "encrypted"),
        ("row_key", False, "your own identifier of the row: rows with the same row_key are one service"),
    ],
}
DATE_COLUMNS = {
    "registered_on",
    "date_of_birth",
    "consent_date",
    "referral_date",
    "start_date",
    "end_date",
    *allegations.STEP_FIELDS,
}


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class RowSkipped:
    sheet: str
    row: int
    reason: str


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_rows: list[RowSkipped] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        made = ", ".join(f"{n} {k}" for k, n in self.created.items() if n) or "nothing new"
        kept = sum(self.skipped.values())
        return f"{made} created from {self.rows} rows" + (
            f"; {kept} rows skipped (listed below)" if kept else ""
        )


class FileRefused(UploadRefused):
    """The file as a whole is refused (HTTP 422, or 413 through UploadTooLarge)."""


# --- reading ---------------------------------------------------------------------------------


def _read_sheets(filename: str, stream: IO[bytes], kind: str | None) -> dict[str, list[dict[str, Any]]]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        check_workbook(stream)  # sizes as the archive declares them, before openpyxl unpacks anything
        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise FileRefused("This file is not a readable XLSX workbook.") from error
        sheets = {}
        for sheet in workbook.worksheets:
            title = sheet.title.strip().lower()
            if title in ("readme", "instructions"):
                continue
            if title not in KINDS:
                raise FileRefused(f"Unknown sheet {sheet.title!r}: use {', '.join(KINDS)}.")
            # Rows as wide as they are, not as wide as the sheet's extent: one cell at XFD1048576
            # in an 8 KB file padded every row to 16,384 cells (8 s to reach the row limit).
            sheet.reset_dimensions()
            sheets[title] = _rows(sheet.iter_rows(values_only=True))
        workbook.close()
        return sheets
    if name.endswith(".csv"):
        if kind not in KINDS:
            raise FileRefused("Say what the CSV file holds.")
        try:
            text = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise FileRefused("Save the CSV file as UTF-8.") from error
        return {kind: _rows(csv_rows(text))}
    raise FileRefused("Upload a .csv or .xlsx file.")


def _rows(rows: Iterator[Any]) -> list[dict[str, Any]]:
    header = next(rows, None)
    if header is None:
        return []
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    result: list[dict[str, Any]] = []
    filled = 0
    for values in rows:
        if len(result) >= MAX_ROWS + MAX_BLANK_ROWS:  # blank rows count too: each one is kept
            raise FileRefused(f"Import at most {MAX_ROWS} rows at a time.")
        if values is None or all(v in (None, "") for v in values):
            result.append({})
            continue
        result.append({names[i]: v for i, v in enumerate(values) if i < len(names) and names[i]})
        filled += 1
        if filled > MAX_ROWS:
            raise FileRefused(f"Import at most {MAX_ROWS} rows at a time.")
    result.insert(0, {"__header__": names})
    return result


# --- converting cells ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(column: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise InvalidField(column, "Write dates as YYYY-MM-DD.") from error


def _values(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, _, _ in COLUMNS[kind]:
        raw = row.get(column)
        if column in DATE_COLUMNS:
            values[column] = _date(column, raw)
        else:
            text = _text(raw)
            if len(text) > MAX_CELL:
                raise InvalidField(column, f"Use at most {MAX_CELL} characters.")
            values[column] = text
    return values


# --- importing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100


PROGRESS_EVERY = 250


def read_file(filename: str, stream: IO[bytes], kind: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The sheets of a file, each a header then its rows; UploadRefused (FileRefused or a limit of
    vat.uploads) if it cannot be read."""
    return _read_sheets(filename, stream, kind)


def row_count(sheets: dict[str, list[dict[str, Any]]]) -> int:
    return sum(1 for rows in sheets.values() for row in rows[1:] if row)


def refused(error: UploadRefused) -> ImportReport:
    report = ImportReport()
    report.errors.append(RowError("file", 0, "", str(error)))
    return report


def import_steps(
    *, actor: Actor, filename: str, stream: IO[bytes], kind: str | None = None
) -> Iterator[Progress | ImportReport]:
    """Read and import a file, yielding progress every few hundred rows, then the report."""
    try:
        sheets = read_file(filename, stream, kind)
    except UploadRefused as error:
        yield refused(error)
        return
    yield from import_sheets(actor=actor, sheets=sheets)


def import_sheets(
    *, actor: Actor, sheets: dict[str, list[dict[str, Any]]]
) -> Iterator[Progress | ImportReport]:
    """Import read sheets in one savepoint, yielding progress, then the report (always last)."""
    report = ImportReport()
    total = row_count(sheets)
    savepoint = db.session.begin_nested()
    for sheet in KINDS:
        rows = sheets.get(sheet)
        if not rows:
            continue
        header = rows[0]["__header__"]
        missing = [c for c, required, _ in COLUMNS[sheet] if required and c not in header]
        unknown = [c for c in header if c and c not in {name for name, _, _ in COLUMNS[sheet]}]
        for column in missing:
            report.errors.append(RowError(sheet, 1, column, "This required column is missing."))
        for column in unknown:
            report.errors.append(RowError(sheet, 1, column, "Unknown column (see the template)."))
        if missing or unknown:
            continue
        seen: dict[str, int] = {}  # a row's identity: the first row of the sheet that had it
        for number, row in enumerate(rows[1:], start=2):
            if not row:
                continue
            report.rows += 1
            try:
                values = _values(sheet, row)
                key, sameness = IDENTITIES[sheet](values)
                skipped: str | None
                if key in seen:
                    skipped = str(_l("Row %(row)s has %(why)s.", row=seen[key], why=sameness))
                else:
                    seen[key] = number
                    skipped = IMPORTERS[sheet](actor, values)
            except InvalidField as error:
                report.errors.append(RowError(sheet, number, error.field, str(error)))
            except DomainError as error:
                report.errors.append(RowError(sheet, number, "", str(error)))
            else:
                if skipped is None:
                    report.created[sheet] += 1
                else:
                    report.skipped[sheet] += 1
                    report.skipped_rows.append(RowSkipped(sheet, number, skipped))
            if report.rows % PROGRESS_EVERY == 0:
                yield Progress(report.rows, total)
    if report.errors:
        savepoint.rollback()
        yield report
        return
    savepoint.commit()
    audit.record(
        "victim.import",
        actor=actor,
        object_type="import",
        detail={"created": dict(report.created), "skipped": dict(report.skipped), "rows": report.rows},
    )
    yield report


def import_file(*, actor: Actor, filename: str, stream: IO[bytes], kind: str | None = None) -> ImportReport:
    """Import a whole file at once (no progress): the report."""
    *_, report = import_steps(actor=actor, filename=filename, stream=stream, kind=kind)
    return cast(ImportReport, report)


def _victim(actor: Actor, case_code: str, column: str = "case_code") -> Victim:
    victim = identity.find_by_case_code(actor, case_code)
    if victim is None:
        raise InvalidField(column, "No victim in your scope has this case code (in this file or already).")
    return victim


def _import_victim(actor: Actor, values: dict[str, Any]) -> str | None:
    code = values.pop("case_code").upper()
    if identity.find_by_case_code(actor, code) is not None:
        return str(_l("A victim with this case code is already registered."))
    purposes = [p.strip() for p in values.pop("consents").split(";") if p.strip()]
    consent_date, method = values.pop("consent_date"), values.pop("consent_method") or "other"
    if purposes and consent_date is None:
        raise InvalidField("consent_date", "Give the date the consents were given.")
    victim = identity.register_victim(
        actor=actor, case_code=code, registered_on=values.pop("registered_on"), **values
    )
    for purpose in purposes:
        try:
            consents.record_consent(
                actor=actor,
                victim=victim,
                purpose=purpose,
                given_on=consent_date,
                method=method,
                version="import",
            )
        except InvalidField as error:
            raise InvalidField(CONSENT_COLUMNS.get(error.field, "consents"), str(error)) from error
    return None


def _import_allegation(actor: Actor, values: dict[str, Any]) -> str | None:
    reference = values.pop("reference")
    existing = db.session.scalar(select(Allegation).where(Allegation.reference == reference))
    if existing is not None:
        if allegations.get_allegation(actor, existing.id) is None:
            raise InvalidField(
                "reference", "This reference number belongs to an allegation outside your scope."
            )
        return str(_l("An allegation with this reference number is already recorded."))
    allegations.create_allegation(actor=actor, reference=reference, **values)
    return None


def _import_link(actor: Actor, values: dict[str, Any]) -> str | None:
    victim = _victim(actor, values["case_code"])
    allegation = allegations.find_by_reference(actor, values["reference"])
    if allegation is None:
        raise InvalidField("reference", "No allegation in your scope has this reference number.")
    if any(link.allegation_id == allegation.id for link in victim.allegation_links):
        return str(_l("This victim is already linked to this allegation."))
    outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
    return None


def _service_identity(values: dict[str, Any]) -> tuple[str, str]:
    """A service row's identity, keyed under VAT_MAC_KEY (the notes are encrypted, their digest
    must not be guessable): its row_key if it has one, else the content of every column."""
    if values["row_key"]:
        return mac(values["row_key"], "import:assistance:row_key"), str(_l("the same row_key"))
    content = json.dumps([values[name] for name, _, _ in COLUMNS["assistance"]], default=str)
    return mac(content, "import:assistance:content"), str(_l("the same content in every column"))


def _import_assistance(actor: Actor, values: dict[str, Any]) -> str | None:
    key, sameness = _service_identity(values)
    if db.session.scalar(select(Assistance.id).where(Assistance.import_key == key)) is not None:
        return str(_l("A service imported before has %(why)s.", why=sameness))
    victim = _victim(actor, values.pop("case_code"))
    values.pop("row_key")
    service = assistance.record_assistance(actor=actor, victim=victim, **values)
    service.import_key = key
    return None


CONSENT_COLUMNS = {"purpose": "consents", "given_on": "consent_date", "method": "consent_method"}

IDENTITIES: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "victims": lambda v: (v["case_code"].upper(), str(_l("the same case code"))),
    "allegations": lambda v: (v["reference"], str(_l("the same reference number"))),
    "links": lambda v: (
        f"{v['case_code'].upper()}\x00{v['reference']}",
        str(_l("the same victim and allegation")),
    ),
    "assistance": _service_identity,
}

IMPORTERS = {
    "victims": _import_victim,
    "allegations": _import_allegation,
    "links": _import_link,
    "assistance": _import_assistance,
}


def template_workbook() -> io.BytesIO:
    """The documented template: one sheet per kind with its header row, and a README sheet."""
    workbook = Workbook()
    readme = cast(Worksheet, workbook.active)  # a new workbook has one sheet, its active one
    readme.title = "README"
    readme.append(["sheet", "column", "required", "values"])
    for kind in KINDS:
        sheet = workbook.create_sheet(kind)
        sheet.append([name for name, _, _ in COLUMNS[kind]])
        for name, required, help_text in COLUMNS[kind]:
            readme.append([kind, name, "yes" if required else "", help_text])
    readme.append([])
    readme.append(
        ["Delete no sheet you need; leave a sheet with only its header row to import nothing of that kind."]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer
