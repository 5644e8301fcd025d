"""How strong a new password must be (ASVS 5.0 §6.2): long enough, not the username, not a common
password or one of this application's own words dressed with digits and symbols, and at least
10^10 guesses by zxcvbn's estimate, told the application's words so it guesses them first.

Breached passwords (ASVS 6.2.12), offline: zxcvbn's own list (the `zxcvbn` package, pinned in
requirements.txt), the 30,000 most frequent of the Xato corpus of 10 million passwords leaked in
breaches, which its estimate also uses, beside English words, names, surnames and film and
television words; and, where the operator has downloaded it, Have I Been Pwned's SHA-1 file
(ordered by hash) named by VAT_BREACHED_PASSWORDS_FILE, searched on disk. The choice is
explained in docs/security.md."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import BinaryIO

import pycountry
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from vat.auth.models import UserScope
from vat.db import db
from vat.errors import DomainError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# zxcvbn's score 4, "very unguessable": 10^10 guesses or more. Score 3 (10^8) let Summer2026!!
# (10^8.4 guesses) through.
MIN_GUESSES_LOG10 = 10

COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# The substitutions people make to dress a listed password: P@ssw0rd is password.
UNLEET = str.maketrans("@4310$5!7+", "aaeiossitt")

# The words of this application and of the people who use it: its names, the UN peacekeeping and
# political missions (current and recent), and the places they work from. Countries come from
# ISO 3166 (pycountry); missions in users' scopes and the organisation's name (VAT_ORGANISATION)
# come from the installation.
APPLICATION_WORDS = (
    "vat ledger victim victims assistance advocate advocates rights trust fund united nations "
    "peacekeeping peacekeeper mission support paternity allegation allegations"
).split()
MISSIONS = (
    "minusca monusco minusma unmiss unisfa unifil unmik unficyp undof untso minurso unmogip "
    "minustah minujusth unamid unmil unoci binuh unama unami unsom unsos unitams unmha unvmc "
    "unowas unoca unrcca unsco unsmil unmis onuci onub monuc"
).split()
PLACES = (
    "bangui bambari bria bouar kaga-bandoro berberati birao ndele obo kinshasa goma bunia beni "
    "bukavu kalemie uvira kisangani bamako gao kidal timbuktu mopti juba malakal bentiu wau bor "
    "abyei naqoura pristina nicosia laayoune monrovia abidjan khartoum el-fasher mogadishu kabul "
    "baghdad port-au-prince entebbe tripoli"
).split()


class WeakPassword(DomainError):
    pass


@functools.cache
def _country_words() -> tuple[str, ...]:
    words: list[str] = []
    for country in pycountry.countries:
        for name in (
            country.name,
            getattr(country, "common_name", ""),
            getattr(country, "official_name", ""),
        ):
            words += [name.lower().replace(" ", ""), *re.findall(r"[^\W\d_]{4,}", name.lower())]
    return tuple(dict.fromkeys(words))


def application_words(username: str = "") -> list[str]:
    """The words zxcvbn is told, the likeliest first: the username, the organisation, this
    installation's missions, then the lists above and the countries."""
    organisation = str(current_app.config.get("VAT_ORGANISATION", ""))
    scoped = db.session.scalars(select(UserScope.mission).where(UserScope.mission.is_not(None)).distinct())
    words = [
        username,
        *re.findall(r"[^\W\d_]{3,}", organisation.lower()),
        organisation.lower().replace(" ", ""),
        *(mission.lower() for mission in scoped if mission),
        *APPLICATION_WORDS,
        *MISSIONS,
        *PLACES,
        *_country_words(),
    ]
    return [word for word in dict.fromkeys(words) if word]


def _core(password: str) -> str:
    """The password without the digits, symbols and spaces people put around a word."""
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", password.lower())


def _in_hash_file(path: Path, digest: bytes) -> bool:
    """Whether the upper-case SHA-1 hex digest starts a line of the sorted file: a binary search
    over line starts, a few dozen reads in a 35 GB file."""

    def key_at(f: BinaryIO, position: int) -> bytes:  # the first whole line starting at or after position
        f.seek(max(position - 1, 0))
        if position:
            f.readline()
        return f.readline()[:40] or b"\xff"

    with path.open("rb") as f:
        low, high = 0, path.stat().st_size
        while low < high:
            middle = (low + high) // 2
            if key_at(f, middle) < digest:
                low = middle + 1
            else:
                high = middle
        return key_at(f, low) == digest


def is_breached(password: str) -> bool:
    """Whether the password, as typed or with its letters' usual substitutions undone, is in the
    leaked-password list, or (exactly) in the operator's Have I Been Pwned file."""
    lowered = password.lower()
    if {lowered, lowered.translate(UNLEET)} & COMMON_PASSWORDS:
        return True
    hash_file = current_app.config.get("VAT_BREACHED_PASSWORDS_FILE")
    if not hash_file:
        return False
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper().encode()
    return _in_hash_file(Path(hash_file), digest)


def check_password_strength(password: str, *, username: str = "") -> None:
    """Refuse a password with WeakPassword, saying why; return None for one strong enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH))
    if username and username.lower() in password.lower():
        raise WeakPassword(_("The password must not contain the username."))
    if is_breached(password):
        raise WeakPassword(_("This password is in lists of passwords leaked in breaches; choose another."))
    words = application_words(username)
    core = _core(password)
    cores = {core, core.translate(UNLEET), core.replace(" ", "")} - {""}
    if cores & COMMON_PASSWORDS or cores.intersection(words):
        raise WeakPassword(
            _("This is a common password, or a word of this application, with digits or symbols added.")
        )
    # zxcvbn refuses (ValueError) past 72 characters unless told otherwise: a 500 before
    estimate = zxcvbn(password, user_inputs=words, max_length=MAX_PASSWORD_LENGTH)
    if estimate["guesses_log10"] < MIN_GUESSES_LOG10:
        raise WeakPassword(_("This password is too easy to guess; a few unrelated words work well."))
