"""Languages: English, French and Chinese (Simplified). The user's choice wins, then the browser's.
Time zones: the user's choice, then the deployment's."""

from __future__ import annotations

from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.support import NullTranslations
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, Domain
from flask_babel import _get_current_context as babel_request_state
from flask_login import current_user

LANGUAGES = {"en": "English", "fr": "Français", "zh": "中文"}


def N_(message: str) -> str:
    """`message` marked for the catalogue (one of pybabel's keywords) and kept as it is: for a
    sentence stored or passed on in English and translated only where it is shown."""
    return message


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the reader's catalogue looked up once per request.

    Flask-Babel finds the locale and its catalogue again for every string, at some 20 µs each: a
    list page shows 400 strings. The catalogue is kept where Flask-Babel's own `refresh()` and
    `force_locale()` reset it (tests/test_translations.py checks that they still do)."""

    def get_translations(self) -> NullTranslations:
        state = babel_request_state()
        if state is None:
            return super().get_translations()
        found = getattr(state, "babel_translations", None)
        if found is None:
            found = state.babel_translations = super().get_translations()
        return found


class RequestBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return RequestDomain(domain=self.domain)


babel = RequestBabel()


def select_locale() -> str:
    if not has_request_context():  # commands and tests of services: messages in English
        return "en"
    chosen = getattr(current_user, "language", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default="en")


def select_timezone() -> str:
    """The reader's time zone: their choice, else the deployment's (VAT_TIME_ZONE)."""
    chosen = getattr(current_user, "time_zone", None) if has_request_context() and current_user else None
    return chosen or current_app.config["VAT_TIME_ZONE"]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone called `name`; ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # ValueError: a path, not a name
        raise ValueError(name) from error


def init_app(app: Flask, translations: str) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations)
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["VAT_TIME_ZONE"]
    zone(app.config["VAT_TIME_ZONE"])  # a misspelt zone stops the start, not a page
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
