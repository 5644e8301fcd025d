"""Languages: English, French and Chinese (Simplified). The user's choice wins, then the browser's."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_babel import Babel
from flask_login import current_user

LANGUAGES = {"en": "English", "fr": "Français", "zh": "中文"}

babel = Babel()


def select_locale() -> str:
    if not has_request_context():  # commands and tests of services: messages in English
        return "en"
    chosen = getattr(current_user, "language", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default="en")


def init_app(app: Flask, translations: str) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations)
    babel.init_app(app, locale_selector=select_locale)
