"""A partner's per-beneficiary report imported from its spreadsheet (issue 18, item 5; OIOS §117:
nobody could show what each victim received): one line per victim, by case code only, and what
they received in the reporting period (money or a service) in the project's currency.

All or nothing, like the victims' import: every cell of every row is checked, every refusal is
reported at once (row, column, reason) and nothing is saved if there is any. A cell's value is
never repeated in a refusal, so a name typed by mistake never reaches a page. The case codes are
checked by the victims' side through `beneficiaries_named` (the ledger never imports it): each must
be a victim of the project's country, in the importer's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from flask import current_app
from flask.signals import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger import engine
from ledger.models import (
    BENEFICIARY_SUPPORT,
    ProjectBeneficiary,
    ProjectReport,
    ProjectReportLine,
    ReportKind,
)
from ledger.reports.project_figures import disbursed_amount
from ledger.services.booking import record_audit
from vat import money
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.uploads import LineError, LinesRefused, UploadRefused, cell_date, cell_text, read_table

MAX_LINES = 5000
COLUMNS = ("case_code", "support", "amount", "provided_on")
REQUIRED = COLUMNS[:3]
CASE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9/-]{2,39}$")

# Sent while a report's lines are checked; a receiver returns the case codes of `case_codes` that
# are victims of `country_code` within the actor's scope. With no receiver, none is known.
signals = Namespace()
beneficiaries_named = signals.signal("ledger-report-beneficiaries-named")
# Sent, inside the import's transaction, with the lines saved: the victims' side records each on
# the victim it names as support received (a refusal there rolls the whole import back).
beneficiary_lines_imported = signals.signal("ledger-report-lines-imported")


# --- reading ---------------------------------------------------------------------------------


def read_rows(filename: str, stream: IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """The file's filled rows, each with its row number, as {column: cell}; UploadRefused for a
    file that cannot be read, lacks a column or holds one that is not asked for (a name)."""
    header, rows = read_table(filename, stream, limit=MAX_LINES)
    unknown = [column for column in header if column and column not in COLUMNS]
    if unknown:
        raise UploadRefused(
            _l(
                "Unknown column %(column)s: the report holds %(columns)s only (case codes, never names).",
                column=unknown[0][:40],
                columns=", ".join(COLUMNS),
            )
        )
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise UploadRefused(_l("The file has no column %(column)s.", column=missing[0]))
    return rows


def _day(cell: Any) -> date | None:
    return cell_date("provided_on", cell)


# --- checking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    row: int
    case_code: str
    support: str
    amount: Decimal
    provided_on: date | None

    @property
    def columns(self) -> dict[str, Any]:
        return {"case_code": self.case_code, "support": self.support, "provided_on": self.provided_on}


def _line(
    report: ProjectReport, number: int, row: dict[str, Any], today: date
) -> tuple[str | None, _Line | None, list[LineError]]:
    """The row's case code as read (None if refused), its line if no cell is refused, the errors."""
    errors: list[LineError] = []

    def check(column: str, read: Any) -> Any:
        try:
            return read()
        except InvalidField as error:
            errors.append(LineError(number, column, str(error)))
            return None

    def case_code() -> str:
        code = cell_text(row.get("case_code")).upper()
        if not CASE_CODE.match(code):
            raise InvalidField("case_code", _l("Write the victim's case code (never a name)."))
        return code

    def support() -> str:
        value = re.sub(r"[\s/-]+", "_", cell_text(row.get("support")).lower())
        if value not in BENEFICIARY_SUPPORT:
            raise InvalidField(
                "support", _l("Use one of: %(values)s.", values=", ".join(BENEFICIARY_SUPPORT))
            )
        return value

    def amount() -> Decimal:
        value = money.parse("amount", cell_text(row.get("amount")) or "0")
        if value < 0 or value >= money.MAX_AMOUNT:
            raise InvalidField("amount", _l("Give an amount of zero or more."))
        return money.check_places("amount", value, report.project.currency)

    def provided_on() -> date | None:
        day = _day(row.get("provided_on"))
        if day is not None and day > today:
            raise InvalidField("provided_on", _l("The date is in the future."))
        start, end = report.period_start, report.period_end
        if day is not None and ((start and day < start) or (end and day > end)):
            raise InvalidField("provided_on", _l("The date is outside the report's period."))
        return day

    code, kind = check("case_code", case_code), check("support", support)
    value, day = check("amount", amount), check("provided_on", provided_on)
    if kind == "cash" and value == 0:
        errors.append(LineError(number, "amount", str(_l("A cash payment needs an amount above zero."))))
    if errors:
        return code, None, errors
    return code, _Line(number, code, kind, value, day), []


