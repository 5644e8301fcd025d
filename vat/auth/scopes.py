"""A user's scope as an administrator writes it ('CAF, COD/MONUSCO'): each country an ISO 3166-1
country (pycountry, as everywhere in the app), each mission one of the UN missions the app knows
(`vat.auth.passwords.MISSIONS`). Refusals name the `scope` form field."""

from __future__ import annotations

from collections.abc import Iterable

import pycountry
from flask_babel import lazy_gettext as _l

from vat.auth.passwords import MISSIONS
from vat.inputs import InvalidField

Scope = tuple[str, str | None]  # (ISO 3166-1 alpha-3 country, mission or None for the whole country)

KNOWN_MISSIONS = frozenset(mission.upper() for mission in MISSIONS)


def _country(code: str, entry: str) -> str:
    """The alpha-3 code the app stores; an alpha-2 code (CF, CD) is accepted and converted."""
    found = None
    if code.isascii() and code.isalpha():
        if len(code) == 3:
            found = pycountry.countries.get(alpha_3=code)
        elif len(code) == 2:
            found = pycountry.countries.get(alpha_2=code)
    if found is None:
        raise InvalidField(
            "scope",
            _l(
                "Scope entry %(entry)s: %(code)s is not an ISO 3166 country code (use CAF or CF, COD or CD).",
                entry=entry,
                code=code or "—",
            ),
        )
    return str(found.alpha_3)


def parse_scope(text: str, *, also_known: Iterable[str] = ()) -> list[Scope]:
    """'CAF, cd/monusco' → [('CAF', None), ('COD', 'MONUSCO')]; refuse an unknown country or
    mission. `also_known`: missions accepted besides the list (those an account already has, so
    that editing an older account does not force its scope to change)."""
    missions = KNOWN_MISSIONS | {m.upper() for m in also_known}
    entries: list[Scope] = []
    for item in filter(None, (part.strip() for part in text.replace(";", ",").split(","))):
        country, _slash, mission = item.partition("/")
        code = _country(country.strip().upper(), item)
        name = mission.strip().upper() or None
        if name is not None and name not in missions:
            raise InvalidField(
                "scope",
                _l(
                    "Scope entry %(entry)s: %(mission)s is not a mission this application knows "
                    "(e.g. MINUSCA, MONUSCO, UNMISS).",
                    entry=item,
                    mission=name,
                ),
            )
        if (code, name) not in entries:
            entries.append((code, name))
    return entries


def covers(scopes: Iterable[Scope], entry: Scope) -> bool:
    """True if `scopes` already reach everything `entry` reaches (a country covers its missions)."""
    country, mission = entry
    return any(c == country and (m is None or m == mission) for c, m in scopes)


def widens(old: Iterable[Scope], new: Iterable[Scope]) -> bool:
    """True if `new` reaches a country or mission `old` does not."""
    before = list(old)
    return any(not covers(before, entry) for entry in new)
