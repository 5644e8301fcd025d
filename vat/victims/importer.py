"""Import the spreadsheets advocates kept before this tool: victims, allegations, victim–allegation
links and assistance, from CSV (one kind per file) or XLSX (one sheet per kind).

All or nothing: every row goes through the same checks as the forms (vat.victims.import_rows
prepares them, reading only, then writes them in one short transaction); any bad row imports
nothing and the report names every error of every row, each with its column and reason (see
`_prepared`). Cells are read as old trackers hold them (vat.victims.import_values). In the app
the import runs as a job (vat.victims.import_job).

No row is dropped silently. Two rows are the same only when the file says so: the same key
column (a victim's case code, an allegation's reference number, a link's pair, a service's
`row_key`), or, for a service without a `row_key`, identical content in every column. A row the
same as an earlier row of the file, or as a row imported before, is skipped, and the report lists
each skipped row with its number and why. A service remembers the keyed digest of its row, so
importing a file again creates nothing twice.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from vat import audit
from vat.allegations import services as allegations
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, InvalidFields, past_date
from vat.uploads import UploadRefused, check_workbook, csv_rows
from vat.victims import import_rows
from vat.victims.import_template import COLUMNS, KINDS, is_example
from vat.victims.import_values import (
    COUNTRY_COLUMNS,
    LIST_COLUMNS,
    VOCABULARIES,
    read_choice,
    read_choices,
    read_country,
)

MAX_ROWS = 10_000
MAX_BLANK_ROWS = 10_000  # blank rows between and after them, as spreadsheets keep formatted ones
MAX_CELL = 5000

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


def _cell(column: str, raw: Any) -> Any:
    """One cell as the services take it; InvalidField if it cannot be read."""
    if column in DATE_COLUMNS:
        return past_date(column, _date(column, raw))
    text = _text(raw)
    if len(text) > MAX_CELL:
        raise InvalidField(column, f"Use at most {MAX_CELL} characters.")
    if column in COUNTRY_COLUMNS:
        return read_country(column, text)
    if column in LIST_COLUMNS:
        return read_choices(column, text)
    if column in VOCABULARIES:
        return read_choice(column, text)
    return text


def _values(kind: str, row: dict[str, Any]) -> tuple[dict[str, Any], list[InvalidField]]:
    """A row's values, and the refusal of each cell that cannot be read (its value left empty,
    so the rest of the row can still be checked)."""
    values: dict[str, Any] = {}
    errors: list[InvalidField] = []
    for column, _, _ in COLUMNS[kind]:
        try:
            values[column] = _cell(column, row.get(column))
        except InvalidField as error:
            errors.append(error)
            values[column] = _empty(column)
    return values, errors


def _as_written(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row's cells as text, as written (what its identity is made of, so that a file imported
    before labels and names were read is still recognised)."""
    return {
        column: (_text(row.get(column)) or None) if column in DATE_COLUMNS else _text(row.get(column))
        for column, _, _ in COLUMNS[kind]
    }


def _empty(column: str) -> Any:
    return None if column in DATE_COLUMNS else ""


def _prepared(
    sheet: str,
    plan: import_rows.Plan,
    actor: Actor,
    values: dict[str, Any],
    identity: tuple[str, str],
    errors: list[InvalidField],
) -> str | None:
    """Run the row's checks (the services') until none is left, noting each refusal in `errors`:
    the refused cell is set aside (emptied, or a stand-in where the rules need one) and the row
    checked again, so one file shows every error of every row. A refusal of a cell already noted
    ends the row (the checks after it needed that cell). Without errors: None, or why the row is
    skipped."""
    for column in {e.field for e in errors} & set(STAND_INS):
        values[column] = STAND_INS[column](actor)
    for _attempt in range(len(values) + 1):
        try:
            return PREPARERS[sheet](plan, actor, dict(values), *identity)
        except InvalidField as error:
            found = error.errors if isinstance(error, InvalidFields) else [error]
            new = [e for e in found if not any(e.field == noted.field for noted in errors)]
            errors += new
            if not new or any(e.field not in values for e in new):
                return None
            for refused in new:
                values[refused.field] = _set_aside(refused.field, actor)
        except DomainError as error:
            errors.append(InvalidField("", str(error)))
            return None
    return None


def _scope_country(actor: Actor) -> str:
    return min((s.country_code for s in actor.scopes), default="")


# What a refused required cell becomes while the rest of its row is checked (never saved: a row
# with an error imports nothing).
STAND_INS: dict[str, Callable[[Actor], str]] = {
    "country_code": _scope_country,
    "service_type": lambda _actor: "other",
}


def _set_aside(column: str, actor: Actor) -> Any:
    return STAND_INS[column](actor) if column in STAND_INS else _empty(column)


# --- importing -------------------------------------------------------------------------------