def check_lines(
    *, actor: Actor, report: ProjectReport, rows: list[tuple[int, dict[str, Any]]], today: date
) -> list[_Line]:
    """Every row checked; LinesRefused with every error of every row if any is refused."""
    errors: list[LineError] = []
    lines: list[_Line] = []
    codes: dict[int, str] = {}
    seen: set[tuple[str, str]] = set()
    for number, row in rows:
        code, line, refused = _line(report, number, row, today)
        errors += refused
        if code is not None:
            codes[number] = code
        if line is None:
            continue
        if (line.case_code, line.support) in seen:
            twice = _l("This case code has this support on an earlier row.")
            errors.append(LineError(number, "support", str(twice)))
        seen.add((line.case_code, line.support))
        lines.append(line)
    if not rows:
        errors.append(LineError(0, "", str(_l("The file has no lines."))))
    country = report.project.country_code
    known = _known_case_codes(actor, country, sorted(set(codes.values())))
    unknown = str(_l("No victim of %(country)s has this case code.", country=country))
    errors += [LineError(number, "case_code", unknown) for number, code in codes.items() if code not in known]
    errors += _within_disbursed(report, lines)
    if errors:
        raise LinesRefused(sorted(errors, key=lambda e: (e.row, _column_order(e.column))))
    return lines


def _column_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else -1


def _known_case_codes(actor: Actor, country_code: str, case_codes: list[str]) -> set[str]:
    if not case_codes:
        return set()
    answers = beneficiaries_named.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        actor=actor,
        country_code=country_code,
        case_codes=case_codes,
    )
    known: set[str] = set()
    for _receiver, found in answers:
        known |= set(found or ())
    return known


def _within_disbursed(report: ProjectReport, lines: list[_Line]) -> list[LineError]:
    """A partner cannot report giving victims more than the fund disbursed to its project."""
    project = report.project
    earlier = db.session.scalar(
        select(func.coalesce(func.sum(ProjectReportLine.amount_minor), 0)).where(
            ProjectReportLine.project_id == project.id
        )
    )
    total = engine.from_minor(earlier or 0, project.currency) + sum(
        (line.amount for line in lines), Decimal(0)
    )
    disbursed = disbursed_amount(project)
    if total <= disbursed:
        return []
    message = _l(
        "The project's reported lines add up to %(currency)s %(total)s, more than the %(currency)s "
        "%(disbursed)s disbursed to it.",
        currency=project.currency,
        total=money.shown(total),
        disbursed=money.shown(disbursed),
    )
    return [LineError(0, "amount", str(message))]


# --- importing -------------------------------------------------------------------------------


def import_lines(
    *, actor: Actor, report: ProjectReport, filename: str, stream: IO[bytes], today: date
) -> list[ProjectReportLine]:
    """The report's lines from the partner's file, all at once: the report is recorded received
    (today, the file's name as its reference) if it was not yet; its new beneficiaries are listed
    on the project. LinesRefused (every error) or a DomainError, and nothing is saved."""
    # The ledger's lock, taken as every writer of it takes it: two imports of one project's reports
    # (or an import and a tranche's reversal) wait their turn, so neither lands lines twice or
    # above what stands disbursed.
    engine.lock()
    db.session.refresh(report)
    if report.kind != ReportKind.BENEFICIARIES:
        raise DomainError(_l("Only a report of what each beneficiary received has lines to import."))
    if db.session.scalar(
        select(ProjectReportLine.id).where(ProjectReportLine.report_id == report.id).limit(1)
    ):
        raise DomainError(_l("This report's lines are already imported."))
    lines = check_lines(actor=actor, report=report, rows=read_rows(filename, stream), today=today)
    project = report.project
    rate = engine.rate_for(project.currency, report.period_end or report.due_on)
    usd_rate = rate.rate if rate else Decimal(1)
    rows = [
        ProjectReportLine(
            report_id=report.id,
            project_id=project.id,
            amount_minor=engine.to_minor(line.amount, project.currency),
            usd_minor=engine.to_minor(engine.to_usd(line.amount, usd_rate), engine.USD),
            **line.columns,
        )
        for line in lines
    ]
    db.session.add_all(rows)
    listed = {b.case_code for b in project.beneficiaries}
    new = sorted({line.case_code for line in lines} - listed)
    db.session.add_all(ProjectBeneficiary(project_id=project.id, case_code=code) for code in new)
    project.victims_supported = max(project.victims_supported, len(listed) + len(new))
    if report.received_on is None:
        report.received_on = today
        report.reference = report.reference or filename[-120:]
    db.session.flush()
    db.session.expire(project, ["beneficiaries"])
    beneficiary_lines_imported.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        actor=actor,
        project_id=project.id,
        report_id=report.id,
        currency=project.currency,
        reported_on=report.received_on,
        lines=[
            {
                "line_id": row.id,
                "case_code": row.case_code,
                "support": row.support,
                "provided_on": row.provided_on,
            }
            | {"amount_minor": row.amount_minor, "usd_minor": row.usd_minor}
            for row in rows
        ],
    )
    record_audit(
        "project.report_lines",
        actor,
        "project",
        project.id,
        report=report.id,
        lines=len(rows),
        victims=len({line.case_code for line in lines}),
        amount_minor=sum(row.amount_minor for row in rows),
    )
    return rows


def lines_of(report: ProjectReport) -> list[tuple[ProjectReportLine, Decimal]]:
    """The report's lines by case code, each with its amount in the project's currency."""
    rows = db.session.scalars(
        select(ProjectReportLine)
        .where(ProjectReportLine.report_id == report.id)
        .order_by(ProjectReportLine.case_code, ProjectReportLine.support)
    )
    return [(row, engine.from_minor(row.amount_minor, report.project.currency)) for row in rows]
