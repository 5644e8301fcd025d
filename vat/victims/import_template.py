"""The import's columns, and the template a tracker is copied into: an XLSX workbook (a README
sheet, then one sheet per kind) or one CSV file per kind, each with the column headers and one
example row. The example rows are fictitious and are skipped if they are imported unchanged."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from vat.victims.import_values import VOCABULARIES

# What can be imported, in the template's order: a CSV file holds one kind, a workbook a sheet of each.
KINDS = {
    "victims": _l("victims"),
    "allegations": _l("allegations"),
    "links": _l("victim–allegation links"),
    "assistance": _l("assistance"),
}
DATE = "YYYY-MM-DD"
COUNTRY = _l("ISO 3166 alpha-2 or alpha-3 code (CF, CAF) or English or French name")
HISTORICAL = _l("yes for a record from an old tracker: what it never kept is counted as not recorded")
ENCRYPTED = _l("encrypted")
CASE_CODE = _l("a victim's case code")


def _joined(*parts: Any) -> LazyString:
    """A note of several pieces, each translated when the note is shown."""
    return LazyString(lambda: "".join(str(part) for part in parts))


def _values(column: str) -> LazyString:
    codes = ", ".join(m.value for m in VOCABULARIES[column])
    return _joined(codes, " (", _l("or the label in English, French or Chinese"), ")")


# Each column: its name, whether it is required, and a note on its values (shown translated).
COLUMNS: dict[str, list[tuple[str, bool, Any]]] = {
    "victims": [
        ("case_code", True, _l("e.g. CAR-2016-0007; kept as is, and the key for re-imports")),
        ("country_code", True, COUNTRY),
        ("mission", False, _l("e.g. MINUSCA")),
        ("registered_on", False, _l("YYYY-MM-DD; today if empty")),
        ("sex", False, _values("sex")),
        ("age_group", False, _values("age_group")),
        ("date_of_birth", False, DATE),
        ("name", False, ENCRYPTED),
        ("aliases", False, _l("encrypted; separate names with ;")),
        ("contact", False, ENCRYPTED),
        ("location", False, ENCRYPTED),
        ("notes", False, ENCRYPTED),
        ("consents", False, _joined(_l("purposes given, separated by ;"), " — ", _values("consents"))),
        ("consent_date", False, _l("YYYY-MM-DD (needed with consents)")),
        ("consent_method", False, _values("consent_method")),
    ],
    "allegations": [
        ("reference", True, _l("e.g. 0399/15; the key for re-imports")),
        ("country_code", True, COUNTRY),
        ("mission", False, _l("entity or mission, e.g. MINUSCA, UNHCR")),
        ("entity_category", False, _values("entity_category")),
        ("personnel_category", False, _values("personnel_category")),
        ("perpetrator_country", False, COUNTRY),
        ("perpetrators", False, _l("number of alleged perpetrators")),
        ("type", False, _joined(_values("type"), "; ", _l("sexual_exploitation and sexual_abuse too"))),
        ("sub_type", False, _values("sub_type")),
        ("urgency", False, _values("urgency")),
        ("received_on", False, DATE),
        ("assessed_on", False, DATE),
        ("referred_on", False, DATE),
        ("nio_decision_on", False, DATE),
        ("investigation_completed_on", False, DATE),
        ("report_submitted_on", False, DATE),
        ("investigating_entity", False, _values("investigating_entity")),
        ("investigation_status", False, _values("investigation_status")),
        ("outcome", False, _values("outcome")),
        ("actions_taken", False, _l("free text")),
        ("historical", False, _joined(HISTORICAL, " (", _l("steps without a date are not overdue"), ")")),
    ],
    "links": [
        ("case_code", True, CASE_CODE),
        ("reference", True, _l("an allegation's reference number")),
    ],
    "assistance": [
        ("case_code", True, CASE_CODE),
        ("service_type", True, _values("service_type")),
        ("provider", False, _l("e.g. UNFPA, an NGO")),
        ("referral_date", False, DATE),
        ("start_date", False, DATE),
        ("end_date", False, DATE),
        ("status", False, _values("status")),
        ("cost", False, _l("a number, e.g. 120.50")),
        ("currency", False, _l("ISO 4217, e.g. USD, XAF")),
        ("funding_source", False, _values("funding_source")),
        ("notes", False, ENCRYPTED),
        (
            "row_key",
            False,
            _l("your own identifier of the row: rows with the same row_key are one service"),
        ),
        (
            "historical",
            False,
            _joined(HISTORICAL, " (", _l("a completed service may lack its dates and the consent"), ")"),
        ),
    ],
}

# One fictitious row per sheet, written as an old tracker might hold it.
EXAMPLES: dict[str, dict[str, str]] = {
    "victims": {
        "case_code": "EXAMPLE-2019-0001",
        "country_code": "CF",
        "mission": "MINUSCA",
        "registered_on": "2019-03-12",
        "sex": "femme",
        "age_group": "minor",
        "consents": "services;contact",
        "consent_date": "2019-03-12",
        "consent_method": "guardian",
    },
    "allegations": {
        "reference": "EXAMPLE/19",
        "country_code": "Central African Republic",
        "mission": "MINUSCA",
        "entity_category": "peacekeeping",
        "personnel_category": "military contingent",
        "perpetrators": "2",
        "type": "sexual_exploitation",
        "sub_type": "transactional sex",
        "received_on": "2019-03-04",
        "assessed_on": "2019-03-08",
        "referred_on": "2019-03-11",
        "investigating_entity": "NIO",
        "investigation_status": "ongoing",
        "outcome": "pending",
        "historical": "yes",
    },
    "links": {"case_code": "EXAMPLE-2019-0001", "reference": "EXAMPLE/19"},
    "assistance": {
        "case_code": "EXAMPLE-2019-0001",
        "service_type": "medical",
        "referral_date": "2019-03-12",
        "start_date": "2019-03-12",
        "status": "completed",
        "cost": "85",  # a whole number: a spreadsheet keeps it as written
        "currency": "USD",
        "funding_source": "mission budget",
        "historical": "yes",
    },
}


def example_row(kind: str) -> list[str]:
    return [EXAMPLES[kind].get(name, "") for name, _, _ in COLUMNS[kind]]


def is_example(kind: str, row: dict[str, Any], text: Any) -> bool:
    """Whether a row is the template's example, unchanged (`text` reads a cell as the importer does)."""
    return all(text(row.get(name)) == value for name, value in EXAMPLES[kind].items()) and all(
        not text(row.get(name)) for name, _, _ in COLUMNS[kind] if name not in EXAMPLES[kind]
    )


def template_workbook() -> io.BytesIO:
    """The documented template: a README sheet, then one sheet per kind with its header row and
    its example row."""
    workbook = Workbook()
    readme = cast(Worksheet, workbook.active)  # a new workbook has one sheet, its active one
    readme.title = "README"
    readme.append(["sheet", "column", "required", "values"])
    for kind in KINDS:
        sheet = workbook.create_sheet(kind)
        sheet.append([name for name, _, _ in COLUMNS[kind]])
        sheet.append(example_row(kind))
        for name, required, help_text in COLUMNS[kind]:
            readme.append([kind, name, "yes" if required else "", str(help_text)])
    readme.append([])
    readme.append(
        ["Delete no sheet you need; leave a sheet with only its header row to import nothing of that kind."]
    )
    readme.append(["The second row of each sheet is a fictitious example: it is skipped if left unchanged."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def template_csv(kind: str) -> io.BytesIO:
    """One kind's template as a UTF-8 CSV file (with a byte-order mark, for spreadsheet programs)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([name for name, _, _ in COLUMNS[kind]])
    writer.writerow(example_row(kind))
    return io.BytesIO(("\ufeff" + text.getvalue()).encode())