def read_file(filename: str, stream: IO[bytes], kind: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The sheets of a file, each a header then its rows; UploadRefused (FileRefused or a limit of
    vat.uploads) if it cannot be read."""
    return _read_sheets(filename, stream, kind)


def check_upload(filename: str, stream: IO[bytes], kind: str | None) -> None:
    """What can be refused before the file is stored for a job, in milliseconds: its type; a
    workbook's declared sizes (vat.uploads); a CSV file's kind, encoding, fields and row count (a
    CSV file parses fast, a workbook's rows are read by the job). Leaves the stream at its start."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        check_workbook(stream)
    elif not name.endswith(".csv"):
        raise FileRefused("Upload a .csv or .xlsx file.")
    else:
        _read_sheets(filename, stream, kind)
        stream.seek(0)


def as_dict(report: ImportReport) -> dict[str, Any]:
    """The report as the job stores it and the page shows it."""
    return {
        "ok": report.ok,
        "summary": report.summary,
        "rows": report.rows,
        "created": dict(report.created),
        "skipped": dict(report.skipped),
        "errors": [asdict(error) for error in report.errors],
        "skipped_rows": [asdict(row) for row in report.skipped_rows],
    }


def row_count(sheets: dict[str, list[dict[str, Any]]]) -> int:
    return sum(1 for rows in sheets.values() for row in rows[1:] if row)


def refused(error: UploadRefused | DomainError) -> ImportReport:
    report = ImportReport()
    report.errors.append(RowError("file", 0, "", str(error)))
    return report


def check_sheets(
    *, actor: Actor, sheets: dict[str, list[dict[str, Any]]], on_row: Callable[[int], None] | None = None
) -> tuple[ImportReport, import_rows.Plan]:
    """Check every row and encrypt what it holds, writing nothing: the report (its errors and
    skipped rows) and the plan `save` writes. `on_row(rows checked)` after each row."""
    report, plan = ImportReport(), import_rows.Plan()
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
            values, errors = _values(sheet, row)
            key, sameness = IDENTITIES[sheet](_as_written(sheet, row))
            skipped: str | None
            if is_example(sheet, row, _text):
                skipped = str(_l("This is the template's example row."))
            elif key in seen:
                skipped = str(_l("Row %(row)s has %(why)s.", row=seen[key], why=sameness))
            else:
                seen[key] = number
                skipped = _prepared(sheet, plan, actor, values, (key, sameness), errors)
            report.errors += [RowError(sheet, number, e.field, str(e)) for e in errors]
            if not errors:  # a bad row is neither created nor skipped: the file imports nothing
                _count(report, sheet, number, skipped)
            if on_row is not None:
                on_row(report.rows)
    if report.ok:
        import_rows.finish(plan)
    return report, plan


def _count(report: ImportReport, sheet: str, number: int, skipped: str | None) -> None:
    if skipped is None:
        report.created[sheet] += 1
    else:
        report.skipped[sheet] += 1
        report.skipped_rows.append(RowSkipped(sheet, number, skipped))


def save(*, actor: Actor, report: ImportReport, plan: import_rows.Plan, job: str | None = None) -> None:
    """Write a clean report's plan in the caller's transaction (RecordsChanged if what it relied
    on has changed since it was checked), and the import's own audit row."""
    import_rows.apply(actor, plan)
    detail: dict[str, Any] = {
        "created": dict(report.created),
        "skipped": dict(report.skipped),
        "rows": report.rows,
    }
    if job is not None:
        detail["job"] = job
    audit.record("victim.import", actor=actor, object_type="import", detail=detail)


def import_sheets(*, actor: Actor, sheets: dict[str, list[dict[str, Any]]]) -> ImportReport:
    """Check and save read sheets in the caller's transaction: all or nothing."""
    report, plan = check_sheets(actor=actor, sheets=sheets)
    if not report.ok:
        return report
    try:
        with db.session.begin_nested():
            save(actor=actor, report=report, plan=plan)
    except import_rows.RecordsChanged as error:
        return refused(error)
    return report


def import_file(*, actor: Actor, filename: str, stream: IO[bytes], kind: str | None = None) -> ImportReport:
    """Read, check and save a whole file in the caller's transaction: the report."""
    try:
        sheets = read_file(filename, stream, kind)
    except UploadRefused as error:
        return refused(error)
    return import_sheets(actor=actor, sheets=sheets)


def _service_identity(values: dict[str, Any]) -> tuple[str, str]:
    # `historical` joined the columns later: left empty, it is not part of the row's content.
    names = [name for name, _, _ in COLUMNS["assistance"] if name != "historical" or values[name]]
    return import_rows.service_identity(values, names)


IDENTITIES: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "victims": lambda v: (v["case_code"].upper(), str(_l("the same case code"))),
    "allegations": lambda v: (v["reference"], str(_l("the same reference number"))),
    "links": lambda v: (
        f"{v['case_code'].upper()}\x00{v['reference']}",
        str(_l("the same victim and allegation")),
    ),
    "assistance": _service_identity,
}

Preparer = Callable[[import_rows.Plan, Actor, dict[str, Any], str, str], "str | None"]
PREPARERS: dict[str, Preparer] = {
    "victims": lambda plan, actor, values, _key, _same: import_rows.prepare_victim(plan, actor, values),
    "allegations": lambda plan, actor, values, _key, _same: import_rows.prepare_allegation(
        plan, actor, values
    ),
    "links": lambda plan, actor, values, _key, _same: import_rows.prepare_link(plan, actor, values),
    "assistance": import_rows.prepare_service,
}
