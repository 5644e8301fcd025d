"""Input cleaning shared by every domain service: trimmed text, choices, dates, countries.

Each refusal is an `InvalidField` that names the form field (or spreadsheet column) it is about.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
from flask import current_app, g, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from vat.errors import DomainError


class InvalidField(DomainError):
    """A value refused by a rule; `field` names the form field / spreadsheet column."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidFields(InvalidField):
    """Several rules refused at once (each an InvalidField, in `errors`): a form shows each on its
    field (`vat.submission.show_refusal`), the importer lists them all."""

    def __init__(self, errors: list[InvalidField]) -> None:
        super().__init__(errors[0].field, str(errors[0]))
        self.errors = errors


def refuse_all(errors: list[InvalidField]) -> None:
    """Raise the refusals found, if any: one as itself, several as InvalidFields."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidFields(errors)


def each_field(
    checks: Mapping[str, Callable[[], Any]], *, found: list[InvalidField] | None = None
) -> dict[str, Any]:
    """Every field's check run, not only those before the first refusal: the cleaned values by
    name, or every refusal at once, with those the caller `found` (so a form shows each on its
    field in one answer)."""
    cleaned: dict[str, Any] = {}
    errors: list[InvalidField] = list(found or [])
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except InvalidFields as refused:
            errors.extend(refused.errors)
        except InvalidField as refused:
            errors.append(refused)
    refuse_all(errors)
    return cleaned


def today() -> date:
    """Today where the reader is (their time zone, else the installation's, VAT_TIME_ZONE): what
    "today" and "in the future" mean on every form. Read from the request's signed-in session, not
    through `current_user`, which must not be loaded before the request has found its session."""
    if not has_app_context():
        return date.today()
    row = g.get("user_session") if has_request_context() else None
    chosen = getattr(getattr(row, "user", None), "time_zone", None)
    return datetime.now(ZoneInfo(chosen or current_app.config["VAT_TIME_ZONE"])).date()


def clean_text(field: str, value: str | None, *, max_length: int, required: bool = False) -> str | None:
    """Trim surrounding spaces only (names round-trip exactly); refuse oversized text."""
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidField(field, _l("This field is required."))
        return None
    if len(value) > max_length:
        raise InvalidField(field, _l("Use at most %(count)s characters.", count=max_length))
    if "\x00" in value:
        raise InvalidField(field, _l("This text holds a character that cannot be stored."))
    return value


def choice(field: str, value: str | None, allowed: type[Any], *, default: str | None = None) -> str:
    cleaned = (value or "").strip().lower().replace(" ", "_").replace("-", "_") or default
    valid = {m.value for m in allowed}
    if cleaned is None or cleaned not in valid:
        raise InvalidField(field, _l("Choose one of: %(values)s.", values=", ".join(sorted(valid))))
    return cleaned


def optional_choice(field: str, value: str | None, allowed: type[Any]) -> str | None:
    """A choice that may be left empty: None, "not recorded"."""
    if not (value or "").strip():
        return None
    return choice(field, value, allowed)


def count(field: str, value: object, *, maximum: int = 100_000) -> int | None:
    """A whole number of people or things, at least 1; None when not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError as error:
        raise InvalidField(field, _l("Give a whole number.")) from error
    if not 1 <= number <= maximum:
        raise InvalidField(field, _l("Give a number from 1 to %(maximum)s.", maximum=maximum))
    return number


YES = {"yes", "y", "true", "1", "x", "oui", "是"}
NO = {"", "no", "n", "false", "0", "non", "否"}


def yes_no(field: str, value: object) -> bool:
    """A yes/no cell or field: True, False, or the words for them (English, French, Chinese)."""
    if isinstance(value, bool):
        return value
    cleaned = str(value if value is not None else "").strip().lower()
    if cleaned in YES:
        return True
    if cleaned in NO:
        return False
    raise InvalidField(field, _l("Answer yes or no."))


def past_date(field: str, value: date | None, *, required: bool = False) -> date | None:
    if value is None:
        if required:
            raise InvalidField(field, _l("This date is required."))
        return None
    if value > today():
        raise InvalidField(field, _l("This date cannot be in the future."))
    if value.year < 1900:
        raise InvalidField(field, _l("This date is too far in the past."))
    return value


def country(field: str, value: str | None, *, required: bool = True) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        if required:
            raise InvalidField(field, _l("Choose a country."))
        return None
    if pycountry.countries.get(alpha_3=value) is None:
        raise InvalidField(field, _l("Use an ISO 3166 three-letter country code (e.g. CAF, COD)."))
    return value


def mission(field: str, value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    if len(value) > 40 or not all(c.isalnum() or c in " -/" for c in value):
        raise InvalidField(field, _l("Use the mission or entity's short name (letters and digits)."))
    return value


# pycountry's catalogue of country names for each language the app speaks besides English.
COUNTRY_CATALOGUES = {"fr": "fr", "zh": "zh_CN"}


@cache
def _country_catalogue(language: str) -> gettext.NullTranslations:
    if language not in COUNTRY_CATALOGUES:
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[COUNTRY_CATALOGUES[language]])


def country_label(code: str) -> str:
    """The country's ISO 3166 name in the reader's language (English outside a request)."""
    found = pycountry.countries.get(alpha_3=code)
    if found is None:
        return code
    return _country_catalogue(str(get_locale() or "en")).gettext(found.name)


@cache
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    catalogue = _country_catalogue(language)
    named = ((c.alpha_3, f"{catalogue.gettext(c.name)} ({c.alpha_3})") for c in pycountry.countries)
    return tuple(sorted(named, key=lambda c: c[1]))


def country_choices() -> list[tuple[str, str]]:
    """Every country, named in the reader's language, in that language's order of names."""
    return list(_country_choices(str(get_locale() or "en")))
