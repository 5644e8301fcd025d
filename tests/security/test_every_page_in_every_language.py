"""Issue 19, item 1: every page a role may open on the demo data, and the fund statement's PDF,
read in French and in Chinese hold no English sentence of ours (`tests.english_left`). Each role
signs in (a new user of the demo's scope, no language of their own) and its browser asks for the
language; every GET route of the URL map is opened with its arguments filled from the demo's
records in that scope (`seeded_objects`). Text the demo's people typed (names, notes, reasons) is
data, not ours, and is taken out of the page before the check (`data_shown`). A page that answers
5xx in the language fails too."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import String, Text, select

from tests.english_left import _english as english_pieces
from tests.english_left import english_left, shown_text
from tests.reports.pdf_text import pdf_text
from tests.security.conftest import FIXED_ARGUMENTS, IN_SCOPE, Clients, in_address, seeded_objects
from vat.auth.models import Role
from vat.auth.policy import can, declared_permission
from vat.db import Base, db
from vat.victims.import_values import VOCABULARIES

ROOT = Path(__file__).resolve().parents[2]
# Files and the health probe show no page to read; downloads other than the PDF are skipped.
SKIPPED = frozenset({"static", "ledger.static", "main.health"})
PDF = "reports.fund_export"  # the fund statement, as a PDF


def codes() -> list[str]:
    """The import's lists of stored codes, which stay as they are in every language."""
    return [", ".join(m.value for m in vocabulary) for vocabulary in VOCABULARIES.values()]


class _RoleOnly:
    is_authenticated = True

    def __init__(self, role: Role) -> None:
        self.role = role


def demo_literals() -> set[str]:
    """The strings of three words or more the demo types (seeding/demo*.py): names, titles, notes,
    complaints, including those it encrypts."""
    found: set[str] = set()
    for module in sorted((ROOT / "seeding").glob("demo*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and len(node.value.split()) >= 3
            ):
                found.add(node.value)
    return found


def stored_strings(app: Flask) -> set[str]:
    """The strings of three words or more stored in plain columns of the seeded database."""
    found: set[str] = set()
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in db.session.execute(select(*columns)):
                found.update(v for v in row if isinstance(v, str) and len(v.split()) >= 3 and len(v) < 2000)
        db.session.rollback()
    return found


def data_shown(app: Flask, language: str) -> list[str]:
    """What pages show as data, longest first: what the demo typed, and what is stored unless it
    holds a sentence of our catalogue (our code wrote it: an English memo, an account's name)."""
    ours = english_pieces(language)
    stored = {text for text in stored_strings(app) if not any(piece in text for piece in ours)}
    return sorted({*demo_literals(), *stored, *codes()}, key=len, reverse=True)


def get_routes(app: Flask, language: str) -> list[tuple[str, str, Any]]:
    """(endpoint, url, permission) of every GET route, filled from the demo's in-scope records (a
    letter template: the one in the language read)."""
    values = {**seeded_objects(app, IN_SCOPE), **FIXED_ARGUMENTS, "fmt": "pdf", "language": language}
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        if "fmt" in rule.arguments and rule.endpoint != PDF:  # a sheet's download: no page
            continue
        url = rule.build({name: values[name] for name in in_address(rule)}, append_unknown=False)[1]
        found.append((rule.endpoint, url, declared_permission(app, rule.endpoint)))
    return found


def read(response: Any) -> str | None:
    """What a person reads in the answer: a page's shown text, a PDF's drawn text, else None."""
    kind = response.mimetype
    if response.status_code in (301, 302, 303):  # a redirect's body is never shown
        return None
    if kind == "text/html":
        return shown_text(response.get_data(as_text=True))
    if kind == "application/pdf":
        return pdf_text(response.data)
    return None


@pytest.mark.parametrize("language", ["fr", "zh"])
def test_every_page_reads_in_the_language_asked_for(app, make_user, language):
    typed = data_shown(app, language)
    routes = get_routes(app, language)
    clients = Clients(app, make_user)
    left: dict[str, set[str]] = defaultdict(set)  # an English sentence → where it was read
    read_pages = 0
    failed: list[str] = []  # a page that breaks in this language
    for role in [None, *Role]:
        client = clients.signed_in(role)
        for endpoint, url, permission in routes:
            if role is None and permission.value != "public":
                continue
            if role is not None and (permission.value == "public" or not can(_RoleOnly(role), permission)):
                continue
            response = client.get(url, headers={"Accept-Language": language})
            if response.status_code >= 500:
                failed.append(f"{role.value if role else 'anonymous'} {url} {response.status_code}")
            text = read(response)
            response.close()
            if text is None:
                continue
            read_pages += 1
            for value in typed:
                text = text.replace(value, " ")
            for sentence in english_left(text, language):
                left[sentence].add(f"{role.value if role else 'anonymous'} {endpoint} {response.status_code}")
    report = "\n".join(f"{sentence!r}: {sorted(where)[:3]}" for sentence, where in sorted(left.items()))
    assert not failed, failed
    assert not left, f"{len(left)} English sentences left in {language}:\n{report}"
    assert read_pages > 200
