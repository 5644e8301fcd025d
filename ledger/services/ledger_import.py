"""A fund's history booked from one spreadsheet (issue 19, item 9: 89 forms before): donors,
pledges, receipts, withholdings and transfers, one event a row, in the file's order, so a pledge
may name a donor added above it and a receipt or a transfer the pledge or withholding above it.

Every row goes through the service its form calls (`contributions`, `withholdings`), under the
ledger's lock, with the same checks, rates, closed months and refusals. The file is read and each
row's cells checked before the lock is taken (`check_file`): that needs no ledger state, and every
other writer waits for the lock. Four eyes: the forms hold none of these events (income;
`four_eyes` holds money leaving the fund), and since the import calls the same services it would
hold whatever they hold.

All or nothing: every error of every row is reported at once, and if there is any, nothing is
booked. A file is booked in one pass, and only if a row is refused booked again, each row in a
savepoint of its own so that a refused row does not stop the others being tried. No refusal
repeats a cell that can hold a name (`_safe`).

Imported once: the file's SHA-256 is kept in `ledger_import_file` (UNIQUE) in the import's
transaction, and looked up under the lock, so the same file sent twice (or by two people at once,
on any server) books once: the lookup gives the clear refusal, the constraint makes it certain.
It is also the import's audit row's object. Each row's idempotency key is made of the file's
digest and the row's number."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ledger import engine, state
from ledger.models import Donor, DonorKind, Pledge, Withholding
from ledger.services import contributions, withholdings
from ledger.services.booking import record_audit, standing
from vat import audit, money
from vat.auth.actor import Actor
from vat.db import Base, UTCDateTime, db, utcnow
from vat.errors import DomainError
from vat.inputs import InvalidField, country, mission, past_date
from vat.uploads import LineError, LinesRefused, UploadRefused, cell_date, cell_text, read_table

MAX_ROWS = 2000
KINDS = ("donor", "pledge", "receipt", "withholding", "transfer")
COLUMNS = (
    "kind",
    "date",
    "donor",
    "country_code",
    "currency",
    "amount",
    "reference",
    "pledge_reference",
    "rate",
    "earmark",
    "allegation_ref",
    "decision_reference",
    "mission",
)
# The cells each kind reads (a filled cell it does not read is refused, not ignored) and needs.
USES = {
    "donor": ("donor", "country_code"),
    "pledge": ("donor", "date", "currency", "amount", "reference", "earmark"),
    "receipt": ("donor", "date", "currency", "amount", "reference", "pledge_reference", "rate"),
    "withholding": (
        "allegation_ref",
        "country_code",
        "date",
        "currency",
        "amount",
        "decision_reference",
        "mission",
    ),
    "transfer": ("allegation_ref", "decision_reference", "date", "amount", "reference"),
}
NEEDS = {
    "donor": (),
    "pledge": ("donor", "date", "currency", "amount"),
    "receipt": ("donor", "date", "currency", "amount", "reference"),
    "withholding": ("allegation_ref", "country_code", "date", "amount"),
    "transfer": ("allegation_ref", "date", "amount", "reference"),
}
LENGTHS = {
    "donor": 120,
    "reference": 80,
    "pledge_reference": 80,
    "earmark": 200,
    "allegation_ref": 40,
    "decision_reference": 80,
    "mission": 40,
}
# Cells that can hold a name (a donor's, or one typed in the wrong column): never in a refusal.
FREE_TEXT = ("donor", "country_code", *LENGTHS.keys() - {"donor"})
ACTION = "ledger.import"
ALREADY = _l("This file has already been imported: nothing was booked again.")


class ImportedFile(Base):
    """A file imported into the ledger, by its SHA-256: one row a file, ever."""

    __tablename__ = "ledger_import_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Imported:
    rows: int
    counts: dict[str, int]


def already_imported(digest: str) -> bool:
    return db.session.scalar(select(ImportedFile.id).where(ImportedFile.digest == digest)) is not None


def _keep_once(digest: str, actor: Actor) -> None:
    """The file's row, or DomainError if another import of it committed first (or commits while
    this one waits on the constraint: PostgreSQL makes the second insert wait for the first)."""
    try:
        with db.session.begin_nested():
            db.session.add(ImportedFile(digest=digest, imported_by_id=actor.id))
            db.session.flush()
    except IntegrityError as error:
        raise DomainError(ALREADY) from error


def digest_of(stream: IO[bytes]) -> str:
    data = stream.read()
    stream.seek(0)
    return hashlib.sha256(data).hexdigest()


# --- a row's cells ---------------------------------------------------------------------------


def _cells(number: int, row: dict[str, Any]) -> tuple[dict[str, Any], list[LineError]]:
    """The row's cells read as the services take them, and the refusal of each cell that cannot
    be (an unknown kind refuses the row)."""
    errors: list[LineError] = []
    values: dict[str, Any] = {}
    kind = cell_text(row.get("kind")).lower()
    if kind not in KINDS:
        return {}, [LineError(number, "kind", str(_l("Use one of: %(values)s.", values=", ".join(KINDS))))]
    values["kind"] = kind
    for column in COLUMNS[1:]:
        if column not in USES[kind] and cell_text(row.get(column)):
            message = _l("A row of this kind has no %(column)s: leave the cell empty.", column=column)
            errors.append(LineError(number, column, str(message)))

    def read(column: str, how: Callable[[str], Any]) -> None:
        text = cell_text(row.get(column))
        try:
            if not text:
                if column in NEEDS[kind]:
                    raise InvalidField(column, _l("This cell is required for a row of this kind."))
                values[column] = None
                return
            if column in LENGTHS and len(text) > LENGTHS[column]:
                raise InvalidField(column, _l("Use at most %(count)s characters.", count=LENGTHS[column]))
            values[column] = how(text)
        except InvalidField as error:
            errors.append(LineError(number, column, str(error)))

    read("donor", lambda text: " ".join(text.split()))
    read("country_code", lambda text: country("country_code", text))
    read("currency", lambda text: money.currency("currency", text))
    try:
        values["date"] = past_date("date", cell_date("date", row.get("date")), required=kind != "donor")
    except InvalidField as error:
        errors.append(LineError(number, "date", str(error)))
    read("amount", lambda text: money.amount("amount", text, values.get("currency") or engine.USD))
    read("rate", lambda text: money.parse("rate", text))
    read("mission", lambda text: mission("mission", text))
    for column in ("reference", "pledge_reference", "earmark", "allegation_ref", "decision_reference"):
        read(column, lambda text: text)
    if kind == "donor" and not (values.get("donor") or values.get("country_code")):
        errors.append(LineError(number, "donor", str(_l("Give the donor's name or a member state's code."))))
    return values, errors


# --- booking a row through its service -------------------------------------------------------


def _donor(values: dict[str, Any], found_before: dict[str, Donor]) -> Donor:
    """The donor the row names: a member state by its code, else a donor by its name. Those the
    import has found are kept in `found_before` (a donor is never renamed nor removed), except a
    three-letter name found by name: a member state with that code, added later, would come first."""
    named = values["donor"]
    if named in found_before:
        return found_before[named]
    by_code = (
        db.session.scalar(select(Donor).where(Donor.country_code == named.upper()))
        if len(named) == 3
        else None
    )
    found = by_code or db.session.scalar(select(Donor).where(Donor.name == named))
    if found is None:
        raise InvalidField("donor", _l("No donor has this name or code (add it on a row above)."))
    if by_code is not None or len(named) != 3:
        found_before[named] = found
    return found


def _the_one(query: Any, column: str, *, none: Any, several: Any) -> Any:
    """The one standing row `query` finds; InvalidField on `column` if none or several."""
    found = db.session.scalars(query).all()
    if len(found) != 1:
        raise InvalidField(column, several if found else none)
    return found[0]


def _pledge(donor: Donor, reference: str | None) -> Pledge | None:
    if reference is None:
        return None
    return _the_one(
        standing(select(Pledge), Pledge).where(Pledge.donor_id == donor.id, Pledge.reference == reference),
        "pledge_reference",
        none=_l("No pledge of this donor has this reference."),
        several=_l("Several pledges of this donor have this reference."),
    )


def _withholding(values: dict[str, Any]) -> Withholding:
    query = standing(select(Withholding), Withholding).where(
        Withholding.allegation_ref == values["allegation_ref"]
    )
    if values.get("decision_reference"):
        query = query.where(Withholding.decision_reference == values["decision_reference"])
    return _the_one(
        query,
        "allegation_ref",
        none=_l("No withholding has this allegation (and decision) reference."),
        several=_l("Several withholdings have this reference: give the decision reference."),
    )


def _book(actor: Actor, key: str, values: dict[str, Any], donors: dict[str, Donor]) -> None:
    kind, on, amount = values["kind"], values["date"], values["amount"]
    if kind == "donor":
        member = values.get("country_code") is not None and values.get("donor") is None
        contributions.create_donor(
            actor=actor,
            name=values.get("donor") or "",
            kind=DonorKind.MEMBER_STATE if member else DonorKind.OTHER,
            country_code=values.get("country_code"),
        )
    elif kind == "pledge":
        contributions.record_pledge(
            actor=actor,
            key=key,
            donor=_donor(values, donors),
            currency=values["currency"],
            amount=amount,
            pledged_on=on,
            earmark=values.get("earmark"),
            reference=values.get("reference"),
        )
    elif kind == "receipt":
        donor = _donor(values, donors)
        contributions.record_receipt(
            actor=actor,
            key=key,
            donor=donor,
            pledge=_pledge(donor, values.get("pledge_reference")),
            amount=amount,
            currency=values["currency"],
            received_on=on,
            bank_reference=values["reference"],
            rate=values.get("rate"),
        )
    elif kind == "withholding":
        withholdings.record_withholding(
            actor=actor,
            key=key,
            allegation_ref=values["allegation_ref"],
            country_code=values["country_code"],
            amount=amount,
            currency=values.get("currency") or engine.USD,
            decided_on=on,
            decision_reference=values.get("decision_reference"),
            mission=values.get("mission"),
        )
    else:
        withholdings.record_withholding_transfer(
            actor=actor,
            key=key,
            withholding=_withholding(values),
            amount=amount,
            transferred_on=on,
            reference=values["reference"],
        )


# The services' fields that are other columns of the file: where a refusal is shown.
COLUMN_OF = {
    "pledged_on": "date",
    "received_on": "date",
    "decided_on": "date",
    "transferred_on": "date",
    "bank_reference": "reference",
    "pledge_id": "pledge_reference",
}


def _in_order(error: LineError) -> tuple[int, int]:
    return error.row, COLUMNS.index(error.column) if error.column in COLUMNS else -1


def _unknown_names(number: int, values: dict[str, Any], donors: dict[str, Donor]) -> list[LineError]:
    """A row refused for its cells: whether the donor or withholding it names is known too, so
    that one pass shows that error as well."""
    try:
        if values.get("kind") in ("pledge", "receipt") and values.get("donor"):
            _donor(values, donors)
        elif values.get("kind") == "transfer" and values.get("allegation_ref"):
            _withholding(values)
    except InvalidField as error:
        return [LineError(number, error.field, str(error))]
    return []


def _safe(message: str, row: dict[str, Any]) -> str:
    """A service's refusal without any free-text cell of the row it refuses (a donor's or
    someone's name typed in a reference), so that no name reaches a page or a log."""
    cells = {cell_text(row.get(column)) for column in FREE_TEXT}
    for text in sorted(cells, key=len, reverse=True):  # a cell inside another goes with it
        if len(text) > 1:
            message = message.replace(text, "…")
    return message


