"""Cells as old trackers hold them, read into the values the services take.

A country may be an ISO 3166 alpha-2 or alpha-3 code or its English, French or Chinese name
(pycountry's names and translations); an enumerated cell may be the stored code, its label in any
of the interface's languages (vat.victims.labels, through the catalogues) or one of the words the
UN's tables and old trackers use for it (`sexual_exploitation`, `peacekeeping`, `NIO`). Spaces,
dashes, underscores, case and accents do not matter. Each function refuses with an InvalidField
naming the column, so the importer can report every bad cell of a row.
"""

from __future__ import annotations

import gettext
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

import pycountry
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from vat.allegations import models as allegation
from vat.i18n import LANGUAGES
from vat.inputs import InvalidField
from vat.victims.labels import LABELS
from vat.victims.models import (
    AgeGroup,
    ConsentMethod,
    ConsentPurpose,
    FundingSource,
    ServiceStatus,
    ServiceType,
    Sex,
)

# Each enumerated column of every sheet, and the enum of its values.
VOCABULARIES: dict[str, type[Any]] = {
    "sex": Sex,
    "age_group": AgeGroup,
    "consents": ConsentPurpose,
    "consent_method": ConsentMethod,
    "entity_category": allegation.EntityCategory,
    "personnel_category": allegation.PersonnelCategory,
    "type": allegation.AllegationType,
    "sub_type": allegation.SubType,
    "urgency": allegation.Urgency,
    "investigating_entity": allegation.InvestigatingEntity,
    "investigation_status": allegation.InvestigationStatus,
    "outcome": allegation.Outcome,
    "service_type": ServiceType,
    "status": ServiceStatus,
    "funding_source": FundingSource,
}
LIST_COLUMNS = {"consents"}  # several values, separated by ;
COUNTRY_COLUMNS = {"country_code", "perpetrator_country"}

# The words of the UN's published tables and of the trackers kept before this tool, by column.
SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {"f": "female", "m": "male", "femme": "female", "homme": "male", "woman": "female", "man": "male"},
    "age_group": {"child": "minor", "under_18": "minor", "18_or_over": "adult"},
    "type": {"sexual_exploitation": "exploitation", "sexual_abuse": "abuse"},
    "sub_type": {"sexual_activity_with_a_minor": "sexual_activity_with_minor"},
    "entity_category": {
        "peacekeeping_operations": "peacekeeping",
        "peacekeeping_operation": "peacekeeping",
        "special_political_mission": "peacekeeping",
        "special_political_missions": "peacekeeping",
        "peacekeeping_and_special_political_missions": "peacekeeping",
        "pko": "peacekeeping",
        "spm": "peacekeeping",
        "agencies": "agency",
        "agencies_funds_and_programmes": "agency",
        "un_agencies_funds_and_programmes": "agency",
        "other_un_entities": "agency",
        "afp": "agency",
        "ip": "implementing_partner",
        "implementing_partners": "implementing_partner",
        "non_un_forces": "non_un_force",
    },
    "personnel_category": {
        "military": "military_contingent",
        "military_contingent_member": "military_contingent",
        "contingent": "military_contingent",
        "military_observer": "military_expert",
        "expert_on_mission": "military_expert",
        "fpu": "formed_police",
        "formed_police_unit": "formed_police",
        "ipo": "individual_police",
        "individual_police_officer": "individual_police",
        "civilian_staff": "civilian",
        "staff": "civilian",
        "unv": "un_volunteer",
        "volunteer": "un_volunteer",
        "ip": "implementing_partner",
    },
    "investigating_entity": {
        "nio": "national_investigation_officer",
        "tcc": "national_investigation_officer",
        "pcc": "national_investigation_officer",
        "contributing_country": "national_investigation_officer",
        "troop_contributing_country": "national_investigation_officer",
        "office_of_internal_oversight_services": "oios",
        "un_mission": "mission",
        "member_state": "national_authorities",
        "joint_investigation": "joint",
    },
    "investigation_status": {
        "pending_review": "under_review",
        "under_investigation": "ongoing",
        "investigation_ongoing": "ongoing",
        "investigation_completed": "completed",
        "closed": "closed_without_investigation",
    },
    "outcome": {"not_substantiated": "unsubstantiated", "under_investigation": "pending"},
}
COUNTRY_NAMES = {"drc": "COD", "car": "CAF"}  # the UN's usual short names
COUNTRY_LANGUAGES = ("fr", "zh_CN")  # pycountry's catalogues, besides its English names


