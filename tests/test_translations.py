"""The whole interface is translated: no template text outside gettext, and every extracted
string has a French and a Chinese translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from vat.auth.models import Role

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
LANGUAGES = ("fr", "zh")

_JINJA = re.compile(r"\{#.*?#\}|\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>", re.S)
_TEXT_ATTRIBUTE = re.compile(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"')
_WORD = re.compile(r"[^\W\d_]{2,}")


def untranslated(source: str) -> list[str]:
    """Words a person would read that are not inside a gettext call or a trans block."""
    found = [value for value in _TEXT_ATTRIBUTE.findall(source) if _WORD.search(_JINJA.sub("", value))]
    text = _TAG.sub(" ", _COMMENT.sub(" ", _JINJA.sub(" ", source)))
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    found += [line.strip() for line in text.splitlines() if _WORD.search(line)]
    return found


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_template_text_is_marked_for_translation(template):
    assert untranslated(template.read_text()) == []


def extracted_messages() -> set[str]:
    method_map = [("vat/**.py", "python"), ("ledger/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    messages = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, keywords=keywords
    ):
        messages.add(message[0] if isinstance(message, tuple) else message)  # plurals: by singular id
    return {m for m in messages if m}


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_translates_every_string(language):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale=language)
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalogue
        if message.id
        and message.string
        and not message.fuzzy
        and all(message.string if isinstance(message.string, tuple) else (message.string,))
    }
    missing = sorted(extracted_messages() - translated)
    assert missing == []


def translated(app, language, text):
    with app.test_request_context(), force_locale(language):
        result = gettext(text)
    assert result != text, f"{text!r} has no {language} translation"
    return result


def page(client, path, language):
    return client.get(path, headers={"Accept-Language": language}).get_data(as_text=True)


def test_the_browser_language_is_used_before_sign_in(app, client):
    assert translated(app, "fr", "Sign in") in page(client, "/auth/login", "fr-FR,fr;q=0.9")
    assert translated(app, "zh", "Sign in") in page(client, "/auth/login", "zh-CN,zh;q=0.9")
    assert "Sign in" in page(client, "/auth/login", "de")


def test_the_users_choice_beats_the_browser(app, client, login):
    login(Role.FUND_MANAGER, "")
    assert client.post("/language", data={"language": "zh"}).status_code == 302
    dashboard = page(client, "/", "fr")
    assert 'lang="zh"' in dashboard
    assert translated(app, "zh", "Dashboard") in dashboard


def test_the_catalogue_kept_for_a_request_follows_force_locale_and_refresh(app):
    """vat.i18n keeps the reader's catalogue for the request where Flask-Babel resets it."""
    from flask import render_template_string
    from flask_babel import refresh

    french, chinese = translated(app, "fr", "Victims"), translated(app, "zh", "Victims")
    with app.test_request_context(headers={"Accept-Language": "fr"}) as context:
        assert gettext("Victims") == render_template_string("{{ _('Victims') }}") == french
        with force_locale("zh"):
            assert gettext("Victims") == render_template_string("{{ _('Victims') }}") == chinese
        assert gettext("Victims") == french
        context.request.environ["HTTP_ACCEPT_LANGUAGE"] = "zh"
        context.request.__dict__.pop("accept_languages", None)
        refresh()
        assert gettext("Victims") == chinese


def test_numbers_and_dates_follow_the_locale(app):
    from datetime import date
    from decimal import Decimal

    from vat.templating import amount, day

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert amount(Decimal("1234.5")) == "1\u202f234,50"
        assert "2026" in day(date(2026, 3, 1)) and "mars" in day(date(2026, 3, 1))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert amount(Decimal("1234.5")) == "1,234.50"