# --- the import ------------------------------------------------------------------------------


def read_rows(filename: str, stream: IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """The file's rows; UploadRefused if it cannot be read, lacks `kind` or has a column not in
    the template (named by its position, never by what its heading says)."""
    header, rows = read_table(filename, stream, limit=MAX_ROWS)
    for position, column in enumerate(header, start=1):
        if column and column not in COLUMNS:
            raise UploadRefused(
                _l(
                    "Column %(position)s is not one of the template's: %(columns)s.",
                    position=position,
                    columns=", ".join(COLUMNS),
                )
            )
    if "kind" not in header:
        raise UploadRefused(_l("The file has no column %(column)s.", column="kind"))
    return rows


@dataclass(frozen=True)
class Row:
    """A row of the file as read (`cells`, for `_safe`), its cells as the services take them
    (`values`) and the refusal of each that cannot be (`refused`): plain values only."""

    number: int
    cells: dict[str, Any]
    values: dict[str, Any]
    refused: list[LineError]


@dataclass(frozen=True)
class CheckedFile:
    digest: str
    rows: list[Row]


def check_file(filename: str, stream: IO[bytes]) -> CheckedFile:
    """The file read and each row's cells checked: what needs no ledger state, so no lock (the job
    does it before taking the ledger's). UploadRefused if the file cannot be read (`read_rows`)."""
    digest = digest_of(stream)
    return CheckedFile(
        digest, [Row(number, row, *_cells(number, row)) for number, row in read_rows(filename, stream)]
    )


def import_ledger(
    *, actor: Actor, checked: CheckedFile, on_row: Callable[[int], None] | None = None
) -> Imported:
    """Book every row of the `checked` file, or none: LinesRefused naming every error of every
    row, or DomainError (the file already imported), and nothing is saved. `on_row(rows)` is told
    how many rows it has taken up, as it takes each."""
    digest, rows = checked.digest, checked.rows
    if not rows:
        raise LinesRefused([LineError(0, "", str(_l("The file has no lines.")))])
    keys = {row.number: f"import-{digest[:40]}-{row.number}" for row in rows}
    furthest = 0

    def taken_up(tried: int) -> None:  # the second pass tells only of rows the first did not reach
        nonlocal furthest
        if on_row is not None and tried > furthest:
            furthest = tried
            on_row(tried)

    # Its events go to a batch, committed to the audit chain at the end: every audited writer
    # waits for the chain's lock, and the import holds its transaction for seconds.
    with audit.batched(actor=actor):
        engine.lock()  # every writer of the ledger waits its turn: the file is looked up, then booked
        if already_imported(digest):
            raise DomainError(ALREADY)
        state.look_up(list(keys.values()))
        # A file without errors is booked in one pass; one with any is booked again row by row,
        # each in a savepoint of its own, to name every error (a savepoint a row costs time under
        # the lock that every other writer waits for).
        counts = None if any(row.refused for row in rows) else _book_all(actor, rows, keys, taken_up)
        if counts is None:
            raise LinesRefused(sorted(_every_error(actor, rows, keys, taken_up), key=_in_order))
        _keep_once(digest, actor)
        record_audit("import", actor, "import", digest, rows=len(rows), **counts)
    return Imported(rows=len(rows), counts=dict(counts))


def _book_all(
    actor: Actor, rows: list[Row], keys: dict[int, str], taken_up: Callable[[int], None]
) -> Counter[str] | None:
    """Every row booked in turn, each kind counted; None, with nothing booked, at the first row
    refused."""
    counts: Counter[str] = Counter()
    donors: dict[str, Donor] = {}  # by the name or code rows give, as found (`_donor`)
    known = set(db.session.identity_map.keys())
    savepoint = db.session.begin_nested()
    try:
        for tried, row in enumerate(rows, start=1):
            taken_up(tried)
            _book(actor, keys[row.number], row.values, donors)
            counts[row.values["kind"]] += 1
    except (InvalidField, DomainError):
        savepoint.rollback()
        # The rows the pass wrote and read back are gone with it, and SQLite gives their ids again.
        for key in set(db.session.identity_map.keys()) - known:
            if (gone := db.session.identity_map.get(key)) is not None:  # (a weak map: it may be)
                db.session.expunge(gone)
        return None
    savepoint.commit()
    return counts


def _every_error(
    actor: Actor, rows: list[Row], keys: dict[int, str], taken_up: Callable[[int], None]
) -> list[LineError]:
    """Every error of every row: each row booked in a savepoint of its own, so that a refused row
    does not stop the others being tried, and all rolled back."""
    errors: list[LineError] = []
    donors: dict[str, Donor] = {}
    everything = db.session.begin_nested()
    for tried, row in enumerate(rows, start=1):
        taken_up(tried)
        number, values = row.number, row.values
        errors += row.refused
        if row.refused:
            errors += _unknown_names(number, values, donors)
            continue
        try:
            with db.session.begin_nested():
                _book(actor, keys[number], values, donors)
        except InvalidField as error:
            errors += [
                LineError(number, COLUMN_OF.get(each.field, each.field), _safe(str(each), row.cells))
                for each in getattr(error, "errors", [error])
            ]
        except DomainError as error:
            errors.append(LineError(number, "", _safe(str(error), row.cells)))
    everything.rollback()
    return errors
