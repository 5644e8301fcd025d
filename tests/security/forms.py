"""Discover the WTForms form each POST route takes (from the names its view function uses),
and build values for a form's fields from the field classes: valid ones to start from, and the
field's types to aim hostile ones at."""

from __future__ import annotations

import inspect
from datetime import date, timedelta
from html.parser import HTMLParser
from types import CodeType
from typing import Any

from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.routing import Rule
from wtforms import fields


def _names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            names |= _names(constant)
    return names


def _is_form(candidate: Any) -> bool:
    return inspect.isclass(candidate) and issubclass(candidate, FlaskForm)


def forms_of_view(view: Any, url_values: dict[str, Any]) -> list[type[FlaskForm]]:
    """The form classes a view names; a table of forms (e.g. one per step) gives the form for
    the value in the URL; a view registered from a row names its form in the row."""
    view = inspect.unwrap(view)
    found = []
    for name in sorted(_names(view.__code__)):
        candidate = view.__globals__.get(name)
        if _is_form(candidate):
            found.append(candidate)
        elif isinstance(candidate, dict) and candidate and all(map(_is_form, candidate.values())):
            found += [form for key, form in candidate.items() if str(key) in map(str, url_values.values())]
    for cell in view.__closure__ or ():  # a view registered from a row of a table (FormOn)
        form_class = getattr(cell.cell_contents, "form_class", None)
        if _is_form(form_class):
            found.append(form_class)
    return found


def form_fields(app: Flask, rule: Rule, url_values: dict[str, Any]) -> dict[str, str]:
    """The fields (name → kind) of every form the route's view uses."""
    found: dict[str, str] = {}
    for form_class in forms_of_view(app.view_functions[rule.endpoint], url_values):
        form = form_class(meta={"csrf": False}, formdata=None)
        for name, field in form._fields.items():
            found[name] = field_kind(field)
    return found


class RenderedForm(HTMLParser):
    """The fields of the forms on a page, with the values the page proposes."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a or name not in self.values:
                    self.values[name] = [a.get("value", "y")]
            else:
                self.values.setdefault(name, [a.get("value", "")])
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            current = self.values.get(self._select)
            if "selected" in a or not current or current == [""]:
                self.values[self._select] = [a.get("value", "")]
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, [""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.values[self._textarea] == [""]:
            self.values[self._textarea] = [data.strip("\r\n")]


def rendered_values(html: str) -> dict[str, list[str]]:
    parser = RenderedForm()
    parser.feed(html)
    return parser.values


def field_kind(field: Any) -> str:
    for kind, classes in (
        ("boolean", (fields.BooleanField,)),
        ("date", (fields.DateField, fields.DateTimeField)),
        ("decimal", (fields.DecimalField, fields.FloatField)),
        ("integer", (fields.IntegerField,)),
        ("multi", (fields.SelectMultipleField,)),
        ("select", (fields.SelectField, fields.RadioField)),
        ("file", (fields.FileField,)),
        ("hidden", (fields.HiddenField,)),
        ("text", (fields.StringField,)),
    ):
        if isinstance(field, classes):
            return kind
    return "other"


DEFAULTS = {
    "decimal": "10",
    "integer": "1",
    "boolean": "y",
    "text": "Test value",
}


def starting_values(fields: dict[str, str], page: str | None) -> dict[str, list[str]]:
    """Values the form is likely to accept: what the page proposes, else one by the field's kind."""
    proposed = rendered_values(page) if page else {}
    values: dict[str, list[str]] = {}
    for name, kind in fields.items():
        if kind == "file":
            continue
        if proposed.get(name, [""]) != [""]:
            values[name] = proposed[name]
        elif kind == "date":  # read as the form is filled: a run may cross midnight
            values[name] = [(date.today() - timedelta(days=30)).isoformat()]
        elif kind in DEFAULTS:
            values[name] = [DEFAULTS[kind]]
    return values