def key_of(text: str) -> str:
    """A cell's words as one comparable key: no case, no accents, one _ between words."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "_".join("".join(c if c.isalnum() else " " for c in plain).split())


@cache
def vocabulary(column: str) -> dict[str, str]:
    """Every key a column's value may be written as, and the value it means."""
    enum = VOCABULARIES[column]
    words: dict[str, str] = {}
    for member in enum:
        value = member.value
        spellings = [value, member.label]
        for language in LANGUAGES:
            with force_locale(language):
                spellings.append(str(LABELS.get(value, value)))
        for spelling in spellings:
            words.setdefault(key_of(spelling), value)
    for word, value in SYNONYMS.get(column, {}).items():
        words.setdefault(key_of(word), value)
    return words


def read_choice(column: str, text: str) -> str:
    """The stored value a cell means ("" for an empty cell, the column's default)."""
    if not text.strip():
        return ""
    words = vocabulary(column)
    key = key_of(text)
    found = words.get(key) or (words.get(key[:-1]) if key.endswith("s") else None)
    if found is None:
        codes = ", ".join(m.value for m in VOCABULARIES[column])
        raise InvalidField(
            column,
            _l(
                "Unknown value “%(value)s”: use one of %(values)s, or its label in English, French or "
                "Chinese.",
                value=text[:40],
                values=codes,
            ),
        )
    return found


def read_choices(column: str, text: str) -> str:
    """A list of values separated by ;, each read as `read_choice` reads one."""
    return ";".join(read_choice(column, part) for part in text.split(";") if part.strip())


def _spellings(name: str) -> Iterable[str]:
    """A name as written, and its inverted form the other way round ("Congo, The Democratic
    Republic of the" as "The Democratic Republic of the Congo")."""
    yield name
    if ", " in name:
        head, tail = name.split(", ", 1)
        yield f"{tail} {head}"


@cache
def country_names() -> dict[str, str]:
    """Every country's names (English, French, Chinese; common and official) as keys, and its
    alpha-3 code."""
    catalogues = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in COUNTRY_LANGUAGES
    ]
    names: dict[str, str] = dict(COUNTRY_NAMES)
    for country in pycountry.countries:
        english = [
            getattr(country, attribute, None) for attribute in ("name", "official_name", "common_name")
        ]
        for name in filter(None, english):
            for catalogue in (None, *catalogues):
                for spelling in _spellings(catalogue.gettext(name) if catalogue else name):
                    key = key_of(spelling)
                    names.setdefault(key, country.alpha_3)
                    names.setdefault(key.removeprefix("the_"), country.alpha_3)
    return names


def read_country(column: str, text: str) -> str:
    """The alpha-3 code of a country written as a code or a name ("" for an empty cell)."""
    text = text.strip()
    if not text:
        return ""
    code_written = text.upper() if text.isascii() and text.isalpha() else ""
    found = None
    if len(code_written) == 2:
        found = pycountry.countries.get(alpha_2=code_written)
    elif len(code_written) == 3:
        found = pycountry.countries.get(alpha_3=code_written)
    if found is not None:
        return found.alpha_3
    code = country_names().get(key_of(text))
    if code is None:
        raise InvalidField(
            column,
            _l(
                "Unknown country “%(value)s”: use its ISO 3166 code (CF or CAF) or its English or "
                "French name.",
                value=text[:60],
            ),
        )
    return code
